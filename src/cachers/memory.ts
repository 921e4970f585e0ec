/**
 * The Memory cacher: entries in a `Map` of this process, with per-entry expiry.
 *
 * @module
 */

import { BaseCacher, type CacherOptions, matchCacheKey } from "./cacher.ts";
import { checkCacherValues, MEMORY_CHECKS } from "./_options.ts";

/** Options of {@linkcode MemoryCacher} (Moleculer's names). */
export interface MemoryCacherOptions extends CacherOptions {
  /**
   * Copy values on `set` and on `get` (`true`: `structuredClone`; or a function of the value), so
   * a caller mutating a result cannot change what later calls get. Without it values are stored
   * and returned by reference. @default {false}
   */
  clone?: boolean | ((value: unknown) => unknown);
}

/** A stored value and when it expires (`Date.now()` ms; `0` = never). */
export interface CacheEntry {
  /** The value. */
  readonly value: unknown;
  /** Expiry time in ms since the epoch, or `0` for none. */
  readonly expire: number;
}

/** Expired entries are removed on read; this sweep frees those nobody reads (Moleculer's period). */
const SWEEP_INTERVAL_MS = 30_000;

/**
 * Moleculer's Memory cacher. Entries stay until they expire, are deleted or cleaned; the key
 * space is unbounded (see `MemoryLRUCacher` for a bounded one). Every method answers
 * synchronously.
 *
 * While some entry has a ttl, a 30-second sweep (an unref'd timer, so it never keeps the
 * process alive) removes the expired ones; `close()` (called by `broker.stop()`) ends it. Like
 * Moleculer's, a cacher of a broker is emptied whenever the transporter (re)connects, since
 * `cache.clean` events may have been missed meanwhile.
 *
 * @example
 * ```ts
 * import { MemoryCacher } from "./memory.ts";
 *
 * const cacher = new MemoryCacher({ ttl: 30 });
 * cacher.set("users.get:5", { id: 5, name: "Ann" });
 * cacher.set("posts.find:5", []);
 * console.log(cacher.get("users.get:5")); // { id: 5, name: "Ann" }
 * cacher.clean("users.**");
 * console.log(cacher.get("users.get:5"), cacher.size); // undefined 1
 * cacher.close();
 * ```
 */
export class MemoryCacher extends BaseCacher {
  /** The entries, oldest write first (`MemoryLRUCacher` keeps them in order of use). */
  protected readonly entries: Map<string, CacheEntry> = new Map();
  readonly #clone: ((value: unknown) => unknown) | null;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  /**
   * Make an empty Memory cacher.
   *
   * @param options Cacher options.
   * @throws {BrokerOptionsError} naming an option of the wrong type or range.
   */
  constructor(options: MemoryCacherOptions = {}) {
    super(options);
    checkCacherValues(options, MEMORY_CHECKS);
    const clone = options.clone;
    this.#clone = clone === true ? structuredClone : typeof clone === "function" ? clone : null;
  }

  /** Entries held, expired ones not swept yet included. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * The value under `key`.
   *
   * @param key The key.
   * @returns The value (a copy with `clone`), or `undefined` when missing or expired.
   */
  get(key: string): unknown {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expire !== 0 && entry.expire < Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return this.#clone ? this.#clone(entry.value) : entry.value;
  }

  /**
   * Store a value.
   *
   * @param key The key.
   * @param value The value (copied with `clone`); `undefined` removes the key.
   * @param ttl Seconds it lives; `undefined`/`null` = the cacher's `ttl`, `0` = no expiry.
   * @throws {DOMException} (`DataCloneError`) with `clone: true` for a value that
   *   `structuredClone` cannot copy, such as a function.
   */
  set(key: string, value: unknown, ttl?: number | null): void {
    if (value === undefined) {
      this.entries.delete(key);
      return;
    }
    const seconds = ttl ?? this.ttl;
    const stored = this.#clone ? this.#clone(value) : value;
    const expire = seconds > 0 ? Date.now() + seconds * 1000 : 0;
    // Re-inserted, not updated in place: the Map's order stays the order of writes.
    this.entries.delete(key);
    this.entries.set(key, { value: stored, expire });
    if (expire !== 0) this.#startSweep();
  }

  /**
   * Remove entries.
   *
   * @param key A key or several.
   */
  del(key: string | readonly string[]): void {
    if (typeof key === "string") this.entries.delete(key);
    else for (const k of key) this.entries.delete(k);
  }

  /**
   * Remove every entry whose key matches a pattern: `*` any run without a dot, `**` any run,
   * `?` one character.
   *
   * @param pattern A pattern or several. @default {"**"}
   */
  clean(pattern: string | readonly string[] = "**"): void {
    const patterns = typeof pattern === "string" ? [pattern] : pattern;
    if (patterns.includes("**")) {
      this.entries.clear();
      this.#stopSweep();
      return;
    }
    for (const key of this.entries.keys()) {
      if (patterns.some((p) => matchCacheKey(key, p))) this.entries.delete(key);
    }
  }

  /**
   * The keys held and when each expires (Moleculer's `getCacheKeys`, which the REPL's
   * `cache keys` lists); expired entries not swept yet are left out.
   *
   * @returns The keys, oldest write first, with `expiresAt` in ms since the epoch or null.
   */
  getCacheKeys(): { key: string; expiresAt: number | null }[] {
    const now = Date.now();
    const out: { key: string; expiresAt: number | null }[] = [];
    for (const [key, entry] of this.entries) {
      if (entry.expire !== 0 && entry.expire < now) continue;
      out.push({ key, expiresAt: entry.expire === 0 ? null : entry.expire });
    }
    return out;
  }

  /**
   * Remove the expired entries now (the sweep does it every 30 s).
   *
   * @returns How many were removed.
   */
  checkTTL(): number {
    const now = Date.now();
    let removed = 0;
    let expiring = 0;
    for (const [key, entry] of this.entries) {
      if (entry.expire === 0) continue;
      if (entry.expire < now) {
        this.entries.delete(key);
        removed++;
      } else expiring++;
    }
    if (expiring === 0) this.#stopSweep();
    return removed;
  }

  /** Stop the sweep. Entries stay readable; a cacher closed once never starts a sweep again. */
  override close(): void {
    this.#closed = true;
    this.#stopSweep();
  }

  #startSweep(): void {
    if (this.#timer !== undefined || this.#closed) return;
    const timer = setInterval(() => {
      const removed = this.checkTTL();
      if (removed > 0) {
        this.logger?.debug(`Removed ${removed} expired cache entries`);
      }
    }, SWEEP_INTERVAL_MS);
    // Housekeeping must not keep the process alive.
    this.broker?.runtime.unrefTimer(timer);
    this.#timer = timer;
  }

  #stopSweep(): void {
    if (this.#timer === undefined) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
