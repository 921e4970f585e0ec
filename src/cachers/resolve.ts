/**
 * The `cacher` broker option: its check, and the cacher it names.
 *
 * @module
 */

import { BrokerOptionsError } from "../errors.ts";
import type { Cacher } from "../core/cacher.ts";
import { MemoryCacher } from "./memory.ts";
import { MemoryLRUCacher, type MemoryLRUCacherOptions } from "./memory_lru.ts";
import { checkCacherOptions, LRU_CHECKS, MEMORY_CHECKS, show } from "./_options.ts";

/** The built-in cachers by name. */
export type CacherName = "Memory" | "MemoryLRU";

/** A built-in cacher with options, as in a `moleculer.config.js`. */
export interface CacherConfig {
  /** Which cacher (any letter case). @default {"Memory"} */
  type?: CacherName;
  /** Its options; `max` is the MemoryLRU cacher's only. */
  options?: MemoryLRUCacherOptions;
}

/**
 * The `cacher` broker option: `"Memory"`, `"MemoryLRU"`, `true` (Memory), `false` (no caching),
 * `{ type, options }`, or a {@linkcode Cacher} instance.
 */
export type CacherOption = boolean | CacherName | CacherConfig | Cacher;

const METHODS = [
  "get",
  "set",
  "del",
  "clean",
  "getCacheKey",
  "init",
  "close",
] as const;

const SHAPES = '"Memory", "MemoryLRU", true, false, { type: "Memory" | "MemoryLRU", options } ' +
  "or a Cacher instance";

function builtIn(name: string): CacherName | undefined {
  const lower = name.toLowerCase();
  if (lower === "memory") return "Memory";
  if (lower === "memorylru") return "MemoryLRU";
  return undefined;
}

function checkName(name: unknown, option: string): CacherName {
  if (typeof name === "string") {
    const found = builtIn(name);
    if (found) return found;
    if (/^rediss?:\/\//i.test(name) || name.toLowerCase() === "redis") {
      throw new BrokerOptionsError(
        `Option '${option}': the Redis cacher is not built in. Pass an instance of a class that ` +
          "implements Cacher (extend BaseCacher) over your Redis client, or use " +
          '"Memory" / "MemoryLRU"',
        { option, value: name },
      );
    }
  }
  const got = typeof name === "function"
    ? "a function (pass an instance, e.g. new MyCacher(), not the class)"
    : show(name);
  throw new BrokerOptionsError(
    `Option '${option}' must be ${
      option === "cacher" ? SHAPES : '"Memory" or "MemoryLRU"'
    }, got ${got}`,
    { option, value: name },
  );
}

/**
 * Check a `cacher` option without creating anything.
 *
 * @param value The option as given.
 * @returns It, typed; `false` when absent or null.
 * @throws {BrokerOptionsError} naming what is wrong (`cacher`, `cacher.type`,
 *   `cacher.options.<name>`) and the shapes accepted.
 */
export function checkCacherOption(value: unknown): CacherOption {
  if (value === undefined || value === null || value === false) return false;
  if (value === true) return true;
  if (typeof value === "string") return checkName(value, "cacher");
  if (typeof value !== "object" || Array.isArray(value)) {
    return checkName(value, "cacher");
  }
  const record = value as Record<string, unknown>;
  if (METHODS.some((m) => typeof record[m] === "function")) {
    const missing = METHODS.filter((m) => typeof record[m] !== "function");
    if (missing.length > 0) {
      throw new BrokerOptionsError(
        `Option 'cacher' is an object with some cacher methods but not ${
          missing.join(", ")
        }: implement the Cacher interface (extending BaseCacher provides getCacheKey, init ` +
          "and close)",
        { option: "cacher", missing },
      );
    }
    return value as Cacher;
  }
  for (const key of Object.keys(record)) {
    if (key !== "type" && key !== "options") {
      throw new BrokerOptionsError(
        `Unknown broker option 'cacher.${key}'. A cacher with options is written ` +
          `{ type: "Memory" | "MemoryLRU", options: { ttl, max, keygen, maxParamsLength, clone } }`,
        { option: `cacher.${key}` },
      );
    }
  }
  const type = record.type === undefined ? "Memory" : checkName(record.type, "cacher.type");
  checkCacherOptions(
    type,
    record.options,
    type === "MemoryLRU" ? LRU_CHECKS : MEMORY_CHECKS,
  );
  return value as CacherConfig;
}

/**
 * The cacher a `cacher` option names (Moleculer's `Cachers.resolve`).
 *
 * @param option The option.
 * @returns A new cacher, the instance given, or null when caching is off.
 * @throws {BrokerOptionsError} for a bad option; see {@linkcode checkCacherOption}.
 *
 * @example
 * ```ts
 * import { resolveCacher } from "./resolve.ts";
 *
 * const lru = resolveCacher({ type: "MemoryLRU", options: { max: 100, ttl: 60 } });
 * console.log(lru?.constructor.name); // MemoryLRUCacher
 * console.log(resolveCacher(false)); // null
 * lru?.close();
 * ```
 */
export function resolveCacher(
  option: CacherOption | null | undefined,
): Cacher | null {
  const checked = checkCacherOption(option);
  if (checked === false) return null;
  if (checked === true) return new MemoryCacher();
  if (typeof checked === "string") {
    return checked === "Memory" ? new MemoryCacher() : new MemoryLRUCacher();
  }
  if (typeof (checked as Cacher).get === "function") return checked as Cacher;
  const config = checked as CacherConfig;
  const options = config.options ?? {};
  const type = config.type === undefined ? "Memory" : builtIn(config.type);
  return type === "MemoryLRU" ? new MemoryLRUCacher(options) : new MemoryCacher(options);
}
