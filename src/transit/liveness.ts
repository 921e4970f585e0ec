/**
 * Liveness: this node's heartbeats, the judgement of the others' (a node silent for
 * `heartbeatTimeout` is offline), the purge of long-offline nodes, and the nodes not heard from
 * since our own connection came back.
 *
 * @example Judge silent nodes
 * ```ts
 * import { Liveness, type LivenessHost } from "./liveness.ts";
 * import type { NodeInfo } from "../registry/registry.ts";
 *
 * const remote = { id: "b", local: false, available: true, lastHeartbeatTime: 0 } as NodeInfo;
 * const host: LivenessHost = {
 *   registry: { nodes: new Map([["b", remote]]), localNode: {} as NodeInfo, purgeOfflineNodes() {} },
 *   logger: console,
 *   isConnected: () => true,
 *   cpuUsage: () => null,
 *   sendHeartbeat() {},
 *   discover() {},
 *   nodeLost: (id) => console.log(`${id} is offline`),
 * };
 * const liveness = new Liveness(host, {
 *   heartbeatInterval: 5,
 *   heartbeatTimeout: 15,
 *   cleanOfflineNodesTimeout: 600,
 * });
 * liveness.check(); // "b is offline" (and a warning)
 * ```
 *
 * @module
 */

import type { Logger } from "../logging.ts";
import type { NodeInfo } from "../registry/registry.ts";
import type { PacketPayload } from "../serializers/serializer.ts";

/** How often offline nodes are purged from the registry. */
const PURGE_INTERVAL_MS = 60_000;

/** The registry as liveness reads and updates it. */
export interface LivenessRegistry {
  /** Every known node, this one included. */
  readonly nodes: ReadonlyMap<string, NodeInfo>;
  /** This node: its `cpu` is updated with each heartbeat. */
  readonly localNode: NodeInfo;
  /** Forget the nodes offline for longer than `maxAgeMs`. */
  purgeOfflineNodes(maxAgeMs: number): void;
}

/** What liveness needs from transit. */
export interface LivenessHost {
  /** The known nodes. */
  readonly registry: LivenessRegistry;
  /** Where the "marking it offline" warnings go. */
  readonly logger: Pick<Logger, "warn">;
  /** True while the transporter is connected; while it is not, nobody is judged. */
  isConnected(): boolean;
  /** This node's CPU usage 0–100, or null when unknown. */
  cpuUsage(): number | null;
  /** Broadcast a HEARTBEAT with this CPU usage. */
  sendHeartbeat(cpu: number | null): void;
  /** Ask a node for its INFO (a DISCOVER to it). */
  discover(nodeID: string): void;
  /** A node missed its heartbeats: it is offline. */
  nodeLost(nodeID: string): void;
}

/** Timing of {@linkcode Liveness}, in seconds as in the broker options. */
export interface LivenessOptions {
  /** Seconds between two heartbeats of this node. */
  readonly heartbeatInterval: number;
  /** Seconds of silence after which a node is offline. */
  readonly heartbeatTimeout: number;
  /** Seconds after which an offline node is forgotten. */
  readonly cleanOfflineNodesTimeout: number;
}

/** Heartbeats out, heartbeat checks in, and the nodes unheard since a reconnect. */
export class Liveness {
  readonly #host: LivenessHost;
  readonly #opts: LivenessOptions;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #stopped = false;
  /**
   * Nodes not heard from since the transporter reconnected. A request to one of them would be
   * lost if it is still away (NATS keeps nothing for an absent subscriber), so it fails fast
   * instead. Any packet from the node (its answer to our DISCOVER, its INFO or heartbeat) clears it.
   */
  readonly #unheard = new Set<string>();

  /**
   * @param host Transit's side.
   * @param opts The heartbeat timing.
   */
  constructor(host: LivenessHost, opts: LivenessOptions) {
    this.#host = host;
    this.#opts = opts;
  }

  /**
   * Start the timers: a heartbeat every `heartbeatInterval` (with a jitter), a check every
   * `heartbeatTimeout`, a purge of offline nodes every minute. Nothing starts after
   * {@linkcode Liveness.stop}.
   */
  start(): void {
    const interval = this.#opts.heartbeatInterval * 1000;
    // Moleculer adds ±500 ms of jitter. Short intervals (tests, fast failure detection) would
    // then send beats further apart than the timeout, so the jitter is capped at ±25%.
    const spread = Math.min(500, interval / 4);
    const beat = () => {
      const jitter = Math.round((Math.random() * 2 - 1) * spread);
      this.#schedule(() => {
        this.beat();
        beat();
      }, Math.max(10, interval + jitter));
    };
    beat();
    const check = () => {
      this.#schedule(() => {
        this.check();
        check();
      }, this.#opts.heartbeatTimeout * 1000);
    };
    check();
    const purge = () => {
      this.#schedule(() => {
        this.#host.registry.purgeOfflineNodes(this.#opts.cleanOfflineNodesTimeout * 1000);
        purge();
      }, PURGE_INTERVAL_MS);
    };
    purge();
  }

  /** Stop every timer, for good, and forget the unheard nodes. */
  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#unheard.clear();
  }

  /** Send one heartbeat (when connected), with this node's current CPU usage. */
  beat(): void {
    if (!this.#host.isConnected()) return;
    const cpu = this.#host.cpuUsage();
    this.#host.registry.localNode.cpu = cpu;
    this.#host.sendHeartbeat(cpu);
  }

  /**
   * Mark offline every available remote node silent for longer than `heartbeatTimeout`. While
   * our own connection is down every node is silent: that says nothing about them, so nobody is
   * judged then.
   */
  check(): void {
    if (!this.#host.isConnected()) return;
    const limit = Date.now() - this.#opts.heartbeatTimeout * 1000;
    for (const node of this.#host.registry.nodes.values()) {
      if (node.local || !node.available) continue;
      if (node.lastHeartbeatTime < limit) {
        this.#host.logger.warn(
          `Node '${node.id}' sent no heartbeat for ${this.#opts.heartbeatTimeout} s: marking it offline`,
        );
        this.#host.nodeLost(node.id);
      }
    }
  }

  /**
   * A HEARTBEAT arrived: the node is alive and its CPU usage known. A node we do not know (or
   * took for offline) is asked for its INFO instead.
   *
   * @param sender The node.
   * @param p The HEARTBEAT payload (untrusted).
   */
  onHeartbeat(sender: string, p: PacketPayload): void {
    const node = this.#host.registry.nodes.get(sender);
    if (!node || !node.available) {
      this.#host.discover(sender);
      return;
    }
    node.lastHeartbeatTime = Date.now();
    node.cpu = typeof p.cpu === "number" ? p.cpu : null;
  }

  /**
   * Our connection came back. Nobody could be heard while we were away: every node gets a full
   * `heartbeatTimeout` from now before it is judged, and no request until it shows it is back
   * too ({@linkcode Liveness.isUnheard}).
   */
  reconnected(): void {
    const now = Date.now();
    this.#unheard.clear();
    for (const node of this.#host.registry.nodes.values()) {
      if (node.local || !node.available) continue;
      node.lastHeartbeatTime = now;
      this.#unheard.add(node.id);
    }
  }

  /**
   * A packet came from a node: it is back.
   *
   * @param nodeID The sender.
   */
  heard(nodeID: string): void {
    if (this.#unheard.size > 0) this.#unheard.delete(nodeID);
  }

  /**
   * Whether a node has stayed silent since our connection came back.
   *
   * @param nodeID The node.
   * @returns True when a request to it would likely be lost.
   */
  isUnheard(nodeID: string): boolean {
    return this.#unheard.has(nodeID);
  }

  /**
   * A node left: stop waiting to hear from it.
   *
   * @param nodeID The node.
   */
  forget(nodeID: string): void {
    this.#unheard.delete(nodeID);
  }

  #schedule(fn: () => void, ms: number): void {
    if (this.#stopped) return;
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
  }
}
