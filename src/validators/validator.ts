/**
 * The params-validator contract and its resolver.
 *
 * A {@link Validator} turns an action's (or event's) `params` schema into a {@link ParamsCheck}
 * once, when the service is registered; the check then runs on every call. The broker option
 * `validator` picks the implementation: see {@link resolveValidator}.
 *
 * @example Resolve the default validator and check params
 * ```ts
 * import { resolveValidator } from "./validator.ts";
 *
 * const validator = resolveValidator(true)!;
 * const check = validator.compile({ name: "string" });
 * await check({ name: "John" }); // passes
 * ```
 *
 * @module
 */

import type { ParamsSchema } from "../core/schema.ts";
import { FastestValidator } from "./fastest.ts";

/**
 * A compiled check. It returns (or resolves) when the params are valid and throws (or rejects
 * with) a `ValidationError` (422, `VALIDATION_ERROR`, data = the list of problems) otherwise.
 * It is synchronous unless the schema asked for async validation.
 *
 * @param params The params of the call; `null`/`undefined` are checked as `{}`, as in Moleculer.
 * @param meta Optional value handed to custom check functions as `context.meta` (Moleculer
 *   passes the call's Context).
 * @returns Nothing, or a promise of nothing for async schemas.
 * @throws {ValidationError} when the params do not match the schema.
 */
export type ParamsCheck = (params: unknown, meta?: unknown) => void | Promise<void>;

/**
 * A pluggable params validator.
 */
export interface Validator {
  /** Name of the implementation, e.g. `"Fastest"`. */
  readonly name: string;
  /**
   * Compile a schema into a check. Called once per action or event at registration.
   *
   * @param schema The params schema.
   * @returns The check to run on every call.
   * @throws {TypeError} when the schema is not an object or an array of key names.
   * @throws {BrokerOptionsError} when the implementation rejects the schema.
   */
  compile(schema: ParamsSchema): ParamsCheck;
}

/**
 * The `validator` broker option: `true` or left out for the default (fastest-validator),
 * `false` for none, or a {@link Validator} instance.
 */
export type ValidatorOption = boolean | Validator | undefined;

/**
 * Turn the `validator` broker option into a validator.
 *
 * @param opt `undefined`/`true` → a new {@link FastestValidator}; `false` → `null` (no
 *   validation); a {@link Validator} instance → itself.
 * @returns The validator to use, or `null` when validation is off.
 * @throws {TypeError} when `opt` is none of these.
 *
 * @example
 * ```ts
 * import { resolveValidator } from "./validator.ts";
 *
 * resolveValidator(false); // null
 * resolveValidator(undefined)?.name; // "Fastest"
 * ```
 */
export function resolveValidator(opt: ValidatorOption): Validator | null {
  if (opt === undefined || opt === true) return new FastestValidator();
  if (opt === false) return null;
  if (
    opt !== null && typeof opt === "object" &&
    typeof (opt as Partial<Validator>).compile === "function"
  ) {
    return opt;
  }
  throw new TypeError(
    "Invalid 'validator' option: expected true, false or an object with a compile(schema) method.",
  );
}
