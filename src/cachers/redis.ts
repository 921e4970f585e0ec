/**
 * The Redis cacher: entries in a Redis server (or cluster), shared by every node that uses the
 * same server and prefix — Node.js Moleculer nodes included, since keys, values and locks are
 * written as Moleculer's Redis cacher writes them.
 *
 * `ioredis` loads by `import()` in {@linkcode RedisCacher.init}, so a broker without this cacher
 * never loads it.
 *
 * @module
 */

import { BrokerOptionsError, MoleculerError } from "../errors.ts";
import type { BrokerApi } from "../core/broker_api.ts";
import type { CacheLock, CacheValueWithTTL } from "../core/cacher.ts";
import { BaseCacher, type CacherOptions } from "./cacher.ts";
import { BASE_CHECKS, checkCacherValues, type OptionCheck, show } from "./_options.ts";

/** The part of an `ioredis` client the cacher uses. */
interface RedisLike {
  status: string;
  options?: { enableOfflineQueue?: boolean };
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ...args: (string | number)[]): Promise<unknown>;
  del(...keys: string[]): Promise<number>;
  ttl(key: string): Promise<number>;
  ping(): Promise<unknown>;
  eval(script: string, keys: number, ...args: string[]): Promise<unknown>;
  scan(cursor: string, ...args: (string | number)[]): Promise<[string, string[]]>;
  nodes?(role: string): RedisLike[];
  connect(): Promise<void>;
  quit(): Promise<unknown>;
  disconnect(): void;
  on(event: string, listener: (...args: never[]) => void): unknown;
}

/** Options of {@linkcode RedisCacher} (Moleculer's names). */
export interface RedisCacherOptions extends CacherOptions {
  /** The server: a `redis://` URL or `ioredis` options. @default {"redis://127.0.0.1:6379"} */
  redis?: string | Record<string, unknown>;
  /** A Redis Cluster instead: `nodes` and the `ioredis` `Cluster` options. */
  cluster?: { nodes: unknown[]; options?: Record<string, unknown> };
  /**
   * What keys start with, followed by `-`. @default {"MOL-"}, or `"MOL-<namespace>-"` (as
   * Moleculer)
   */
  prefix?: string | null;
  /** What `get` returns for a missing key (Moleculer's option). @default {undefined} */
  missingResponse?: unknown;
  /**
   * The lock (`cache.lock` of an action, `lock()`): `false` turns it off; otherwise Redlock's
   * options of one server, which Moleculer's lock uses: `retryCount` (10), `retryDelay` (200 ms),
   * `retryJitter` (200 ms).
   */
  redlock?: false | { retryCount?: number; retryDelay?: number; retryJitter?: number };
  /** Milliseconds between `PING`s that keep an idle connection alive; `null` = none. */
  pingInterval?: number | null;
}

const redisConnection: OptionCheck = (name, value) => {
  if (typeof value !== "string" && (typeof value !== "object" || value === null)) {
    throw new BrokerOptionsError(
      `Option '${name}' must be a redis:// URL or ioredis options, got ${show(value)}`,
      { option: name },
    );
  }
};
const clusterOption: OptionCheck = (name, value) => {
  const nodes = (value as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(nodes) || nodes.length === 0) {
    throw new BrokerOptionsError(
      `Option '${name}.nodes' must list the cluster's nodes, e.g. [{ host: "127.0.0.1", port: 7000 }]`,
      { option: `${name}.nodes` },
    );
  }
};
const prefixOption: OptionCheck = (name, value) => {
  if (value !== null && typeof value !== "string") {
    throw new BrokerOptionsError(`Option '${name}' must be a string, got ${show(value)}`, {
      option: name,
    });
  }
};
const redlockOption: OptionCheck = (name, value) => {
  if (value !== false && (typeof value !== "object" || value === null)) {
    throw new BrokerOptionsError(
      `Option '${name}' must be false or { retryCount, retryDelay, retryJitter }, got ${
        show(value)
      }`,
      { option: name },
    );
  }
};
const msOrNull: OptionCheck = (name, value) => {
  if (value !== null && (typeof value !== "number" || !(value >= 0))) {
    throw new BrokerOptionsError(`Option '${name}' must be milliseconds ≥ 0 or null`, {
      option: name,
    });
  }
};

/** The checks of the Redis cacher's options, by name. */
export const REDIS_CHECKS: Readonly<Record<string, OptionCheck>> = Object.freeze({
  ...BASE_CHECKS,
  redis: redisConnection,
  cluster: clusterOption,
  prefix: prefixOption,
  missingResponse: () => {},
  redlock: redlockOption,
  pingInterval: msOrNull,
});

/** Redlock's release: delete the key only while it still holds our token. */
const UNLOCK_SCRIPT =
  'if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end';

/** The lock could not be taken in the attempts allowed. */
function lockError(key: string, attempts: number): MoleculerError {
  return new MoleculerError(
    `Exceeded ${attempts} attempts to lock the cache key '${key}'`,
    500,
    "CACHE_LOCK_FAILED",
    { key, attempts },
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Moleculer's Redis cacher.
 *
 * - Keys are `<prefix><key>` with Moleculer's prefix (`MOL-`, `MOL-<namespace>-`, or the
 *   `prefix` option followed by `-`); values are JSON text; a ttl becomes `EX` (or `PX` for a
 *   fraction of a second). A Node.js Moleculer node with `cacher: "redis://…"` on the same
 *   server and namespace reads what this one wrote, and the other way round.
 * - `clean(pattern)` deletes by `SCAN MATCH`: `**` becomes `*`, and a Redis `*` also crosses
 *   dots, as in Moleculer's Redis cacher.
 * - `lock(key, ttl)` is Redlock's on one server, as Moleculer's (`<prefix><key>-lock`, a random
 *   token, `SET NX PX`, released by a script that checks the token), so a lock held by any node
 *   delays the others. `tryLock` makes one attempt.
 * - While the connection is down, {@linkcode RedisCacher.connected} is false and the cacher
 *   middleware calls the handlers directly (Moleculer's rule); entries are not cleared when the
 *   transporter reconnects — they live in Redis, not in this process.
 *
 * @example
 * ```ts ignore
 * import { ServiceBroker } from "../../mod.ts";
 *
 * const broker = new ServiceBroker({
 *   cacher: { type: "Redis", options: { ttl: 30, redis: "redis://127.0.0.1:6379" } },
 * });
 * ```
 */
export class RedisCacher extends BaseCacher {
  /** What every key starts with, e.g. `"MOL-"`; known after `init`. */
  prefix = "MOL-";
  /** What `get` returns for a missing key. */
  readonly missingResponse: unknown;
  readonly #options: RedisCacherOptions;
  #client: Promise<RedisLike> | undefined;
  /** Null until the first connection attempt settles; then whether the connection is up. */
  #ready: boolean | null = null;
  #ping: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  /**
   * Check the options; nothing connects until `init`.
   *
   * @param options A `redis://` URL or the options.
   * @throws {BrokerOptionsError} naming a bad option.
   */
  constructor(options: string | RedisCacherOptions = {}) {
    const opts = typeof options === "string" ? { redis: options } : options;
    super(opts);
    checkCacherValues(opts, REDIS_CHECKS);
    this.#options = opts;
    this.missingResponse = opts.missingResponse;
  }

  /**
   * True while connected; false while reconnecting (the cacher middleware then calls handlers
   * directly); null until the first connection attempt settles (calls wait for it).
   */
  get connected(): boolean | null {
    return this.#ready;
  }

  /**
   * Take the broker's logger and namespace, load `ioredis` and connect.
   *
   * @param broker The broker.
   */
  override init(broker: BrokerApi): void {
    super.init(broker);
    const { prefix } = this.#options;
    this.prefix = prefix ? `${prefix}-` : broker.namespace ? `MOL-${broker.namespace}-` : "MOL-";
    this.#closed = false;
    this.#client = this.#connect();
    this.#client.catch((error) => this.logger?.error("The Redis cacher cannot start", error));
  }

  async #connect(): Promise<RedisLike> {
    const { Redis, Cluster } = await import("ioredis");
    const o = this.#options;
    // No offline queue: while the server is away a command fails at once, never waits.
    const own = { lazyConnect: true, enableOfflineQueue: false };
    const client =
      (o.cluster
        ? new Cluster(o.cluster.nodes as never, { ...o.cluster.options, ...own } as never)
        : typeof o.redis === "string"
        ? new Redis(o.redis, own)
        : new Redis({ ...(o.redis ?? {}), ...own } as never)) as unknown as RedisLike;
    client.on("ready", () => {
      this.#ready = true;
      this.logger?.info("Redis cacher connected");
    });
    client.on("close", () => this.#ready = false);
    client.on("error", (error: Error) => {
      this.#ready = false;
      this.logger?.warn(`Redis cacher: ${error.message}`);
    });
    if (o.pingInterval) {
      this.#ping = setInterval(() => {
        if (this.#ready) client.ping().catch(() => {});
      }, o.pingInterval);
      this.broker?.runtime.unrefTimer(this.#ping);
    }
    if (this.#closed) {
      client.disconnect();
      return client;
    }
    // The first calls wait for the first attempt (ioredis keeps retrying after a failure).
    await client.connect().catch(() => this.#ready = false);
    return client;
  }

  #redis(): Promise<RedisLike> {
    if (this.#client === undefined) {
      return Promise.reject(
        new MoleculerError("The Redis cacher is not initialised: call init(broker) first", 500),
      );
    }
    return this.#client;
  }

  /**
   * The value stored under `key`.
   *
   * @param key The key (without the prefix).
   * @returns The value, or `missingResponse` when missing (or unreadable: logged).
   */
  async get(key: string): Promise<unknown> {
    const text = await (await this.#redis()).get(this.prefix + key);
    if (text === null) return this.missingResponse;
    try {
      return JSON.parse(text);
    } catch (error) {
      this.logger?.error(`Redis cacher: the entry '${key}' is not JSON`, error);
      return this.missingResponse;
    }
  }

  /**
   * The value stored under `key` and the seconds it has left (Redis `TTL`: `-1` = no expiry).
   *
   * @param key The key.
   * @returns `{ data, ttl }`; `data` is null when missing.
   */
  async getWithTTL(key: string): Promise<CacheValueWithTTL> {
    const redis = await this.#redis();
    const [text, ttl] = await Promise.all([
      redis.get(this.prefix + key),
      redis.ttl(this.prefix + key),
    ]);
    if (text === null) return { data: null, ttl };
    try {
      return { data: JSON.parse(text), ttl };
    } catch {
      return { data: this.missingResponse, ttl };
    }
  }

  /**
   * Store a value as JSON.
   *
   * @param key The key.
   * @param value The value; `undefined` deletes the key.
   * @param ttl Seconds; `undefined` or `null` = the cacher's ttl; `0` = no expiry.
   */
  async set(key: string, value: unknown, ttl?: number | null): Promise<void> {
    if (value === undefined) return await this.del(key);
    const redis = await this.#redis();
    const seconds = ttl ?? this.ttl;
    const text = JSON.stringify(value);
    if (!seconds) await redis.set(this.prefix + key, text);
    else if (Number.isInteger(seconds)) await redis.set(this.prefix + key, text, "EX", seconds);
    else await redis.set(this.prefix + key, text, "PX", Math.max(1, Math.round(seconds * 1000)));
  }

  /**
   * Remove entries.
   *
   * @param key A key or several.
   */
  async del(key: string | readonly string[]): Promise<void> {
    const keys = (typeof key === "string" ? [key] : [...key]).map((k) => this.prefix + k);
    if (keys.length > 0) await (await this.#redis()).del(...keys);
  }

  /**
   * Remove the entries whose keys match (Redis `SCAN MATCH`; `**` is read as `*`).
   *
   * @param pattern A pattern or several. @default {"**"} (every entry of this prefix)
   */
  async clean(pattern: string | readonly string[] = "**"): Promise<void> {
    const redis = await this.#redis();
    const nodes = redis.nodes ? redis.nodes("master") : [redis];
    for (const p of typeof pattern === "string" ? [pattern] : pattern) {
      const match = this.prefix + p.replace(/\*\*/g, "*");
      for (const node of nodes) {
        let cursor = "0";
        do {
          const [next, keys] = await node.scan(cursor, "MATCH", match, "COUNT", 100);
          if (keys.length > 0) await node.del(...keys);
          cursor = next;
        } while (cursor !== "0");
      }
    }
  }

  /**
   * Take the lock of a key, waiting for it as Redlock does (Moleculer's `lock`).
   *
   * @param key The cache key.
   * @param ttl Milliseconds the lock lives unless released. @default {15000}
   * @returns The release function.
   * @throws {MoleculerError} `CACHE_LOCK_FAILED` when still held after the attempts allowed.
   */
  lock(key: string, ttl = 15_000): Promise<CacheLock> {
    const r = this.#options.redlock || {};
    return this.#lock(key, ttl, (r.retryCount ?? 10) + 1);
  }

  /**
   * Take the lock of a key if it is free (Moleculer's `tryLock`).
   *
   * @param key The cache key.
   * @param ttl Milliseconds the lock lives unless released. @default {15000}
   * @returns The release function.
   * @throws {MoleculerError} `CACHE_LOCK_FAILED` when the lock is held.
   */
  tryLock(key: string, ttl = 15_000): Promise<CacheLock> {
    return this.#lock(key, ttl, 1);
  }

  async #lock(key: string, ttl: number, attempts: number): Promise<CacheLock> {
    if (this.#options.redlock === false) {
      throw new MoleculerError(
        "The Redis cacher's lock is off (redlock: false): remove `lock` from the action's cache",
        500,
        "CACHE_LOCK_DISABLED",
      );
    }
    const redis = await this.#redis();
    const r = this.#options.redlock || {};
    const lockKey = `${this.prefix}${key}-lock`;
    const token = crypto.randomUUID().replaceAll("-", "");
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (await redis.set(lockKey, token, "PX", ttl, "NX") === "OK") {
        let released = false;
        return async () => {
          if (released) return;
          released = true;
          await redis.eval(UNLOCK_SCRIPT, 1, lockKey, token);
        };
      }
      if (attempt < attempts) {
        await sleep((r.retryDelay ?? 200) + Math.floor(Math.random() * (r.retryJitter ?? 200)));
      }
    }
    throw lockError(key, attempts);
  }

  /** Close the connection (`QUIT`). Idempotent. */
  override async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#ping);
    this.#ping = undefined;
    const pending = this.#client;
    this.#client = undefined;
    this.#ready = null;
    if (pending === undefined) return;
    const client = await pending.catch(() => undefined);
    if (client === undefined) return;
    try {
      await client.quit();
    } catch {
      client.disconnect();
    }
  }
}
