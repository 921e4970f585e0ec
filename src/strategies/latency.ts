/**
 * The Latency strategy: prefer nodes on the hosts that answer pings fastest.
 *
 * @module
 */

import type {
  Strategy,
  StrategyEndpoint,
  StrategyHost,
  StrategyOptions,
} from "../core/strategy.ts";
import { numberOption, randomIndex } from "./_options.ts";

/** Options of {@linkcode LatencyStrategy} (Moleculer's names). */
export interface LatencyStrategyOptions {
  /** How many endpoints are looked at per pick; `0` = all. @default {5} */
  sampleCount?: number;
  /** A host answering faster than this (ms, average) is taken at once. @default {10} */
  lowLatency?: number;
  /** How many pings per host the average is taken over. @default {5} */
  collectCount?: number;
  /** Seconds between ping rounds. @default {10} */
  pingInterval?: number;
}

const MONITOR = Symbol("denolecular.latencyMonitor");

/**
 * Pings one node of every remote host each `pingInterval` seconds and keeps
 * the average round trip of the last `collectCount` pings per host ("smart
 * ping", as Moleculer does: hosts, not nodes, so many nodes on one machine
 * cost one ping). One monitor per broker, shared by every Latency list.
 */
class LatencyMonitor {
  /** Average round trip in ms by host key. */
  readonly averages: Map<string, number> = new Map();
  readonly #history = new Map<string, number[]>();
  readonly #measuring = new Set<string>();
  readonly #host: StrategyHost;
  readonly #collectCount: number;
  readonly #interval: number;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(host: StrategyHost, collectCount: number, pingInterval: number) {
    this.#host = host;
    this.#collectCount = Math.max(1, collectCount);
    this.#interval = Math.max(10, pingInterval * 1000);
    host.signal.addEventListener("abort", () => clearTimeout(this.#timer), {
      once: true,
    });
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#host.signal.aborted) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#round().finally(() => this.#schedule(this.#interval));
    }, ms);
  }

  async #round(): Promise<void> {
    const hosts = new Map<string, string[]>();
    for (const node of this.#host.nodes.values()) {
      if (node.local || !node.available) continue;
      const key = hostKey(node.hostname, node.id);
      const ids = hosts.get(key);
      if (ids) ids.push(node.id);
      else hosts.set(key, [node.id]);
    }
    for (const key of [...this.averages.keys()]) {
      if (!hosts.has(key)) {
        this.averages.delete(key);
        this.#history.delete(key);
      }
    }
    await Promise.all(
      [...hosts].map(([key, ids]) => this.#measure(key, ids[randomIndex(ids.length)]!)),
    );
  }

  async #measure(key: string, nodeID: string): Promise<void> {
    this.#measuring.add(key);
    try {
      const pong = await this.#host.ping(nodeID, Math.min(this.#interval, 5000))
        .catch(() => null);
      if (pong && !this.#host.signal.aborted) {
        this.record(key, pong.elapsedTime);
      }
    } finally {
      this.#measuring.delete(key);
    }
  }

  /**
   * Measure a host not measured yet (a node that joined since the last round),
   * at once rather than at the next round.
   */
  discover(key: string, nodeID: string): void {
    if (this.#measuring.has(key) || this.#host.signal.aborted) return;
    void this.#measure(key, nodeID);
  }

  /** Add a measurement for a host. */
  record(key: string, elapsed: number): void {
    let history = this.#history.get(key);
    if (!history) {
      history = [];
      this.#history.set(key, history);
    }
    history.push(elapsed);
    if (history.length > this.#collectCount) history.shift();
    this.averages.set(key, history.reduce((a, b) => a + b, 0) / history.length);
  }
}

function hostKey(hostname: string | null | undefined, nodeID: string): string {
  return hostname ?? nodeID;
}

/**
 * Looks at `sampleCount` endpoints (all of them when the list is that short,
 * from a random start so equally fast hosts share the load; else random ones)
 * and takes the first on a host faster than `lowLatency`, or else the fastest.
 * Endpoints on hosts not measured yet are skipped (and their host is pinged at
 * once); with no measurement at all (or no broker, e.g. a list made in a unit
 * test) a random endpoint is picked.
 *
 * @example
 * ```ts
 * import { LatencyStrategy } from "./latency.ts";
 *
 * const s = new LatencyStrategy(undefined, { lowLatency: 5 });
 * const list = [{ id: "a", local: false, node: { cpu: null, hostname: "h1" } }];
 * console.log(s.select(list).id); // "a" (no measurements: random)
 * ```
 */
export class LatencyStrategy implements Strategy {
  /** Endpoints looked at per pick. */
  readonly sampleCount: number;
  /** Average ms under which a host is taken at once. */
  readonly lowLatency: number;
  readonly #monitor: LatencyMonitor | undefined;

  /**
   * Make a Latency strategy; the first one of a broker starts its ping monitor.
   *
   * @param host The broker's strategy host; without one no pings are sent.
   * @param options Strategy options. `collectCount` and `pingInterval` are
   *   read by the first Latency list of a broker, which starts the shared monitor.
   * @throws {BrokerOptionsError} for a malformed option.
   */
  constructor(host?: StrategyHost, options?: StrategyOptions) {
    this.sampleCount = numberOption("Latency", options, "sampleCount", 5);
    this.lowLatency = numberOption("Latency", options, "lowLatency", 10);
    const collectCount = numberOption("Latency", options, "collectCount", 5, 1);
    const pingInterval = numberOption(
      "Latency",
      options,
      "pingInterval",
      10,
      0.01,
    );
    if (host && !host.signal.aborted) {
      let monitor = host.shared.get(MONITOR) as LatencyMonitor | undefined;
      if (!monitor) {
        monitor = new LatencyMonitor(host, collectCount, pingInterval);
        host.shared.set(MONITOR, monitor);
      }
      this.#monitor = monitor;
    }
  }

  /**
   * The average round trip of a host, as measured so far.
   *
   * @param hostname The host name (or node id for a node without one).
   * @returns Milliseconds, or undefined when not measured.
   */
  latencyOf(hostname: string): number | undefined {
    return this.#monitor?.averages.get(hostname);
  }

  /** Pick the endpoint on the fastest host among a sample. */
  select<E extends StrategyEndpoint>(list: readonly E[]): E {
    const n = list.length;
    const monitor = this.#monitor;
    if (!monitor) return list[randomIndex(n)]!;
    const averages = monitor.averages;
    const all = this.sampleCount <= 0 || this.sampleCount >= n;
    const count = all ? n : this.sampleCount;
    const start = randomIndex(n);
    let best: E | undefined;
    let bestLatency = Infinity;
    for (let i = 0; i < count; i++) {
      const ep = list[all ? (start + i) % n : randomIndex(n)]!;
      const key = hostKey(ep.node?.hostname, ep.id);
      const latency = averages.get(key);
      if (latency === undefined) {
        if (!ep.local) monitor.discover(key, ep.id);
        continue;
      }
      if (latency < this.lowLatency) return ep;
      if (latency < bestLatency) {
        best = ep;
        bestLatency = latency;
      }
    }
    return best ?? list[randomIndex(n)]!;
  }
}
