/**
 * The broker's middleware chain: the built-in middlewares and the user's, in one order.
 *
 * The order, outermost first, is Moleculer's (`INTERNAL_MIDDLEWARES` reversed, then the user's):
 * 1. **Throttle** (events: `throttle`, `debounce`).
 * 2. **Metrics**, then **Tracing** (when each is enabled): the time measured and the span hold
 *    what everything below does.
 * 3. **ErrorHandler** (the `errorHandler` of the service and of the broker, where one exists).
 * 4. **Fallback** (actions with a `fallback`), outside
 * 5. **Retry**: the fallback answers after the last attempt failed. Every attempt (the first,
 *    then each retried call, made anew through `broker.call` and the balancer) goes through the
 *    middlewares below once, as in Moleculer.
 * 6. **Circuit breaker**, wrapping
 * 7. **Timeout**. Moleculer has the timeout outside the breaker; here the breaker wraps it so
 *    that local timeouts count as failures of the endpoint.
 * 8. **Context tracking** (what a graceful stop waits for).
 * 9. **Cacher**: a hit is tracked but waits for no bulkhead slot and skips validation (only
 *    results of valid calls are ever stored).
 * 10. **Bulkhead**.
 * 11. **Validator**.
 * 12. **ActionHook** (the `before`/`after`/`error` hooks of actions and services).
 * 13. **The user's middlewares**, innermost, as in Moleculer: they see validated params and run
 *     inside the action hooks. Among them the first given is the outermost (Moleculer: the last).
 *
 * With the broker option `internalMiddlewares: false` only the user's middlewares are applied
 * (no hooks, validation, timeouts, retries…), as in Moleculer; a built-in may then be listed
 * among them by name (`"Retry"`, `"Timeout"`, …). Each built-in leaves a handler untouched unless
 * its feature is on for it.
 *
 * @module
 */

import type { CallOptions } from "../core/context.ts";
import {
  type MiddlewareHooks,
  type MiddlewareOption,
  MiddlewareRegistry,
} from "../core/middleware.ts";
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
import { Compression } from "./transmit/compression.ts";
import { Encryption } from "./transmit/encryption.ts";
import { actionHookMiddleware } from "./action_hook.ts";
import { type ErrorHandler, errorHandlerMiddleware } from "./error_handler.ts";
import type { BrokerApi } from "../core/broker_api.ts";
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
  /** The broker: passed to middleware factories, `this` in hooks and in `errorHandler`. */
  readonly broker?: BrokerApi;
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
  /** Apply the built-in middlewares (Moleculer's `internalMiddlewares`). @default {true} */
  readonly internalMiddlewares?: boolean;
  /** The broker option `errorHandler`, if any. */
  readonly errorHandler?: ErrorHandler | undefined;
  /** The broker's tracer; no tracing middleware without one or while tracing is off. */
  readonly tracer?: Tracer | null;
  /** The broker's metric registry; no metrics middleware without one or while metrics are off. */
  readonly metrics?: MetricRegistry | null;
  /** Whether requests carry headers (protocol 5), where `traceparent` travels. @default {true} */
  readonly headers?: boolean;
}

/** The names of the built-in middlewares a user may list by name, in Moleculer's spelling. */
export const BUILTIN_MIDDLEWARES: readonly string[] = [
  "ActionHook",
  "Validator",
  "Bulkhead",
  "Cacher",
  "ContextTracker",
  "CircuitBreaker",
  "Timeout",
  "Retry",
  "Fallback",
  "ErrorHandler",
  "Debounce",
  "Throttle",
  // The transmit middlewares, by Moleculer's path and by their own names.
  "Transmit.Compression",
  "Compression",
  "Transmit.Encryption",
  "Encryption",
];

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

/** The middleware factories Moleculer exports as `Middlewares`, by its names. */
export interface MiddlewareFactories {
  /** `Middlewares.Transmit`: what changes the bytes on the wire. */
  readonly Transmit: {
    /** Compression of the packets (`deflate`, `deflateRaw`, `gzip`). */
    readonly Compression: typeof Compression;
    /** Encryption of the packets (`aes-256-cbc` by default). */
    readonly Encryption: typeof Encryption;
  };
}

/**
 * Moleculer's `Middlewares`, for a `middlewares` list written as in Moleculer:
 * `Middlewares.Transmit.Compression({ method: "gzip" })`.
 */
export const Middlewares: MiddlewareFactories = Object.freeze({
  Transmit: Object.freeze({ Compression, Encryption }),
});

/**
 * The broker option `middlewares`, checked; names of built-in middlewares (`"Compression"`,
 * `"Transmit.Compression"`) are made into them.
 *
 * @param value The user's `middlewares`, or `undefined`.
 * @returns The list; empty when `undefined`. Each middleware is checked when it is added.
 * @throws {BrokerOptionsError} when it is not an array, or names an unknown middleware.
 */
export function resolveMiddlewaresOption(value: unknown): MiddlewareOption[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    throw new BrokerOptionsError("Option 'middlewares' must be an array", {
      option: "middlewares",
    });
  }
  for (const mw of value) {
    if (typeof mw === "string" && !BUILTIN_MIDDLEWARES.includes(mw)) {
      throw new BrokerOptionsError(
        `Unknown built-in middleware '${mw}' in option 'middlewares'. Built-in middlewares: ${
          BUILTIN_MIDDLEWARES.join(", ")
        }`,
        { option: "middlewares", middleware: mw },
      );
    }
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
 * console.log(chain.middlewares.count, chain.tracker.size); // 9 0
 * ```
 */
export function buildMiddlewareChain(
  options: BuiltinChainOptions,
  host: BuiltinHost,
): BuiltinChain {
  const throttler = new EventThrottler();
  const circuitBreaker = new CircuitBreaker(options.circuitBreaker, {
    nodeID: host.nodeID,
    logger: host.getLogger("CIRCUIT-BREAKER"),
    broadcast: (event, payload) => host.broadcast(event, payload),
    serviceOf: (action, nodeID) => host.serviceOf(action, nodeID),
  });
  const tracker = new ContextTracker(options.tracking);
  const make: Record<string, () => MiddlewareHooks> = {
    Throttle: () => throttler.middleware(),
    Debounce: () => throttler.middleware(),
    ErrorHandler: () => errorHandlerMiddleware(host.broker, options.errorHandler),
    Fallback: () => fallbackMiddleware(),
    Retry: () =>
      retryMiddleware(options.retryPolicy, {
        nodeID: host.nodeID,
        logger: host.logger,
        signal: host.signal,
        call: (name, params, opts) => host.call(name, params, opts),
      }),
    CircuitBreaker: () => circuitBreaker.middleware(),
    Timeout: () => timeoutMiddleware(),
    ContextTracker: () => tracker.middleware(),
    Cacher: () => {
      if (!options.cacher) {
        throw new BrokerOptionsError(
          "The built-in middleware 'Cacher' needs a cacher: set the broker option 'cacher'",
          { middleware: "Cacher" },
        );
      }
      return cacherMiddleware(options.cacher, host.getLogger("CACHER"));
    },
    Bulkhead: () => bulkheadMiddleware(options.bulkhead),
    Validator: () => {
      if (!options.validator) {
        throw new BrokerOptionsError(
          "The built-in middleware 'Validator' needs a validator: set the broker option " +
            "'validator' to true or to an instance",
          { middleware: "Validator" },
        );
      }
      return validatorMiddleware(options.validator);
    },
    ActionHook: () => actionHookMiddleware(),
    "Transmit.Compression": () => Compression(),
    Compression: () => Compression(),
    // Moleculer throws too: a password cannot be given by name.
    "Transmit.Encryption": () => Encryption(undefined as unknown as string),
    Encryption: () => Encryption(undefined as unknown as string),
  };
  const middlewares = new MiddlewareRegistry({
    ...(host.broker ? { owner: host.broker } : {}),
    builtin: (name) => make[name]?.(),
    builtinNames: BUILTIN_MIDDLEWARES,
  });
  if (options.internalMiddlewares !== false) {
    middlewares.addInternal(make.Throttle!());
    // Each is null while its feature is off: then it is not in the chain at all.
    const metrics = options.metrics ? metricsMiddleware(options.metrics) : null;
    if (metrics) middlewares.addInternal(metrics);
    const tracing = options.tracer
      ? tracingMiddleware(options.tracer, host.nodeID, options.headers ?? true)
      : null;
    if (tracing) middlewares.addInternal(tracing);
    middlewares.addInternal(make.ErrorHandler!());
    middlewares.addInternal(make.Fallback!());
    middlewares.addInternal(make.Retry!());
    middlewares.addInternal(make.CircuitBreaker!());
    middlewares.addInternal(make.Timeout!());
    middlewares.addInternal(make.ContextTracker!());
    if (options.cacher) middlewares.addInternal(make.Cacher!());
    middlewares.addInternal(make.Bulkhead!());
    if (options.validator) middlewares.addInternal(make.Validator!());
    middlewares.addInternal(make.ActionHook!());
  }
  for (const mw of options.middlewares) middlewares.add(mw);

  return { middlewares, circuitBreaker, tracker, throttler };
}
