/**
 * The `cacher` broker option: its check, and the cacher it names (Moleculer's `Cachers.resolve`).
 *
 * The cachers are a table: each entry has Moleculer's name, the URL schemes that name it, and how
 * it is made — with the checks of its options, so an option is refused before any cacher exists.
 * The Redis cacher is constructed at once (its options checked) and loads `ioredis` by
 * `import()` when the broker initialises it.
 *
 * @module
 */

import { BrokerOptionsError } from "../errors.ts";
import type { Cacher } from "../core/cacher.ts";
import { MemoryCacher } from "./memory.ts";
import { MemoryLRUCacher, type MemoryLRUCacherOptions } from "./memory_lru.ts";
import { REDIS_CHECKS, RedisCacher, type RedisCacherOptions } from "./redis.ts";
import {
  checkCacherOptions,
  LRU_CHECKS,
  MEMORY_CHECKS,
  type OptionCheck,
  show,
} from "./_options.ts";

/** The built-in cachers by name. */
export type CacherName = "Memory" | "MemoryLRU" | "Redis";

/** A built-in cacher with options, as in a `moleculer.config.js`. */
export interface CacherConfig {
  /** Which cacher (any letter case). @default {"Memory"} */
  type?: CacherName;
  /** Its options; `max` is the MemoryLRU cacher's only, `redis`, `prefix`… the Redis cacher's. */
  options?: MemoryLRUCacherOptions | RedisCacherOptions;
}

/**
 * The `cacher` broker option: `"Memory"`, `"MemoryLRU"`, `"Redis"`, a `redis://` URL, `true`
 * (Memory), `false` (no caching), `{ type, options }`, or a {@linkcode Cacher} instance.
 */
export type CacherOption = boolean | CacherName | CacherConfig | Cacher;

/** A cacher this module makes: its option checks and its constructor. */
interface BuiltIn {
  readonly name: CacherName;
  /** The checks of its options, by option name (unknown names are refused). */
  readonly checks: Readonly<Record<string, OptionCheck>>;
  /** URL schemes that name it, e.g. `redis` for `"redis://localhost:6379"`. */
  readonly schemes: readonly string[];
  readonly make: (options: Record<string, unknown>) => Cacher;
}

/** The built-in cachers; the first is the one `true` and a `{ options }` without `type` mean. */
const BUILT_IN: readonly BuiltIn[] = [
  {
    name: "Memory",
    checks: MEMORY_CHECKS,
    schemes: [],
    make: (options) => new MemoryCacher(options),
  },
  {
    name: "MemoryLRU",
    checks: LRU_CHECKS,
    schemes: [],
    make: (options) => new MemoryLRUCacher(options),
  },
  {
    name: "Redis",
    checks: REDIS_CHECKS,
    schemes: ["redis", "rediss"],
    make: (options) => new RedisCacher(options),
  },
];

const METHODS = [
  "get",
  "set",
  "del",
  "clean",
  "getCacheKey",
  "init",
  "close",
] as const;

const NAMES = BUILT_IN.map((entry) => `"${entry.name}"`);
const TYPE = `{ type: ${NAMES.join(" | ")}, options }`;
const SHAPES = `${NAMES.join(", ")}, true, false, ${TYPE} or a Cacher instance`;
/** Every option some built-in cacher takes, for the message about a misplaced one. */
const ALL_OPTIONS = [...new Set(BUILT_IN.flatMap((entry) => Object.keys(entry.checks)))];

function builtIn(name: string): BuiltIn | undefined {
  const lower = name.toLowerCase();
  return BUILT_IN.find((entry) => entry.name.toLowerCase() === lower);
}

/** The cacher a URL names by its scheme, e.g. Redis for `redis://localhost:6379`. */
function byScheme(value: string): BuiltIn | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase();
  return scheme === undefined
    ? undefined
    : BUILT_IN.find((entry) => entry.schemes.includes(scheme));
}

function find(name: unknown, option: string): BuiltIn {
  if (typeof name === "string") {
    const found = builtIn(name);
    if (found) return found;
  }
  const got = typeof name === "function"
    ? "a function (pass an instance, e.g. new MyCacher(), not the class)"
    : show(name);
  throw new BrokerOptionsError(
    `Option '${option}' must be ${
      option === "cacher" ? SHAPES : `${NAMES.slice(0, -1).join(", ")} or ${NAMES.at(-1)}`
    }, got ${got}`,
    { option, value: name },
  );
}

/** What a `cacher` option names: nothing, an instance, or a built-in with its options. */
type Named =
  | { readonly kind: "none" }
  | { readonly kind: "instance"; readonly cacher: Cacher }
  | { readonly kind: "built-in"; readonly entry: BuiltIn; readonly options: object | undefined };

function name(value: unknown): Named {
  if (value === undefined || value === null || value === false) return { kind: "none" };
  if (value === true) return { kind: "built-in", entry: BUILT_IN[0]!, options: undefined };
  if (typeof value === "string") {
    const entry = byScheme(value);
    if (entry) return { kind: "built-in", entry, options: { redis: value } };
  }
  if (typeof value !== "object" || Array.isArray(value)) {
    return { kind: "built-in", entry: find(value, "cacher"), options: undefined };
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
    return { kind: "instance", cacher: value as Cacher };
  }
  for (const key of Object.keys(record)) {
    if (key !== "type" && key !== "options") {
      throw new BrokerOptionsError(
        `Unknown broker option 'cacher.${key}'. A cacher with options is written ` +
          TYPE.replace("options }", `options: { ${ALL_OPTIONS.join(", ")} } }`),
        { option: `cacher.${key}` },
      );
    }
  }
  const entry = record.type === undefined ? BUILT_IN[0]! : find(record.type, "cacher.type");
  checkCacherOptions(entry.name, record.options, entry.checks);
  return { kind: "built-in", entry, options: (record.options ?? undefined) as object | undefined };
}

/**
 * Check a `cacher` option without creating anything.
 *
 * @param value The option as given.
 * @returns It, typed (a name in its canonical case); `false` when absent or null.
 * @throws {BrokerOptionsError} naming what is wrong (`cacher`, `cacher.type`,
 *   `cacher.options.<name>`) and the shapes accepted.
 */
export function checkCacherOption(value: unknown): CacherOption {
  const named = name(value);
  if (named.kind === "none") return false;
  if (named.kind === "built-in" && typeof value === "string" && !byScheme(value)) {
    return named.entry.name;
  }
  return value as CacherOption;
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
  const named = name(option);
  if (named.kind === "none") return null;
  if (named.kind === "instance") return named.cacher;
  return named.entry.make((named.options ?? {}) as Record<string, unknown>);
}
