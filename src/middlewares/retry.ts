/**
 * Built-in middleware: retries with exponential back-off. A failed call whose
 * error passes `check` (by default: retryable errors) is made again, through
 * the balancer, so a retry may land on another node.
 *
 * @module
 */

import type { CallHandler, MiddlewareHooks } from "../middleware.ts";
import type { Registry } from "../registry/registry.ts";
import { isRetryableError } from "../errors.ts";
import { delay } from "../_util/async.ts";

/** Retry policy, broker-wide (`retryPolicy`), per action (`retryPolicy`) or per call (`opts.retries`). */
export interface RetryPolicyOptions {
  /** Turn retries on. @default {false} */
  enabled?: boolean;
  /** Most retries after the first attempt. @default {5} */
  retries?: number;
  /** Ms before the first retry. @default {100} */
  delay?: number;
  /** Longest wait between retries in ms. @default {1000} */
  maxDelay?: number;
  /** Each wait is the previous one times this. @default {2} */
  factor?: number;
  /** Which errors are retried. @default {retryable errors} */
  check?: (error: unknown) => boolean;
}

/** Defaults of {@linkcode RetryPolicyOptions}. */
export const RETRY_DEFAULTS: Required<RetryPolicyOptions> = {
  enabled: false,
  retries: 5,
  delay: 100,
  maxDelay: 1000,
  factor: 2,
  check: isRetryableError,
};

/**
 * The retry middleware.
 *
 * @param policy Broker-wide policy.
 * @param registry Where per-action policies are read.
 * @returns The middleware.
 */
export function retryMiddleware(
  policy: RetryPolicyOptions,
  registry: Registry,
): MiddlewareHooks {
  const base = { ...RETRY_DEFAULTS, ...policy };
  return {
    name: "Retry",
    call(next: CallHandler): CallHandler {
      return async (name, params, opts) => {
        const own = registry.actions.get(name)?.items[0]?.action.schema
          .retryPolicy as
            | RetryPolicyOptions
            | undefined;
        const p = own ? { ...base, ...own } : base;
        const retries = typeof opts.retries === "number" ? opts.retries : p.enabled ? p.retries : 0;
        if (retries <= 0) return next(name, params, opts);
        for (let attempt = 0;; attempt++) {
          try {
            return await next(name, params, opts);
          } catch (err) {
            if (attempt >= retries || !p.check(err)) throw err;
            await delay(
              Math.min(p.delay * Math.pow(p.factor, attempt), p.maxDelay),
            );
          }
        }
      };
    },
  };
}
