/**
 * Built-in middleware: bulkhead. Limits how many calls of one local action run
 * at once; the rest wait in a bounded queue, and past it calls fail with
 * `QueueIsFullError`.
 *
 * @module
 */

import type { MiddlewareHooks } from "../middleware.ts";
import type { Context } from "../context.ts";
import { QueueIsFullError } from "../errors.ts";

/** Bulkhead options, broker-wide (`bulkhead`) or per action (`bulkhead` in the definition). */
export interface BulkheadOptions {
  /** Turn the bulkhead on. @default {false} */
  enabled?: boolean;
  /** Most calls of one action running at once. @default {10} */
  concurrency?: number;
  /** Most calls waiting; past it calls fail with QueueIsFullError. @default {100} */
  maxQueueSize?: number;
}

/** Defaults of {@linkcode BulkheadOptions}. */
export const BULKHEAD_DEFAULTS: Required<BulkheadOptions> = {
  enabled: false,
  concurrency: 10,
  maxQueueSize: 100,
};

/**
 * The bulkhead middleware.
 *
 * @param broker Broker-wide options.
 * @returns The middleware.
 */
export function bulkheadMiddleware(broker: BulkheadOptions): MiddlewareHooks {
  return {
    name: "Bulkhead",
    localAction(next, action) {
      const opts = {
        ...BULKHEAD_DEFAULTS,
        ...broker,
        ...(action.schema.bulkhead as BulkheadOptions | undefined),
      };
      if (!opts.enabled) return next;
      let running = 0;
      const queue: Array<() => void> = [];
      const release = () => {
        running--;
        const wake = queue.shift();
        if (wake) wake();
      };
      const run = (ctx: Context): Promise<unknown> => {
        running++;
        let result: unknown;
        try {
          result = next(ctx);
        } catch (err) {
          release();
          return Promise.reject(err);
        }
        return Promise.resolve(result).finally(release);
      };
      return (ctx) => {
        if (running < opts.concurrency) return run(ctx);
        if (queue.length >= opts.maxQueueSize) {
          return Promise.reject(
            new QueueIsFullError({
              action: action.name,
              nodeID: ctx.broker.nodeID,
              size: queue.length,
              limit: opts.maxQueueSize,
            }),
          );
        }
        return new Promise<void>((resolve) => queue.push(resolve)).then(() => run(ctx));
      };
    },
  };
}
