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
}
