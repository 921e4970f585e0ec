/**
 * Turns the broker's `validator` option into a {@linkcode Validator}.
 *
 * @example Resolve the default validator and check params
 * ```ts
 * import { resolveValidator } from "./resolve.ts";
 *
 * const validator = resolveValidator(true)!;
 * const check = validator.compile({ name: "string" });
 * await check({ name: "John" }); // passes
 * ```
 *
 * @module
 */

import { FastestValidator } from "./fastest.ts";
import type { Validator } from "./validator.ts";

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
 * import { resolveValidator } from "./resolve.ts";
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
