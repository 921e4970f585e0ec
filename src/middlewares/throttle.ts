/**
 * Built-in middleware: `throttle` and `debounce` for event handlers, set in ms
 * on the event definition.
 *
 * @module
 */

import type { Context } from "../core/context.ts";
import type { Handler, MiddlewareHooks } from "../core/middleware.ts";

function ms(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : 0;
}

/**
 * Throttles and debounces event handlers. A handler with `throttle: ms` runs
 * at most once per `ms` (events in between are dropped); one with
 * `debounce: ms` runs once, `ms` after the last event of a burst, with that
 * last event. With both, throttling applies first. Handlers with neither are
 * left untouched. Pending debounced runs are dropped when the broker stops.
 */
export class EventThrottler {
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();

  /** Number of debounced runs waiting. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Drop every waiting debounced run; the broker calls it when it stops. */
  clear(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  /**
   * The middleware.
   *
   * @returns The middleware.
   */
  middleware(): MiddlewareHooks {
    return {
      name: "Throttle",
      localEvent: (next, event) => {
        let h = next;
        const debounce = ms(event.schema.debounce);
        if (debounce > 0) h = this.#debounce(h, debounce, event.name);
        const throttle = ms(event.schema.throttle);
        if (throttle > 0) h = this.#throttle(h, throttle);
        return h;
      },
    };
  }

  #throttle(next: Handler, interval: number): Handler {
    let last = -Infinity;
    return (ctx: Context) => {
      const now = Date.now();
      if (now - last < interval) return undefined;
      last = now;
      return next(ctx);
    };
  }

  #debounce(next: Handler, wait: number, name: string): Handler {
    let timer: ReturnType<typeof setTimeout> | undefined;
    return (ctx: Context) => {
      if (timer !== undefined) {
        clearTimeout(timer);
        this.#timers.delete(timer);
      }
      const t = setTimeout(() => {
        this.#timers.delete(t);
        if (timer === t) timer = undefined;
        let result: unknown;
        try {
          result = next(ctx);
        } catch (err) {
          result = Promise.reject(err);
        }
        Promise.resolve(result).catch((err) =>
          ctx.broker.logger.error(`Debounced handler of event '${name}' failed`, err)
        );
      }, wait);
      timer = t;
      this.#timers.add(t);
      return undefined;
    };
  }
}
