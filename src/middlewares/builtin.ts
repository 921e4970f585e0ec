/**
 * The broker's middleware chain: the built-in middlewares and the user's, in one order.
 *
 * The order, outermost first, and why:
 * 1. **Retry**, outermost: every attempt (the first, then each retried call, made anew through
 *    `broker.call` and the balancer) goes through the user's middlewares and the other
 *    built-ins once, as in Moleculer.
 * 2. **The user's middlewares**, in the order given (the first is the outermost).
 * 3. **Throttle** (events: `throttle`, `debounce`).
 * 4. **Metrics**, then **Tracing** (when each is enabled), as in Moleculer: the time measured
 *    and the span hold what the fallback, breaker, timeout, cacher, bulkhead and validator do.
 * 5. **Fallback** (actions with a `fallback`).
 * 6. **Circuit breaker**, wrapping
 * 7. **Timeout**. Moleculer has the timeout outside the breaker; here the breaker wraps it so
 *    that local timeouts count as failures of the endpoint.
 * 8. **Context tracking** (what a graceful stop waits for).
 * 9. **Cacher**, where Moleculer puts it: a hit is tracked but waits for no bulkhead slot and
 *    skips validation (only results of valid calls are ever stored).
 * 10. **Bulkhead**.
 * 11. **Validator**, innermost of the built-ins.
 *
 * From 3 to 11 this is Moleculer's relative order, with the one exception of 6 and 7. Each
 * built-in leaves a handler untouched unless its feature is on for it.
 *
 * @module
 */

import type { CallOptions } from "../core/context.ts";
import { type MiddlewareOption, MiddlewareRegistry } from "../core/middleware.ts";
import type { BulkheadOptions, CircuitBreakerOptions, RetryPolicyOptions } from "../core/schema.ts";
import type { Cacher } from "../core/cacher.ts";
import type { Validator } from "../validators/validator.ts";
import type { Logger } from "../logging.ts";
import { BrokerOptionsError } from "../errors.ts";
import { retryMiddleware } from "./retry.ts";
import { EventThrottler } from "./throttle.ts";
import { fallbackMiddleware } from "./fallback.ts";
import { CircuitBreaker } from "./circuit_breaker.ts";
import { timeoutMiddleware } from "./timeout.ts";
import { ContextTracker, type TrackingOptions } from "./tracking.ts";
import { cacherMiddleware } from "./cacher.ts";
import { bulkheadMiddleware } from "./bulkhead.ts";
import { validatorMiddleware } from "./validator.ts";
import { tracingMiddleware } from "./tracing.ts";
import type { Tracer } from "../tracing/tracer.ts";
import { metricsMiddleware } from "./metrics.ts";
import type { MetricRegistry } from "../metrics/registry.ts";

/** What the built-in middlewares need from their broker, as values and functions. */
export interface BuiltinHost {
  /** This node's id. */
  readonly nodeID: string;
  /** The broker's own logger (retries are logged there). */
  readonly logger: Logger;
  /** Aborted when the broker stops: waiting retries give up. */
  readonly signal: AbortSignal;
  /**
   * A logger for one module of this node (`CIRCUIT-BREAKER`, `CACHER`).
   *
   * @param module The module name.
   */
  getLogger(module: string): Logger;
  /** `broker.call`: a retry goes through the balancer again. */
  call(name: string, params: unknown, opts: CallOptions): Promise<unknown>;
  /** `broker.broadcast`: the circuit breaker announces its state changes. */
  broadcast(event: string, payload: unknown): Promise<void>;
  /** The full name of the service serving `action` on `nodeID`, if the registry knows it. */
  serviceOf(action: string, nodeID: string): string | undefined;
}

/** The resolved options and plugins the chain is built from. */
export interface BuiltinChainOptions {
  /** The user's middlewares, the first outermost. */
  readonly middlewares: readonly MiddlewareOption[];
  /** Broker-wide retry policy, complete. */
  readonly retryPolicy: Required<RetryPolicyOptions>;
  /** Broker-wide circuit breaker options, complete. */
  readonly circuitBreaker: Required<CircuitBreakerOptions>;
  /** Broker-wide tracking options, complete. */
  readonly tracking: Required<TrackingOptions>;
  /** Broker-wide bulkhead options, complete. */
  readonly bulkhead: Required<BulkheadOptions>;
  /** The broker's cacher, or null when caching is off. */
  readonly cacher: Cacher | null;
  /** The params validator, or null when validation is off. */
  readonly validator: Validator | null;
  /** The broker's tracer; no tracing middleware without one or while tracing is off. */
  readonly tracer?: Tracer | null;
  /** The broker's metric registry; no metrics middleware without one or while metrics are off. */
  readonly metrics?: MetricRegistry | null;
  /** Whether requests carry headers (protocol 5), where `traceparent` travels. @default {true} */
  readonly headers?: boolean;
}

/** The chain, and the stateful parts of it the broker keeps. */
export interface BuiltinChain {
  /** Every middleware, in order. */
  readonly middlewares: MiddlewareRegistry;
  /** The state of every endpoint's circuit; the balancer asks it, `stop()` clears it. */
  readonly circuitBreaker: CircuitBreaker;
  /** The in-flight calls and events `stop()` drains. */
  readonly tracker: ContextTracker;
  /** The debounced event runs `stop()` drops. */
  readonly throttler: EventThrottler;
}

/**
 * The broker option `middlewares`, checked.
 *
 * @param value The user's `middlewares`, or `undefined`.
 * @returns The list; empty when `undefined`. Each middleware is checked when it is added.
 * @throws {BrokerOptionsError} when it is not an array.
 */
export function resolveMiddlewaresOption(value: unknown): MiddlewareOption[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    throw new BrokerOptionsError("Option 'middlewares' must be an array", {
      option: "middlewares",
    });
  }
  return value;
}

/**
 * Build the broker's middleware chain in the order described in this module.
 *
 * @param options The resolved options and plugins.
 * @param host The broker side.
 * @returns The chain and the stateful built-ins.
 * @throws {BrokerOptionsError} when a user middleware is not one.
 *
 * @example
 * ```ts
 * import { buildMiddlewareChain } from "./builtin.ts";
 * import { resolveRetryPolicy } from "./retry.ts";
 * import { resolveCircuitBreakerOptions } from "./circuit_breaker.ts";
 * import { resolveTrackingOptions } from "./tracking.ts";
 * import { resolveBulkheadOptions } from "./bulkhead.ts";
 * import { createLoggerFactory } from "../logging.ts";
 *
 * const loggers = createLoggerFactory({ nodeID: "doc", logger: false });
 * const chain = buildMiddlewareChain({
 *   middlewares: [],
 *   retryPolicy: resolveRetryPolicy(undefined),
 *   circuitBreaker: resolveCircuitBreakerOptions(undefined),
 *   tracking: resolveTrackingOptions({ enabled: true }),
 *   bulkhead: resolveBulkheadOptions(undefined),
 *   cacher: null,
 *   validator: null,
 * }, {
 *   nodeID: "doc",
 *   logger: loggers.getLogger("BROKER"),
 *   signal: new AbortController().signal,
 *   getLogger: (module) => loggers.getLogger(module),
 *   call: () => Promise.reject(new Error("no cluster")),
 *   broadcast: () => Promise.resolve(),
 *   serviceOf: () => undefined,
 * });
 * console.log(chain.middlewares.count, chain.tracker.size); // 7 0
 * ```
 */
export function buildMiddlewareChain(
  options: BuiltinChainOptions,
  host: BuiltinHost,
): BuiltinChain {
  const middlewares = new MiddlewareRegistry();
  middlewares.add(retryMiddleware(options.retryPolicy, {
    nodeID: host.nodeID,
    logger: host.logger,
    signal: host.signal,
    call: (name, params, opts) => host.call(name, params, opts),
  }));
  for (const mw of options.middlewares) middlewares.add(mw);

  const throttler = new EventThrottler();
  middlewares.add(throttler.middleware());
  const metrics = options.metrics ? metricsMiddleware(options.metrics) : null;
  if (metrics) middlewares.add(metrics);
  const tracing = options.tracer
    ? tracingMiddleware(options.tracer, host.nodeID, options.headers ?? true)
    : null;
  if (tracing) middlewares.add(tracing);
  middlewares.add(fallbackMiddleware());
  const circuitBreaker = new CircuitBreaker(options.circuitBreaker, {
    nodeID: host.nodeID,
    logger: host.getLogger("CIRCUIT-BREAKER"),
    broadcast: (event, payload) => host.broadcast(event, payload),
    serviceOf: (action, nodeID) => host.serviceOf(action, nodeID),
  });
  middlewares.add(circuitBreaker.middleware());
  middlewares.add(timeoutMiddleware());
  const tracker = new ContextTracker(options.tracking);
  middlewares.add(tracker.middleware());
  if (options.cacher) {
    middlewares.add(cacherMiddleware(options.cacher, host.getLogger("CACHER")));
  }
  middlewares.add(bulkheadMiddleware(options.bulkhead));
  if (options.validator) middlewares.add(validatorMiddleware(options.validator));

  return { middlewares, circuitBreaker, tracker, throttler };
}
