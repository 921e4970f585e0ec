/**
 * The CpuUsage strategy: prefer the node with the lowest CPU usage, as its
 * heartbeats report it.
 *
 * @module
 */

import type { Strategy, StrategyEndpoint, StrategyOptions } from "../core/strategy.ts";
import { numberOption, randomIndex } from "./_options.ts";

/** Options of {@linkcode CpuUsageStrategy} (Moleculer's names). */
export interface CpuUsageStrategyOptions {
  /** How many endpoints are looked at per pick; `0` = all. @default {3} */
  sampleCount?: number;
  /** A node below this CPU usage (percent) is taken at once. @default {10} */
  lowCpuUsage?: number;
}

/**
 * Looks at `sampleCount` endpoints (all of them when the list is that short,
 * from a random start so equal nodes share the load; else random ones) and
 * takes the first whose node's CPU is under `lowCpuUsage`, or else the lowest.
 * Nodes with no CPU figure yet are skipped; when none has one, a random
 * endpoint is picked. CPU figures arrive with heartbeats (`heartbeatInterval`).
 *
 * @example
 * ```ts
 * import { CpuUsageStrategy } from "./cpu_usage.ts";
 *
 * const s = new CpuUsageStrategy({ lowCpuUsage: 5 });
 * const list = [
 *   { id: "busy", local: false, node: { cpu: 90, hostname: "a" } },
 *   { id: "idle", local: false, node: { cpu: 20, hostname: "b" } },
 * ];
 * console.log(s.select(list).id); // "idle"
 * ```
 */
export class CpuUsageStrategy implements Strategy {
  /** Endpoints looked at per pick. */
  readonly sampleCount: number;
  /** CPU usage (percent) under which a node is taken at once. */
  readonly lowCpuUsage: number;

  /**
   * Make a CpuUsage strategy.
   *
   * @param options Strategy options.
   * @throws {BrokerOptionsError} for a malformed option.
   */
  constructor(options?: StrategyOptions) {
    this.sampleCount = numberOption("CpuUsage", options, "sampleCount", 3);
    this.lowCpuUsage = numberOption("CpuUsage", options, "lowCpuUsage", 10);
  }

  /** Pick the endpoint of the least busy node among a sample. */
  select<E extends StrategyEndpoint>(list: readonly E[]): E {
    const n = list.length;
    const all = this.sampleCount <= 0 || this.sampleCount >= n;
    const count = all ? n : this.sampleCount;
    const start = randomIndex(n);
    let best: E | undefined;
    let bestCpu = Infinity;
    for (let i = 0; i < count; i++) {
      const ep = list[all ? (start + i) % n : randomIndex(n)]!;
      const cpu = ep.node?.cpu;
      if (cpu === null || cpu === undefined) continue;
      if (cpu < this.lowCpuUsage) return ep;
      if (cpu < bestCpu) {
        best = ep;
        bestCpu = cpu;
      }
    }
    return best ?? list[randomIndex(n)]!;
  }
}
