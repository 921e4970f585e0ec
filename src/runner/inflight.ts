/**
 * Counting in-flight action calls so a stopping node lets them finish.
 *
 * @module
 */

import type { Handler, MiddlewareHooks } from "../middleware.ts";

/**
 * Counts local action calls in progress (calls from other nodes included, as they run through
 * the local chain) and waits for the count to reach zero.
 *
 * @example
 * ```ts
 * import { ServiceBroker } from "../broker.ts";
 * import { InFlightTracker } from "./inflight.ts";
 *
 * const tracker = new InFlightTracker();
 * const broker = new ServiceBroker({ logger: false, middlewares: [tracker.middleware] });
 * await broker.start();
 * // on SIGTERM: refuse new requests, then
 * await tracker.drain(10_000);
 * await broker.stop();
 * ```
 */
export class InFlightTracker {
  #count = 0;
  #idle: Array<() => void> = [];

  /** The middleware to put first in the broker's `middlewares`. */
  readonly middleware: MiddlewareHooks = {
    name: "InFlightTracker",
    localAction: (next: Handler): Handler => (ctx) => {
      this.#count++;
      let result: unknown;
      try {
        result = next(ctx);
      } catch (err) {
        this.#done();
        throw err;
      }
      if (typeof (result as PromiseLike<unknown> | null)?.then === "function") {
        return Promise.resolve(result).finally(() => this.#done());
      }
      this.#done();
      return result;
    },
  };

  /** Calls in progress. */
  get count(): number {
    return this.#count;
  }

  #done(): void {
    this.#count--;
    if (this.#count === 0) {
      const waiters = this.#idle;
      this.#idle = [];
      for (const resolve of waiters) resolve();
    }
  }

  /**
   * Wait until no call is in progress, or the timeout passes.
   *
   * @param timeout Longest wait in ms.
   * @returns True when every call finished, false on timeout.
   */
  drain(timeout: number): Promise<boolean> {
    if (this.#count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      let done = false;
      const finish = (drained: boolean) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(drained);
      };
      const timer = setTimeout(() => finish(false), timeout);
      this.#idle.push(() => finish(true));
    });
  }
}
