/**
 * Built-in middleware: rejects a local action call with `RequestTimeoutError`
 * when `ctx.timeout` passes first. Remote calls are timed by transit.
 *
 * @module
 */

import type { MiddlewareHooks } from "../core/middleware.ts";
import { isPromiseLike } from "../_util/async.ts";
import { RequestTimeoutError } from "../errors.ts";

/**
 * The timeout middleware.
 *
 * @returns The middleware.
 */
export function timeoutMiddleware(): MiddlewareHooks {
  return {
    name: "Timeout",
    localAction: (next, action) => (ctx) => {
      const timeout = ctx.timeout;
      if (timeout === null || timeout <= 0) return next(ctx);
      const result = next(ctx);
      if (!isPromiseLike(result)) return result;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new RequestTimeoutError({
                action: action.name,
                nodeID: ctx.broker.nodeID,
              }),
            ),
          timeout,
        );
        (result as Promise<unknown>).then(
          (v) => {
            clearTimeout(timer);
            resolve(v);
          },
          (e) => {
            clearTimeout(timer);
            reject(e);
          },
        );
      });
    },
  };
}
