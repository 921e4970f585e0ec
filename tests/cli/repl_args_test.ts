/**
 * The REPL's grammar on its own: how a typed line becomes words, flags, params, meta and call
 * options (moleculer-repl's rules), what completes, and the CLI flags that start a REPL.
 */

import { strict as assert } from "node:assert";
import { parseCliArgs } from "../../src/runner/args.ts";
import { UsageError } from "../../src/runner/errors.ts";
import {
  convertValue,
  parseWords,
  ReplUsageError,
  splitLine,
  splitParams,
} from "../../src/runner/repl/line_args.ts";
import { historyPath } from "../../src/runner/repl/history.ts";
import { renderTable } from "../../src/runner/repl/table.ts";
import { makeStyle, visibleLength } from "../../src/runner/repl/style.ts";

Deno.test("repl grammar: quotes group words, an unclosed quote is an error", () => {
  assert.deepEqual(splitLine(`call a.b --name "John Doe" '{"x": "y z"}' it\\'s`), [
    "call",
    "a.b",
    "--name",
    "John Doe",
    '{"x": "y z"}',
    "it's",
  ]);
  assert.deepEqual(splitLine(`  emit  x ""  `), ["emit", "x", ""]);
  assert.throws(() => splitLine(`call a '{"x": 1}`), ReplUsageError);
});

Deno.test("repl grammar: values convert as moleculer-repl's (yargs) do", () => {
  assert.equal(convertValue("5"), 5);
  assert.equal(convertValue("-2.5"), -2.5);
  assert.equal(convertValue("true"), true);
  assert.equal(convertValue("false"), false);
  assert.equal(convertValue("0x75"), "0x75", "hex stays text");
  assert.equal(convertValue("007"), "007", "a leading zero stays text");
  assert.equal(convertValue("12345678901234567890"), "12345678901234567890", "too big stays text");
  assert.equal(convertValue("John"), "John");
});

Deno.test("repl grammar: free params nest, negate, repeat; # is meta, $ is an option", () => {
  const words = splitLine(
    "--a 5 --b.c x --d --no-e --f=1 --g 1 --g 2 --n -3 --#user.id 7 --$timeout 500 --@$odd y pos",
  );
  const parsed = parseWords(words, [], true);
  assert.deepEqual(parsed.positionals, ["pos"]);
  assert.deepEqual(splitParams(parsed.params), {
    params: { a: 5, b: { c: "x" }, d: true, e: false, f: 1, g: [1, 2], n: -3, $odd: "y" },
    meta: { user: { id: 7 } },
    options: { timeout: 500 },
  });
  const proto = parseWords(["--__proto__.polluted", "1"], [], true).params;
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.deepEqual(Object.keys(proto), ["__proto__"]);
});

Deno.test("repl grammar: declared flags, grouped short letters, unknown and missing values", () => {
  const specs = [
    { name: "all", short: "a", kind: "boolean", description: "" },
    { name: "details", short: "d", kind: "boolean", description: "" },
    { name: "filter", short: "f", kind: "string", description: "" },
    { name: "save", kind: "optional", description: "" },
  ] as const;
  assert.deepEqual(parseWords(["-ad", "-f", "users.*", "--save"], specs).flags, {
    all: true,
    details: true,
    filter: "users.*",
    save: true,
  });
  assert.deepEqual(parseWords(["--save", "out.json"], specs).flags, { save: "out.json" });
  assert.throws(() => parseWords(["--bogus"], specs), /unknown option '--bogus'/);
  assert.throws(() => parseWords(["--filter"], specs), /--filter needs a value/);
});

Deno.test("repl tables: aligned columns, separators, ANSI codes take no width", () => {
  const plain = renderTable(makeStyle(false), ["A", "Count"], [["x", "1"], ["long name", "22"]], {
    right: [1],
    separators: [1],
  });
  assert.equal(
    plain,
    [
      "┌───────────┬───────┐",
      "│ A         │ Count │",
      "├───────────┼───────┤",
      "│ x         │     1 │",
      "├───────────┼───────┤",
      "│ long name │    22 │",
      "└───────────┴───────┘",
    ].join("\n"),
  );
  const colour = makeStyle(true);
  assert.equal(visibleLength(colour.badge("OK", true)), 4);
  const coloured = renderTable(colour, ["State"], [[colour.badge("FAILED", false)]]);
  assert.deepEqual(coloured.split("\n").map(visibleLength), [12, 12, 12, 12, 12]);
});

Deno.test("repl history: the file's place, and off when set empty", () => {
  assert.equal(historyPath({ HOME: "/home/ann" }), "/home/ann/.denolecular_repl_history");
  assert.equal(historyPath({ HOME: "/home/ann", DENOLECULAR_REPL_HISTORY: "/tmp/h" }), "/tmp/h");
  assert.equal(historyPath({ HOME: "/home/ann", DENOLECULAR_REPL_HISTORY: "" }), undefined);
  assert.equal(historyPath({}), undefined);
});

Deno.test("cli: repl and --repl on the command line", () => {
  const repl = parseCliArgs(["repl", "-t", "nats://127.0.0.1:4222", "--wait", "200"]);
  assert.equal(repl.command, "repl");
  assert.equal(repl.wait, 200);
  assert.equal(parseCliArgs(["services", "--repl"]).repl, true);
  assert.equal(parseCliArgs(["services", "-r", "-H"]).repl, true);
  assert.throws(
    () => parseCliArgs(["call", "x", "--repl"]),
    /--repl applies to running a node only/,
  );
  assert.throws(
    () => parseCliArgs(["repl", "services"]),
    (err: unknown) =>
      err instanceof UsageError && /repl takes no arguments.*services --repl/.test(err.message),
  );
});
