/**
 * The token bucket of `sampling.tracesPerSecond`, as Moleculer's: the balance grows by
 * `tracesPerSecond` a second up to max(1, tracesPerSecond), and every kept trace spends one.
 *
 * @module
 */

/** Keeps at most `tracesPerSecond` traces a second (0.1 = one every 10 s). */
export class RateLimiter {
  readonly #perSecond: number;
  readonly #max: number;
  #last = Date.now();
  #balance = 0;

  /**
   * Make it.
   *
   * @param tracesPerSecond The rate.
   */
  constructor(tracesPerSecond: number) {
    this.#perSecond = tracesPerSecond;
    this.#max = tracesPerSecond < 1 ? 1 : tracesPerSecond;
  }

  /**
   * Spend `cost` if the balance allows it.
   *
   * @param cost What one trace costs.
   * @returns Whether the trace is kept.
   */
  check(cost = 1): boolean {
    const now = Date.now();
    this.#balance = Math.min(
      this.#max,
      this.#balance + (now - this.#last) / 1000 * this.#perSecond,
    );
    this.#last = now;
    if (this.#balance >= cost) {
      this.#balance -= cost;
      return true;
    }
    return false;
  }
}
