/**
 * The cacher contract, Moleculer's cache keys, and {@linkcode BaseCacher}, the base class of the
 * built-in cachers.
 *
 * Keys are built exactly as Moleculer 0.15's default keygen builds them (`<action>:<params>`,
 * long keys shortened with a SHA-256 hash past `maxParamsLength`), so a key printed by a Node.js
 * service, or a `clean()` pattern written for one, means the same here.
 *
 * @module
 */

import { sha256Base64 } from "../runtime/hash.ts";
import type { BrokerApi } from "../core/broker_api.ts";
import type { Meta } from "../core/context.ts";
import type { Cacher, MaybePromise } from "../core/cacher.ts";
import type { Logger } from "../logging.ts";
import { matchEventName } from "../core/event_match.ts";
import { BASE_CHECKS, checkCacherValues } from "./_options.ts";

/**
 * A cache key generator, replacing Moleculer's default one.
 *
 * @param actionName Full action name, e.g. `"users.get"`.
 * @param params The call's params.
 * @param meta The call's meta.
 * @param keys The action's `cache.keys`, if any.
 * @param headers The call's headers.
 * @returns The key.
 */
export type CacheKeygen = (
  actionName: string,
  params: unknown,
  meta: Meta | undefined,
  keys: readonly string[] | undefined,
  headers: Record<string, unknown> | undefined,
) => string;

/** Options every built-in cacher takes (Moleculer's names). */
export interface CacherOptions {
  /**
   * Seconds an entry lives; fractions are allowed. `0` or `null` = no expiry. An action's
   * `cache.ttl` wins over it. @default {null}
   */
  ttl?: number | null;
  /** Build keys with this function instead of Moleculer's default keygen. @default {null} */
  keygen?: CacheKeygen | null;
  /**
   * Longest params part of a key: past it the part is cut to `maxParamsLength - 44` characters
   * followed by the 44-character base64 SHA-256 of the whole part. `null`, `0` or less than 44 =
   * never shortened. @default {null}
   */
  maxParamsLength?: number | null;
}

// ------------------------------------------------------------------ paths (lodash `_.get`)

// lodash's own expressions, so that `"a[0].b"`, `'a["x.y"]'` and a key that exists verbatim
// (`{ "a.b": 1 }`) resolve as Moleculer resolves them.
const PLAIN_PROP = /^\w*$/;
const DEEP_PROP = /\.|\[(?:[^[\]]*|(["'])(?:(?!\1)[^\\]|\\.)*?\1)\]/;
const PROP_NAME =
  /[^.[\]]+|\[(?:(-?\d+(?:\.\d+)?)|(["'])((?:(?!\2)[^\\]|\\.)*?)\2)\]|(?=(?:\.|\[\])(?:\.|\[\]|$))/g;
const ESCAPE_CHAR = /\\(\\)?/g;
const parsedPaths = new Map<string, readonly string[]>();

function splitPath(path: string): readonly string[] {
  let parts = parsedPaths.get(path);
  if (parts === undefined) {
    const out: string[] = [];
    if (path.charCodeAt(0) === 0x2e) out.push("");
    path.replace(PROP_NAME, (match, number, quote, sub) => {
      out.push(
        quote ? (sub as string).replace(ESCAPE_CHAR, "$1") : (number || match),
      );
      return match;
    });
    // Keys come from action definitions, so the set is small; the bound guards a misuse.
    if (parsedPaths.size > 1000) parsedPaths.clear();
    parsedPaths.set(path, out);
    parts = out;
  }
  return parts;
}

function getPath(obj: unknown, path: string): unknown {
  if (obj === null || obj === undefined) return undefined;
  if (PLAIN_PROP.test(path) || !DEEP_PROP.test(path) || path in Object(obj)) {
    return (obj as Record<string, unknown>)[path];
  }
  const parts = splitPath(path);
  let value: unknown = obj;
  let i = 0;
  while (value !== null && value !== undefined && i < parts.length) {
    value = (value as Record<string, unknown>)[parts[i++]!];
  }
  return i > 0 && i === parts.length ? value : undefined;
}

// ------------------------------------------------------------------ keys

function isObjectLike(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" &&
    !(value instanceof String);
}

/**
 * A value as Moleculer's `_generateKeyFromObject` writes it into a key: strings quoted, arrays
 * as `[a|b]`, objects as `key|value|key|value` in property order, valid dates as their
 * timestamp, `null` and `undefined` by name, anything else by its `toString()`.
 *
 * @param value Any value.
 * @returns Its key text.
 */
export function keyFromValue(value: unknown): string {
  if (Array.isArray(value)) {
    return "[" + value.map((v) => keyFromValue(v)).join("|") + "]";
  }
  if (value instanceof Date && !Number.isNaN(value.getTime())) {
    return String(value.valueOf());
  }
  if (isObjectLike(value)) {
    return Object.keys(value).map((k) => k + "|" + keyFromValue(value[k])).join(
      "|",
    );
  }
  if (typeof value === "string") return '"' + value + '"';
  if (value !== null && value !== undefined) {
    return (value as { toString(): string }).toString();
  }
  return value === null ? "null" : "undefined";
}

/**
 * Shorten a key part past `maxParamsLength`, as Moleculer's `_hashedKey` does.
 *
 * @param key The key part.
 * @param maxParamsLength The limit; `null`, `0` or less than 44 = no limit.
 * @returns The part, or its first `maxParamsLength - 44` characters and its base64 SHA-256.
 */
export function hashedKey(
  key: string,
  maxParamsLength: number | null | undefined,
): string {
  if (
    !maxParamsLength || maxParamsLength < 44 || key.length <= maxParamsLength
  ) return key;
  const hash = sha256Base64(key);
  const prefixLength = maxParamsLength - 44;
  return prefixLength < 1 ? hash : key.substring(0, prefixLength) + hash;
}

function keyValue(
  key: string,
  params: unknown,
  meta: unknown,
  headers: unknown,
): unknown {
  if (key.startsWith("#") && meta !== null && meta !== undefined) {
    return getPath(meta, key.slice(1));
  }
  if (key.startsWith("@") && headers !== null && headers !== undefined) {
    return getPath(headers, key.slice(1));
  }
  if (params !== null && params !== undefined) return getPath(params, key);
  return undefined;
}

/**
 * Moleculer 0.15's default cache key: `<action>:<params part>`. Without `keys` the part is every
 * param; with one key it is that value; with several, their values joined with `|` (an object or
 * array value hashed on its own first). With an empty `keys` list, or nothing to read at all, the
 * key is the action name alone.
 *
 * @param actionName Full action name.
 * @param params The call's params.
 * @param meta The call's meta (`#` keys).
 * @param keys The action's `cache.keys`.
 * @param headers The call's headers (`@` keys).
 * @param maxParamsLength See {@linkcode CacherOptions.maxParamsLength}.
 * @returns The key.
 *
 * @example
 * ```ts
 * import { defaultCacheKey } from "./cacher.ts";
 *
 * console.log(defaultCacheKey("users.get", { id: 5, fields: ["name"] }, {}));
 * // users.get:id|5|fields|["name"]
 * console.log(defaultCacheKey("users.get", { id: 5 }, { user: { id: 9 } }, ["id", "#user.id"]));
 * // users.get:5|9
 * ```
 */
export function defaultCacheKey(
  actionName: string,
  params: unknown,
  meta?: Meta,
  keys?: readonly string[],
  headers?: Record<string, unknown>,
  maxParamsLength?: number | null,
): string {
  if (!(params || meta || headers)) return actionName;
  const prefix = actionName + ":";
  if (!keys) return prefix + hashedKey(keyFromValue(params), maxParamsLength);
  if (keys.length === 1) {
    return prefix +
      hashedKey(
        keyFromValue(keyValue(keys[0]!, params, meta, headers)),
        maxParamsLength,
      );
  }
  if (keys.length === 0) return actionName;
  let part = "";
  for (let i = 0; i < keys.length; i++) {
    const value = keyValue(keys[i]!, params, meta, headers);
    const text = keyFromValue(value);
    if (i > 0) part += "|";
    part += isObjectLike(value) ? hashedKey(text, maxParamsLength) : text;
  }
  return prefix + hashedKey(part, maxParamsLength);
}

/**
 * True when a cache key matches a `clean()` pattern. The wildcards are those of event names
 * (see `matchEventName`); a pattern ending in its only wildcard, `**` (`"users.**"`), is a plain
 * prefix test, as in Moleculer, so it also matches keys holding a line break (a string param is
 * written into its key verbatim).
 *
 * @param key A cache key.
 * @param pattern A pattern, e.g. `"users.**"` or `"users.get:*"`.
 * @returns Whether it matches.
 */
export function matchCacheKey(key: string, pattern: string): boolean {
  const star = pattern.indexOf("*");
  if (
    star !== -1 && star === pattern.length - 2 && pattern.indexOf("?") === -1
  ) {
    return key.startsWith(pattern.slice(0, -2));
  }
  return matchEventName(key, pattern);
}

// ------------------------------------------------------------------ base class

/**
 * Base class of cachers: option checks, Moleculer's key generation (or the `keygen` option),
 * and `init`/`close` that a subclass may extend. A subclass implements the storage: `get`,
 * `set`, `del` and `clean`.
 *
 * @example A cacher over an external store
 * ```ts ignore
 * class KvCacher extends BaseCacher {
 *   constructor(private kv: Deno.Kv, options?: CacherOptions) { super(options); }
 *   async get(key: string) { return (await this.kv.get([key])).value ?? undefined; }
 *   async set(key: string, value: unknown, ttl?: number | null) {
 *     const s = ttl ?? this.ttl;
 *     await this.kv.set([key], value, s ? { expireIn: s * 1000 } : {});
 *   }
 *   async del(key: string | readonly string[]) { ... }
 *   async clean(pattern: string | readonly string[] = "**") { ... }
 * }
 * const broker = new ServiceBroker({ cacher: new KvCacher(await Deno.openKv()) });
 * ```
 */
export abstract class BaseCacher implements Cacher {
  /** Default seconds an entry lives; `0` = no expiry. */
  readonly ttl: number;
  /** See {@linkcode CacherOptions.maxParamsLength}; `null` = no limit. */
  readonly maxParamsLength: number | null;
  readonly #keygen: CacheKeygen | null;
  #broker: BrokerApi | null = null;
  #logger: Logger | null = null;

  /**
   * Set the options every cacher shares.
   *
   * @param options Cacher options.
   * @throws {BrokerOptionsError} naming an option of the wrong type or range.
   */
  constructor(options: CacherOptions = {}) {
    checkCacherValues(options, BASE_CHECKS);
    this.ttl = options.ttl ?? 0;
    this.maxParamsLength = options.maxParamsLength ?? null;
    this.#keygen = options.keygen ?? null;
  }

  /** The broker that initialised this cacher, or null before `init`. */
  get broker(): BrokerApi | null {
    return this.#broker;
  }

  /** The `CACHER` logger of that broker, or null before `init`. */
  get logger(): Logger | null {
    return this.#logger;
  }

  /**
   * Remember the broker and take its `CACHER` logger.
   *
   * @param broker The broker.
   */
  init(broker: BrokerApi): void {
    this.#broker = broker;
    this.#logger = broker.getLogger("CACHER");
  }

  /** Nothing to release here; subclasses with timers or connections override it. */
  close(): MaybePromise<void> {}

  /**
   * The key of a call: the `keygen` option's, else Moleculer's default
   * (see {@linkcode defaultCacheKey}).
   *
   * @param actionName Full action name.
   * @param params The call's params.
   * @param meta The call's meta.
   * @param keys The action's `cache.keys`.
   * @param headers The call's headers.
   * @returns The key.
   */
  getCacheKey(
    actionName: string,
    params: unknown,
    meta?: Meta,
    keys?: readonly string[],
    headers?: Record<string, unknown>,
  ): string {
    if (this.#keygen) {
      return this.#keygen.call(this, actionName, params, meta, keys, headers);
    }
    return defaultCacheKey(
      actionName,
      params,
      meta,
      keys,
      headers,
      this.maxParamsLength,
    );
  }

  /** See {@linkcode Cacher.get}. */
  abstract get(key: string): MaybePromise<unknown>;
  /** See {@linkcode Cacher.set}. */
  abstract set(
    key: string,
    value: unknown,
    ttl?: number | null,
  ): MaybePromise<void>;
  /** See {@linkcode Cacher.del}. */
  abstract del(key: string | readonly string[]): MaybePromise<void>;
  /** See {@linkcode Cacher.clean}. */
  abstract clean(pattern?: string | readonly string[]): MaybePromise<void>;
}
