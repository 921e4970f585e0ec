/**
 * One conformance suite, run against every params validator: the contract of
 * `src/validators/validator.ts` as the validator middleware relies on it (compile once, check on
 * every call, fail with Moleculer's `ValidationError` envelope). A new validator joins by adding
 * an entry to `IMPLEMENTATIONS`.
 */

import assert from "node:assert/strict";
import { ValidationError } from "../../src/errors.ts";
import { resolveValidator } from "../../src/validators/resolve.ts";
import { FastestValidator } from "../../src/validators/fastest.ts";
import type { Validator } from "../../src/validators/validator.ts";

interface Implementation {
  name: string;
  make(): Validator;
}

const IMPLEMENTATIONS: Implementation[] = [
  { name: "Fastest (the default)", make: () => resolveValidator(true)! },
  { name: "Fastest (with options)", make: () => new FastestValidator({ haltOnFirstError: true }) },
];

/** The error a failing check throws or rejects with, checked against Moleculer's envelope. */
async function failure(run: () => void | Promise<void>): Promise<ValidationError> {
  let caught: unknown;
  try {
    await run();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ValidationError, `expected a ValidationError, got ${caught}`);
  assert.equal(caught.message, "Parameters validation error!");
  assert.equal(caught.code, 422);
  assert.equal(caught.type, "VALIDATION_ERROR");
  assert.ok(Array.isArray(caught.data) && caught.data.length > 0, "data lists the problems");
  return caught;
}

for (const impl of IMPLEMENTATIONS) {
  Deno.test(`Validator conformance: ${impl.name}`, async (t) => {
    const validator = impl.make();

    await t.step("has a name", () => {
      assert.equal(typeof validator.name, "string");
      assert.notEqual(validator.name, "");
    });

    await t.step("valid params pass, synchronously for a plain schema", () => {
      const check = validator.compile({ name: "string", age: { type: "number", min: 0 } });
      assert.equal(check({ name: "Ann", age: 30 }), undefined);
    });

    await t.step("invalid params fail with a ValidationError naming the field", async () => {
      const check = validator.compile({ name: "string", age: { type: "number", min: 0 } });
      const err = await failure(() => check({ name: "Ann", age: -1 }));
      assert.ok(
        (err.data as { field?: string }[]).some((issue) => issue.field === "age"),
        JSON.stringify(err.data),
      );
      await failure(() => check({ age: 1 }));
    });

    await t.step("null and undefined params are checked as {}", async () => {
      const open = validator.compile({ name: { type: "string", optional: true } });
      assert.equal(open(undefined), undefined);
      assert.equal(open(null), undefined);
      const strict = validator.compile({ name: "string" });
      await failure(() => strict(undefined));
      await failure(() => strict(null));
    });

    await t.step("an array schema lists required keys of any type", async () => {
      const check = validator.compile(["id", "tags"]);
      assert.equal(check({ id: 1, tags: ["a"] }), undefined);
      await failure(() => check({ id: 1 }));
    });

    await t.step("one compiled check serves many calls, and the schema is left as given", () => {
      const schema = { $$strict: true, id: { type: "number", positive: true } };
      const before = structuredClone(schema);
      const check = validator.compile(schema);
      for (let id = 1; id <= 50; id++) check({ id });
      assert.deepEqual(schema, before);
    });

    await t.step("a schema that is not one fails at compile time", () => {
      assert.throws(() => validator.compile(null as never), TypeError);
      assert.throws(() => validator.compile("name" as never), TypeError);
    });
  });
}
