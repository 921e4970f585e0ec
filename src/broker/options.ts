/**
 * Broker options, named as in Moleculer, and their resolution into a complete,
 * checked set. The option groups of a middleware (`retryPolicy`, `circuitBreaker`,
 * `bulkhead`, `tracking`, `middlewares`) and of a plugin (`cacher`) are resolved by the
 * feature that owns them; this module checks the broker's own options and composes the rest.
 *
 * @module
 */

import type { LogFormat, LogLevel, LogSink } from "../logging.ts";
import type { MiddlewareOption } from "../core/middleware.ts";
import type { StrategyOption, StrategyOptions } from "../core/strategy.ts";
import type { SerializerOption } from "../serializers/resolve.ts";
import type { ProtocolVersion } from "../transit/packets.ts";
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
import { boolOption, numberOption, optionGroup } from "../middlewares/_options.ts";
import { type CacherOption, checkCacherOption } from "../cachers/resolve.ts";
import { isRecord } from "../_util/values.ts";
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
}

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
  /** Logging: `true` (console), `false` (silent), `"logtape"` (the app's logtape setup) or a sink function. @default {true} */
  logger?: boolean | "logtape" | LogSink;
  /** Lowest level logged. @default {"info"} */
  logLevel?: LogLevel;
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
  /** Middlewares; the first is the outermost. @default {[]} */
  middlewares?: MiddlewareOption[];
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
  readonly logger: boolean | "logtape" | LogSink;
  /** See {@linkcode BrokerOptions.logLevel}. */
  readonly logLevel: LogLevel;
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
  "tracing",
  "metrics",
]);

const REGISTRY_KEYS = new Set([
  "strategy",
  "strategyOptions",
  "preferLocal",
  "stopDelay",
]);
const TRANSIT_KEYS = new Set([
  "maxQueueSize",
  "disableVersionCheck",
  "serviceChangedDebounceTime",
  "discoverWaitTime",
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
 * @returns The resolved options.
 * @throws {BrokerOptionsError} naming the option that is wrong and what it must be.
 */
export function resolveOptions(
  options: BrokerOptions | string = {},
): ResolvedOptions {
  const o: BrokerOptions = typeof options === "string" ? { nodeID: options } : options;
  if (o === null || typeof o !== "object") {
    throw new BrokerOptionsError(
      "Broker options must be an object or a nodeID string",
    );
  }
  for (const key of Object.keys(o)) {
    if (!KNOWN_KEYS.has(key)) {
      throw new BrokerOptionsError(
        `Unknown broker option '${key}'. Known options: ${[...KNOWN_KEYS].join(", ")}`,
        { option: key },
      );
    }
  }
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
    },
    disableBalancer: boolOption("disableBalancer", o.disableBalancer, false),
    middlewares,
    validator: o.validator,
    metadata: o.metadata ?? {},
    internalServices: boolOption("internalServices", o.internalServices, true),
    // Each feature owns its option group: its defaults and its checks.
    retryPolicy: resolveRetryPolicy(o.retryPolicy),
    circuitBreaker: resolveCircuitBreakerOptions(o.circuitBreaker),
    bulkhead: resolveBulkheadOptions(o.bulkhead),
    tracking: resolveTrackingOptions(o.tracking),
    cacher: checkCacherOption(o.cacher),
    tracing: resolveTracingOptions(o.tracing),
    metrics: resolveMetricsOptions(o.metrics),
  };
}
