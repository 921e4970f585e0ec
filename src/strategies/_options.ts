/**
 * Option checks shared by the built-in strategies.
 *
 * @module
 */

import { BrokerOptionsError } from "../errors.ts";
import type { StrategyOptions } from "../core/strategy.ts";

/**
 * A numeric strategy option, its default when absent.
 *
 * @param strategy The strategy's name, for the error.
 * @param options The options given.
 * @param key The option.
 * @param fallback Its default.
 * @param min The smallest value allowed.
 * @returns The value.
 * @throws {BrokerOptionsError} when it is not a finite number ≥ `min`.
 */
export function numberOption(
  strategy: string,
  options: StrategyOptions | undefined,
  key: string,
  fallback: number,
  min = 0,
): number {
  const value = options?.[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
    throw new BrokerOptionsError(
      `Strategy option '${strategy}.${key}' must be a number ≥ ${min}, got ${
        JSON.stringify(value)
      }`,
      { option: `strategyOptions.${key}`, value },
    );
  }
  return value;
}

/**
 * A random integer in `[0, n)`.
 *
 * @param n The bound.
 * @returns The integer.
 */
export function randomIndex(n: number): number {
  return Math.floor(Math.random() * n);
}
