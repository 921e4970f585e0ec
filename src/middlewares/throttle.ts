/**
 * Built-in middleware: `throttle` and `debounce` for event handlers, set in ms
 * on the event definition.
 *
 * @module
 */

import type { Context } from "../context.ts";
import type { MiddlewareHooks } from "../middleware.ts";

/**
 * The throttle/debounce middleware. A throttled handler runs at most once per
 * `throttle` ms (later events in the window are dropped); a debounced one runs
 * once, `debounce` ms after the last event of a burst, with that last event.
 *
 * @param timers Where pending debounce timers are kept, so the broker can clear them on stop.
 * @returns The middleware.
 */
export function throttleMiddleware(
  timers: Set<ReturnType<typeof setTimeout>>,
): MiddlewareHooks {
  return {
    name: "Throttle",
    localEvent(next, event) {
      const throttle = Number(event.schema.throttle ?? 0);
      const debounce = Number(event.schema.debounce ?? 0);
      if (throttle > 0) {
        let last = -Infinity;
        return (ctx: Context) => {
          const now = Date.now();
          if (now - last < throttle) return;
          last = now;
          return next(ctx);
        };
      }
      if (debounce > 0) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        return (ctx: Context) => {
          if (timer !== undefined) {
            clearTimeout(timer);
            timers.delete(timer);
          }
          timer = setTimeout(() => {
            timers.delete(timer!);
            timer = undefined;
            Promise.resolve(next(ctx)).catch((err) =>
              ctx.broker.logger.error(
                `Debounced handler of '${event.name}' failed`,
                err,
              )
            );
          }, debounce);
          timers.add(timer);
        };
      }
      return next;
    },
  };
}
