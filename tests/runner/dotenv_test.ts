import { strict as assert } from "node:assert";
import { DotenvSyntaxError, parseDotenv } from "../../src/runner/dotenv.ts";

Deno.test("parseDotenv() reads KEY=VALUE, export, comments and blank lines", () => {
  assert.deepEqual(
    parseDotenv(
      [
        "# a comment",
        "",
        "TRANSPORTER=nats://127.0.0.1:4222",
        "export NAMESPACE=dev",
        "  SPACED  =  value with spaces  ",
        "EMPTY=",
        "HASH=abc#def",
        "INLINE=value # a comment",
        "URL=nats://u:p@h:4222/#frag",
      ].join("\n"),
    ),
    {
      TRANSPORTER: "nats://127.0.0.1:4222",
      NAMESPACE: "dev",
      SPACED: "value with spaces",
      EMPTY: "",
      HASH: "abc#def",
      INLINE: "value",
      URL: "nats://u:p@h:4222/#frag",
    },
  );
});

Deno.test("parseDotenv() handles quotes: escapes in double, literal single and backtick, multi-line", () => {
  const env = parseDotenv(
    [
      `DOUBLE="line1\\nline2 \\"quoted\\" # not a comment"`,
      `SINGLE='raw \\n $X # kept'`,
      'BACKTICK=`it\'s "mixed"`',
      `MULTI="first`,
      `second"`,
      `AFTER="v" # trailing comment`,
      "CRLF=yes\r",
    ].join("\n"),
  );
  assert.equal(env.DOUBLE, 'line1\nline2 "quoted" # not a comment');
  assert.equal(env.SINGLE, "raw \\n $X # kept");
  assert.equal(env.BACKTICK, `it's "mixed"`);
  assert.equal(env.MULTI, "first\nsecond");
  assert.equal(env.AFTER, "v");
  assert.equal(env.CRLF, "yes");
});

Deno.test("parseDotenv() expands ${VAR} from the file, then the lookup", () => {
  const env = parseDotenv(
    'HOST=nats.local\nURL=nats://${HOST}:${PORT}\nQUOTED="${HOST}/x"\nLIT=\'${HOST}\'\nESC="\\${HOST}"',
    (k) => k === "PORT" ? "4222" : undefined,
  );
  assert.equal(env.URL, "nats://nats.local:4222");
  assert.equal(env.QUOTED, "nats.local/x");
  assert.equal(env.LIT, "${HOST}");
  assert.equal(env.ESC, "${HOST}");
});

Deno.test("parseDotenv() names the line of a malformed entry or an unclosed quote", () => {
  assert.throws(() => parseDotenv("A=1\nnot a line\n"), (e) => {
    assert.ok(e instanceof DotenvSyntaxError);
    assert.equal(e.line, 2);
    assert.match(e.message, /^line 2: expected KEY=VALUE/);
    return true;
  });
  assert.throws(
    () => parseDotenv('A="open\nB=2'),
    /line 1: the " quote of A is not closed/,
  );
  assert.throws(
    () => parseDotenv('A="x" y'),
    /line 1: unexpected text after the closing quote/,
  );
});
