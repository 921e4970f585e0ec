/**
 * Built-in middleware: retries with exponential back-off. A failed call whose
 * error passes `check` (by default: retryable errors) is made again through
 * the balancer, so a retry may land on another node.
 *
 * @module
 */

import type { RetryPolicyOptions } from "../core/schema.ts";
import type { CallOptions, Context } from "../core/context.ts";
import type { Logger } from "../logging.ts";
import type { ActionInfo, Handler, MiddlewareHooks } from "../core/middleware.ts";
import { isRetryableError } from "../errors.ts";
import { delay, isPromiseLike } from "../_util/async.ts";
import { mergeOwn } from "./_merge.ts";
import { boolOption, functionOption, numberOption, optionGroup } from "./_options.ts";

/** Defaults of {@linkcode RetryPolicyOptions} (Moleculer's). */
export const RETRY_DEFAULTS: Readonly<Required<RetryPolicyOptions>> = Object.freeze({
  enabled: false,
  retries: 5,
  delay: 100,
  maxDelay: 1000,
  factor: 2,
  check: isRetryableError,
});

const RETRY_KEYS: ReadonlySet<string> = new Set(Object.keys(RETRY_DEFAULTS));

/**
 * The broker option `retryPolicy`, checked and completed with {@linkcode RETRY_DEFAULTS}.
 *
 * @param value The user's `retryPolicy`, or `undefined`.
 * @returns The complete policy.
 * @throws {BrokerOptionsError} naming the key that is unknown or ill-typed.
 */
export function resolveRetryPolicy(value: unknown): Required<RetryPolicyOptions> {
  const o = optionGroup("retryPolicy", value, RETRY_KEYS) as RetryPolicyOptions;
  return {
    enabled: boolOption("retryPolicy.enabled", o.enabled, RETRY_DEFAULTS.enabled),
    retries: numberOption("retryPolicy.retries", o.retries, RETRY_DEFAULTS.retries),
    delay: numberOption("retryPolicy.delay", o.delay, RETRY_DEFAULTS.delay),
    maxDelay: numberOption("retryPolicy.maxDelay", o.maxDelay, RETRY_DEFAULTS.maxDelay),
    factor: numberOption("retryPolicy.factor", o.factor, RETRY_DEFAULTS.factor),
    check: functionOption("retryPolicy.check", o.check, RETRY_DEFAULTS.check),
  };
}

/** What the retry middleware needs from its broker. */
export interface RetryHost {
  /** This node's id. */
  readonly nodeID: string;
  /** Where retries are logged. */
  readonly logger: Logger;
  /** Aborted when the broker stops: waiting retries give up with their last error. */
  readonly signal: AbortSignal;
  /** `broker.call`: a retry goes through the balancer again. */
  call(name: string, params: unknown, opts: CallOptions): Promise<unknown>;
}

/** Marks the call options of a retry, so the retried call does not start a retry loop of its own. */
const ATTEMPT: unique symbol = Symbol("denolecular.retryAttempt");

type Tagged = CallOptions & { [ATTEMPT]?: number };

/**
 * True for the context of a retried attempt: the retry loop of the first attempt decides what
 * happens on its failure, so the fallback of the action waits for the loop's last error.
 *
 * @param ctx A call's context.
 * @returns Whether it is a retry.
 */
export function isRetryAttempt(ctx: Context): boolean {
  return (ctx.options as Tagged)[ATTEMPT] !== undefined;
}

function reason(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/**
 * The retry middleware. It wraps local and remote actions whose policy is
 * enabled (the broker-wide `retryPolicy`, overlaid with the action's own) and
 * leaves the others untouched. The first failure starts a loop in the wrapper
 * of the endpoint first picked: it waits `delay`, `delay × factor`, ... (at
 * most `maxDelay`), and calls the action again through `broker.call` with the
 * same params and options, so the balancer (and the circuit breaker) pick the
 * node; those retried calls do not loop themselves. Requests from other nodes
 * are not retried here: their caller retries.
 *
 * @param policy Broker-wide policy, complete.
 * @param host The broker side.
 * @returns The middleware.
 */
export function retryMiddleware(
  policy: Required<RetryPolicyOptions>,
  host: RetryHost,
): MiddlewareHooks {
  const wrap = (next: Handler, action: ActionInfo, local: boolean): Handler => {
    const p = mergeOwn(policy, action.schema.retryPolicy);
    if (!p.enabled) return next;

    const again = (ctx: Context, attempt: number): Promise<unknown> => {
      const opts: Tagged = { ...ctx.options, [ATTEMPT]: attempt };
      // The fallback of the call applies once, after the last attempt.
      delete opts.fallbackResponse;
      const service = action.service;
      if (action.visibility === "private" && service && action.rawName) {
        return service.actions[action.rawName]!(ctx.params, opts);
      }
      return host.call(action.name, ctx.params, opts);
    };

    const loop = async (ctx: Context, first: unknown, retries: number): Promise<unknown> => {
      let last = first;
      for (let attempt = 1; attempt <= retries; attempt++) {
        if (!p.check(last) || host.signal.aborted) break;
        const wait = Math.min(p.delay * Math.pow(p.factor, attempt - 1), p.maxDelay);
        host.logger.warn(
          `Call of '${action.name}' failed (${reason(last)}): retry ${attempt}/${retries} ` +
            `in ${wait} ms`,
        );
        await delay(wait, host.signal);
        if (host.signal.aborted) break;
        try {
          return await again(ctx, attempt);
        } catch (err) {
          last = err;
        }
      }
      throw last;
    };

    return (ctx: Context) => {
      const opts = ctx.options as Tagged;
      if (opts[ATTEMPT] !== undefined) return next(ctx);
      if (local && ctx.nodeID !== host.nodeID) return next(ctx);
      const retries = typeof opts.retries === "number" ? opts.retries : p.retries;
      // A stream is read once: a streamed call fails with its first error.
      if (retries <= 0 || ctx.stream) return next(ctx);
      let result: unknown;
      try {
        result = next(ctx);
      } catch (err) {
        return loop(ctx, err, retries);
      }
      if (!isPromiseLike(result)) return result;
      return (result as Promise<unknown>).catch((err) => loop(ctx, err, retries));
    };
  };
  return {
    name: "Retry",
    localAction: (next, action) => wrap(next, action, true),
    remoteAction: (next, action) => wrap(next, action, false),
  };
}
