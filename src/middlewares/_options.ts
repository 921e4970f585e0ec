/**
 * Checks of broker option values, shared by the features that own an option group
 * (`retryPolicy`, `circuitBreaker`, `bulkhead`, `tracking`) and by the broker's own options, so
 * every bad value is reported the same way: a {@linkcode BrokerOptionsError} naming the option
 * and what it must be.
 *
 * @module
 */

import { BrokerOptionsError } from "../errors.ts";
import { isRecord } from "../_util/values.ts";

/**
 * An option group (e.g. `retryPolicy`): an object whose keys are all known.
 *
 * @param option The group's name, used in messages.
 * @param value The user's value.
 * @param known The keys the group accepts.
 * @returns The value, or `{}` when it is `undefined`.
 * @throws {BrokerOptionsError} when it is not an object or has an unknown key.
 */
export function optionGroup(
  option: string,
  value: unknown,
  known: ReadonlySet<string>,
): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isRecord(value)) {
    throw new BrokerOptionsError(`Option '${option}' must be an object`, {
      option,
      value,
    });
  }
  for (const key of Object.keys(value)) {
    if (!known.has(key)) {
      throw new BrokerOptionsError(
        `Unknown broker option '${option}.${key}'. Known ${option} options: ${
          [...known].join(", ")
        }`,
        { option: `${option}.${key}` },
      );
    }
  }
  return value;
}

/**
 * A boolean option.
 *
 * @param option The option's name, used in messages.
 * @param value The user's value.
 * @param fallback The default, used when `value` is `undefined`.
 * @returns The value or the default.
 * @throws {BrokerOptionsError} when it is not a boolean.
 */
export function boolOption(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") {
    throw new BrokerOptionsError(
      `Option '${option}' must be true or false, got ${JSON.stringify(value)}`,
      { option, value },
    );
  }
  return value;
}

/**
 * A finite number option, at least `min`.
 *
 * @param option The option's name, used in messages.
 * @param value The user's value.
 * @param fallback The default, used when `value` is `undefined`.
 * @param min The smallest value allowed.
 * @returns The value or the default.
 * @throws {BrokerOptionsError} when it is not a finite number ≥ `min`.
 */
export function numberOption(option: string, value: unknown, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
    throw new BrokerOptionsError(
      `Option '${option}' must be a number ≥ ${min}, got ${JSON.stringify(value)}`,
      { option, value },
    );
  }
  return value;
}

/**
 * A ratio option: a number from 0 to 1.
 *
 * @param option The option's name, used in messages.
 * @param value The user's value.
 * @param fallback The default, used when `value` is `undefined`.
 * @returns The value or the default.
 * @throws {BrokerOptionsError} when it is not a number from 0 to 1.
 */
export function ratioOption(option: string, value: unknown, fallback: number): number {
  const n = numberOption(option, value, fallback);
  if (n > 1) {
    throw new BrokerOptionsError(
      `Option '${option}' must be a number from 0 to 1, got ${JSON.stringify(value)}`,
      { option, value },
    );
  }
  return n;
}

/**
 * A function option.
 *
 * @param option The option's name, used in messages.
 * @param value The user's value.
 * @param fallback The default, used when `value` is `undefined`.
 * @returns The value or the default.
 * @throws {BrokerOptionsError} when it is not a function.
 */
export function functionOption<F>(option: string, value: unknown, fallback: F): F {
  if (value === undefined) return fallback;
  if (typeof value !== "function") {
    throw new BrokerOptionsError(`Option '${option}' must be a function`, { option });
  }
  return value as F;
}
