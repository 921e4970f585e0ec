/**
 * Broker options, named as in Moleculer, and their resolution into a complete,
 * checked set. The option groups of a middleware (`retryPolicy`, `circuitBreaker`,
 * `bulkhead`, `tracking`, `middlewares`) and of a plugin (`cacher`) are resolved by the
 * feature that owns them; this module checks the broker's own options and composes the rest.
 *
 * @module
 */

import type { LogFormat, LoggerOption, LogLevel, LogLevelMap } from "../logging.ts";
import type { MiddlewareOption } from "../core/middleware.ts";
import type { StrategyOption, StrategyOptions } from "../core/strategy.ts";
import type { SerializerOption } from "../serializers/resolve.ts";
import type { ProtocolVersion } from "../core/protocol.ts";
import type { TransporterOption } from "../transporters/resolve.ts";
import type { ValidatorOption } from "../validators/resolve.ts";
import type { BulkheadOptions, CircuitBreakerOptions, RetryPolicyOptions } from "../core/schema.ts";
import { BrokerOptionsError } from "../errors.ts";
import { defaultNodeID } from "../runtime/deno.ts";
import { resolveRetryPolicy } from "../middlewares/retry.ts";
import { resolveCircuitBreakerOptions } from "../middlewares/circuit_breaker.ts";
import { resolveBulkheadOptions } from "../middlewares/bulkhead.ts";
import { resolveTrackingOptions, type TrackingOptions } from "../middlewares/tracking.ts";
import { resolveMiddlewaresOption } from "../middlewares/builtin.ts";
import { boolOption, functionOption, numberOption, optionGroup } from "../middlewares/_options.ts";
import { type CacherOption, checkCacherOption } from "../cachers/resolve.ts";
import { isRecord } from "../_util/values.ts";
import { closestName } from "../_util/suggest.ts";
import type { ErrorHandler } from "../middlewares/error_handler.ts";
import type { BrokerApi } from "../core/broker_api.ts";
import { Context } from "../core/context.ts";
import { Service } from "../core/service.ts";
import {
  type MetricsOptions,
  type ResolvedMetricsOptions,
  resolveMetricsOptions,
} from "../metrics/options.ts";
import {
  type ResolvedTracingOptions,
  resolveTracingOptions,
  type TracingOptions,
} from "../tracing/options.ts";

/** Registry options. */
export interface RegistryOptions {
  /**
   * Balancing strategy: `"RoundRobin"`, `"Random"`, `"CpuUsage"`, `"Latency"`,
   * `"Shard"`, or a factory. An action may name its own with `strategy` in its
   * definition. @default {"RoundRobin"}
   */
  strategy?: StrategyOption;
  /**
   * Options of the strategy (CpuUsage: `sampleCount`, `lowCpuUsage`; Latency:
   * `sampleCount`, `lowLatency`, `collectCount`, `pingInterval`; Shard:
   * `shardKey`, `vnodes`, `ringSize`, `cacheSize`). An action may give its own
   * with `strategyOptions`. @default {{}}
   */
  strategyOptions?: StrategyOptions;
  /** Call a local endpoint when one exists. @default {true} */
  preferLocal?: boolean;
  /**
   * Ms to wait, when stopping, between announcing no services (so callers stop
   * picking this node) and refusing requests. @default {100}
   */
  stopDelay?: number;
  /** Moleculer's service discoverer. `"Local"` (the only one: discovery over the transporter). */
  discoverer?: string | { type: string; options?: Record<string, unknown> };
}

/** Transit options. */
export interface TransitOptions {
  /** Most requests waiting for a response at once; past it calls fail with QueueIsFullError. @default {50000} */
  maxQueueSize?: number;
  /** Accept packets of another protocol version. @default {false} */
  disableVersionCheck?: boolean;
  /** Ms to wait before re-announcing changed local services. @default {1000} */
  serviceChangedDebounceTime?: number;
  /** Ms to collect INFO replies after the first DISCOVER, before services start. @default {500} */
  discoverWaitTime?: number;
  /**
   * Largest chunk of a stream sent, in bytes, as Moleculer's: bigger chunks are cut; `0` = send
   * them as they come. @default {262144}
   */
  maxChunkSize?: number;
  /**
   * Bytes of a received stream that may wait for its reader; past it the stream fails with
   * `STREAM_BUFFER_FULL`. Between Denolecular nodes the sender waits instead (flow control), so
   * only a Moleculer sender meets the limit. @default {16777216}
   */
  maxStreamBuffer?: number;
  /** Moleculer's switch for transporter reconnects. Accepted; not honoured yet (a warning says so). */
  disableReconnect?: boolean;
}

/** A broker lifecycle handler of the options (`created`, `started`, `stopped`), as in Moleculer. */
export type BrokerLifecycleHandler = (broker: BrokerApi) => void | Promise<void>;

/** Options of a {@linkcode ServiceBroker}. Every field is optional. */
export interface BrokerOptions {
  /** This node's id. @default {"<hostname>-<pid>"} */
  nodeID?: string;
  /** Namespace: nodes only see nodes of the same namespace. @default {""} */
  namespace?: string;
  /** Transporter: `"nats://host:4222"`, `"memory://group"`, an instance, or null for a local-only broker. @default {null} */
  transporter?: TransporterOption | null;
  /** Serializer name or instance. @default {"JSON"} */
  serializer?: SerializerOption;
  /**
   * Logging: `true` (console), `false`/`null` (silent), `"logtape"` (the app's logtape setup), a
   * sink function, or Moleculer's `"Console"` / `{ type: "Console", options: { level, formatter } }`
   * (or an array of them). @default {true}
   */
  logger?: LoggerOption;
  /** Lowest level logged, or levels per module: `{ "MY-SVC": "debug", "**": "info" }`. @default {"info"} */
  logLevel?: LogLevel | LogLevelMap;
  /** `"PLAIN"` lines like Moleculer's, or `"JSON"` lines. @default {"PLAIN"} */
  logFormat?: LogFormat;
  /** Default call timeout in ms; `0` = none. @default {0} */
  requestTimeout?: number;
  /** Deepest call chain allowed; `0` = unlimited. @default {0} */
  maxCallLevel?: number;
  /** Seconds between heartbeats. @default {10} */
  heartbeatInterval?: number;
  /** Seconds of silence after which a node is offline. @default {30} */
  heartbeatTimeout?: number;
  /** Seconds an offline node is remembered. @default {600} */
  cleanOfflineNodesTimeout?: number;
  /** Moleculer protocol: `"5"` for Moleculer 0.15, `"4"` for 0.14. @default {"5"} */
  protocolVersion?: ProtocolVersion;
  /** Registry options. */
  registry?: RegistryOptions;
  /** Transit options. */
  transit?: TransitOptions;
  /**
   * Turn off the broker's own balancer and let the transporter balance instead, as Moleculer's
   * `disableBalancer`. Calls without `opts.nodeID` are published to `<prefix>.REQB.<action>` and
   * emits to `<prefix>.EVENTB.<group>.<event>` (one copy per group); every node subscribes to those
   * subjects with a queue group (the action name, the event group), so the transporter hands each
   * message to one subscriber. Local handlers are then reached through the transporter too.
   * Honoured only by transporters with a built-in balancer (NATS, memory); with any other, or with
   * no transporter, a warning is logged and the broker's balancer stays on (as in Moleculer).
   * Every node of a cluster should use the same setting: a node that keeps its balancer does not
   * subscribe to the balanced subjects. @default {false}
   */
  disableBalancer?: boolean;
  /**
   * Middlewares; the first is the outermost. A string names a built-in one, as in Moleculer
   * (`"Compression"`, `"Transmit.Compression"`). @default {[]}
   */
  middlewares?: (MiddlewareOption | string)[];
  /** Params validator: `true` (fastest-validator), `false` (off) or an instance. @default {true} */
  validator?: ValidatorOption;
  /** Metadata announced to other nodes. @default {{}} */
  metadata?: Record<string, unknown>;
  /** Register the internal `$node` service. @default {true} */
  internalServices?: boolean;
  /**
   * Retry failed calls: `{ enabled, retries, delay, maxDelay, factor, check }`.
   * An action may override it with `retryPolicy`, a call with `opts.retries`.
   * @default {{ enabled: false, retries: 5, delay: 100, maxDelay: 1000, factor: 2, check: retryable errors }}
   */
  retryPolicy?: RetryPolicyOptions;
  /**
   * Circuit breaker per endpoint: `{ enabled, threshold, windowTime,
   * minRequestCount, halfOpenTime, check }`. An action may override it with
   * `circuitBreaker`.
   * @default {{ enabled: false, threshold: 0.5, windowTime: 60, minRequestCount: 20, halfOpenTime: 10000, check: code ≥ 500 }}
   */
  circuitBreaker?: CircuitBreakerOptions;
  /**
   * Concurrency limit per local action and event handler: `{ enabled,
   * concurrency, maxQueueSize }`. An action or event may override it with `bulkhead`.
   * @default {{ enabled: false, concurrency: 10, maxQueueSize: 100 }}
   */
  bulkhead?: BulkheadOptions;
  /**
   * Track in-flight calls and events so `stop()` waits for them:
   * `{ enabled, shutdownTimeout }`. An action or event may say `tracking: true|false`, a
   * call `opts.tracking: false`.
   * @default {{ enabled: false, shutdownTimeout: 5000 }}
   */
  tracking?: TrackingOptions;
  /**
   * Cache the results of actions that have a `cache` definition: `"Memory"` (or `true`),
   * `"MemoryLRU"`, `{ type, options: { ttl, max, keygen, maxParamsLength, clone } }`, or a
   * `Cacher` instance; `false` or null = no caching. `broker.cacher` is the cacher.
   * @default {false}
   */
  cacher?: CacherOption | null;
  /**
   * Called with the error of a failed call or event handler (after the service's own
   * `errorHandler`), with the broker as `this`, as in Moleculer: return a value to answer the
   * call with it, throw to fail it. `info` is `{ ctx, service, action }` (or `event`), or
   * `{ actionName, params, opts }` for a call that found no endpoint.
   */
  errorHandler?: ErrorHandler | null;
  /** Makes the id of every new context (and of a new request chain). @default {a random UUID} */
  uidGenerator?: (() => string) | null;
  /**
   * Apply the built-in middlewares (hooks, validator, bulkhead, cacher, tracking, circuit
   * breaker, timeout, retry, fallback, error handler, throttle). With `false` only the
   * `middlewares` given run, as in Moleculer; built-ins may be listed there by name. @default {true}
   */
  internalMiddlewares?: boolean;
  /** Ms a service waits for its `dependencies`; `0` = forever. A service's `$dependencyTimeout` setting wins. @default {0} */
  dependencyTimeout?: number;
  /** Ms between two checks of `dependencies`; a service's `$dependencyInterval` setting wins. @default {100} (Moleculer: 1000) */
  dependencyInterval?: number;
  /** Clone the params of local calls, so the callee cannot change the caller's object. @default {false} */
  contextParamsCloning?: boolean;
  /** Called once the broker is constructed (after the middlewares' `created`). */
  created?: BrokerLifecycleHandler | null;
  /** Called once the broker has started (after the middlewares' `started`); awaited. */
  started?: BrokerLifecycleHandler | null;
  /** Called once the broker has stopped (after the middlewares' `stopped`); awaited. */
  stopped?: BrokerLifecycleHandler | null;
  /**
   * The class of every context: a subclass of `Context` (its constructor takes what
   * `Context`'s does). @default {Context}
   */
  // deno-lint-ignore no-explicit-any
  ContextFactory?: (new (...args: any[]) => Context<any, any>) | null;
  /**
   * The class services are made with by `createService(schema)`: a subclass of `Service` whose
   * constructor takes the schema. @default {Service}
   */
  // deno-lint-ignore no-explicit-any
  ServiceFactory?: (new (...args: any[]) => Service) | null;
  /**
   * The promise class of `broker.Promise`. By default a subclass of the global `Promise` with
   * Moleculer's helpers (`delay`, `timeout`, `method`, `map`, `mapSeries`); the global itself is
   * never patched unless passed here explicitly, which adds the helpers to it (Moleculer's
   * polyfill).
   */
  Promise?: PromiseConstructor | null;
  /** Moleculer registers process signal handlers unless this is set; Denolecular never does (see `waitForShutdown`). */
  skipProcessEventRegistration?: boolean;
  /** Moleculer's hot reload of service files. Accepted with a warning: use `denolecular --hot`. */
  hotReload?: boolean | Record<string, unknown>;
  /** Moleculer's REPL options. Accepted; `denolecular repl` has its own flags. */
  replOptions?: Record<string, unknown> | null;
  /** Moleculer's size limit of serialized objects. Accepted; not built yet (a warning says so). */
  maxSafeObjectSize?: number | null;
  /**
   * Tracing, as Moleculer's: `true`, or `{ enabled, sampling: { rate, tracesPerSecond,
   * minPriority }, actions, events, stackTrace, errorFields, defaultTags, tags, exporter }` with
   * exporters `"Console"`, `"Event"`, `"Zipkin"`, `"OpenTelemetry"` (see docs/OBSERVABILITY.md).
   * An action or event may say `tracing: false` or `{ tags, spanName }`.
   * @default {{ enabled: false }}
   */
  tracing?: TracingOptions | boolean;
  /**
   * Metrics, as Moleculer's: `true`, or `{ enabled, collectProcessMetrics, collectInterval,
   * reporter, defaultBuckets, defaultQuantiles, defaultMaxAgeSeconds, defaultAgeBuckets,
   * defaultAggregator }` with reporters `"Console"`, `"Event"`, `"CSV"`, `"Prometheus"` (see
   * docs/OBSERVABILITY.md). `broker.metrics` is the registry.
   * @default {{ enabled: false }}
   */
  metrics?: MetricsOptions | boolean;
}

/** Options after defaults and checks. */
export interface ResolvedOptions {
  /** See {@linkcode BrokerOptions.nodeID}. */
  readonly nodeID: string;
  /** See {@linkcode BrokerOptions.namespace}. */
  readonly namespace: string;
  /** See {@linkcode BrokerOptions.transporter}. */
  readonly transporter: TransporterOption | null;
  /** See {@linkcode BrokerOptions.serializer}. */
  readonly serializer: SerializerOption;
  /** See {@linkcode BrokerOptions.logger}. */
  readonly logger: LoggerOption;
  /** See {@linkcode BrokerOptions.logLevel}. */
  readonly logLevel: LogLevel | LogLevelMap;
  /** See {@linkcode BrokerOptions.logFormat}. */
  readonly logFormat: LogFormat;
  /** See {@linkcode BrokerOptions.requestTimeout}. */
  readonly requestTimeout: number;
  /** See {@linkcode BrokerOptions.maxCallLevel}. */
  readonly maxCallLevel: number;
  /** See {@linkcode BrokerOptions.heartbeatInterval}. */
  readonly heartbeatInterval: number;
  /** See {@linkcode BrokerOptions.heartbeatTimeout}. */
  readonly heartbeatTimeout: number;
  /** See {@linkcode BrokerOptions.cleanOfflineNodesTimeout}. */
  readonly cleanOfflineNodesTimeout: number;
  /** See {@linkcode BrokerOptions.protocolVersion}. */
  readonly protocolVersion: ProtocolVersion;
  /** See {@linkcode BrokerOptions.registry}. */
  readonly registry: Required<RegistryOptions>;
  /** See {@linkcode BrokerOptions.transit}. */
  readonly transit: Required<TransitOptions>;
  /**
   * See {@linkcode BrokerOptions.disableBalancer}. The broker sets it back to `false` when its
   * transporter has no built-in balancer.
   */
  readonly disableBalancer: boolean;
  /** See {@linkcode BrokerOptions.middlewares}. */
  readonly middlewares: MiddlewareOption[];
  /** See {@linkcode BrokerOptions.validator}. */
  readonly validator: ValidatorOption;
  /** See {@linkcode BrokerOptions.metadata}. */
  readonly metadata: Record<string, unknown>;
  /** See {@linkcode BrokerOptions.internalServices}. */
  readonly internalServices: boolean;
  /** See {@linkcode BrokerOptions.retryPolicy}. */
  readonly retryPolicy: Required<RetryPolicyOptions>;
  /** See {@linkcode BrokerOptions.circuitBreaker}. */
  readonly circuitBreaker: Required<CircuitBreakerOptions>;
  /** See {@linkcode BrokerOptions.bulkhead}. */
  readonly bulkhead: Required<BulkheadOptions>;
  /** See {@linkcode BrokerOptions.tracking}. */
  readonly tracking: Required<TrackingOptions>;
  /** See {@linkcode BrokerOptions.cacher}; `false` when absent. */
  readonly cacher: CacherOption;
  /** See {@linkcode BrokerOptions.errorHandler}. */
  readonly errorHandler: ErrorHandler | undefined;
  /** See {@linkcode BrokerOptions.uidGenerator}. */
  readonly uidGenerator: (() => string) | undefined;
  /** See {@linkcode BrokerOptions.internalMiddlewares}. */
  readonly internalMiddlewares: boolean;
  /** See {@linkcode BrokerOptions.dependencyTimeout}. */
  readonly dependencyTimeout: number;
  /** See {@linkcode BrokerOptions.dependencyInterval}. */
  readonly dependencyInterval: number;
  /** See {@linkcode BrokerOptions.contextParamsCloning}. */
  readonly contextParamsCloning: boolean;
  /** See {@linkcode BrokerOptions.created}. */
  readonly created: BrokerLifecycleHandler | undefined;
  /** See {@linkcode BrokerOptions.started}. */
  readonly started: BrokerLifecycleHandler | undefined;
  /** See {@linkcode BrokerOptions.stopped}. */
  readonly stopped: BrokerLifecycleHandler | undefined;
  /** See {@linkcode BrokerOptions.ContextFactory}. */
  readonly ContextFactory: typeof Context;
  /** See {@linkcode BrokerOptions.ServiceFactory}. */
  readonly ServiceFactory: typeof Service;
  /** See {@linkcode BrokerOptions.Promise}; undefined for the default. */
  readonly Promise: PromiseConstructor | undefined;
  /** See {@linkcode BrokerOptions.tracing}. */
  readonly tracing: ResolvedTracingOptions;
  /** See {@linkcode BrokerOptions.metrics}. */
  readonly metrics: ResolvedMetricsOptions;
}

const KNOWN_KEYS = new Set([
  "nodeID",
  "namespace",
  "transporter",
  "serializer",
  "logger",
  "logLevel",
  "logFormat",
  "requestTimeout",
  "maxCallLevel",
  "heartbeatInterval",
  "heartbeatTimeout",
  "cleanOfflineNodesTimeout",
  "protocolVersion",
  "registry",
  "transit",
  "disableBalancer",
  "middlewares",
  "validator",
  "metadata",
  "internalServices",
  "retryPolicy",
  "circuitBreaker",
  "bulkhead",
  "tracking",
  "cacher",
  "errorHandler",
  "uidGenerator",
  "internalMiddlewares",
  "dependencyTimeout",
  "dependencyInterval",
  "contextParamsCloning",
  "created",
  "started",
  "stopped",
  "ContextFactory",
  "ServiceFactory",
  "Promise",
  "skipProcessEventRegistration",
  "hotReload",
  "replOptions",
  "maxSafeObjectSize",
  "tracing",
  "metrics",
]);

/** Moleculer options whose feature is not built yet: accepted with a warning naming the key. */
const NOT_BUILT: Record<string, string> = {
  hotReload: "hot reload is the CLI's: run `denolecular --hot <services>`",
  maxSafeObjectSize: "serialized objects are not trimmed",
  "transit.disableReconnect": "the transporter always reconnects",
  "circuitBreaker.failureOnReject": "Moleculer 0.13's key: use circuitBreaker.check",
};

const REGISTRY_KEYS = new Set([
  "strategy",
  "strategyOptions",
  "preferLocal",
  "stopDelay",
  "discoverer",
]);
const TRANSIT_KEYS = new Set([
  "maxQueueSize",
  "disableVersionCheck",
  "serviceChangedDebounceTime",
  "discoverWaitTime",
  "maxChunkSize",
  "maxStreamBuffer",
  "disableReconnect",
]);

const BAD_NAME = /[\s.*>/+#|]/;

function strategy(value: unknown): StrategyOption {
  if (value === undefined) return "RoundRobin";
  if (typeof value !== "string" && typeof value !== "function") {
    throw new BrokerOptionsError(
      "Option 'registry.strategy' must be a strategy name or a factory function",
      { option: "registry.strategy" },
    );
  }
  return value as StrategyOption;
}

function name(
  option: string,
  value: unknown,
  fallback: string,
  allowEmpty: boolean,
): string {
  if (value === undefined) return fallback;
  if (
    typeof value !== "string" || (!allowEmpty && value.length === 0) ||
    BAD_NAME.test(value)
  ) {
    throw new BrokerOptionsError(
      `Option '${option}' must be a ${
        allowEmpty ? "" : "non-empty "
      }string without whitespace or any of . * > / + # |, got ${JSON.stringify(value)}`,
      { option, value },
    );
  }
  return value;
}

/**
 * Apply defaults and check every option.
 *
 * @param options The user's options, or a nodeID string.
 * @param warnings Gets one line per Moleculer option accepted but not honoured yet (the broker
 *   logs them).
 * @returns The resolved options (valid broker options themselves).
 * @throws {BrokerOptionsError} naming the option that is wrong and what it must be.
 */
export function resolveOptions(
  options: BrokerOptions | string = {},
  warnings: string[] = [],
): ResolvedOptions {
  const o: BrokerOptions = typeof options === "string" ? { nodeID: options } : options;
  if (o === null || typeof o !== "object") {
    throw new BrokerOptionsError(
      "Broker options must be an object or a nodeID string",
    );
  }
  for (const key of Object.keys(o)) {
    if (!KNOWN_KEYS.has(key)) {
      const guess = closestName(key, KNOWN_KEYS);
      throw new BrokerOptionsError(
        `Unknown broker option '${key}'.` + (guess ? ` Did you mean '${guess}'?` : "") +
          ` Known options: ${[...KNOWN_KEYS].join(", ")}`,
        { option: key, ...(guess ? { suggestion: guess } : {}) },
      );
    }
  }
  const notBuilt = (key: string, value: unknown, fallback?: unknown) => {
    if (value !== undefined && value !== null && value !== false && value !== fallback) {
      warnings.push(`Option '${key}' is accepted but not honoured: ${NOT_BUILT[key]}`);
    }
  };
  notBuilt("hotReload", o.hotReload);
  notBuilt("maxSafeObjectSize", o.maxSafeObjectSize);
  const protocolVersion = o.protocolVersion ?? "5";
  if (protocolVersion !== "4" && protocolVersion !== "5") {
    throw new BrokerOptionsError(
      `Option 'protocolVersion' must be "4" (Moleculer 0.14) or "5" (Moleculer 0.15), got ${
        JSON.stringify(protocolVersion)
      }`,
      { option: "protocolVersion", value: protocolVersion },
    );
  }
  const middlewares = resolveMiddlewaresOption(o.middlewares);
  const registry = optionGroup("registry", o.registry, REGISTRY_KEYS) as RegistryOptions;
  const transit = optionGroup("transit", o.transit, TRANSIT_KEYS) as TransitOptions;
  notBuilt("transit.disableReconnect", transit.disableReconnect);
  const discoverer = registry.discoverer;
  const discovererType = isRecord(discoverer) ? discoverer.type : discoverer;
  if (discovererType !== undefined && discovererType !== "Local") {
    warnings.push(
      `Option 'registry.discoverer' ${
        JSON.stringify(discovererType)
      } is accepted but not honoured: nodes discover each other over the transporter ("Local")`,
    );
  }
  let circuitBreakerOption: unknown = o.circuitBreaker;
  if (isRecord(circuitBreakerOption) && "failureOnReject" in circuitBreakerOption) {
    notBuilt("circuitBreaker.failureOnReject", true);
    const { failureOnReject: _, ...rest } = circuitBreakerOption;
    circuitBreakerOption = rest;
  }
  if (
    registry.strategyOptions !== undefined && !isRecord(registry.strategyOptions)
  ) {
    throw new BrokerOptionsError("Option 'registry.strategyOptions' must be an object", {
      option: "registry.strategyOptions",
    });
  }
  if (o.metadata !== undefined && !isRecord(o.metadata)) {
    throw new BrokerOptionsError("Option 'metadata' must be an object", {
      option: "metadata",
      value: o.metadata,
    });
  }
  const validator: unknown = o.validator;
  if (
    validator !== undefined && typeof validator !== "boolean" &&
    !(isRecord(validator) && typeof validator.compile === "function")
  ) {
    throw new BrokerOptionsError(
      "Option 'validator' must be true, false or an object with a compile(schema) method",
      { option: "validator" },
    );
  }
  const heartbeatInterval = numberOption(
    "heartbeatInterval",
    o.heartbeatInterval,
    10,
    0.01,
  );
  return {
    nodeID: name("nodeID", o.nodeID, defaultNodeID(), false),
    namespace: name("namespace", o.namespace, "", true),
    transporter: o.transporter ?? null,
    serializer: o.serializer ?? "JSON",
    logger: o.logger ?? true,
    logLevel: o.logLevel ?? "info",
    logFormat: o.logFormat ?? "PLAIN",
    requestTimeout: numberOption("requestTimeout", o.requestTimeout, 0),
    maxCallLevel: numberOption("maxCallLevel", o.maxCallLevel, 0),
    heartbeatInterval,
    heartbeatTimeout: numberOption(
      "heartbeatTimeout",
      o.heartbeatTimeout,
      30,
      heartbeatInterval,
    ),
    cleanOfflineNodesTimeout: numberOption(
      "cleanOfflineNodesTimeout",
      o.cleanOfflineNodesTimeout,
      600,
    ),
    protocolVersion,
    registry: {
      strategy: strategy(registry.strategy),
      strategyOptions: registry.strategyOptions ?? {},
      preferLocal: boolOption("registry.preferLocal", registry.preferLocal, true),
      stopDelay: numberOption("registry.stopDelay", registry.stopDelay, 100),
      discoverer: registry.discoverer ?? "Local",
    },
    transit: {
      maxQueueSize: numberOption(
        "transit.maxQueueSize",
        transit.maxQueueSize,
        50_000,
        1,
      ),
      disableVersionCheck: boolOption(
        "transit.disableVersionCheck",
        transit.disableVersionCheck,
        false,
      ),
      serviceChangedDebounceTime: numberOption(
        "transit.serviceChangedDebounceTime",
        transit.serviceChangedDebounceTime,
        1000,
      ),
      discoverWaitTime: numberOption(
        "transit.discoverWaitTime",
        transit.discoverWaitTime,
        500,
      ),
      maxChunkSize: numberOption("transit.maxChunkSize", transit.maxChunkSize, 256 * 1024),
      maxStreamBuffer: numberOption(
        "transit.maxStreamBuffer",
        transit.maxStreamBuffer,
        16 * 1024 * 1024,
        1024,
      ),
      disableReconnect: boolOption("transit.disableReconnect", transit.disableReconnect, false),
    },
    disableBalancer: boolOption("disableBalancer", o.disableBalancer, false),
    middlewares,
    validator: o.validator,
    metadata: o.metadata ?? {},
    internalServices: boolOption("internalServices", o.internalServices, true),
    // Each feature owns its option group: its defaults and its checks.
    retryPolicy: resolveRetryPolicy(o.retryPolicy),
    circuitBreaker: resolveCircuitBreakerOptions(circuitBreakerOption),
    bulkhead: resolveBulkheadOptions(o.bulkhead),
    tracking: resolveTrackingOptions(o.tracking),
    cacher: checkCacherOption(o.cacher),
    errorHandler: optionalFunction("errorHandler", o.errorHandler),
    uidGenerator: optionalFunction("uidGenerator", o.uidGenerator),
    internalMiddlewares: boolOption("internalMiddlewares", o.internalMiddlewares, true),
    dependencyTimeout: numberOption("dependencyTimeout", o.dependencyTimeout, 0),
    dependencyInterval: numberOption("dependencyInterval", o.dependencyInterval, 100, 1),
    contextParamsCloning: boolOption("contextParamsCloning", o.contextParamsCloning, false),
    created: optionalFunction("created", o.created),
    started: optionalFunction("started", o.started),
    stopped: optionalFunction("stopped", o.stopped),
    ContextFactory: subclassOption("ContextFactory", o.ContextFactory, Context) as typeof Context,
    ServiceFactory: subclassOption("ServiceFactory", o.ServiceFactory, Service) as typeof Service,
    Promise: promiseOption(o.Promise),
    tracing: resolveTracingOptions(o.tracing),
    metrics: resolveMetricsOptions(o.metrics),
  };
}

/** An optional function option; null counts as absent (Moleculer's defaults are null). */
function optionalFunction<F>(option: string, value: F | null | undefined): F | undefined {
  return value === null ? undefined : functionOption<F | undefined>(option, value, undefined);
}

/** A class option that must be `base` or extend it. */
function subclassOption(
  option: string,
  value: unknown,
  base: abstract new (...args: never[]) => unknown,
): unknown {
  if (value === undefined || value === null) return base;
  if (
    typeof value !== "function" ||
    (value !== base && !((value as typeof Object).prototype instanceof base))
  ) {
    throw new BrokerOptionsError(
      `Option '${option}' must be a class extending ${base.name}: \`class My${base.name} ` +
        `extends ${base.name} { … }\``,
      { option },
    );
  }
  return value;
}

function promiseOption(value: unknown): PromiseConstructor | undefined {
  if (value === undefined || value === null) return undefined;
  const p = value as { resolve?: unknown; prototype?: { then?: unknown } };
  if (typeof value !== "function" || typeof p.resolve !== "function" || !p.prototype?.then) {
    throw new BrokerOptionsError(
      "Option 'Promise' must be a Promise class (with `resolve` and `prototype.then`)",
      { option: "Promise" },
    );
  }
  return value as PromiseConstructor;
}
