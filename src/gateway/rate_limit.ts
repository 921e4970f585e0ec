/**
 * moleculer-web's `rateLimit`: at most `limit` requests per key (the client's address by
 * default) in each `window` ms, counted in a store; past the limit the request is refused with
 * 429 `RateLimitExceeded`, and with `headers: true` every answer carries `X-Rate-Limit-Limit`,
 * `X-Rate-Limit-Remaining` and `X-Rate-Limit-Reset` (the window's end, ms since the epoch).
 *
 * The counters of the memory store all restart together when the window ends, as
 * moleculer-web's do (a fixed window, not a sliding one).
 *
 * @module
 */

import { RateLimitExceeded } from "./errors.ts";
import type { GatewayRequest, GatewayResponse } from "./http.ts";

/** Where the counters live: the built-in memory store, or one of your own (e.g. Redis). */
export interface RateLimitStore {
  /** When the current window ends, in ms since the epoch. */
  readonly resetTime: number;
  /**
   * Count one request of a key.
   *
   * @param key The client's key.
   * @returns Its count in the current window, this one included.
   */
  inc(key: string): number | Promise<number>;
  /** Forget every counter. */
  reset(): void;
  /** Stop the store's timers (called when the gateway stops). */
  close?(): void;
}

/** `new StoreFactory(window, options, broker)`: moleculer-web's way of plugging a store in. */
export type RateLimitStoreFactory = new (
  window: number,
  options: RateLimitOptions,
  broker: unknown,
) => RateLimitStore;

/** A route's (or the gateway's) `rateLimit` setting. */
export interface RateLimitOptions {
  /** The window, in ms. @default {60000} */
  window?: number;
  /** Requests allowed per key in one window. @default {30} */
  limit?: number;
  /** Send the `X-Rate-Limit-*` headers. @default {false} */
  headers?: boolean;
  /**
   * The key of a request; a falsy key is not limited.
   * @default {the X-Forwarded-For header, else the client's address}
   */
  key?: (req: GatewayRequest) => string | null | undefined;
  /** The store's class. @default {MemoryStore} */
  StoreFactory?: RateLimitStoreFactory;
}

/**
 * The counters in memory, all cleared at the end of each window (moleculer-web's
 * `MemoryStore`).
 */
export class MemoryStore implements RateLimitStore {
  /** Counts by key in the current window. */
  readonly hits: Map<string, number> = new Map();
  #resetTime: number;
  readonly #timer: ReturnType<typeof setInterval>;

  /**
   * Creates the store and starts its window timer (it does not keep the process alive).
   *
   * @param clearPeriod The window, in ms.
   */
  constructor(clearPeriod: number) {
    this.#resetTime = Date.now() + clearPeriod;
    this.#timer = setInterval(() => {
      this.#resetTime = Date.now() + clearPeriod;
      this.reset();
    }, clearPeriod);
    unrefTimer(this.#timer);
  }

  /** When the current window ends, in ms since the epoch. */
  get resetTime(): number {
    return this.#resetTime;
  }

  /**
   * Count one request of a key.
   *
   * @param key The key.
   * @returns Its count in this window.
   */
  inc(key: string): number {
    const n = (this.hits.get(key) ?? 0) + 1;
    this.hits.set(key, n);
    return n;
  }

  /** Forget every counter. */
  reset(): void {
    this.hits.clear();
  }

  /** Stop the window timer. */
  close(): void {
    clearInterval(this.#timer);
  }
}

function unrefTimer(timer: ReturnType<typeof setInterval>): void {
  // A number in Deno; Deno.unrefTimer lets the process exit while the store exists.
  if (typeof timer === "number") Deno.unrefTimer(timer);
}

function defaultKey(req: GatewayRequest): string | undefined {
  return req.request.headers.get("x-forwarded-for") ?? req.remoteAddress;
}

/** A compiled `rateLimit` setting. */
export class RateLimiter {
  readonly limit: number;
  readonly window: number;
  readonly headers: boolean;
  readonly key: (req: GatewayRequest) => string | null | undefined;
  readonly store: RateLimitStore;

  /**
   * @param opts The setting, with moleculer-web's defaults filled in.
   * @param broker Handed to a custom `StoreFactory`.
   */
  constructor(opts: RateLimitOptions, broker: unknown) {
    this.window = opts.window ?? 60_000;
    this.limit = opts.limit ?? 30;
    this.headers = opts.headers ?? false;
    this.key = opts.key ?? defaultKey;
    const full = { ...opts, window: this.window, limit: this.limit, headers: this.headers };
    this.store = opts.StoreFactory
      ? new opts.StoreFactory(this.window, full, broker)
      : new MemoryStore(this.window);
  }

  /**
   * Count a request, write the headers, and refuse it past the limit.
   *
   * @param req The request.
   * @param res The response (for the headers).
   * @throws {RateLimitExceeded} past the limit.
   */
  async check(req: GatewayRequest, res: GatewayResponse): Promise<void> {
    const key = this.key(req);
    if (!key) return;
    const remaining = this.limit - await this.store.inc(key);
    if (this.headers) {
      res.setHeader("X-Rate-Limit-Limit", this.limit);
      res.setHeader("X-Rate-Limit-Remaining", Math.max(0, remaining));
      res.setHeader("X-Rate-Limit-Reset", this.store.resetTime);
    }
    if (remaining < 0) throw new RateLimitExceeded();
  }

  /** Stop the store. */
  close(): void {
    this.store.close?.();
  }
}

/**
 * Check a `rateLimit` setting.
 *
 * @param v The setting.
 * @param where Its place in the settings.
 * @param fail Throws the settings error.
 */
export function checkRateLimit(v: unknown, where: string, fail: (msg: string) => never): void {
  if (v === undefined || v === null || v === false) return;
  if (typeof v !== "object") fail(`${where} must be an object like { window: 60000, limit: 30 }`);
  const o = v as Record<string, unknown>;
  for (const key of ["window", "limit"]) {
    const n = o[key];
    if (n !== undefined && (typeof n !== "number" || !(n > 0))) {
      fail(`${where}.${key} must be a number > 0, got ${JSON.stringify(n)}`);
    }
  }
  if (o.key !== undefined && typeof o.key !== "function") {
    fail(`${where}.key must be a function (req) => key`);
  }
  if (o.StoreFactory !== undefined && typeof o.StoreFactory !== "function") {
    fail(`${where}.StoreFactory must be a class with inc(key), reset() and resetTime`);
  }
}
