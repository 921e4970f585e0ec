/**
 * Built-in middleware: bulkhead. Limits how many calls of one local action (or
 * deliveries of one local event handler) run at once; the rest wait in a
 * bounded queue, and past it calls fail with `QueueIsFullError`.
 *
 * @module
 */

import type { BulkheadOptions } from "../core/schema.ts";
import type { Handler, MiddlewareHooks } from "../core/middleware.ts";
import type { Context } from "../core/context.ts";
import { QueueIsFullError } from "../errors.ts";
import { mergeOwn } from "./_merge.ts";
import { boolOption, numberOption, optionGroup } from "./_options.ts";

/** Defaults of {@linkcode BulkheadOptions} (Moleculer's). */
export const BULKHEAD_DEFAULTS: Readonly<Required<BulkheadOptions>> = Object.freeze({
  enabled: false,
  concurrency: 10,
  maxQueueSize: 100,
});

const BULKHEAD_KEYS: ReadonlySet<string> = new Set(Object.keys(BULKHEAD_DEFAULTS));

/**
 * The broker option `bulkhead`, checked and completed with {@linkcode BULKHEAD_DEFAULTS}.
 *
 * @param value The user's `bulkhead`, or `undefined`.
 * @returns The complete options.
 * @throws {BrokerOptionsError} naming the key that is unknown or ill-typed.
 */
export function resolveBulkheadOptions(value: unknown): Required<BulkheadOptions> {
  const o = optionGroup("bulkhead", value, BULKHEAD_KEYS) as BulkheadOptions;
  return {
    enabled: boolOption("bulkhead.enabled", o.enabled, BULKHEAD_DEFAULTS.enabled),
    // At least one call must run, or every call would wait forever.
    concurrency: numberOption(
      "bulkhead.concurrency",
      o.concurrency,
      BULKHEAD_DEFAULTS.concurrency,
      1,
    ),
    maxQueueSize: numberOption(
      "bulkhead.maxQueueSize",
      o.maxQueueSize,
      BULKHEAD_DEFAULTS.maxQueueSize,
    ),
  };
}

interface Waiting {
  readonly ctx: Context;
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: unknown) => void;
}

function limit(
  next: Handler,
  opts: Required<BulkheadOptions>,
  rejectFull: (ctx: Context, size: number) => unknown,
): Handler {
  const concurrency = Math.max(1, opts.concurrency);
  const queue: Waiting[] = [];
  let running = 0;
  // A finished call hands its slot straight to the oldest waiting one, so no
  // newcomer can slip in between and push `running` past the limit.
  const release = () => {
    const w = queue.shift();
    if (w) start(w.ctx).then(w.resolve, w.reject);
    else running--;
  };
  const start = (ctx: Context): Promise<unknown> => {
    let result: unknown;
    try {
      result = next(ctx);
    } catch (err) {
      release();
      return Promise.reject(err);
    }
    return Promise.resolve(result).then(
      (value) => {
        release();
        return value;
      },
      (err) => {
        release();
        throw err;
      },
    );
  };
  return (ctx: Context) => {
    if (running < concurrency) {
      running++;
      return start(ctx);
    }
    if (opts.maxQueueSize > 0 && queue.length >= opts.maxQueueSize) {
      return Promise.reject(rejectFull(ctx, queue.length));
    }
    return new Promise((resolve, reject) => queue.push({ ctx, resolve, reject }));
  };
}

/**
 * The bulkhead middleware. Each action or event handler whose options
 * (broker-wide, overlaid with its own `bulkhead`) enable it gets its own
 * counter and queue; the others are left untouched. Requests from other nodes
 * count too: they run the local chain.
 *
 * @param broker Broker-wide options, complete.
 * @returns The middleware.
 */
export function bulkheadMiddleware(broker: Required<BulkheadOptions>): MiddlewareHooks {
  return {
    name: "Bulkhead",
    localAction(next, action) {
      const opts = mergeOwn(broker, action.schema.bulkhead);
      if (!opts.enabled) return next;
      return limit(next, opts, (ctx, size) =>
        new QueueIsFullError({
          action: action.name,
          nodeID: ctx.broker.nodeID,
          size,
          limit: opts.maxQueueSize,
        }));
    },
    localEvent(next, event) {
      const opts = mergeOwn(broker, event.schema.bulkhead);
      if (!opts.enabled) return next;
      return limit(next, opts, (ctx, size) =>
        new QueueIsFullError({
          action: event.name,
          nodeID: ctx.broker.nodeID,
          size,
          limit: opts.maxQueueSize,
        }));
    },
  };
}
