/**
 * Checks of the built-in cachers' options, shared by their constructors and by the `cacher`
 * broker option (which checks them before any cacher exists), so both report the same message.
 *
 * @module
 */

import { BrokerOptionsError } from "../errors.ts";

/** Throws a {@linkcode BrokerOptionsError} when `value` does not fit option `name`. */
export type OptionCheck = (name: string, value: unknown) => void;

/** A value on one line for an error message: JSON, or "a function". */
export function show(value: unknown): string {
  if (typeof value === "function") return "a function";
  try {
    return JSON.stringify(value) ?? String(value);
  } catch { // a bigint or a cycle
    return String(value);
  }
}

function fail(name: string, must: string, value: unknown): never {
  throw new BrokerOptionsError(
    `Option '${name}' must be ${must}, got ${show(value)}`,
    {
      option: name,
    },
  );
}

const seconds: OptionCheck = (name, value) => {
  if (value === null) return;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    fail(name, "a number of seconds ≥ 0 (0 or null = no expiry)", value);
  }
};

const lengthOrNull: OptionCheck = (name, value) => {
  if (value === null) return;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    fail(name, "a number ≥ 0, or null", value);
  }
};

const functionOrNull: OptionCheck = (name, value) => {
  if (value !== null && typeof value !== "function") {
    fail(
      name,
      "a function (actionName, params, meta, keys, headers) => string, or null",
      value,
    );
  }
};

const clone: OptionCheck = (name, value) => {
  if (typeof value !== "boolean" && typeof value !== "function") {
    fail(name, "true (structuredClone), false or a clone function", value);
  }
};

const max: OptionCheck = (name, value) => {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    fail(name, "an integer ≥ 1", value);
  }
};

/** Options of every cacher. */
export const BASE_CHECKS: Readonly<Record<string, OptionCheck>> = Object.freeze(
  {
    ttl: seconds,
    keygen: functionOrNull,
    maxParamsLength: lengthOrNull,
  },
);

/** Options of the Memory cacher. */
export const MEMORY_CHECKS: Readonly<Record<string, OptionCheck>> = Object
  .freeze({
    ...BASE_CHECKS,
    clone,
  });

/** Options of the MemoryLRU cacher. */
export const LRU_CHECKS: Readonly<Record<string, OptionCheck>> = Object.freeze({
  ...MEMORY_CHECKS,
  max,
});

/**
 * Check the options `checks` knows; other keys are left alone (a subclass may take more).
 *
 * @param options The options object.
 * @param checks Checks by option name.
 * @throws {BrokerOptionsError} naming `cacher.options.<name>`.
 */
export function checkCacherValues(
  options: object,
  checks: Readonly<Record<string, OptionCheck>>,
): void {
  for (const [key, check] of Object.entries(checks)) {
    const value = (options as Record<string, unknown>)[key];
    if (value !== undefined) check(`cacher.options.${key}`, value);
  }
}

/**
 * Check an options object completely: its type, unknown keys, every value.
 *
 * @param type The cacher type, for the message.
 * @param options The options, or undefined.
 * @param checks Checks by option name.
 * @throws {BrokerOptionsError} naming the wrong option.
 */
export function checkCacherOptions(
  type: string,
  options: unknown,
  checks: Readonly<Record<string, OptionCheck>>,
): void {
  if (options === undefined || options === null) return;
  if (typeof options !== "object" || Array.isArray(options)) {
    throw new BrokerOptionsError("Option 'cacher.options' must be an object", {
      option: "cacher.options",
    });
  }
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(checks, key)) {
      throw new BrokerOptionsError(
        `Unknown broker option 'cacher.options.${key}'. Known options of the ${type} cacher: ${
          Object.keys(checks).join(", ")
        }`,
        { option: `cacher.options.${key}` },
      );
    }
  }
  checkCacherValues(options, checks);
}
