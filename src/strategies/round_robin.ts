/**
 * The RoundRobin strategy, Moleculer's default: endpoints in turn.
 *
 * @module
 */

import type { Strategy, StrategyEndpoint } from "../core/strategy.ts";

/**
 * Takes endpoints in turn. Moleculer's default.
 *
 * @example
 * ```ts
 * import { RoundRobinStrategy } from "./round_robin.ts";
 *
 * const s = new RoundRobinStrategy();
 * const list = [{ id: "a", local: true }, { id: "b", local: false }];
 * console.log(s.select(list).id, s.select(list).id, s.select(list).id); // a b a
 * ```
 */
export class RoundRobinStrategy implements Strategy {
  #counter = 0;
  /**
   * Pick the next endpoint in turn.
   *
   * @param list Available endpoints; never empty.
   * @returns The endpoint after the one picked last time (the first after a wrap, or when the
   *   list shrank below the counter).
   */
  select<E extends StrategyEndpoint>(list: readonly E[]): E {
    if (this.#counter >= list.length) this.#counter = 0;
    return list[this.#counter++]!;
  }
}
