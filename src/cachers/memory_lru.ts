/**
 * The MemoryLRU cacher: the Memory cacher bounded to `max` entries, evicting the least recently
 * used.
 *
 * @module
 */

import { MemoryCacher, type MemoryCacherOptions } from "./memory.ts";
import { checkCacherValues, LRU_CHECKS } from "./_options.ts";

/** Options of {@linkcode MemoryLRUCacher} (Moleculer's names). */
export interface MemoryLRUCacherOptions extends MemoryCacherOptions {
  /** Most entries held; storing one more evicts the least recently used. @default {1000} */
  max?: number;
}

/**
 * Moleculer's MemoryLRU cacher. A `get` that finds a value, and every `set`, make the key the
 * most recently used; past `max` entries the least recently used go. Expiry, sweep, `clone` and
 * `clean` are the Memory cacher's. Unlike Moleculer's (lru-cache with `updateAgeOnGet`), a read
 * does not restart an entry's ttl: the ttl bounds how stale a value can be, whichever memory
 * cacher is used.
 *
 * @example
 * ```ts
 * import { MemoryLRUCacher } from "./memory_lru.ts";
 *
 * const cacher = new MemoryLRUCacher({ max: 2 });
 * cacher.set("a", 1);
 * cacher.set("b", 2);
 * cacher.get("a"); // "a" is now the most recently used
 * cacher.set("c", 3); // evicts "b"
 * console.log(cacher.get("a"), cacher.get("b"), cacher.get("c")); // 1 undefined 3
 * ```
 */
export class MemoryLRUCacher extends MemoryCacher {
  /** Most entries held. */
  readonly max: number;

  /**
   * Make an empty MemoryLRU cacher.
   *
   * @param options Cacher options.
   * @throws {BrokerOptionsError} naming an option of the wrong type or range.
   */
  constructor(options: MemoryLRUCacherOptions = {}) {
    super(options);
    checkCacherValues(options, LRU_CHECKS);
    this.max = options.max ?? 1000;
  }

  /**
   * The value under `key`; a hit makes the key the most recently used.
   *
   * @param key The key.
   * @returns The value (a copy with `clone`), or `undefined` when missing or expired.
   */
  override get(key: string): unknown {
    const value = super.get(key);
    if (value !== undefined) {
      // The Map's order is the order of use: move the key to its end.
      const entry = this.entries.get(key)!;
      this.entries.delete(key);
      this.entries.set(key, entry);
    }
    return value;
  }

  /**
   * Store a value as the most recently used, evicting the least recently used past `max`.
   *
   * @param key The key.
   * @param value The value; `undefined` removes the key.
   * @param ttl Seconds it lives; `undefined`/`null` = the cacher's `ttl`, `0` = no expiry.
   */
  override set(key: string, value: unknown, ttl?: number | null): void {
    super.set(key, value, ttl);
    if (this.entries.size <= this.max) return;
    for (const oldest of this.entries.keys()) {
      this.entries.delete(oldest);
      if (this.entries.size <= this.max) break;
    }
  }
}
