/**
 * The cacher contract: what the `cacher` broker option accepts as an instance, and what
 * `broker.cacher` is. The built-in cachers and their base class live in `src/cachers/`.
 *
 * @module
 */

import type { BrokerApi } from "./broker_api.ts";
import type { Meta } from "./context.ts";

/** A value, or a promise of it: the built-in cachers answer synchronously, others may not. */
export type MaybePromise<T> = T | Promise<T>;

/** Releases a lock taken with {@linkcode Cacher.lock}; resolves once released. */
export type CacheLock = () => Promise<void>;

/** What {@linkcode Cacher.getWithTTL} answers. */
export interface CacheValueWithTTL {
  /** The value; `null` (or the cacher's `missingResponse`) when missing. */
  readonly data: unknown;
  /** Seconds it has left; `null` or a negative number when unknown or unlimited. */
  readonly ttl: number | null;
}

/**
 * A cacher: what the `cacher` broker option accepts as an instance, and what `broker.cacher` is.
 * Extend {@linkcode BaseCacher} to get key generation, `init` and `close`.
 *
 * Values are whatever actions return; `undefined` means "not cached" and is never stored.
 */
export interface Cacher {
  /**
   * Called once by the broker that uses the cacher, from its constructor.
   *
   * @param broker The broker.
   */
  init(broker: BrokerApi): void;
  /** Called when the broker stops: release timers and connections. */
  close(): MaybePromise<void>;
  /**
   * The value stored under `key`.
   *
   * @param key The key.
   * @returns The value, or `undefined` when missing or expired.
   */
  get(key: string): MaybePromise<unknown>;
  /**
   * Store a value.
   *
   * @param key The key.
   * @param value The value; `undefined` removes the key.
   * @param ttl Seconds it lives; `undefined` or `null` = the cacher's ttl, `0` = no expiry.
   */
  set(key: string, value: unknown, ttl?: number | null): MaybePromise<void>;
  /**
   * Remove entries.
   *
   * @param key A key or several.
   */
  del(key: string | readonly string[]): MaybePromise<void>;
  /**
   * Remove every entry whose key matches a pattern (Moleculer's wildcards: `*` any run without a
   * dot, `**` any run, `?` one character).
   *
   * @param pattern A pattern or several. @default {"**"} (everything)
   */
  clean(pattern?: string | readonly string[]): MaybePromise<void>;
  /**
   * The key of a call.
   *
   * @param actionName Full action name.
   * @param params The call's params.
   * @param meta The call's meta (read by `#` keys).
   * @param keys The action's `cache.keys`, if any.
   * @param headers The call's headers (read by `@` keys).
   * @returns The key.
   */
  getCacheKey(
    actionName: string,
    params: unknown,
    meta?: Meta,
    keys?: readonly string[],
    headers?: Record<string, unknown>,
  ): string;
  /**
   * False while the cacher cannot reach its store: the cacher middleware then calls the
   * handler directly (Moleculer's rule). Absent or null = always usable.
   */
  readonly connected?: boolean | null;
  /** What `get` answers for a missing key, when not `undefined` (Moleculer's option). */
  readonly missingResponse?: unknown;
  /**
   * Take the lock of a key, waiting while another holder has it (an action's `cache.lock`).
   * Without it the cacher middleware locks within this process.
   *
   * @param key The cache key.
   * @param ttl Milliseconds the lock lives unless released.
   * @returns The release function.
   */
  lock?(key: string, ttl?: number): Promise<CacheLock>;
  /**
   * Take the lock of a key only if it is free (refreshing a stale entry, `cache.lock.staleTime`).
   *
   * @param key The cache key.
   * @param ttl Milliseconds the lock lives unless released.
   * @returns The release function; rejects when the lock is held.
   */
  tryLock?(key: string, ttl?: number): Promise<CacheLock>;
  /**
   * The value and the seconds it has left (`cache.lock.staleTime`).
   *
   * @param key The key.
   * @returns The value and its ttl.
   */
  getWithTTL?(key: string): Promise<CacheValueWithTTL>;
}
