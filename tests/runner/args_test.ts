import { strict as assert } from "node:assert";
import { flagAssignments, parseCliArgs } from "../../src/runner/args.ts";
import { UsageError } from "../../src/runner/errors.ts";

Deno.test("parseCliArgs(): paths and Pylecular's short flags", () => {
  const a = parseCliArgs([
    "services",
    "-b",
    "api-1",
    "-t",
    "nats://127.0.0.1:4222",
    "-l",
    "WARNING",
    "-f",
    "json",
    "-n",
    "dev",
    "-H",
    "-s",
    "extra.ts",
  ]);
  assert.equal(a.command, "run");
  assert.deepEqual(a.positionals, ["services", "extra.ts"]);
  assert.equal(a.brokerId, "api-1");
  assert.equal(a.logLevel, "warn");
  assert.equal(a.logFormat, "JSON");
  assert.equal(a.hot, true);
  assert.equal(a.silent, true);
  assert.deepEqual(
    flagAssignments(a).map((f) => [f.path.join("."), f.value, f.flag]),
    [
      ["nodeID", "api-1", "--broker-id"],
      ["transporter", "nats://127.0.0.1:4222", "--transporter"],
      ["namespace", "dev", "--namespace"],
      ["logLevel", "warn", "--log-level"],
      ["logFormat", "JSON", "--log-format"],
      ["logger", false, "--silent"],
    ],
  );
  assert.equal(parseCliArgs(["-l", "CRITICAL"]).logLevel, "fatal");
  assert.equal(parseCliArgs(["--protocol", "4"]).protocol, "4");
  assert.equal(
    parseCliArgs(["--shutdown-timeout", "500"]).shutdownTimeout,
    500,
  );
  assert.equal(parseCliArgs([]).shutdownTimeout, undefined);
});

Deno.test("parseCliArgs(): sub-commands and their options", () => {
  const call = parseCliArgs([
    "call",
    "math.add",
    '{"a":1}',
    "--meta",
    '{"u":1}',
    "--timeout",
    "500",
    "--node",
    "n1",
  ]);
  assert.equal(call.command, "call");
  assert.deepEqual(call.positionals, ["math.add", '{"a":1}']);
  assert.deepEqual(call.meta, { u: 1 });
  assert.equal(call.timeout, 500);
  assert.equal(call.node, "n1");
  const emit = parseCliArgs(["emit", "user.created", "--broadcast"]);
  assert.equal(emit.command, "emit");
  assert.equal(emit.broadcast, true);
  assert.equal(parseCliArgs(["nodes", "--json", "--wait", "0"]).json, true);
  assert.equal(parseCliArgs(["./nodes"]).command, "run");
  assert.equal(parseCliArgs(["services", "--help"]).command, "help");
  assert.equal(parseCliArgs(["-V"]).command, "version");
});

Deno.test("parseCliArgs(): usage errors are one clear sentence", () => {
  const cases: Array<[string[], RegExp]> = [
    [["--nope"], /^unknown option '--nope'$/],
    [["-t"], /^option '-t, --transporter' needs a value$/],
    [["-l", "loud"], /--log-level must be one of/],
    [["-f", "XML"], /--log-format must be PLAIN or JSON/],
    [["--protocol", "6"], /--protocol must be 4 \(Moleculer 0\.14\) or 5/],
    [["--shutdown-timeout=-1"], /--shutdown-timeout needs a whole number/],
    [
      ["--shutdown-timeout", "-1"],
      /^option '--shutdown-timeout' needs a value \(write --shutdown-timeout=-… /,
    ],
    [
      ["call", "a", "--timeout", "0"],
      /--timeout needs a whole number of milliseconds ≥ 1/,
    ],
    [["--timeout", "10"], /--timeout applies to call only/],
    [["call", "x", "--hot"], /--hot applies to running a node only/],
    [["emit"], /emit needs the event name/],
    [["call", "a", "{x"], /the params argument is not valid JSON/],
    [
      ["call", "a", "{}", "extra"],
      /call takes the action and one JSON argument/,
    ],
    [["call", "a", "--meta", "[1]"], /--meta must be a JSON object/],
    [["nodes", "x"], /nodes takes no arguments/],
    [["types", "x"], /types takes no arguments/],
    [["-o", "x.d.ts"], /--out applies to types only/],
    [["nodes", "--module", "m"], /--module applies to types only/],
    [["types", "--module", " "], /--module needs a non-empty value/],
    [["-b", ""], /--broker-id needs a non-empty value/],
  ];
  for (const [argv, message] of cases) {
    assert.throws(() => parseCliArgs(argv), (e) => {
      assert.ok(e instanceof UsageError, argv.join(" "));
      assert.match(e.message, message);
      assert.equal(e.exitCode, 2);
      return true;
    });
  }
});

Deno.test("args: types takes -o, --module and --wait", () => {
  const a = parseCliArgs([
    "types",
    "-t",
    "nats://h:4222",
    "-o",
    "services.d.ts",
    "--module",
    "./mod.ts",
    "--wait",
    "50",
  ]);
  assert.equal(a.command, "types");
  assert.equal(a.out, "services.d.ts");
  assert.equal(a.module, "./mod.ts");
  assert.equal(a.wait, 50);
});
