import assert from "node:assert/strict";
import { declarationsFor, paramsType, ruleOptional, ruleType } from "../../src/runner/typegen.ts";

Deno.test("typegen: fastest-validator rules become TypeScript types", () => {
  assert.equal(ruleType("string|min:3"), "string");
  assert.equal(ruleType("email"), "string");
  assert.equal(ruleType({ type: "number", positive: true }), "number");
  assert.equal(ruleType("date"), "Date");
  assert.equal(ruleType("any"), "unknown");
  assert.equal(ruleType("no-such-rule"), "unknown");
  assert.equal(
    ruleType({ type: "enum", values: ["a", 1, true] }),
    '"a" | 1 | true',
  );
  assert.equal(ruleType({ type: "equal", value: "yes" }), '"yes"');
  assert.equal(ruleType(["string", "number"]), "string | number");
  assert.equal(
    ruleType({ type: "multi", rules: ["boolean", { type: "any" }] }),
    "unknown",
  );
  assert.equal(ruleType({ type: "array", items: "number" }), "number[]");
  assert.equal(ruleType({ type: "array" }), "unknown[]");
  assert.equal(
    ruleType({ type: "array", items: { type: "enum", values: ["x", "y"] } }),
    'Array<"x" | "y">',
  );
  assert.equal(ruleType({ type: "object" }), "Record<string, unknown>");
  assert.equal(
    ruleType({
      type: "object",
      props: { id: "number", "user-name": "string|optional" },
    }),
    '{\n  id: number;\n  "user-name"?: string;\n}',
  );
});

Deno.test("typegen: optional keys are optional, defaults and |optional included", () => {
  assert.equal(ruleOptional("number|optional"), true);
  assert.equal(ruleOptional("number|optional:false"), false);
  assert.equal(ruleOptional({ type: "number", default: 5 }), true);
  assert.equal(ruleOptional({ type: "number", optional: true }), true);
  assert.equal(ruleOptional("number"), false);
  assert.equal(ruleOptional(["number", "string"]), false);
});

Deno.test("typegen: params schemas, $$ options and required-key lists", () => {
  assert.equal(
    paramsType({ a: "number", $$strict: true }),
    "{\n  a: number;\n}",
  );
  assert.equal(paramsType(["a", "b"]), "{ a: unknown; b: unknown }");
  assert.equal(paramsType({}), "Record<string, unknown>");
  assert.equal(paramsType(undefined), "unknown");
});

Deno.test("typegen: one entry per action across nodes, internal services and wildcards left out", () => {
  const text = declarationsFor([
    {
      id: "a",
      client: { type: "nodejs", version: "0.15.2" },
      services: [
        { name: "$node", actions: { "$node.list": {} } },
        { name: "math", actions: { "math.add": { name: "math.add" } } },
      ],
    },
    {
      id: "b",
      services: [{
        name: "math",
        actions: { "math.add": { params: { a: "number" } } },
        events: { "user.*": {}, "user.created": { params: { id: "number" } } },
      }],
    },
  ], { module: "./mod.ts", command: "denolecular types -t nats://x" });
  assert.match(
    text,
    /^\/\/ Regenerate with: denolecular types -t nats:\/\/x$/m,
  );
  assert.match(text, /^\/\/ Nodes: a \(nodejs 0\.15\.2\), b$/m);
  assert.match(text, /^declare module "\.\/mod\.ts" \{$/m);
  assert.equal(text.match(/"math\.add"/g)?.length, 1);
  assert.match(
    text,
    /"math\.add": \{\n {6}params: \{\n {8}a: number;\n {6}\};\n {6}result: unknown;/,
  );
  assert.match(
    text,
    /"user\.created": \{\n {6}params: \{\n {8}id: number;\n {6}\};\n {4}\};/,
  );
  assert.doesNotMatch(text, /\$node|user\.\*/);
});
