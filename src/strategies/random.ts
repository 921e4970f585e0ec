/**
 * The Random strategy: any endpoint, uniformly.
 *
 * @module
 */

import type { Strategy, StrategyEndpoint } from "../core/strategy.ts";
import { randomIndex } from "./_options.ts";

/**
 * Picks an endpoint at random.
 *
 * @example
 * ```ts
 * import { RandomStrategy } from "./random.ts";
 *
 * const picked = new RandomStrategy().select([{ id: "a", local: true }, { id: "b", local: false }]);
 * console.log(["a", "b"].includes(picked.id)); // true
 * ```
 */
export class RandomStrategy implements Strategy {
  /**
   * Pick a random endpoint.
   *
   * @param list Available endpoints; never empty.
   * @returns One of them, each as likely as the others.
   */
  select<E extends StrategyEndpoint>(list: readonly E[]): E {
    return list[randomIndex(list.length)]!;
  }
}
