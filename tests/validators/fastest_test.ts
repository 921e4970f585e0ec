import assert from "node:assert/strict";
import { FastestValidator } from "../../src/validators/fastest.ts";
import { BrokerOptionsError, ValidationError } from "../../src/errors.ts";

interface Issue {
  type: string;
  field?: string;
  message?: string;
  actual?: unknown;
}

/** Run a check expected to fail and return its ValidationError after checking the envelope. */
async function failure(
  fn: () => void | Promise<void>,
): Promise<ValidationError> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(
    caught instanceof ValidationError,
    `expected a ValidationError, got ${caught}`,
  );
  assert.equal(caught.message, "Parameters validation error!");
  assert.equal(caught.code, 422);
  assert.equal(caught.type, "VALIDATION_ERROR");
  assert.equal(caught.name, "ValidationError");
  assert.ok(Array.isArray(caught.data));
  return caught;
}

function issues(err: ValidationError): Issue[] {
  return err.data as Issue[];
}

Deno.test("FastestValidator.compile() passes valid params synchronously", () => {
  const check = new FastestValidator().compile({
    name: { type: "string", min: 2 },
    age: { type: "number", optional: true },
  });
  assert.equal(check({ name: "John" }), undefined);
  assert.equal(check({ name: "John", age: 42 }), undefined);
});

Deno.test("FastestValidator.compile() rejects bad params with Moleculer's ValidationError", async () => {
  const check = new FastestValidator().compile({
    name: "string",
    id: "number|positive",
  });
  const err = await failure(() => check({ name: 5, id: -1 }));
  const list = issues(err);
  assert.equal(list.length, 2);
  assert.deepEqual(list.map((i) => [i.field, i.type, i.actual]), [
    ["name", "string", 5],
    ["id", "numberPositive", -1],
  ]);
  assert.equal(list[0]!.message, "The 'name' field must be a string.");

  const missing = await failure(() => check({ id: 1 }));
  assert.deepEqual(issues(missing).map((i) => [i.field, i.type]), [[
    "name",
    "required",
  ]]);
});

Deno.test("FastestValidator.compile() takes an array of required keys", async () => {
  const check = new FastestValidator().compile(["name", "age"]);
  check({ name: "John", age: "any type" });
  check({ name: 0, age: false });
  const err = await failure(() => check({ name: "John" }));
  assert.deepEqual(issues(err).map((i) => [i.field, i.type]), [[
    "age",
    "required",
  ]]);
  // empty list: any object goes
  new FastestValidator().compile([])({ whatever: 1 });
});

Deno.test("FastestValidator.compile() supports $$async schemas with custom checks", async () => {
  const schema = {
    $$async: true,
    username: {
      type: "string",
      custom: async (value: unknown, errors: Issue[]) => {
        await Promise.resolve();
        if (value === "taken") {
          errors.push({ type: "usernameTaken", actual: value });
        }
        return value;
      },
    },
  };
  const check = new FastestValidator({
    messages: { usernameTaken: "The '{field}' is already taken." },
  }).compile(schema);
  const ok = check({ username: "free" });
  assert.ok(ok instanceof Promise);
  await ok;
  const err = await failure(() => check({ username: "taken" }));
  assert.deepEqual(issues(err).map((i) => [i.field, i.type, i.message]), [
    ["username", "usernameTaken", "The 'username' is already taken."],
  ]);
});

Deno.test("FastestValidator.compile() hands meta to custom checks", () => {
  let seen: unknown;
  const check = new FastestValidator().compile({
    id: {
      type: "number",
      custom: (
        value: unknown,
        _errors: unknown[],
        _schema: unknown,
        _path: unknown,
        _parent: unknown,
        context: { meta?: unknown },
      ) => {
        seen = context.meta;
        return value;
      },
    },
  });
  const ctx = { nodeID: "n1" };
  check({ id: 1 }, ctx);
  assert.equal(seen, ctx);
});

Deno.test("FastestValidator check gives a ValidationError for params that are not an object", async () => {
  const check = new FastestValidator().compile({ name: "string" });
  for (const bad of [42, "text", [], true]) {
    const err = await failure(() => check(bad));
    assert.equal(issues(err)[0]!.type, "object");
  }
  // null / undefined are checked as {} (as Moleculer's validator middleware does)
  for (const none of [null, undefined]) {
    const err = await failure(() => check(none));
    assert.deepEqual(issues(err).map((i) => [i.field, i.type]), [[
      "name",
      "required",
    ]]);
  }
});

Deno.test("FastestValidator.compile() does not mutate the schema", () => {
  const custom = (v: unknown) => v;
  const schema = {
    $$async: false,
    $$strict: true,
    name: "string",
    address: { type: "object", props: { city: "string", $$strict: true } },
    tags: { type: "array", items: "string" },
    code: { type: "string", pattern: /^[A-Z]+$/ },
    other: { type: "any", custom },
  };
  const before = structuredClone({ ...schema, other: { type: "any" } });
  const check = new FastestValidator().compile(schema);
  assert.deepEqual({ ...schema, other: { type: "any" } }, before);
  assert.equal(schema.other.custom, custom);
  assert.equal(schema.$$async, false);
  assert.equal(schema.$$strict, true);
  // the same schema object compiles again to the same behaviour
  const again = new FastestValidator().compile(schema);
  assert.throws(() => check({ name: "x", address: { city: "y" }, tags: [], code: "AB", x: 1 }));
  assert.throws(() => again({ name: "x", address: { city: "y" }, tags: [], code: "AB", x: 1 }));
  check({ name: "x", address: { city: "y" }, tags: ["a"], code: "AB", other: 1 });
});

Deno.test("FastestValidator.compile() rejects invalid schemas clearly", () => {
  const v = new FastestValidator();
  assert.throws(
    () => v.compile({ name: { type: "nonexistent" } }),
    (err: unknown) => {
      assert.ok(err instanceof BrokerOptionsError);
      assert.match(err.message, /Invalid params schema: .*nonexistent/);
      assert.ok(err.cause instanceof Error);
      return true;
    },
  );
  assert.throws(() => v.compile(null as unknown as string[]), TypeError);
  assert.throws(() => v.compile("name" as unknown as string[]), TypeError);
  assert.throws(() => v.compile(["name", 5] as unknown as string[]), TypeError);
  assert.throws(() => v.compile(["name", ""]), TypeError);
});
