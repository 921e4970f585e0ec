/**
 * Denolecular: a Deno-first microservices broker that speaks the Moleculer
 * transit protocol. A Denolecular node joins a Moleculer cluster (Node.js
 * Moleculer 0.14 or 0.15) as a full peer over NATS: it calls their actions,
 * serves its own, sends and receives events.
 *
 * @example Two service styles on one broker
 * ```ts
 * import { action, type Context, Service, ServiceBroker } from "./mod.ts";
 *
 * class Greeter extends Service {
 *   constructor() {
 *     super("greeter");
 *   }
 *   @action({ params: { name: "string" } })
 *   hello(ctx: Context<{ name: string }>): string {
 *     return `Hello, ${ctx.params.name}!`;
 *   }
 * }
 *
 * const broker = new ServiceBroker({ nodeID: "example", logger: false });
 * await broker.register(new Greeter());
 * broker.createService({
 *   name: "math",
 *   actions: {
 *     add: {
 *       params: { a: "number", b: "number" },
 *       handler: (ctx: Context<{ a: number; b: number }>) => ctx.params.a + ctx.params.b,
 *     },
 *   },
 * });
 * await broker.start();
 * console.log(await broker.call("greeter.hello", { name: "John" })); // Hello, John!
 * console.log(await broker.call("math.add", { a: 2, b: 3 })); // 5
 * await broker.stop();
 * ```
 *
 * Join a cluster by naming a transporter:
 * `new ServiceBroker({ transporter: "nats://127.0.0.1:4222" })`.
 *
 * @module
 */

export { Broker, ServiceBroker, VERSION } from "./src/broker/broker.ts";
export type { TransitView } from "./src/broker/broker.ts";
export type {
  BrokerApi,
  BrokerPromiseConstructor,
  PongResult,
  PromiseHelpers,
  ServiceRef,
  WaitForServiceRef,
  WaitForServicesResult,
} from "./src/core/broker_api.ts";
export { LocalBus, type LocalBusListener } from "./src/broker/local_bus.ts";
export type { LocalServiceItem } from "./src/broker/local_services.ts";
export type { ErrorHandler, ErrorHandlerInfo } from "./src/middlewares/error_handler.ts";
export type { HostInfo, MemoryUsage, Runtime } from "./src/core/runtime.ts";
export { Context } from "./src/core/context.ts";
export type {
  CallOptions,
  ContextAction,
  ContextEvent,
  ContextInit,
  EmitOptions,
  EventType,
  Meta,
} from "./src/core/context.ts";
export type { MCallDefinition, MCallDefinitions, MCallOptions } from "./src/core/mcall.ts";
export type { StreamSource } from "./src/core/stream_source.ts";
export type {
  ActionOf,
  ActionParams,
  ActionResult,
  ActionTypes,
  AnyFn,
  CallArgs,
  ClassActions,
  ContextMethods,
  DefinitionParams,
  EmitArgs,
  EventOf,
  EventParams,
  EventTypes,
  HandlerOf,
  HandlerParams,
  KnownAction,
  KnownEvent,
  NameOf,
  Omittable,
  ParamsFromSchema,
  RuleOptional,
  RuleType,
  SchemaActions,
  SchemaEvents,
  SchemaFullName,
  ServiceActions,
  ServiceEvents,
  ShorthandOptional,
  ShorthandType,
  Simplify,
  Trim,
  TypeOfName,
  UnknownName,
  VersionPrefix,
} from "./src/core/typed.ts";
export { Service, serviceFullName } from "./src/core/service.ts";
export type { MethodSpec, ServiceClass } from "./src/core/service.ts";
export type {
  ActionHandler,
  ActionHooks,
  ActionSchema,
  EventHandler,
  EventSchema,
  Hook,
  LifecycleHandler,
  MergedHandler,
  MethodSchema,
  MixinSchema,
  ServiceDependency,
  ServiceHooks,
  ServiceInit,
  ServiceSchema,
  Visibility,
} from "./src/core/schema.ts";
export { action, event, method } from "./src/core/decorators.ts";
export type {
  ActionOptions,
  EventOptions,
  Method,
  MethodDecorator,
} from "./src/core/decorators.ts";
export { Middleware } from "./src/core/middleware.ts";
export type {
  ActionInfo,
  CallHandler,
  EmitHandler,
  EventInfo,
  Handler,
  LifecycleHook,
  MethodHook,
  MethodInfo,
  MethodWrapper,
  MiddlewareFactory,
  MiddlewareHooks,
  MiddlewareOption,
  MiddlewaresView,
  SyncHook,
  TransitHandlers,
  TransitHook,
  TransitMessageHandler,
  TransitPacket,
  TransitPublishHandler,
  TransporterReceiveHandler,
  TransporterSendHandler,
  TransporterSendMeta,
  WrapHook,
} from "./src/core/middleware.ts";
export { type MiddlewareFactories, Middlewares } from "./src/middlewares/builtin.ts";
export {
  Compression,
  type CompressionMethod,
  type CompressionOptions,
} from "./src/middlewares/transmit/compression.ts";
export { Encryption, type SecretBytes } from "./src/middlewares/transmit/encryption.ts";
export type {
  BrokerLifecycleHandler,
  BrokerOptions,
  RegistryOptions,
  ResolvedOptions,
  TransitOptions,
} from "./src/broker/options.ts";
export {
  BrokerDisconnectedError,
  BrokerOptionsError,
  Errors,
  ExtendableError,
  fromPlain,
  GracefulStopTimeoutError,
  InvalidPacketDataError,
  isRetryableError,
  MaxCallLevelError,
  MoleculerClientError,
  MoleculerError,
  MoleculerRetryableError,
  MoleculerServerError,
  ProtocolVersionMismatchError,
  QueueIsFullError,
  Regenerator,
  RequestRejectedError,
  RequestSkippedError,
  RequestTimeoutError,
  resolveRegenerator,
  ServiceNotAvailableError,
  ServiceNotFoundError,
  ServiceSchemaError,
  TimeoutError,
  toPlain,
  ValidationError,
} from "./src/errors.ts";
export type { PlainError, RegeneratorPayload } from "./src/errors.ts";
export { createLoggerFactory, formatJson, formatPlain } from "./src/logging.ts";
export type {
  LogBindings,
  LogEntry,
  LogFormat,
  Logger,
  LoggerFactory,
  LoggerOption,
  LoggerOptions,
  LogLevel,
  LogLevelMap,
  LogSink,
  MoleculerFormatter,
  MoleculerLoggerConfig,
  MoleculerLoggerOptions,
} from "./src/logging.ts";
export { resolveValidator } from "./src/validators/resolve.ts";
export type { ValidatorOption } from "./src/validators/resolve.ts";
export type { ParamsCheck, Validator } from "./src/validators/validator.ts";
export type { ParamsSchema } from "./src/core/schema.ts";
export { FastestValidator } from "./src/validators/fastest.ts";
export { matchEventName } from "./src/core/event_match.ts";
export { RoundRobinStrategy } from "./src/strategies/round_robin.ts";
export { RandomStrategy } from "./src/strategies/random.ts";
export { resolveStrategy } from "./src/strategies/resolve.ts";
export type { StrategyResolver } from "./src/strategies/broker_strategies.ts";
export type {
  Strategy,
  StrategyEndpoint,
  StrategyFactory,
  StrategyHost,
  StrategyNode,
  StrategyOption,
  StrategyOptions,
} from "./src/core/strategy.ts";
export { CpuUsageStrategy } from "./src/strategies/cpu_usage.ts";
export type { CpuUsageStrategyOptions } from "./src/strategies/cpu_usage.ts";
export { LatencyStrategy } from "./src/strategies/latency.ts";
export type { LatencyStrategyOptions } from "./src/strategies/latency.ts";
export { ShardStrategy } from "./src/strategies/shard.ts";
export type { ShardStrategyOptions } from "./src/strategies/shard.ts";
export type { CircuitBreakerView, CircuitState } from "./src/middlewares/circuit_breaker.ts";
export type { CircuitBreakerOptions } from "./src/core/schema.ts";
export type { TrackerView, TrackingOptions } from "./src/middlewares/tracking.ts";
export type { RetryPolicyOptions } from "./src/core/schema.ts";
export type { BulkheadOptions } from "./src/core/schema.ts";
export type { FallbackResponse } from "./src/middlewares/fallback.ts";
export { BaseCacher, defaultCacheKey, matchCacheKey } from "./src/cachers/cacher.ts";
export type { CacheKeygen, CacherOptions } from "./src/cachers/cacher.ts";
export type { CacheLock, Cacher, CacheValueWithTTL, MaybePromise } from "./src/core/cacher.ts";
export type { ActionCacheOptions } from "./src/core/schema.ts";
export { MemoryCacher } from "./src/cachers/memory.ts";
export type { CacheEntry, MemoryCacherOptions } from "./src/cachers/memory.ts";
export { MemoryLRUCacher } from "./src/cachers/memory_lru.ts";
export type { MemoryLRUCacherOptions } from "./src/cachers/memory_lru.ts";
export { RedisCacher } from "./src/cachers/redis.ts";
export type { RedisCacherOptions } from "./src/cachers/redis.ts";
export { resolveCacher } from "./src/cachers/resolve.ts";
export type { CacherConfig, CacherName, CacherOption } from "./src/cachers/resolve.ts";
export type {
  ActionEndpoint,
  EventEndpoint,
  ListOptions,
  LocalAction,
  LocalEvent,
  NodeInfo,
  NodeInfoResult,
  RegistryOptions as RegistryInit,
  RegistryView,
  ServiceItem,
} from "./src/registry/registry.ts";
export type { EndpointList, ListedEndpoint } from "./src/registry/endpoint_list.ts";
export { MemoryTransporter } from "./src/transporters/memory.ts";
export type { NatsTransporterOptions, NatsTransportKind } from "./src/transporters/nats/options.ts";
export type { RedisTransporterOptions } from "./src/transporters/redis/options.ts";
export type { MqttTransporterOptions } from "./src/transporters/mqtt/options.ts";
export type { AmqpTransporterOptions } from "./src/transporters/amqp/options.ts";
export { type TopicClient, TopicTransporter } from "./src/transporters/topic_transporter.ts";
export { resolveTransporter } from "./src/transporters/resolve.ts";
export type { TransporterOption } from "./src/transporters/resolve.ts";
export type {
  Transporter,
  TransporterHost,
  TransporterListener,
  TransporterSubscription,
} from "./src/transporters/transporter.ts";
export { JSONSerializer } from "./src/serializers/json.ts";
export { resolveSerializer } from "./src/serializers/resolve.ts";
export type {
  SerializerConfig,
  SerializerOption,
  SerializerOptions,
} from "./src/serializers/resolve.ts";
export type { PacketPayload, Serializer } from "./src/serializers/serializer.ts";
export { PacketType } from "./src/core/protocol.ts";
export type { JSONExtCustomType, JSONExtOptions } from "./src/serializers/json_ext.ts";
export type { ProtocolVersion } from "./src/core/protocol.ts";
export { Span } from "./src/tracing/span.ts";
export type { SpanHost, SpanLog, SpanOptions, SpanService } from "./src/tracing/span.ts";
export { Tracer } from "./src/tracing/tracer.ts";
export type { SpanFactory } from "./src/tracing/tracer.ts";
export type {
  ExporterOption,
  ResolvedTracingOptions,
  SamplingOptions,
  SpanTagsOption,
  TracingOptions,
} from "./src/tracing/options.ts";
export type { HandlerTracingOptions } from "./src/middlewares/tracing.ts";
export type {
  ExporterTracer,
  TraceContextSource,
  TraceExporter,
  TracerHost,
} from "./src/tracing/exporters/exporter.ts";
export { ConsoleTraceExporter } from "./src/tracing/exporters/console.ts";
export type { ConsoleExporterOptions } from "./src/tracing/exporters/console.ts";
export { EventTraceExporter } from "./src/tracing/exporters/event.ts";
export type { EventExporterOptions } from "./src/tracing/exporters/event.ts";
export { ZipkinTraceExporter } from "./src/tracing/exporters/zipkin.ts";
export type { ZipkinExporterOptions, ZipkinSpan } from "./src/tracing/exporters/zipkin.ts";
export { OpenTelemetryTraceExporter } from "./src/tracing/exporters/opentelemetry.ts";
export type { OpenTelemetryExporterOptions } from "./src/tracing/exporters/opentelemetry.ts";
export { formatTraceparent, parseTraceparent } from "./src/tracing/traceparent.ts";
export type { TraceParent } from "./src/tracing/traceparent.ts";
export { MetricRegistry } from "./src/metrics/registry.ts";
export type { MetricsHost } from "./src/metrics/registry.ts";
export { METRIC, MetricType, MetricUnit } from "./src/metrics/constants.ts";
export type {
  MetricsOptions,
  ReporterOption,
  ResolvedMetricsOptions,
} from "./src/metrics/options.ts";
export {
  BaseMetric,
  CounterMetric,
  GaugeMetric,
  HistogramMetric,
  InfoMetric,
  MetricRate,
  TimeWindowQuantiles,
} from "./src/metrics/types.ts";
export type {
  HistogramSeries,
  HistogramSnapshot,
  Labels,
  MetricDefinition,
  MetricHost,
  MetricListOptions,
  MetricObject,
  ValueSeries,
  ValueSnapshot,
} from "./src/metrics/types.ts";
export type { CommonSource, NodeStats } from "./src/metrics/common.ts";
export { BaseReporter } from "./src/metrics/reporters/reporter.ts";
export type {
  BaseReporterOptions,
  MetricReporter,
  ReporterHost,
  ReporterRegistry,
} from "./src/metrics/reporters/reporter.ts";
export { ConsoleReporter } from "./src/metrics/reporters/console.ts";
export type { ConsoleReporterOptions } from "./src/metrics/reporters/console.ts";
export { EventReporter } from "./src/metrics/reporters/event.ts";
export type { EventReporterOptions } from "./src/metrics/reporters/event.ts";
export { CSVReporter } from "./src/metrics/reporters/csv.ts";
export type { CSVReporterOptions } from "./src/metrics/reporters/csv.ts";
export { PrometheusReporter } from "./src/metrics/reporters/prometheus.ts";
export type { PrometheusReporterOptions } from "./src/metrics/reporters/prometheus.ts";
export { OpenTelemetryReporter } from "./src/metrics/reporters/opentelemetry.ts";
export type { OpenTelemetryReporterOptions } from "./src/metrics/reporters/opentelemetry.ts";
