/**
 * Load-balancing strategies: how one endpoint is picked from a list. The
 * interface, the two simple strategies, the host a strategy may use, and
 * `resolveStrategy()`. CpuUsage, Latency and Shard live in `strategies/`.
 *
 * @module
 */

import { BrokerOptionsError } from "../errors.ts";
import type { Context } from "../core/context.ts";
import { CpuUsageStrategy } from "./cpu_usage.ts";
import { LatencyStrategy } from "./latency.ts";
import { ShardStrategy } from "./shard.ts";

/** A node as a strategy sees it. */
export interface StrategyNode {
  /** Node id. */
  readonly id: string;
  /** True for this node. */
  readonly local: boolean;
  /** False once the node went offline. */
  readonly available: boolean;
  /** CPU usage 0–100 from the node's last heartbeat, or null when unknown. */
  readonly cpu: number | null;
  /** The node's host name, or null when unknown. */
  readonly hostname: string | null;
}

/** An endpoint as a strategy sees it. */
export interface StrategyEndpoint {
  /** Node id. */
  readonly id: string;
  /** True for an endpoint on this node. */
  readonly local: boolean;
  /** The node serving it (CpuUsage reads `cpu`, Latency reads `hostname`). */
  readonly node?: {
    readonly cpu: number | null;
    readonly hostname: string | null;
  };
}

/** Picks one endpoint of a list for a call or an event. */
export interface Strategy {
  /**
   * Pick one endpoint.
   *
   * @param list Available endpoints; never empty.
   * @param ctx The context of the call, if any.
   * @returns One of `list`.
   */
  select<E extends StrategyEndpoint>(list: readonly E[], ctx?: Context): E;
}

/**
 * What the broker gives a strategy: the known nodes, a way to ping them, a
 * stop signal for timers, and a per-broker store for state shared by the
 * strategies of every endpoint list (one latency monitor per broker).
 */
export interface StrategyHost {
  /** This node's id. */
  readonly nodeID: string;
  /** Known nodes by id, this one included. */
  readonly nodes: ReadonlyMap<string, StrategyNode>;
  /**
   * Ping a node.
   *
   * @param nodeID The node.
   * @param timeout Give up after this many ms.
   * @returns The round trip, or null on timeout or without a transporter.
   */
  ping(
    nodeID: string,
    timeout: number,
  ): Promise<{ readonly elapsedTime: number } | null>;
  /** Aborted when the broker stops: strategies clear their timers then. */
  readonly signal: AbortSignal;
  /** Per-broker state shared by strategies, keyed by whatever the strategy chooses. */
  readonly shared: Map<unknown, unknown>;
}

/** Options of a strategy (`registry.strategyOptions`, or `strategyOptions` of an action). */
export type StrategyOptions = Readonly<Record<string, unknown>>;

/**
 * A strategy factory: makes one strategy instance per endpoint list. Built-in
 * strategies accept a missing host (Latency then has no measurements and picks
 * at random) and missing options (their defaults).
 */
export type StrategyFactory = (
  host?: StrategyHost,
  options?: StrategyOptions,
) => Strategy;

/** A strategy by name (`"RoundRobin"`, `"Random"`, `"CpuUsage"`, `"Latency"`, `"Shard"`) or a factory. */
export type StrategyOption = string | StrategyFactory;

/**
 * Makes the strategy of a new endpoint list from the definition of its first
 * endpoint (an action's `strategy` and `strategyOptions`), or the broker-wide
 * one. The registry calls it; the broker builds it.
 */
export type StrategyResolver = (
  definition?: Readonly<Record<string, unknown>>,
) => Strategy;

/** Takes endpoints in turn. Moleculer's default. */
export class RoundRobinStrategy implements Strategy {
  #counter = 0;
  /** Pick the next endpoint in turn. */
  select<E extends StrategyEndpoint>(list: readonly E[]): E {
    if (this.#counter >= list.length) this.#counter = 0;
    return list[this.#counter++]!;
  }
}

/** Picks an endpoint at random. */
export class RandomStrategy implements Strategy {
  /** Pick a random endpoint. */
  select<E extends StrategyEndpoint>(list: readonly E[]): E {
    return list[Math.floor(Math.random() * list.length)]!;
  }
}

const BUILT_IN: Record<string, StrategyFactory> = {
  roundrobin: () => new RoundRobinStrategy(),
  random: () => new RandomStrategy(),
  cpuusage: (_host, options) => new CpuUsageStrategy(options),
  latency: (host, options) => new LatencyStrategy(host, options),
  shard: (_host, options) => new ShardStrategy(options),
};

/**
 * Resolve a strategy option into a factory.
 *
 * @param option A name (any case, with or without a `Strategy` suffix) or a
 *   factory. @default {"RoundRobin"}
 * @returns A factory making one strategy per endpoint list.
 * @throws {BrokerOptionsError} for an unknown name.
 *
 * @example
 * ```ts
 * import { resolveStrategy } from "./strategy.ts";
 *
 * const rr = resolveStrategy("RoundRobin")();
 * console.log(rr.select([{ id: "a", local: true }, { id: "b", local: false }]).id); // "a"
 * ```
 */
export function resolveStrategy(
  option: StrategyOption = "RoundRobin",
): StrategyFactory {
  if (typeof option === "function") return option;
  const key = String(option).toLowerCase().replace(/strategy$/, "");
  // Own keys only: a remote action's `strategy: "constructor"` must not find `Object`.
  const found = Object.hasOwn(BUILT_IN, key) ? BUILT_IN[key] : undefined;
  if (!found) {
    throw new BrokerOptionsError(
      `Unknown strategy '${option}': use "RoundRobin", "Random", "CpuUsage", "Latency" or ` +
        `"Shard", or pass a factory function`,
      { strategy: option },
    );
  }
  return found;
}
