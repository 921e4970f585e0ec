/**
 * The default params validator, built on
 * [fastest-validator](https://github.com/icebob/fastest-validator) — the schema language
 * Moleculer services already use.
 *
 * @example
 * ```ts
 * import { FastestValidator } from "./fastest.ts";
 *
 * const check = new FastestValidator().compile({ id: { type: "number", positive: true } });
 * try {
 *   check({ id: -1 });
 * } catch (err) {
 *   // ValidationError: Parameters validation error! (422, VALIDATION_ERROR)
 *   // err.data: [{ type: "numberPositive", field: "id", actual: -1, message: "..." }]
 * }
 * ```
 *
 * @module
 */

import * as fastestValidator from "fastest-validator";
import { BrokerOptionsError, ValidationError } from "../errors.ts";
import type { ParamsCheck, Validator } from "./validator.ts";
import type { ParamsSchema } from "../core/schema.ts";

/** The message of every params validation failure, word for word Moleculer's. */
const MESSAGE = "Parameters validation error!";

// fastest-validator is CommonJS (`module.exports = Validator`) but its typings use an ES
// `export default class`. Deno's type checker therefore sees the class one `.default` deeper
// than it is at run time; take whichever is there.
type FVClass = typeof fastestValidator.default.default;
const fvExports = fastestValidator.default as unknown as FVClass & { default?: FVClass };
const FV: FVClass = fvExports.default ?? fvExports;

/**
 * Options of {@link FastestValidator}: fastest-validator's own constructor options
 * (`messages`, `aliases`, `customRules`, `plugins`, `haltOnFirstError`, ...).
 * `useNewCustomCheckerFunction` defaults to `true`, as in Moleculer.
 */
export type FastestValidatorOptions = fastestValidator.ValidatorConstructorOptions;

/**
 * A {@link Validator} backed by fastest-validator.
 *
 * - Object schemas are fastest-validator schemas; `$$strict`, `$$root` and `$$async` work.
 * - An array schema `["name", "age"]` means each key is required, with any type.
 * - The schema given to {@link FastestValidator.compile} is never mutated (it is deep-cloned,
 *   since fastest-validator deletes `$$` keys from what it compiles).
 * - A failure throws `ValidationError("Parameters validation error!", "VALIDATION_ERROR",
 *   issues)` where `issues` is fastest-validator's list (`{ type, message, field, actual, ...}`).
 */
export class FastestValidator implements Validator {
  /** Always `"Fastest"` (Moleculer's name for it). */
  readonly name: string = "Fastest";
  readonly #engine: InstanceType<FVClass>;

  /**
   * Create a validator.
   *
   * @param options fastest-validator constructor options.
   */
  constructor(options: FastestValidatorOptions = {}) {
    this.#engine = new FV({ useNewCustomCheckerFunction: true, ...options });
  }

  /**
   * Compile a params schema into a check.
   *
   * @param schema A fastest-validator schema object, or an array of required key names.
   * @returns A synchronous check, or an async one when the schema has `$$async: true`.
   * @throws {TypeError} when the schema is neither an object nor an array of non-empty strings.
   * @throws {BrokerOptionsError} when fastest-validator rejects the schema (e.g. unknown type);
   *   the original error is the `cause`.
   *
   * @example
   * ```ts
   * import { FastestValidator } from "./fastest.ts";
   *
   * const check = new FastestValidator().compile(["name", "age"]);
   * check({ name: "John", age: 42 }); // passes
   * ```
   */
  compile(schema: ParamsSchema): ParamsCheck {
    const source = toSchemaObject(schema);
    let check: ReturnType<InstanceType<FVClass>["compile"]>;
    try {
      check = this.#engine.compile(cloneSchema(source) as Record<string, unknown>);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new BrokerOptionsError(`Invalid params schema: ${reason}`, { schema }, { cause: err });
    }

    if (check.async) {
      const asyncCheck = check;
      return async (params: unknown, meta?: unknown): Promise<void> => {
        const res = await asyncCheck(params ?? {}, meta === undefined ? undefined : { meta });
        if (res !== true) throw new ValidationError(MESSAGE, "VALIDATION_ERROR", res);
      };
    }
    const syncCheck = check;
    return (params: unknown, meta?: unknown): void => {
      const res = syncCheck(params ?? {}, meta === undefined ? undefined : { meta });
      if (res !== true) throw new ValidationError(MESSAGE, "VALIDATION_ERROR", res);
    };
  }
}

/** Check the schema's shape and expand an array of keys into `{ key: "any" }`. */
function toSchemaObject(schema: ParamsSchema): Record<string, unknown> {
  if (Array.isArray(schema)) {
    const out: Record<string, unknown> = {};
    for (const key of schema as readonly unknown[]) {
      if (typeof key !== "string" || key === "") {
        throw new TypeError(
          `Invalid params schema: an array schema lists required key names, got ${
            JSON.stringify(key) ?? String(key)
          }.`,
        );
      }
      out[key] = "any";
    }
    return out;
  }
  if (schema === null || typeof schema !== "object") {
    throw new TypeError(
      `Invalid params schema: expected an object or an array of key names, got ${
        schema === null ? "null" : typeof schema
      }.`,
    );
  }
  return schema as Record<string, unknown>;
}

/**
 * Deep-clone plain objects and arrays; keep everything else (functions, RegExps, class
 * instances) by reference, as lodash's cloneDeep does for the values fastest-validator uses.
 */
function cloneSchema(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cloneSchema);
  if (value === null || typeof value !== "object") return value;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    out[key] = cloneSchema((value as Record<string, unknown>)[key]);
  }
  return out;
}
