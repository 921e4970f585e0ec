/**
 * What this node waits for from others: requests waiting for their response (with their
 * timeouts), and pings waiting for their pong.
 *
 * @example A ping answered by its PONG
 * ```ts
 * import { PendingPings } from "./pending.ts";
 *
 * const pings = new PendingPings();
 * const { id, result } = pings.add("node-2", 1_000);
 * const sent = Date.now() - 4;
 * pings.settle("node-2", { id, time: sent, arrived: sent + 2 });
 * console.log(await result); // { nodeID: "node-2", elapsedTime: 4, timeDiff: 0 }
 * ```
 *
 * @module
 */

import type { PongResult } from "../core/broker_api.ts";
import type { Context } from "../core/context.ts";
import { fromPlain, RequestRejectedError, RequestTimeoutError } from "../errors.ts";
import type { PacketPayload } from "../serializers/serializer.ts";
import { idCounter, nextId } from "../_util/ids.ts";
import { isRecord } from "../_util/values.ts";
import { MAX_TIMER_MS, mergeInto } from "./packets.ts";

/** A request waiting for its response. */
export interface PendingRequest {
  /** The key: `ctx.id` when the request was sent. */
  readonly id: string;
  /** The call's context; the response's meta is merged into its `meta`. */
  readonly ctx: Context;
  /** The target node; null for a balanced request (`REQB`), whose responder is not known yet. */
  readonly nodeID: string | null;
  /** The full action name. */
  readonly action: string;
}

/** A table entry: the request and how to settle it. */
interface Entry extends PendingRequest {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Entries by context id. Ids made by this process (`nextId`) are keyed by the counter they carry:
 * on V8 15 a `Map` keyed by freshly made strings pays for hashing each of them, a small integer
 * next to nothing. The counter is a hint (`idCounter` does not prove the id is ours), so a hit
 * counts only when the stored id is the same string; any other id, and an id whose counter slot
 * is taken by another, goes to a plain string-keyed map.
 */
class Table {
  readonly #byNum = new Map<number, Entry>();
  readonly #byStr = new Map<string, Entry>();

  get size(): number {
    return this.#byNum.size + this.#byStr.size;
  }

  set(req: Entry): void {
    const n = idCounter(req.id);
    if (n >= 0) {
      const held = this.#byNum.get(n);
      if (held === undefined || held.id === req.id) {
        this.#byNum.set(n, req);
        return;
      }
    }
    this.#byStr.set(req.id, req);
  }

  get(id: string): Entry | undefined {
    const n = idCounter(id);
    if (n >= 0) {
      const req = this.#byNum.get(n);
      if (req !== undefined && req.id === id) return req;
    }
    return this.#byStr.size === 0 ? undefined : this.#byStr.get(id);
  }

  /** Remove and return the entry of `id`: one id parse instead of two on the response path. */
  take(id: string): Entry | undefined {
    const n = idCounter(id);
    if (n >= 0) {
      const req = this.#byNum.get(n);
      if (req !== undefined && req.id === id) {
        this.#byNum.delete(n);
        return req;
      }
    }
    if (this.#byStr.size === 0) return undefined;
    const req = this.#byStr.get(id);
    if (req !== undefined) this.#byStr.delete(id);
    return req;
  }

  delete(id: string): boolean {
    return this.take(id) !== undefined;
  }

  /** Every entry; deleting the current one while iterating is allowed. */
  *[Symbol.iterator](): IterableIterator<Entry> {
    yield* this.#byNum.values();
    yield* this.#byStr.values();
  }
}

/** The requests this node sent and still waits for, by context id. */
export class PendingRequests {
  readonly #table = new Table();

  /** Number of requests waiting for a response. */
  get size(): number {
    return this.#table.size;
  }

  /**
   * Wait for the response to a request sent with `ctx` (keyed by `ctx.id`, to `ctx.nodeID`).
   *
   * @param ctx The call's context. With a positive `ctx.timeout` (capped at 2^31-1 ms), the
   *   request is given up after it.
   * @param action The full action name.
   * @returns The response data.
   * @throws {RequestTimeoutError} when `ctx.timeout` passes first (`nodeID` is `""` for a
   *   balanced request).
   */
  add(ctx: Context, action: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const id = ctx.id;
      const nodeID = ctx.nodeID;
      const req: Entry = { id, ctx, nodeID, action, resolve, reject, timer: undefined };
      const timeout = ctx.timeout;
      if (timeout !== null && timeout > 0) {
        req.timer = setTimeout(() => {
          if (this.#table.delete(id)) {
            reject(new RequestTimeoutError({ action, nodeID: nodeID ?? "" }));
          }
        }, Math.min(timeout, MAX_TIMER_MS));
      }
      this.#table.set(req);
    });
  }

  /**
   * The request waiting under `id`, if any (it stays pending).
   *
   * @param id The context id.
   * @returns The request, or undefined.
   */
  peek(id: string): PendingRequest | undefined {
    return this.#table.get(id);
  }

  /**
   * Settle a request with the RES packet that answers it: `ctx.nodeID` becomes the responder
   * (a balanced request learns here which node served it, as in Moleculer), the response's meta
   * is merged into `ctx.meta`, and the request resolves with `data` or rejects with the error.
   *
   * @param sender The node that responded.
   * @param p The RES payload (untrusted).
   * @returns False for an orphan: nobody waits for it any more.
   * @throws {Error} when `id` is not a string: the packet is dropped.
   */
  settle(sender: string, p: PacketPayload): boolean {
    if (typeof p.id !== "string") throw new Error("RES needs a string 'id'");
    const req = this.#table.take(p.id);
    if (!req) return false;
    if (req.timer !== undefined) clearTimeout(req.timer);
    req.ctx.nodeID = sender;
    if (isRecord(p.meta)) mergeInto(req.ctx.meta, p.meta);
    if (p.success === true) req.resolve(p.data);
    else req.reject(fromPlain(p.error, sender));
    return true;
  }

  /**
   * Fail a request that cannot be answered (its packet could not be sent).
   *
   * @param id The context id.
   * @param error What the caller gets.
   * @returns False when it was no longer pending.
   */
  fail(id: string, error: unknown): boolean {
    const req = this.#table.take(id);
    if (!req) return false;
    if (req.timer !== undefined) clearTimeout(req.timer);
    req.reject(error);
    return true;
  }

  /**
   * Forget a request whose caller gave up; it never settles.
   *
   * @param id The context id.
   */
  remove(id: string): void {
    const req = this.#table.take(id);
    if (req?.timer !== undefined) clearTimeout(req.timer);
  }

  /**
   * Reject every request waiting for a node with {@linkcode RequestRejectedError}: the node left,
   * or restarted and will never answer.
   *
   * @param nodeID The node.
   */
  rejectNode(nodeID: string): void {
    this.rejectWhere(
      (req) => req.nodeID === nodeID,
      (req) => new RequestRejectedError({ action: req.action, nodeID }),
    );
  }

  /**
   * Reject every request (the connection was lost, or transit stops).
   *
   * @param error Makes the error of each request.
   */
  rejectAll(error: (req: PendingRequest) => unknown): void {
    this.rejectWhere(() => true, error);
  }

  /**
   * Reject the requests `which` picks.
   *
   * @param which Picks the requests.
   * @param error Makes the error of each.
   */
  rejectWhere(
    which: (req: PendingRequest) => boolean,
    error: (req: PendingRequest) => unknown,
  ): void {
    for (const req of this.#table) {
      if (!which(req)) continue;
      this.#table.delete(req.id);
      if (req.timer !== undefined) clearTimeout(req.timer);
      req.reject(error(req));
    }
  }
}

/** A ping waiting for its pong. */
interface PendingPing {
  readonly nodeID: string;
  /** Settles the ping: a result, or null when it is abandoned. Clears its timer. */
  resolve(value: PongResult | null): void;
}

/** The pings this node sent and still waits for, by ping id. */
export class PendingPings {
  readonly #pings = new Map<string, PendingPing>();

  /** Number of pings waiting for a pong. */
  get size(): number {
    return this.#pings.size;
  }

  /**
   * Start waiting for the pong of a ping to `nodeID`.
   *
   * @param nodeID The pinged node.
   * @param timeout Give up after this many ms.
   * @returns The ping's id (to put in the PING packet), and its round trip: null on timeout.
   */
  add(nodeID: string, timeout: number): { id: string; result: Promise<PongResult | null> } {
    const id = nextId();
    const result = new Promise<PongResult | null>((resolve) => {
      const timer = setTimeout(() => {
        this.#pings.delete(id);
        resolve(null);
      }, timeout);
      this.#pings.set(id, {
        nodeID,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      });
    });
    return { id, result };
  }

  /**
   * Whether `id` is one of our pending pings (so a PING with it is our own, come back).
   *
   * @param id A ping id.
   * @returns True while the ping waits.
   */
  has(id: string): boolean {
    return this.#pings.has(id);
  }

  /**
   * Settle a ping with its PONG: the round trip, and the clock difference estimated from the
   * time the PING arrived.
   *
   * @param sender The node that answered.
   * @param p The PONG payload (untrusted).
   * @returns False when no ping waits for it.
   */
  settle(sender: string, p: PacketPayload): boolean {
    if (typeof p.id !== "string") return false;
    const ping = this.#pings.get(p.id);
    if (!ping) return false;
    this.#pings.delete(p.id);
    const now = Date.now();
    const time = typeof p.time === "number" ? p.time : now;
    const arrived = typeof p.arrived === "number" ? p.arrived : now;
    const elapsedTime = now - time;
    ping.resolve({
      nodeID: sender,
      elapsedTime,
      timeDiff: Math.round(now - arrived - elapsedTime / 2),
    });
    return true;
  }

  /**
   * Give up on one ping now (its PING could not be sent): it resolves null.
   *
   * @param id The ping id.
   */
  abandon(id: string): void {
    const ping = this.#pings.get(id);
    if (!ping) return;
    this.#pings.delete(id);
    ping.resolve(null);
  }

  /** Give up on every ping: they resolve null. */
  clear(): void {
    for (const id of [...this.#pings.keys()]) this.abandon(id);
  }
}
