/**
 * The params-validator contract.
 *
 * A {@link Validator} turns an action's (or event's) `params` schema into a {@link ParamsCheck}
 * once, when the service is registered; the check then runs on every call. The broker option
 * `validator` picks the implementation (see `resolveValidator` in `./resolve.ts`).
 *
 * @module
 */

import type { ParamsSchema } from "../core/schema.ts";

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
