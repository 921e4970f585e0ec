/**
 * Load-balancing strategies: how one endpoint is picked from a list. The
 * interface, the two simple strategies, the host a strategy may use, and
 * `resolveStrategy()`. CpuUsage, Latency and Shard live in `strategies/`.
 *
 * @module
 */

import type {
  Strategy,
  StrategyEndpoint,
  StrategyFactory,
  StrategyOption,
} from "../core/strategy.ts";
import { BrokerOptionsError } from "../errors.ts";
import { CpuUsageStrategy } from "./cpu_usage.ts";
import { LatencyStrategy } from "./latency.ts";
import { ShardStrategy } from "./shard.ts";

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
