/** resolveValidator(): the default, off, instances, and what it refuses. */

import assert from "node:assert/strict";
import { FastestValidator } from "../../src/validators/fastest.ts";
import { resolveValidator } from "../../src/validators/resolve.ts";
import type { Validator } from "../../src/validators/validator.ts";

Deno.test("resolveValidator() maps the validator option", () => {
  const byDefault = resolveValidator(undefined);
  assert.ok(byDefault instanceof FastestValidator);
  assert.equal(byDefault.name, "Fastest");
  assert.ok(resolveValidator(true) instanceof FastestValidator);
  assert.equal(resolveValidator(false), null);

  const custom: Validator = { name: "Noop", compile: () => () => {} };
  assert.equal(resolveValidator(custom), custom);
  const fv = new FastestValidator();
  assert.equal(resolveValidator(fv), fv);

  assert.throws(
    () => resolveValidator("Fastest" as unknown as boolean),
    TypeError,
  );
  assert.throws(
    () => resolveValidator({ name: "x" } as unknown as Validator),
    TypeError,
  );
});
