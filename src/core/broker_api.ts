/**
 * The broker's public surface as a contract. Contexts, services, middleware hooks and cachers
 * hold a `BrokerApi`, not the `ServiceBroker` class: the core depends on this interface, the
 * broker implements it, and a test can hand any of them a small fake.
 *
 * @module
 */

import type { Cacher } from "./cacher.ts";
import type { CallOptions, EmitOptions } from "./context.ts";
import type { MCallDefinition, MCallOptions } from "./mcall.ts";
import type { Runtime } from "./runtime.ts";
import type { Service, ServiceClass } from "./service.ts";
import type {
  ActionResult,
  CallArgs,
  EmitArgs,
  KnownAction,
  KnownEvent,
  UnknownName,
} from "./typed.ts";
import type { ServiceDependency, ServiceSchema } from "./schema.ts";
import type { Logger } from "../logging.ts";
import type { Span, SpanOptions } from "../tracing/span.ts";
import type { MetricRegistry } from "../metrics/registry.ts";

/** A service to wait for: a full name, or `{ name, version }`. */
export type ServiceRef = ServiceDependency;

/**
 * A service `waitForServices` waits for: a {@linkcode ServiceRef}, or `{ name, version: [...] }`
 * satisfied by any of the versions, as in Moleculer.
 */
export type WaitForServiceRef =
  | ServiceRef
  | { readonly name: string; readonly version: Array<string | number> };

/** What `waitForServices` resolves to, as in Moleculer. */
export interface WaitForServicesResult {
  /** The full names waited for. */
  readonly services: string[];
  /** Whether each was available. */
  readonly statuses: { readonly name: string; readonly available: boolean }[];
}

/** Moleculer's static promise helpers, on `broker.Promise`. */
export interface PromiseHelpers {
  /** A promise resolving after `ms` milliseconds. */
  delay(ms: number): Promise<void>;
  /** Wrap a function so it always returns a promise (a throw becomes a rejection). */
  // deno-lint-ignore no-explicit-any
  method<A extends any[], R>(fn: (...args: A) => R): (...args: A) => Promise<Awaited<R>>;
  /** Map over items, the mapper running concurrently (at most `concurrency` at once). */
  map<T, R>(
    items: Iterable<T | PromiseLike<T>>,
    fn: (item: T, index: number) => R | PromiseLike<R>,
    opts?: { concurrency?: number },
  ): Promise<R[]>;
  /** Map over items, one after the other. */
  mapSeries<T, R>(
    items: Iterable<T | PromiseLike<T>>,
    fn: (item: T, index: number) => R | PromiseLike<R>,
  ): Promise<R[]>;
}

/**
 * The class of `broker.Promise`: the global `Promise` with Moleculer's helpers (its instances
 * also have `delay(ms)` and `timeout(ms, error?)`).
 */
export type BrokerPromiseConstructor = PromiseConstructor & PromiseHelpers;

/** The result of a ping. */
export interface PongResult {
  /** The node that answered. */
  readonly nodeID: string;
  /** Round trip in ms. */
  readonly elapsedTime: number;
  /** Estimated clock difference in ms. */
  readonly timeDiff: number;
}

/**
 * What a broker offers the code it hosts: identity, logging, services, calls and events.
 * `ServiceBroker` implements it; so can a test double.
 *
 * @example A fake broker for a unit test
 * ```ts
 * import type { BrokerApi } from "./broker_api.ts";
 *
 * const calls: string[] = [];
 * const fake = {
 *   nodeID: "test",
 *   call: (name: string) => {
 *     calls.push(name);
 *     return Promise.resolve(42);
 *   },
 * } as Partial<BrokerApi> as BrokerApi;
 * console.log(await fake.call("math.add")); // 42
 * ```
 */
export interface BrokerApi {
  /** This node's id. */
  readonly nodeID: string;
  /** The namespace. */
  readonly namespace: string;
  /** A random id of this broker instance. */
  readonly instanceID: string;
  /** The broker's own logger. */
  readonly logger: Logger;
  /** The platform the broker runs on. */
  readonly runtime: Runtime;
  /** True once `start()` has completed and until `stop()` begins. */
  readonly started: boolean;
  /** The registered local services. */
  readonly services: Service[];
  /** The cacher of the `cacher` option, or null when caching is off. */
  readonly cacher: Cacher | null;
  /** The promise class with Moleculer's helpers (`delay`, `timeout`, `method`, `map`, `mapSeries`). */
  readonly Promise: BrokerPromiseConstructor;
  /** The metric registry (`this.broker.metrics.increment(...)` in a service). */
  readonly metrics?: MetricRegistry;
  /** Starts spans (`ctx.startSpan`); absent on a broker that has no tracer. */
  readonly tracer?: {
    /** Start a span (of the context `ctx`, when given). */
    startSpan(name: string, opts?: SpanOptions, ctx?: unknown): Span;
  };
  /**
   * A logger for a module of this node, e.g. a service's name.
   *
   * @param module The module name, printed upper-cased.
   */
  getLogger(module: string): Logger;
  /** Register a service (schema or instance) and wait until it is created (and started). */
  register(service: Service | ServiceClass | ServiceSchema): Promise<Service>;
  /**
   * Create a service from a schema (with `schemaMods` merged over it), an instance or a
   * `Service` subclass, and return it at once.
   */
  createService(
    schema: Service | ServiceClass | ServiceSchema,
    schemaMods?: Partial<ServiceSchema>,
  ): Service;
  /** Stop and remove a local service (by instance, full name or `{ name, version }`). */
  destroyService(service: Service | ServiceRef): Promise<void>;
  /** A local service by full name or `{ name, version }`. */
  getLocalService(ref: ServiceRef): Service | undefined;
  /** Connect and start every service. Idempotent. */
  start(): Promise<void>;
  /** Leave the cluster gracefully. Idempotent. */
  stop(): Promise<void>;
  /** Wait for SIGINT or SIGTERM, then stop. */
  waitForShutdown(): Promise<void>;
  /** Wait until services are available somewhere in the cluster. */
  waitForServices(
    services: WaitForServiceRef | WaitForServiceRef[],
    timeout?: number,
    interval?: number,
  ): Promise<WaitForServicesResult>;
  /** Call an action the compiler knows (see `ServiceActions`): params checked, result typed. */
  call<N extends KnownAction>(name: N, ...args: CallArgs<N>): Promise<ActionResult<N>>;
  /** Call an action, on this node or another; `R` and `P` as in Moleculer's `call<R, P>`. */
  call<R = unknown, P = unknown, N extends string = string>(
    name: UnknownName<N, KnownAction>,
    params?: P,
    opts?: CallOptions,
  ): Promise<R>;
  /** Call several actions at once, in order. */
  mcall<R = unknown>(def: MCallDefinition[], opts?: MCallOptions): Promise<R[]>;
  /** Call several named actions at once, by key. */
  mcall<R = unknown>(
    def: Record<string, MCallDefinition>,
    opts?: MCallOptions,
  ): Promise<Record<string, R>>;
  /** Ping one node. */
  ping(nodeID: string, timeout?: number): Promise<PongResult | null>;
  /** Ping several nodes (or all, when `nodeIDs` is omitted). */
  ping(nodeIDs?: string[], timeout?: number): Promise<Record<string, PongResult | null>>;
  /** Emit a balanced event the compiler knows (see `ServiceEvents`): its payload checked. */
  emit<N extends KnownEvent>(name: N, ...args: EmitArgs<N>): Promise<void>;
  /** Emit a balanced event: each group of listeners gets it once. */
  emit<D = unknown, N extends string = string>(
    name: UnknownName<N, KnownEvent>,
    data?: D,
    opts?: EmitOptions,
  ): Promise<void>;
  /** Broadcast an event the compiler knows (see `ServiceEvents`): its payload checked. */
  broadcast<N extends KnownEvent>(name: N, ...args: EmitArgs<N>): Promise<void>;
  /** Broadcast an event to every listener on every node. */
  broadcast<D = unknown, N extends string = string>(
    name: UnknownName<N, KnownEvent>,
    data?: D,
    opts?: EmitOptions,
  ): Promise<void>;
  /** Deliver an event to every listener on this node only. */
  broadcastLocal(name: string, data?: unknown, opts?: EmitOptions): Promise<void>;
}
