/**
 * Load-balancing strategies: how one endpoint is picked from a list.
 *
 * @module
 */

import { BrokerOptionsError } from "../errors.ts";
import type { Context } from "../context.ts";

/** An endpoint as a strategy sees it. */
export interface StrategyEndpoint {
  /** Node id. */
  readonly id: string;
  /** True for an endpoint on this node. */
  readonly local: boolean;
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

/** A strategy factory: makes one strategy instance per endpoint list. */
export type StrategyFactory = () => Strategy;

/** A strategy by name (`"RoundRobin"`, `"Random"`) or a factory. */
export type StrategyOption = string | StrategyFactory;

const BUILT_IN: Record<string, StrategyFactory> = {
  roundrobin: () => new RoundRobinStrategy(),
  random: () => new RandomStrategy(),
};

/**
 * Resolve a strategy option into a factory.
 *
 * @param option A name or a factory. @default {"RoundRobin"}
 * @returns A factory making one strategy per endpoint list.
 * @throws {BrokerOptionsError} for an unknown name.
 */
export function resolveStrategy(
  option: StrategyOption = "RoundRobin",
): StrategyFactory {
  if (typeof option === "function") return option;
  const found = BUILT_IN[String(option).toLowerCase()];
  if (!found) {
    throw new BrokerOptionsError(
      `Unknown strategy '${option}': use "RoundRobin" or "Random", or pass a factory function`,
      { strategy: option },
    );
  }
  return found;
}
