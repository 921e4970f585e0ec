/**
 * The `ServiceBroker`: the composition root of a node and the API services and
 * applications use — register services, call actions, emit events.
 *
 * @module
 */

import type { CallOptions, EmitOptions } from "../core/context.ts";
import { MoleculerError, ServiceNotFoundError } from "../errors.ts";
import { createLoggerFactory, type Logger, type LoggerFactory } from "../logging.ts";
import type {
  CallHandler,
  EmitHandler,
  MiddlewareRegistry,
  MiddlewaresView,
} from "../core/middleware.ts";
import { type BrokerOptions, type ResolvedOptions, resolveOptions } from "./options.ts";
import { Registry, type RegistryView } from "../registry/registry.ts";
import { BrokerStrategies } from "../strategies/broker_strategies.ts";
import { resolveSerializer } from "../serializers/resolve.ts";
import { Service, type ServiceClass } from "../core/service.ts";
import type { ServiceSchema } from "../core/schema.ts";
import type { ServiceDependency } from "../core/schema.ts";
import { Transit } from "../transit/transit.ts";
import type {
  BrokerApi,
  BrokerPromiseConstructor,
  PongResult,
  ServiceRef,
  WaitForServiceRef,
  WaitForServicesResult,
} from "../core/broker_api.ts";
import type { Runtime } from "../core/runtime.ts";
import { resolveTransporter } from "../transporters/resolve.ts";
import { resolveValidator } from "../validators/resolve.ts";
import { buildMiddlewareChain } from "../middlewares/builtin.ts";
import type { CircuitBreaker, CircuitBreakerView } from "../middlewares/circuit_breaker.ts";
import type { ContextTracker, TrackerView } from "../middlewares/tracking.ts";
import type { Cacher } from "../core/cacher.ts";
import { resolveCacher } from "../cachers/resolve.ts";
import type { EventThrottler } from "../middlewares/throttle.ts";
import { healthStatus, nodeServiceSchema } from "./internals.ts";
import { LocalBus } from "./local_bus.ts";
import { addPromiseHelpers, BrokerPromise } from "./promise.ts";
import type { ErrorHandlerInfo } from "../middlewares/error_handler.ts";
import type { EventEndpoint } from "../registry/registry.ts";
import { EventDelivery } from "./events.ts";
import { LocalServices, refName } from "./local_services.ts";
import { isRecord } from "../_util/values.ts";
import { BrokerTransitHost } from "./transit_host.ts";
import { ActionCalls } from "./calls.ts";
import { denoRuntime } from "../runtime/deno.ts";
import { uuid } from "../_util/ids.ts";
import { Tracer } from "../tracing/tracer.ts";
import { MetricRegistry } from "../metrics/registry.ts";
import { countPackets } from "../metrics/transporter.ts";
import type { NodeStats } from "../metrics/common.ts";
import {
  type MCallDefinition,
  type MCallDefinitions,
  type MCallOptions,
  runMCall,
} from "../core/mcall.ts";
import type {
  ActionResult,
  CallArgs,
  EmitArgs,
  KnownAction,
  KnownEvent,
  UnknownName,
} from "../core/typed.ts";

/** The protocol engine's state as a broker shows it (`broker.transit`). */
export interface TransitView {
  /** True while the transporter is connected. */
  readonly connected: boolean;
  /** True once the node announced itself and until it stops. */
  readonly isReady: boolean;
  /** True once the broker began to stop. */
  readonly stopping: boolean;
  /** Requests sent and not answered yet. */
  readonly pendingCount: number;
  /** Streams being sent or received. */
  readonly streamCount: number;
}

/**
 * The concrete parts of a broker behind its public views, handed to the modules of
 * src/broker/ that need the API the views leave out (mod.ts does not export it). The broker
 * fills `registry` and `transit` as it builds them.
 */
export interface BrokerParts {
  /** The registry. */
  registry: Registry;
  /** The protocol engine, or null for a local-only broker. */
  transit: Transit | null;
  /** The middlewares. */
  readonly middlewares: MiddlewareRegistry;
  /** The circuit breaker. */
  readonly circuitBreaker: CircuitBreaker;
  /** The in-flight tracker. */
  readonly tracker: ContextTracker;
}

/** The version of this package, announced in INFO `client.version`. */
export const VERSION = "0.1.0";

type Phase = "created" | "starting" | "started" | "stopping" | "stopped";

/**
 * A node of a Moleculer cluster: hosts services, calls actions and emits
 * events locally or across the transporter.
 *
 * @example A local broker
 * ```ts
 * import { ServiceBroker } from "./broker.ts";
 *
 * const broker = new ServiceBroker({ nodeID: "doc", logger: false });
 * broker.createService({
 *   name: "math",
 *   actions: { add: (ctx) => ctx.params.a + ctx.params.b },
 * });
 * await broker.start();
 * console.log(await broker.call("math.add", { a: 1, b: 2 })); // 3
 * await broker.stop();
 * ```
 */
export class ServiceBroker implements BrokerApi {
  /** This node's id. */
  readonly nodeID: string;
  /** The namespace. */
  readonly namespace: string;
  /** A random id of this broker instance. */
  readonly instanceID: string;
  /** The resolved options. */
  readonly options: ResolvedOptions;
  /** The broker's own logger. */
  readonly logger: Logger;
  /** The platform the broker runs on. */
  readonly runtime: Runtime = denoRuntime;
  /** Known nodes, services and endpoints. */
  readonly registry: RegistryView;
  /** The middlewares. */
  readonly middlewares: MiddlewaresView;
  /** The protocol engine's state, or null for a local-only broker. */
  readonly transit: TransitView | null;
  /** The circuit breaker: the state of every endpoint's circuit (all closed while it is disabled). */
  readonly circuitBreaker: CircuitBreakerView;
  /** The in-flight tracker that `stop()` drains (empty while tracking is disabled). */
  readonly tracker: TrackerView;
  /**
   * Moleculer's in-process event bus: the broker's `$`-prefixed events (`$broker.started`,
   * `$services.changed`, `$node.connected`, …) are emitted on it too; `on` takes patterns.
   */
  readonly localBus: LocalBus;
  /**
   * The promise class with Moleculer's helpers (`delay`, `timeout`, `method`, `map`,
   * `mapSeries`): a subclass of the global `Promise`, or the `Promise` option's class.
   */
  readonly Promise: BrokerPromiseConstructor;
  /** The concrete parts behind the views above, for the modules of src/broker/. */
  readonly #parts: BrokerParts;
  /** The cacher of the `cacher` option, or null when caching is off. */
  readonly cacher: Cacher | null;
  /** The tracer of the `tracing` option (starts spans that go nowhere while tracing is off). */
  readonly tracer: Tracer;
  /** The metric registry of the `metrics` option (registers nothing while metrics are off). */
  readonly metrics: MetricRegistry;
  readonly #loggers: LoggerFactory;
  /** Aborted when the broker stops: retry waits and strategy timers end (a new one per start). */
  #stopping = new AbortController();
  readonly #throttler: EventThrottler;
  readonly #strategies: BrokerStrategies;
  readonly #services: LocalServices;
  readonly #events: EventDelivery;
  readonly #call: CallHandler;
  readonly #emit: EmitHandler;
  readonly #broadcast: EmitHandler;
  readonly #broadcastLocal: EmitHandler;
  readonly #calls: ActionCalls;
  readonly #createService: (
    schema: ServiceSchema | Service | ServiceClass,
    mods?: Partial<ServiceSchema>,
  ) => Service;
  readonly #destroyService: (service: Service | ServiceRef) => Promise<void>;
  readonly #mcall: (def: MCallDefinitions, opts?: MCallOptions) => Promise<unknown>;
  #phase: Phase = "created";
  #startPromise: Promise<void> | undefined;
  #stopPromise: Promise<void> | undefined;

  /**
   * Create a broker. It does nothing on the network until {@linkcode ServiceBroker.start}.
   *
   * @param options Broker options, or just a nodeID.
   * @throws {BrokerOptionsError} naming a bad option.
   */
  constructor(options: BrokerOptions | string = {}) {
    // deno-lint-ignore no-this-alias
    const broker = this;
    const warnings: string[] = [];
    this.options = resolveOptions(options, warnings);
    const o = this.options;
    this.nodeID = o.nodeID;
    this.namespace = o.namespace;
    this.instanceID = uuid();
    this.#loggers = createLoggerFactory({
      nodeID: o.nodeID,
      namespace: o.namespace,
      logger: o.logger,
      logLevel: o.logLevel,
      logFormat: o.logFormat,
    });
    this.logger = this.getLogger("BROKER");
    for (const warning of warnings) this.logger.warn(warning);
    this.localBus = new LocalBus((err, event) =>
      this.logger.error(`A localBus listener of '${event}' failed`, err)
    );
    this.Promise = o.Promise ? addPromiseHelpers(o.Promise) : BrokerPromise;
    this.cacher = resolveCacher(o.cacher);
    this.cacher?.init(this);
    this.tracer = new Tracer(o.tracing, {
      nodeID: o.nodeID,
      getLogger: (module) => this.getLogger(module),
      emit: (event, data, opts) => this.emit(event, data, opts),
      broadcast: (event, data, opts) => this.broadcast(event, data, opts),
    });
    this.metrics = new MetricRegistry(o.metrics, {
      nodeID: o.nodeID,
      namespace: o.namespace,
      getLogger: (module) => this.getLogger(module),
      emit: (event, data, opts) => this.emit(event, data, opts),
      broadcast: (event, data, opts) => this.broadcast(event, data, opts),
      runtime: this.runtime,
      protocolVersion: o.protocolVersion,
      version: VERSION,
      stats: () => this.#stats(),
    });

    // The built-in middlewares and the user's, in the order (and for the reasons) that
    // src/middlewares/builtin.ts gives.
    const chain = buildMiddlewareChain({
      middlewares: o.middlewares,
      retryPolicy: o.retryPolicy,
      circuitBreaker: o.circuitBreaker,
      tracking: o.tracking,
      bulkhead: o.bulkhead,
      cacher: this.cacher,
      validator: resolveValidator(o.validator),
      internalMiddlewares: o.internalMiddlewares,
      errorHandler: o.errorHandler,
      tracer: this.tracer,
      metrics: this.metrics,
      headers: o.protocolVersion === "5",
    }, {
      nodeID: o.nodeID,
      logger: this.logger,
      get signal() {
        return broker.#stopping.signal;
      },
      broker: this,
      getLogger: (module) => this.getLogger(module),
      call: (name, params, opts) => this.call(name, params, opts),
      broadcast: (event, payload) => this.broadcast(event, payload),
      serviceOf: (action, nodeID) =>
        parts.registry.actions.get(action)?.byNode(nodeID)?.service.fullName,
    });
    this.middlewares = chain.middlewares;
    this.circuitBreaker = chain.circuitBreaker;
    this.tracker = chain.tracker;
    const parts: BrokerParts = {
      registry: undefined as unknown as Registry,
      transit: null,
      middlewares: chain.middlewares,
      circuitBreaker: chain.circuitBreaker,
      tracker: chain.tracker,
    };
    this.#parts = parts;
    this.#throttler = chain.throttler;
    this.#strategies = new BrokerStrategies(o.registry, {
      nodeID: this.nodeID,
      get nodes() {
        return broker.registry.nodes;
      },
      ping: (nodeID, timeout) =>
        parts.transit ? parts.transit.ping(nodeID, timeout) : Promise.resolve(null),
      signal: this.#stopping.signal,
      shared: new Map(),
    }, this.logger);
    this.#services = new LocalServices(
      this,
      parts,
      this.#strategies,
      () => this.#phase === "stopping" || this.#phase === "stopped",
    );

    parts.registry = new Registry({
      nodeID: o.nodeID,
      instanceID: this.instanceID,
      strategy: (definition) => this.#strategies.make(definition),
      preferLocal: o.registry.preferLocal,
      metadata: o.metadata,
      client: {
        type: "deno",
        version: VERSION,
        langVersion: this.runtime.version(),
      },
      ipList: this.runtime.ipList(),
      hostname: this.runtime.hostname(),
      remoteHandler: (info) => this.#calls.remoteHandler(info),
    });
    this.registry = parts.registry;

    const transporter = o.transporter === null
      ? null
      : countPackets(resolveTransporter(o.transporter), this.metrics);
    let noBalancer = o.disableBalancer;
    if (noBalancer) {
      if (transporter?.hasBuiltInBalancer) {
        this.logger.info(
          `The broker's built-in balancer is DISABLED: the ${transporter.name} transporter balances`,
        );
      } else {
        // Moleculer's rule: without queue groups the option is turned off.
        this.logger.warn(
          transporter
            ? `The ${transporter.name} transporter has no built-in balancer: ` +
              "disableBalancer is ignored and the broker's balancer stays ENABLED"
            : "disableBalancer needs a transporter: the broker's balancer stays ENABLED",
        );
        noBalancer = false;
        this.options = { ...o, disableBalancer: false };
      }
    }
    const events = new EventDelivery(this, parts, this.logger, noBalancer);
    this.#events = events;

    parts.transit = transporter === null ? null : new Transit(
      new BrokerTransitHost(this, parts, events),
      transporter,
      resolveSerializer(o.serializer),
      {
        namespace: o.namespace,
        protocolVersion: o.protocolVersion,
        heartbeatInterval: o.heartbeatInterval,
        heartbeatTimeout: o.heartbeatTimeout,
        cleanOfflineNodesTimeout: o.cleanOfflineNodesTimeout,
        maxQueueSize: o.transit.maxQueueSize,
        disableVersionCheck: o.transit.disableVersionCheck,
        serviceChangedDebounceTime: o.transit.serviceChangedDebounceTime,
        discoverWaitTime: o.transit.discoverWaitTime,
        maxChunkSize: o.transit.maxChunkSize,
        maxStreamBuffer: o.transit.maxStreamBuffer,
        stopDelay: o.registry.stopDelay,
        disableBalancer: noBalancer,
      },
      parts.middlewares,
    );
    this.transit = parts.transit;

    const calls = new ActionCalls(this, parts, noBalancer);
    this.#calls = calls;
    this.#call = parts.middlewares.wrapMethod("call", (n, p, opts) => calls.call(n, p, opts));
    this.#emit = parts.middlewares.wrapMethod(
      "emit",
      (n, d, opts) => events.emit(n, d, opts),
    );
    this.#broadcast = parts.middlewares.wrapMethod(
      "broadcast",
      (n, d, opts) => events.broadcast(n, d, opts),
    );
    this.#broadcastLocal = parts.middlewares.wrapMethod(
      "broadcastLocal",
      (n, d, opts) => events.broadcastLocal(n, d, opts, "broadcastLocal"),
    );

    this.#createService = parts.middlewares.wrapMethod(
      "createService",
      (schema: ServiceSchema | Service | ServiceClass, mods?: Partial<ServiceSchema>) =>
        this.#create(schema, mods),
    );
    this.#destroyService = parts.middlewares.wrapMethod(
      "destroyService",
      (service: Service | ServiceRef) => this.#destroy(service),
    );
    this.#mcall = parts.middlewares.wrapMethod(
      "mcall",
      (def: MCallDefinitions, opts?: MCallOptions) =>
        runMCall((action, params, o) => this.call(action, params, o), def, opts),
    );

    if (o.internalServices) this.createService(nodeServiceSchema(this));
    parts.middlewares.callSync("brokerCreated", this);
    o.created?.(this);
  }

  /** The counts the common metrics publish (`moleculer.broker.*`, `moleculer.registry.*`). */
  #stats(): NodeStats {
    const registry = this.#parts.registry;
    let online = 0;
    const services = new Set<string>();
    for (const node of registry.nodes.values()) {
      if (node.available) online++;
      for (const s of node.services) services.add(s.fullName);
    }
    const transit = this.#parts.transit;
    return {
      started: this.started,
      localServices: this.#services.all.length,
      middlewares: this.middlewares.count,
      nodes: registry.nodes.size,
      onlineNodes: online,
      services: services.size,
      actions: registry.actions.size,
      events: registry.events.size,
      pendingRequests: transit?.pendingCount ?? 0,
      connected: transit?.connected ?? false,
      ready: transit?.isReady ?? false,
    };
  }

  /**
   * A logger for a module of this node, e.g. a service's name.
   *
   * @param module The module name, printed upper-cased.
   * @returns The logger.
   */
  getLogger(module: string): Logger {
    const logger = this.#loggers.getLogger(module);
    // Moleculer's `newLogEntry` hook sees every entry: a thin tap, only where a middleware has it.
    return this.#parts?.middlewares.has("newLogEntry") ? this.#tapLogger(logger, module) : logger;
  }

  #tapLogger(logger: Logger, module: string): Logger {
    const bindings = { nodeID: this.nodeID, ns: this.namespace, mod: module.toLowerCase() };
    const mws = this.#parts.middlewares;
    const tap = (level: keyof Logger) => (msg: string, props?: unknown) => {
      mws.callSync("newLogEntry", level, props === undefined ? [msg] : [msg, props], bindings);
      (logger[level] as (m: string, p?: unknown) => void)(msg, props);
    };
    return {
      trace: tap("trace"),
      debug: tap("debug"),
      info: tap("info"),
      warn: tap("warn"),
      error: tap("error"),
      fatal: tap("fatal"),
    };
  }

  /**
   * The broker option `errorHandler`, as Moleculer's `broker.errorHandler(err, info)`: it
   * returns what the option's handler returns, and rethrows `err` without one.
   *
   * @param err The error.
   * @param info What failed: `{ ctx, service, action }`, `{ ctx, service, event }` or
   *   `{ actionName, params, opts }`.
   * @returns The handler's value.
   * @throws {Error} `err`, when no handler is set or the handler rethrows.
   */
  errorHandler(err: Error, info: ErrorHandlerInfo): unknown {
    const handler = this.options.errorHandler;
    if (handler) return handler.call(this, err, info);
    throw err;
  }

  /**
   * A new unique id, from the `uidGenerator` option when set (Moleculer's `generateUid`).
   *
   * @returns The id.
   */
  generateUid(): string {
    return this.options.uidGenerator?.() ?? uuid();
  }

  /** True once `start()` has completed and until `stop()` begins. */
  get started(): boolean {
    return this.#phase === "started";
  }

  /** The registered local services. */
  get services(): Service[] {
    return this.#services.all.map((r) => r.service);
  }

  // ---------------------------------------------------------------- services

  /**
   * Register a service and wait until it is created (and started, when the
   * broker is running). Pylecular's name; see {@linkcode createService}.
   *
   * @param schema A Moleculer-style schema.
   * @returns The service.
   * @throws {ServiceSchemaError} naming the malformed part of the schema.
   */
  register(schema: ServiceSchema): Promise<Service>;
  /** Register a {@linkcode Service} instance (class style). */
  register(service: Service): Promise<Service>;
  /** Register a class extending {@linkcode Service} (Moleculer's ES6 style): built with the broker. */
  register(service: ServiceClass): Promise<Service>;
  async register(service: Service | ServiceClass | ServiceSchema): Promise<Service> {
    const reg = this.#services.prepare(this.#instance(service));
    try {
      await reg.created;
    } catch (err) {
      this.#services.remove(reg);
      throw err;
    }
    if (this.#phase === "starting" || this.#phase === "started") {
      await this.#services.start(reg);
    }
    return reg.service;
  }

  /**
   * Create a service from a schema (or register an instance) and return it at
   * once; it starts in the background when the broker is running.
   *
   * @param schema A Moleculer-style schema.
   * @returns The service.
   * @throws {ServiceSchemaError} naming the malformed part of the schema.
   */
  createService(schema: ServiceSchema, schemaMods?: Partial<ServiceSchema>): Service;
  /** Register a {@linkcode Service} instance and return it at once. */
  createService(service: Service): Service;
  /** Create a service from a class extending {@linkcode Service} (Moleculer's ES6 style). */
  createService(service: ServiceClass): Service;
  createService(
    schema: ServiceSchema | Service | ServiceClass,
    schemaMods?: Partial<ServiceSchema>,
  ): Service {
    return this.#createService(schema, schemaMods);
  }

  /**
   * What to register: an instance or a class as given; a schema (with `schemaMods` merged over
   * it) made into a service by `ServiceFactory`.
   */
  #instance(
    schema: ServiceSchema | Service | ServiceClass,
    mods?: Partial<ServiceSchema>,
  ): Service | ServiceClass {
    if (schema instanceof Service || typeof schema === "function") return schema;
    // Moleculer merges the modifications as if the schema were their mixin.
    const merged = mods
      ? { ...mods, mixins: [schema, ...[mods.mixins ?? []].flat()] } as ServiceSchema
      : schema;
    return new this.options.ServiceFactory(merged);
  }

  #create(
    schema: ServiceSchema | Service | ServiceClass,
    mods?: Partial<ServiceSchema>,
  ): Service {
    const reg = this.#services.prepare(this.#instance(schema, mods));
    reg.created
      .then(() => {
        if (this.#phase === "starting" || this.#phase === "started") {
          return this.#services.start(reg);
        }
      })
      .catch((err) =>
        this.logger.error(
          `Service '${reg.service.fullName}' failed to start`,
          err,
        )
      );
    return reg.service;
  }

  /**
   * Stop and remove a local service.
   *
   * @param service The service, its full name, or `{ name, version }`.
   * @throws {ServiceNotFoundError} when no such local service exists.
   */
  destroyService(service: Service | ServiceRef): Promise<void> {
    return this.#destroyService(service);
  }

  async #destroy(service: Service | ServiceRef): Promise<void> {
    const name = service instanceof Service ? service.fullName : refName(service);
    const reg = this.#services.all.find((r) =>
      service instanceof Service ? r.service === service : r.service.fullName === name
    );
    if (!reg) {
      throw new ServiceNotFoundError({
        service: typeof service === "string" || service instanceof Service ? name : service.name,
        ...(isRecord(service) && !(service instanceof Service) && service.version !== undefined
          ? { version: service.version }
          : {}),
      });
    }
    await this.#services.stop(reg);
    this.#services.remove(reg);
    this.#parts.transit?.servicesChanged();
    this.broadcastLocal("$services.changed", { localService: true });
  }

  /**
   * A local service by full name or `{ name, version }`.
   *
   * @param ref The service.
   * @returns It, or undefined.
   */
  getLocalService(ref: ServiceRef): Service | undefined {
    const name = refName(ref);
    return this.#services.all.find((r) => r.service.fullName === name)?.service;
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Connect to the cluster (if a transporter is set) and start every service.
   * Idempotent: calling it again returns the same promise.
   *
   * @throws {BrokerDisconnectedError} when the transporter cannot connect.
   */
  start(): Promise<void> {
    if (this.#phase === "stopping" || (this.#stopPromise && this.#phase !== "stopped")) {
      return Promise.reject(
        new MoleculerError("The broker is stopping: start it again once stop() has resolved"),
      );
    }
    if (this.#phase === "stopped" && this.#stopPromise) {
      // Restart after stop, as in Moleculer: the services start again.
      this.#startPromise = undefined;
      this.#stopPromise = undefined;
      this.#stopping = new AbortController();
    }
    if (this.#startPromise) return this.#startPromise;
    this.#startPromise = (async () => {
      this.#phase = "starting";
      try {
        await this.#parts.middlewares.callAsync("starting", this);
        if (this.#parts.transit) await this.#parts.transit.connect();
        // Only when on: a start without them keeps its timing to the microtask.
        if (this.tracer.enabled) await this.tracer.start();
        if (this.metrics.enabled) await this.metrics.start();
        // Services registered while others start are picked up by the loop.
        const services = this.#services.all;
        for (let i = 0; i < services.length; i++) {
          await Promise.all(
            services.slice(i).map((r) => this.#services.start(r)),
          );
          i = services.length - 1;
        }
      } catch (err) {
        this.#phase = "stopped";
        await this.tracer.stop();
        await this.metrics.stop();
        await this.#parts.transit?.disconnect().catch(() => {});
        throw err;
      }
      this.#phase = "started";
      this.#parts.transit?.ready();
      this.broadcastLocal("$broker.started", {});
      this.metrics.collect();
      await this.#parts.middlewares.callAsync("brokerStarted", this);
      await this.options.started?.(this);
      this.logger.info(
        `ServiceBroker '${this.nodeID}' started with ${this.#services.all.length} service(s)` +
          (this.transit ? "" : " (local only: no transporter)"),
      );
    })();
    return this.#startPromise;
  }

  /**
   * Leave the cluster gracefully: announce no services, stop services (last
   * registered first), send DISCONNECT and close. Idempotent.
   */
  stop(): Promise<void> {
    if (this.#stopPromise) return this.#stopPromise;
    this.#stopPromise = (async () => {
      await this.#startPromise?.catch(() => {});
      if (this.#phase === "stopped") return;
      this.#phase = "stopping";
      await this.#parts.transit?.beginStop();
      await this.#drain();
      await this.#parts.middlewares.callAsync("stopping", this, true);
      this.#stopping.abort();
      this.#throttler.clear();
      await this.#events.broadcastLocal(
        "$broker.stopped",
        {},
        {},
        "broadcastLocal",
      );
      // Exporters flush while the services that collect spans and the transporter still run.
      await this.tracer.stop();
      await this.metrics.stop();
      for (const reg of [...this.#services.all].reverse()) {
        await this.#services.stop(reg);
      }
      await this.#parts.transit?.disconnect();
      try {
        await this.cacher?.close();
      } catch (err) {
        this.logger.error("The cacher failed to close", err);
      }
      this.#parts.circuitBreaker.clear();
      this.#throttler.clear();
      this.#phase = "stopped";
      await this.#parts.middlewares.callAsync("brokerStopped", this, true);
      try {
        await this.options.stopped?.(this);
      } catch (err) {
        this.logger.error("The 'stopped' broker option failed", err);
      }
      this.logger.info(`ServiceBroker '${this.nodeID}' stopped`);
    })();
    return this.#stopPromise;
  }

  /** Let tracked calls and events finish, up to `tracking.shutdownTimeout`. */
  async #drain(): Promise<void> {
    const running = this.tracker.size;
    if (running === 0) return;
    const timeout = this.tracker.shutdownTimeout;
    this.logger.info(
      `Waiting for ${running} request(s) in flight to finish (up to ${timeout} ms)`,
    );
    const cut = await this.#parts.tracker.drain(timeout);
    if (cut > 0) {
      this.logger.warn(
        `${cut} request(s) still running after ${timeout} ms: stopping anyway ` +
          "(their callers get GracefulStopTimeoutError)",
      );
    }
  }

  /**
   * Wait for SIGINT or SIGTERM, then stop gracefully.
   *
   * @returns Resolves once the broker has stopped.
   */
  waitForShutdown(): Promise<void> {
    return new Promise((resolve, reject) => {
      const off = this.runtime.onShutdownSignal((signal) => {
        off();
        this.logger.info(`Received ${signal}: stopping`);
        this.stop().then(resolve, reject);
      });
    });
  }

  /**
   * Wait until services are available somewhere in the cluster, as Moleculer's
   * `waitForServices`: a `{ name, version: [1, 2] }` entry is satisfied by either version.
   *
   * @param services Full names or `{ name, version }`.
   * @param timeout Give up after this many ms; `0` = wait forever. @default {the `dependencyTimeout` option}
   * @param interval Poll interval in ms. @default {the `dependencyInterval` option}
   * @returns `{ services, statuses }`: the names waited for and `{ name, available }` of each.
   * @throws {MoleculerError} `WAITFOR_SERVICES` on timeout, with `data.services`,
   *   `data.statuses` and `data.missing`.
   */
  async waitForServices(
    services: WaitForServiceRef | WaitForServiceRef[],
    timeout: number = this.options.dependencyTimeout,
    interval: number = this.options.dependencyInterval,
  ): Promise<WaitForServicesResult> {
    const wanted: string[][] = (Array.isArray(services) ? services : [services]).map(
      (ref: WaitForServiceRef) =>
        typeof ref !== "string" && Array.isArray(ref.version)
          ? (ref.version as Array<string | number>).map((v) =>
            refName({ name: ref.name, version: v })
          )
          : [refName(ref as ServiceDependency)],
    );
    const names = [...new Set(wanted.flat())];
    if (names.length === 0) return { services: [], statuses: [] };
    const start = Date.now();
    for (;;) {
      const available = new Set<string>();
      for (const node of this.registry.nodes.values()) {
        if (!node.available) continue;
        for (const s of node.services) available.add(s.fullName);
      }
      const statuses = names.map((name) => ({ name, available: available.has(name) }));
      if (wanted.every((alts) => alts.some((n) => available.has(n)))) {
        return { services: names, statuses };
      }
      const missing = names.filter((n) => !available.has(n));
      if (timeout > 0 && Date.now() - start >= timeout) {
        throw new MoleculerError(
          `Services waiting is timed out: ${missing.join(", ")} not available after ${timeout} ms`,
          500,
          "WAITFOR_SERVICES",
          { services: names, statuses, missing },
        );
      }
      if (this.#phase === "stopping" || this.#phase === "stopped") {
        throw new MoleculerError(
          "The broker stopped while waiting for services",
          500,
          "WAITFOR_SERVICES",
          { services: names, statuses, missing },
        );
      }
      const wait = timeout > 0 ? Math.min(interval, start + timeout - Date.now()) : interval;
      await new Promise((r) => setTimeout(r, Math.max(0, wait)));
    }
  }

  // ---------------------------------------------------------------- inspection

  /**
   * True when some node (this one included) has a handler of the event.
   *
   * @param eventName An event name.
   * @returns Whether it has listeners.
   */
  hasEventListener(eventName: string): boolean {
    return this.getEventListeners(eventName).length > 0;
  }

  /**
   * The endpoints of every handler of an event, on every node (Moleculer's shape: `id` is the
   * nodeID, `event` the subscription).
   *
   * @param eventName An event name.
   * @returns The endpoints.
   */
  getEventListeners(eventName: string): EventEndpoint[] {
    return this.registry.matchingEventLists(eventName).flatMap((list) => list.items);
  }

  /**
   * This node's info as it announces it (Moleculer's `getLocalNodeInfo`).
   *
   * @returns `{ ipList, hostname, instanceID, client, config, metadata, seq, services }`.
   */
  getLocalNodeInfo(): Record<string, unknown> {
    const node = this.registry.localNode;
    return {
      ipList: node.ipList,
      hostname: node.hostname,
      instanceID: node.instanceID,
      client: node.client,
      config: node.config,
      port: null,
      seq: node.seq,
      metadata: node.metadata,
      services: this.registry.localServicesInfo(),
    };
  }

  /**
   * The health of this node, as `$node.health` reports it.
   *
   * @returns `{ cpu, mem, os, process, client, net, time }`.
   */
  getHealthStatus(): Record<string, unknown> {
    return healthStatus(this);
  }

  /**
   * Load the services of one module file (its default export and named exports: schemas,
   * `Service` subclasses and instances) and create them.
   *
   * @param filePath The file, relative to the working directory or absolute.
   * @returns The first service created.
   * @throws {Error} naming the file when it cannot be imported or defines no service.
   */
  async loadService(filePath: string): Promise<Service> {
    const [service] = await this.#load([filePath], undefined);
    if (!service) throw new MoleculerError(`No service found in '${filePath}'`);
    return service;
  }

  /**
   * Load every service module under a folder whose name matches a mask, and create the
   * services (Moleculer's `loadServices`).
   *
   * @param folder The folder. @default {"./services"}
   * @param fileMask A glob of the files. @default {"**\/*.service.{ts,js}"}
   * @returns The number of services created.
   */
  async loadServices(
    folder = "./services",
    fileMask = "**/*.service.{ts,js,mjs}",
  ): Promise<number> {
    return (await this.#load([folder], fileMask)).length;
  }

  async #load(paths: string[], mask: string | undefined): Promise<Service[]> {
    // The loader is the CLI's (file system, globs): loaded on first use only.
    const loader = await import("../runner/loader.ts");
    const cwd = this.runtime.cwd?.() ?? ".";
    const created: Service[] = [];
    for (const source of await loader.resolveSources(paths, { cwd, mask })) {
      for (const file of await loader.listModules(source)) {
        const { services } = await loader.importServices(file, undefined, cwd);
        for (const svc of services) created.push(this.createService(svc));
      }
    }
    return created;
  }

  // ---------------------------------------------------------------- calls

  /**
   * Call an action, on this node or another.
   *
   * @param name Full action name, e.g. `"v2.greeter.hello"`.
   * @param params Params of the call.
   * @param opts Call options: `timeout`, `meta` (the callee's meta changes are
   *   merged back into it), `headers`, `parentCtx`, `nodeID`.
   * @returns The action's result.
   * @throws {ServiceNotFoundError} when no node serves the action.
   * @throws {RequestTimeoutError} when the timeout passes first.
   * @throws {ValidationError} when the params do not match the action's schema.
   * @throws {MaxCallLevelError} past `maxCallLevel`.
   *
   * @example
   * ```ts ignore
   * const sum = await broker.call("math.add", { a: 1, b: 2 }, { timeout: 500 });
   * ```
   */
  call<N extends KnownAction>(name: N, ...args: CallArgs<N>): Promise<ActionResult<N>>;
  /**
   * Call an action the compiler does not know (not in `ServiceActions`): params and result are
   * `unknown` unless given, as in Moleculer's `call<R, P>(name, params)`.
   *
   * @param name Full action name.
   * @param params Params of the call.
   * @param opts Call options.
   * @returns The action's result.
   */
  call<R = unknown, P = unknown, N extends string = string>(
    name: UnknownName<N, KnownAction>,
    params?: P,
    opts?: CallOptions,
  ): Promise<R>;
  call(name: string, params?: unknown, opts?: CallOptions): Promise<unknown> {
    return this.#call(name, params, opts ?? {});
  }

  /**
   * Call several actions at once (Moleculer's `mcall`). An array of calls resolves to an array of
   * results in the same order; an object of named calls resolves to an object with the same keys.
   * `opts` are shared by every call (a call's own `options` are merged over them); with
   * `settled: true` every call reports `{status, value}` or `{status, reason}` and none rejects the
   * whole.
   *
   * @param def The calls: `[{action, params?, options?}, …]`.
   * @param opts Shared call options, and `settled`.
   * @returns The results, in order (type `R` as `PromiseSettledResult<T>` with `settled: true`).
   * @throws {MoleculerServerError} (`INVALID_PARAMETERS`) for a malformed definition, before
   *   any call starts; otherwise the first error of a call unless `settled`.
   *
   * @example
   * ```ts ignore
   * const [user, posts] = await broker.mcall([
   *   { action: "users.get", params: { id: 5 } },
   *   { action: "posts.find", params: { author: 5 }, options: { timeout: 500 } },
   * ]);
   * const { a, b } = await broker.mcall({
   *   a: { action: "math.add", params: { a: 1, b: 2 } },
   *   b: { action: "math.add", params: { a: 3, b: 4 } },
   * }, { settled: true });
   * ```
   */
  mcall<R = unknown>(def: MCallDefinition[], opts?: MCallOptions): Promise<R[]>;
  /**
   * Call several named actions at once; see the array form. Resolves to an object with the keys
   * of `def`.
   *
   * @param def The calls by name: `{ key: {action, params?, options?}, … }`.
   * @param opts Shared call options, and `settled`.
   * @returns The results by key.
   * @throws {MoleculerServerError} (`INVALID_PARAMETERS`) for a malformed definition.
   */
  mcall<R = unknown>(
    def: Record<string, MCallDefinition>,
    opts?: MCallOptions,
  ): Promise<Record<string, R>>;
  mcall(def: MCallDefinitions, opts?: MCallOptions): Promise<unknown> {
    return this.#mcall(def, opts);
  }

  /**
   * Ping one node, several, or every known remote node.
   *
   * @param nodeID A node id, a list, or none for all.
   * @param timeout Give up after this many ms.
   * @returns For one node: `{ nodeID, elapsedTime, timeDiff }` or null on timeout;
   *   for several: a map of those by node id.
   */
  ping(nodeID: string, timeout?: number): Promise<PongResult | null>;
  /** Ping several nodes (or all, when `nodeIDs` is omitted). */
  ping(
    nodeIDs?: string[],
    timeout?: number,
  ): Promise<Record<string, PongResult | null>>;
  async ping(
    nodeID?: string | string[],
    timeout = 2000,
  ): Promise<PongResult | null | Record<string, PongResult | null>> {
    const transit = this.#parts.transit;
    if (typeof nodeID === "string") {
      return transit ? transit.ping(nodeID, timeout) : null;
    }
    const ids = nodeID ??
      [...this.registry.nodes.values()].filter((n) => !n.local && n.available)
        .map((n) => n.id);
    const results = await Promise.all(
      ids.map((id) => transit ? transit.ping(id, timeout) : Promise.resolve(null)),
    );
    return Object.fromEntries(ids.map((id, i) => [id, results[i] ?? null]));
  }

  // ---------------------------------------------------------------- events

  /**
   * Emit a balanced event: each group of listeners gets it once, on one node.
   *
   * @param name Event name.
   * @param data Event payload.
   * @param opts `groups` to limit delivery, `meta`, `headers`, `parentCtx`.
   * @returns Resolves once local handlers ran and remote packets were sent.
   */
  emit<N extends KnownEvent>(name: N, ...args: EmitArgs<N>): Promise<void>;
  /**
   * Emit an event the compiler does not know (not in `ServiceEvents`); see the typed form.
   *
   * @param name Event name.
   * @param data Event payload.
   * @param opts `groups` to limit delivery, `meta`, `headers`, `parentCtx`.
   * @returns Resolves once local handlers ran and remote packets were sent.
   */
  emit<D = unknown, N extends string = string>(
    name: UnknownName<N, KnownEvent>,
    data?: D,
    opts?: EmitOptions | string | string[],
  ): Promise<void>;
  emit(name: string, data?: unknown, opts?: EmitOptions | string | string[]): Promise<void> {
    if (name.charCodeAt(0) === 36) this.localBus.emit(name, data);
    return this.#emit(name, data, emitOptions(opts));
  }

  /**
   * Broadcast an event to every listener on every node.
   *
   * @param name Event name.
   * @param data Event payload.
   * @param opts `groups` to limit delivery, `meta`, `headers`, `parentCtx`.
   * @returns Resolves once local handlers ran and remote packets were sent.
   */
  broadcast<N extends KnownEvent>(name: N, ...args: EmitArgs<N>): Promise<void>;
  /**
   * Broadcast an event the compiler does not know (not in `ServiceEvents`); see the typed form.
   *
   * @param name Event name.
   * @param data Event payload.
   * @param opts `groups` to limit delivery, `meta`, `headers`, `parentCtx`.
   * @returns Resolves once local handlers ran and remote packets were sent.
   */
  broadcast<D = unknown, N extends string = string>(
    name: UnknownName<N, KnownEvent>,
    data?: D,
    opts?: EmitOptions | string | string[],
  ): Promise<void>;
  broadcast(name: string, data?: unknown, opts?: EmitOptions | string | string[]): Promise<void> {
    if (name.charCodeAt(0) === 36) this.localBus.emit(name, data);
    return this.#broadcast(name, data, emitOptions(opts));
  }

  /**
   * Deliver an event to every listener on this node only.
   *
   * @param name Event name.
   * @param data Event payload.
   * @param opts `groups` to limit delivery, `meta`.
   * @returns Resolves once the handlers ran.
   */
  broadcastLocal(
    name: string,
    data?: unknown,
    opts?: EmitOptions | string | string[],
  ): Promise<void> {
    if (name.charCodeAt(0) === 36) this.localBus.emit(name, data);
    return this.#broadcastLocal(name, data, emitOptions(opts));
  }
}

/** Moleculer's shorthand: a group name or a list of groups in place of the emit options. */
function emitOptions(opts: EmitOptions | string | string[] | undefined): EmitOptions {
  if (opts === undefined) return {};
  return typeof opts === "string" || Array.isArray(opts) ? { groups: opts } : opts;
}

/** Pylecular's name for {@linkcode ServiceBroker}. */
export const Broker: typeof ServiceBroker = ServiceBroker;
