/**
 * The Shard strategy: calls with the same shard key go to the same node.
 *
 * @module
 */

import { BrokerOptionsError } from "../errors.ts";
import type { Context } from "../core/context.ts";
import type { Strategy, StrategyEndpoint, StrategyOptions } from "../core/strategy.ts";
import { md5 } from "../runtime/hash.ts";
import { numberOption, randomIndex } from "./_options.ts";

/** Options of {@linkcode ShardStrategy} (Moleculer's names). */
export interface ShardStrategyOptions {
  /**
   * Where the key is read: a params path (`"userID"`, `"user.id"`), a meta path
   * after `#` (`"#tenant"`), or a function of the context. Without a key (or
   * when the call has none) an endpoint is picked at random. @default {null}
   */
  shardKey?: string | ((ctx: Context) => unknown) | null;
  /** Virtual nodes per node on the ring. @default {10} */
  vnodes?: number;
  /** Size of the ring; `null` = 2^32. @default {null} */
  ringSize?: number | null;
  /** Keys whose node is remembered (least recently used are dropped). @default {1000} */
  cacheSize?: number;
}

interface RingPoint {
  readonly key: number;
  readonly nodeID: string;
}

function getPath(value: unknown, path: readonly string[]): unknown {
  let v = value;
  for (const key of path) {
    if (v === null || v === undefined) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/**
 * Consistent hashing on a ring with virtual nodes, laid out exactly as
 * Moleculer lays it out: the sorted node ids take `vnodes` turns each around a
 * ring cut into equal slices, and a key goes to the first point at or after
 * the first 32 bits of its MD5 hash (modulo `ringSize`). So a Deno caller and a
 * Node.js caller with the same options send a key to the same node. The ring
 * is rebuilt when the set of endpoints changes (a node joins or leaves, or a
 * circuit breaker opens), and a small LRU cache remembers recent keys.
 *
 * @example
 * ```ts
 * import { ShardStrategy } from "./shard.ts";
 *
 * const s = new ShardStrategy({ shardKey: "userID" });
 * const list = [{ id: "n1", local: false }, { id: "n2", local: false }];
 * const ctx = { params: { userID: 42 }, meta: {} } as never;
 * console.log(s.select(list, ctx).id === s.select(list, ctx).id); // true
 * ```
 */
export class ShardStrategy implements Strategy {
  /** Virtual nodes per node. */
  readonly vnodes: number;
  /** Ring size, or null for 2^32. */
  readonly ringSize: number | null;
  /** LRU cache size. */
  readonly cacheSize: number;
  readonly #key: ((ctx: Context) => unknown) | null;
  readonly #cache = new Map<string, string>();
  #ring: RingPoint[] = [];
  #ids: string[] = [];

  /**
   * Make a Shard strategy.
   *
   * @param options Strategy options.
   * @throws {BrokerOptionsError} for a malformed option.
   */
  constructor(options?: StrategyOptions) {
    this.vnodes = Math.floor(numberOption("Shard", options, "vnodes", 10, 1));
    const ringSize = numberOption("Shard", options, "ringSize", 0, 0);
    this.ringSize = ringSize > 0 ? Math.floor(ringSize) : null;
    this.cacheSize = Math.floor(
      numberOption("Shard", options, "cacheSize", 1000, 0),
    );
    const shardKey = options?.shardKey;
    if (typeof shardKey === "function") {
      this.#key = shardKey as (ctx: Context) => unknown;
    } else if (typeof shardKey === "string" && shardKey.length > 0) {
      const inMeta = shardKey.startsWith("#");
      const path = (inMeta ? shardKey.slice(1) : shardKey).split(".");
      this.#key = inMeta ? (ctx) => getPath(ctx.meta, path) : (ctx) => getPath(ctx.params, path);
    } else if (shardKey === undefined || shardKey === null || shardKey === "") {
      this.#key = null;
    } else {
      throw new BrokerOptionsError(
        `Strategy option 'Shard.shardKey' must be a params path, '#' and a meta path, or a ` +
          `function, got ${JSON.stringify(shardKey)}`,
        { option: "strategyOptions.shardKey" },
      );
    }
  }

  /**
   * The ring position of a key: the first 32 bits of its MD5, modulo `ringSize`.
   *
   * @param key The shard key as a string.
   * @returns Its hash.
   */
  hash(key: string): number {
    const digest = md5(key);
    const n = new DataView(digest.buffer, digest.byteOffset, 4).getUint32(0);
    return this.ringSize ? n % this.ringSize : n;
  }

  /** Pick the node owning the call's shard key; random without a key. */
  select<E extends StrategyEndpoint>(list: readonly E[], ctx?: Context): E {
    const key = ctx && this.#key ? this.#key(ctx) : undefined;
    if (key === undefined || key === null) {
      return list[randomIndex(list.length)]!;
    }
    if (this.#changed(list)) this.#rebuild(list);
    const nodeID = this.#nodeOf(String(key));
    for (const ep of list) if (ep.id === nodeID) return ep;
    return list[randomIndex(list.length)]!;
  }

  #changed(list: readonly StrategyEndpoint[]): boolean {
    const ids = this.#ids;
    if (ids.length !== list.length) return true;
    for (let i = 0; i < ids.length; i++) {
      if (ids[i] !== list[i]!.id) return true;
    }
    return false;
  }

  #rebuild(list: readonly StrategyEndpoint[]): void {
    this.#ids = list.map((ep) => ep.id);
    this.#cache.clear();
    const sorted = [...new Set(this.#ids)].sort();
    const size = this.ringSize ?? 2 ** 32;
    const slice = size / (sorted.length * this.vnodes);
    const ring: RingPoint[] = [];
    for (let v = 0; v < this.vnodes; v++) {
      for (const nodeID of sorted) {
        ring.push({ key: Math.floor(slice * (ring.length + 1)), nodeID });
      }
    }
    ring[ring.length - 1] = {
      key: size,
      nodeID: ring[ring.length - 1]!.nodeID,
    };
    this.#ring = ring;
  }

  #nodeOf(key: string): string | undefined {
    const cached = this.#cache.get(key);
    if (cached !== undefined) {
      this.#cache.delete(key);
      this.#cache.set(key, cached);
      return cached;
    }
    const h = this.hash(key);
    const ring = this.#ring;
    let lo = 0;
    let hi = ring.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ring[mid]!.key >= h) hi = mid;
      else lo = mid + 1;
    }
    const point = ring[lo];
    if (!point || point.key < h) return undefined;
    if (this.cacheSize > 0) {
      if (this.#cache.size >= this.cacheSize) {
        this.#cache.delete(this.#cache.keys().next().value!);
      }
      this.#cache.set(key, point.nodeID);
    }
    return point.nodeID;
  }
}
