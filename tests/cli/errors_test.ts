import { strict as assert } from "node:assert";
import { freePort } from "../_helpers/nats_server.ts";
import { GREETER_SERVICE, lines, runCliOnce, tempDir } from "./_helpers.ts";

function assertOneLine(stderr: string, ...parts: (string | RegExp)[]) {
  const out = lines(stderr);
  assert.equal(out.length, 1, `expected one line, got:\n${stderr}`);
  for (const part of parts) {
    if (typeof part === "string") {
      assert.ok(out[0]!.includes(part), `'${part}' not in: ${out[0]}`);
    } else assert.match(out[0]!, part);
  }
  assert.doesNotMatch(stderr, /^\s+at /m, "no stack trace");
}

Deno.test("cli: an unknown flag is a usage error (exit 2)", async () => {
  const r = await runCliOnce(["--nope"]);
  assert.equal(r.code, 2);
  assertOneLine(r.stderr, "unknown option '--nope'", "--help");
});

Deno.test("cli: bad flag values are usage errors (exit 2)", async () => {
  for (
    const [args, message] of [
      [["-l", "loud"], "--log-level must be one of"],
      [["-f", "XML"], "--log-format must be PLAIN or JSON"],
      [["--protocol", "3"], "--protocol must be 4"],
      [
        ["--shutdown-timeout", "soon"],
        "--shutdown-timeout needs a whole number",
      ],
      [["--meta", "{}"], "--meta applies to call only"],
      [["call"], "call needs the action name"],
      [["call", "math.add", "{oops"], "the params argument is not valid JSON"],
      [["-b", "my.node"], "invalid option: Option 'nodeID'"],
      [["-c", "missing.config.ts"], "config file not found: missing.config.ts"],
    ] as const
  ) {
    const r = await runCliOnce([...args]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assertOneLine(r.stderr, message);
  }
});

Deno.test("cli: a missing directory is a usage error (exit 2)", async () => {
  await using dir = await tempDir();
  const r = await runCliOnce(["no-such-dir"], { cwd: dir.path });
  assert.equal(r.code, 2);
  assertOneLine(r.stderr, "path not found: no-such-dir");
});

Deno.test("cli: an empty directory is a usage error (exit 2)", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/empty`);
  await dir.write("empty/_helper.ts", "export const x = 1;");
  await dir.write(
    "empty/greeter_test.ts",
    "throw new Error('tests are not services');",
  );
  const r = await runCliOnce(["empty"], { cwd: dir.path });
  assert.equal(r.code, 2);
  assertOneLine(r.stderr, "no service modules (.ts, .js, .mjs) in empty");
});

Deno.test("cli: a module that throws on import names the file and exits 1 before starting", async () => {
  await using dir = await tempDir();
  await dir.write("services/greeter.service.ts", GREETER_SERVICE);
  await dir.write(
    "services/db.service.ts",
    'throw new Error("database is down");',
  );
  // The transporter is unreachable: reaching the start would print a connection error instead.
  const r = await runCliOnce([
    "services",
    "-t",
    `nats://127.0.0.1:${freePort()}`,
  ], {
    cwd: dir.path,
  });
  assert.equal(r.code, 1);
  assertOneLine(
    r.stderr,
    "cannot load services/db.service.ts: database is down",
  );
  assert.doesNotMatch(r.stderr, /connect|ready/i);
});

Deno.test("cli: a module with a syntax error names the file and the location", async () => {
  await using dir = await tempDir();
  await dir.write("services/broken.service.ts", "export const x = ;\n");
  const r = await runCliOnce(["services"], { cwd: dir.path });
  assert.equal(r.code, 1);
  assertOneLine(
    r.stderr,
    "cannot load services/broken.service.ts",
    /SyntaxError.*broken\.service\.ts:1/,
  );
});

Deno.test("cli: modules that export no service are reported; none at all is a usage error", async () => {
  await using dir = await tempDir();
  await dir.write("services/util.ts", "export const answer = 42;");
  const r = await runCliOnce(["services"], { cwd: dir.path });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /WARN .*services\/util\.ts exports no service/);
  assert.match(r.stderr, /no services found in services/);
});

Deno.test("cli: an unreachable NATS gives one line with the URL and cause, exit 1", async () => {
  await using dir = await tempDir();
  await dir.write("services/greeter.service.ts", GREETER_SERVICE);
  const port = freePort();
  const r = await runCliOnce(
    ["services", "-t", `nats://admin:s3cret@127.0.0.1:${port}`, "-b", "lonely"],
    { cwd: dir.path },
  );
  assert.equal(r.code, 1);
  assertOneLine(
    r.stderr,
    "Cannot start node 'lonely'",
    `nats://127.0.0.1:${port}`,
    "connection refused",
  );
  assert.doesNotMatch(r.stderr, /s3cret/);
});

Deno.test("cli: --silent still prints a fatal error", async () => {
  await using dir = await tempDir();
  await dir.write("services/greeter.service.ts", GREETER_SERVICE);
  const r = await runCliOnce([
    "services",
    "-s",
    "-t",
    `nats://127.0.0.1:${freePort()}`,
  ], {
    cwd: dir.path,
  });
  assert.equal(r.code, 1);
  assertOneLine(
    r.stderr,
    /^denolecular: error: Cannot start node .*connection refused$/,
  );
});

Deno.test("cli: --help and --version print to stdout and exit 0", async () => {
  const help = await runCliOnce(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage:/);
  assert.match(
    help.stdout,
    /Exit codes:\n\s+0 .*\n[\s\S]*\n\s+2 .*usage error/,
  );
  assert.match(help.stdout, /Examples:/);
  assert.equal(help.stderr, "");
  const version = await runCliOnce(["-V"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^denolecular \d+\.\d+\.\d+/);
});

Deno.test("cli: a bad transporter, strategy or serializer is a usage error (exit 2), --print-config too", async () => {
  await using dir = await tempDir();
  await dir.write("services/greeter.ts", GREETER_SERVICE);
  for (
    const [args, env, message] of [
      [["-t", "foo://x"], {}, 'Unknown transporter "foo://x"'],
      [
        ["-t", "foo://x", "--print-config"],
        {},
        'Unknown transporter "foo://x"',
      ],
      [["call", "a.b", "-t", "foo://x"], {}, 'Unknown transporter "foo://x"'],
      [[], { MOL_REGISTRY__STRATEGY: "Nope" }, "Unknown strategy 'Nope'"],
      [
        ["--print-config"],
        { MOL_REGISTRY__STRATEGY: "Nope" },
        "Unknown strategy 'Nope'",
      ],
      [
        ["-t", "nats://127.0.0.1:1"],
        { SERIALIZER: "Nope" },
        'Unknown serializer "Nope"',
      ],
    ] as const
  ) {
    const r = await runCliOnce(
      args[0] === "call" ? [...args] : ["services", ...args],
      {
        cwd: dir.path,
        env,
      },
    );
    assert.equal(
      r.code,
      2,
      `${args.join(" ")} ${JSON.stringify(env)}: ${r.stderr}`,
    );
    assertOneLine(r.stderr, "invalid option: ", message, "--help");
  }
});
