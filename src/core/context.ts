/**
 * The request/event envelope handed to every action and event handler.
 *
 * @module
 */

import type { BrokerApi } from "./broker_api.ts";
import type { Service } from "./service.ts";
import type {
  ActionResult,
  CallArgs,
  EmitArgs,
  KnownAction,
  KnownEvent,
  UnknownName,
} from "./typed.ts";
import { nextId } from "../_util/ids.ts";
import { type StreamSource, toReadableStream } from "./stream_source.ts";
import { NO_TRACER, Span, type SpanOptions } from "../tracing/span.ts";
import {
  type MCallDefinition,
  type MCallDefinitions,
  type MCallOptions,
  runMCall,
} from "./mcall.ts";

/** A metadata object carried by a context; it travels with calls and events. */
export type Meta = Record<string, unknown>;

/** How an event reached its handler. */
export type EventType = "emit" | "broadcast" | "broadcastLocal";

/** Options of a call: `broker.call(name, params, opts)` and `ctx.call(...)`. */
export interface CallOptions {
  /** Timeout in ms; `0` = none. Defaults to the action's `timeout`, then the broker's `requestTimeout`. */
  timeout?: number;
  /** Metadata sent with the call. The callee's changes to its `ctx.meta` are merged back into this object. */
  meta?: Meta;
  /** Headers sent with the call (protocol 5). */
  headers?: Record<string, unknown>;
  /** The context this call is made from: level, requestID, meta, caller and the remaining timeout propagate. */
  parentCtx?: Context;
  /** Call the action on this node only. */
  nodeID?: string;
  /** Use this request id instead of starting a new chain. */
  requestID?: string;
  /** The full name of the calling service, when calling outside a context. */
  caller?: string;
  /**
   * Number of retries for retryable errors; overrides `retries` of the retry
   * policy where one is enabled (broker-wide `retryPolicy` or the action's), `0`
   * turns retries off for this call.
   */
  retries?: number;
  /**
   * Returned instead of the error when the call fails (after any retries); a
   * function is called with `(ctx, err)` and its result returned. Any value
   * but `undefined` counts, so `null`, `0` and `false` are fallbacks too.
   */
  fallbackResponse?: unknown;
  /** `false` leaves this call out of the in-flight tracking that a graceful stop waits for. */
  tracking?: boolean;
  /**
   * A stream sent with the call: the action reads it as `ctx.stream`. A `ReadableStream`
   * (`(await Deno.open(path)).readable`, `(await fetch(url)).body`), an async iterable, or a
   * `Uint8Array`. Chunks of `Uint8Array` make a byte stream; any other first chunk makes an
   * object-mode stream. As in Moleculer 0.14, a `ReadableStream` given as the params is sent as
   * the stream too. Streamed calls are not retried (a stream is read once).
   */
  stream?: StreamSource;
}

const NO_OPTIONS: CallOptions = Object.freeze({}) as CallOptions;

/** Options of `emit`, `broadcast` and `broadcastLocal`. */
export interface EmitOptions {
  /** Deliver only to these groups. */
  groups?: string | string[];
  /** Metadata sent with the event. */
  meta?: Meta;
  /** Headers sent with the event (protocol 5). */
  headers?: Record<string, unknown>;
  /** The context this event is emitted from: level, requestID, meta and caller propagate. */
  parentCtx?: Context;
  /** The full name of the emitting service, when emitting outside a context. */
  caller?: string;
}

/** What a context knows about the action it runs. */
export interface ContextAction {
  /** Full action name, e.g. `v2.greeter.hello`. */
  readonly name: string;
  /** Short name, e.g. `hello`. */
  readonly rawName?: string | undefined;
  /** Action timeout from its definition, if any. */
  readonly timeout?: number | undefined;
}

/** What a context knows about the event it carries. */
export interface ContextEvent {
  /** The subscription name (may be a wildcard pattern). */
  readonly name: string;
  /** The group of the handler. */
  readonly group?: string;
}

/** The lineage a request or event packet from another node carries; see {@linkcode Context.fromRemote}. */
export interface RemoteOrigin {
  /** The sender's context id. */
  readonly id?: string | null | undefined;
  /** Metadata. */
  readonly meta: Meta;
  /** Request headers. */
  readonly headers: Record<string, unknown>;
  /** Call-chain depth. */
  readonly level: number;
  /** Id of the parent context. */
  readonly parentID: string | null;
  /** Id of the whole chain. */
  readonly requestID: string | null;
  /** Full name of the calling service. */
  readonly caller: string | null;
  /** The request's stream, when it came with one. */
  readonly stream?: ReadableStream<unknown> | null;
  /** The sender's sampling decision: true, false, or null (the default) when it made none. */
  readonly tracing?: boolean | null | undefined;
}

/** Fields a context is built from; see {@linkcode Context}. */
export interface ContextInit<P, M extends Meta> {
  /** Context id; a new one when omitted. */
  id?: string | undefined;
  /** The node the call or event came from; the local node when omitted. */
  nodeID?: string | null;
  /** Params of the call or data of the event. @default {{}} */
  params?: P;
  /** Metadata. @default {{}} */
  meta?: M;
  /** Request headers. @default {{}} */
  headers?: Record<string, unknown> | undefined;
  /** Call-chain depth. @default {1} */
  level?: number;
  /** Id of the parent context. */
  parentID?: string | null;
  /** Id of the whole chain; this context's id when omitted. */
  requestID?: string | null;
  /** Full name of the calling service. */
  caller?: string | null;
  /** The sampling decision of the chain: true, false, or null while none is made. */
  tracing?: boolean | null;
  /** The active span. */
  span?: Span | null;
  /** Timeout in ms, or null for none. */
  timeout?: number | null;
  /** The local service handling the context. */
  service?: Service | null;
  /** The action being called. */
  action?: ContextAction | null;
  /** The event subscription being served. */
  event?: ContextEvent | null;
  /** The concrete event name. */
  eventName?: string | null;
  /** How the event was sent. */
  eventType?: EventType | null;
  /** The groups the event was sent to. */
  eventGroups?: string[] | null;
  /** The call's options (kept as given, not copied). */
  options?: CallOptions | undefined;
  /** The stream that comes with the call. */
  stream?: ReadableStream<Uint8Array> | null;
}

/**
 * The init of every new call's or event's context: one object, rewritten in full by
 * {@linkcode childInit} for each context and let go of once the constructor has read it, so the
 * hot path allocates no init literal and the constructor always sees one shape.
 */
const CHILD_INIT: ContextInit<unknown, Meta> = {
  params: undefined,
  meta: {},
  headers: undefined,
  level: 1,
  parentID: null,
  requestID: null,
  caller: null,
  tracing: null,
  options: undefined,
  eventName: null,
  eventType: null,
  eventGroups: null,
};

/**
 * Fill {@linkcode CHILD_INIT} for a new call or event: the one place lineage is decided. A
 * child of `opts.parentCtx` gets its meta (under `opts.meta`), level + 1, parent id, request id
 * and its service as caller; without a parent a new chain starts.
 */
function childInit<P>(
  params: P,
  opts: CallOptions | EmitOptions,
  options: CallOptions | undefined,
  eventName: string | null,
  eventType: EventType | null,
  eventGroups: string[] | null,
): ContextInit<P, Meta> {
  const init = CHILD_INIT as ContextInit<P, Meta>;
  const parent = opts.parentCtx;
  init.params = params;
  init.headers = opts.headers;
  init.options = options;
  init.eventName = eventName;
  init.eventType = eventType;
  init.eventGroups = eventGroups;
  if (parent) {
    init.meta = opts.meta ? { ...parent.meta, ...opts.meta } : { ...parent.meta };
    init.level = parent.level + 1;
    // The parent span when there is one (a custom span inside a handler), as Moleculer links.
    init.parentID = parent.span !== null ? parent.span.id : parent.id;
    init.requestID = parent.requestID;
    init.caller = parent.service?.fullName ?? parent.caller;
    init.tracing = parent.tracing;
  } else {
    init.meta = opts.meta ? { ...opts.meta } : {};
    init.level = 1;
    init.parentID = null;
    init.requestID = options?.requestID ?? null;
    init.caller = opts.caller ?? null;
    init.tracing = null;
  }
  return init;
}

/** Let go of what the last context's init held (the new context holds it now). */
function releaseChildInit(): void {
  CHILD_INIT.params = undefined;
  CHILD_INIT.meta = EMPTY_META;
  CHILD_INIT.headers = undefined;
  CHILD_INIT.options = undefined;
  CHILD_INIT.eventGroups = null;
}

/** What {@linkcode CHILD_INIT} holds between contexts. */
const EMPTY_META: Meta = Object.freeze({});

/**
 * A context: the params, metadata and lineage of one action call or event
 * delivery. Handlers receive it; `ctx.call`, `ctx.emit` and `ctx.broadcast`
 * make child calls that carry the lineage on.
 *
 * @typeParam P The params type.
 * @typeParam M The meta type.
 *
 * @example A handler making a child call
 * ```ts ignore
 * async function handler(ctx: Context<{ id: number }>) {
 *   const user = await ctx.call("users.get", { id: ctx.params.id });
 *   ctx.meta.seen = true; // merged back into the caller's meta
 *   return user;
 * }
 * ```
 */
export class Context<P = unknown, M extends Meta = Meta> {
  /**
   * The id, made when first read: a local call that nothing asks the id of (no tracing, no
   * request to another node) never pays for one.
   */
  #id: string | undefined;
  /** The broker that made this context. */
  readonly broker: BrokerApi;
  /** The node the call or event came from (the local node for local calls). */
  nodeID: string | null;
  /** Params of the call, or data of the event. */
  params: P;
  /** Metadata; travels with calls and events and is merged back from responses. */
  meta: M;
  /** See {@linkcode Context.headers}; made when first read. */
  #headers: Record<string, unknown> | undefined;
  /** See {@linkcode Context.responseHeaders}; made when first read. */
  #responseHeaders: Record<string, unknown> | undefined;
  /** See {@linkcode Context.locals}; made when first read. */
  #locals: Record<string, unknown> | undefined;
  /** Depth of the call chain: 1 for a call made outside a context. */
  level: number;
  /** Id of the parent context, if any. */
  parentID: string | null;
  /** The request id, or undefined while it is this context's own id (the root of a chain). */
  #requestID: string | null | undefined;
  /** Full name of the service that made the call. */
  caller: string | null;
  /**
   * The sampling decision of the chain: `true` (spans are exported), `false`, or `null` while no
   * node made one. It travels in the `tracing` field of REQ and EVENT packets, so the decision
   * holds across every node of the chain, whether or not this node traces.
   */
  tracing: boolean | null;
  /** The active span: the action's or event's own span, or the last custom one started. */
  span: Span | null;
  /** The spans started with {@linkcode Context.startSpan} and not finished, innermost last. */
  #spans: Span[] | null = null;
  /** See {@linkcode Context.timeout}. */
  #timeout: number | null;
  /**
   * `Date.now()` when this context got a positive timeout, which its child calls' remaining
   * time counts from; null while it has none. Only a context with a timeout reads the clock,
   * as Moleculer's timeout middleware sets `ctx.startHrTime` only then.
   */
  startTime: number | null;
  /** The local service handling this context, if any. */
  service: Service | null;
  /** The action this context runs, if it is a call. */
  action: ContextAction | null;
  /** The event subscription this context runs, if it is an event. */
  event: ContextEvent | null;
  /** The concrete event name, for events. */
  eventName: string | null;
  /** How the event was sent. */
  eventType: EventType | null;
  /** The groups the event was sent to. */
  eventGroups: string[] | null;
  /**
   * True when the cacher answered this call from the cache (the handler did not run). Set by
   * the cacher middleware on the node serving the action, for middlewares and hooks around it.
   */
  cachedResult: boolean;
  /**
   * The options the call was made with (read-only by convention; shared with
   * the caller). Empty for events and for requests from other nodes.
   */
  options: CallOptions;
  /**
   * The stream the caller sent with the call (`opts.stream`), or null: a Web `ReadableStream`
   * of `Uint8Array` chunks — of objects when the caller sent an object-mode stream (read it as
   * `ctx.stream as ReadableStream<T>`). From another node it is bounded by
   * `transit.maxStreamBuffer`: read it, or cancel it (`await ctx.stream.cancel()`) to stop the
   * sender.
   */
  stream: ReadableStream<Uint8Array> | null;

  /**
   * Build a context. Usually the broker does this; tests and middlewares may too.
   *
   * @param broker The broker owning the context.
   * @param init Initial fields, read here only: the broker reuses one init object for the
   *   contexts it makes, so a subclass must not keep it.
   */
  constructor(broker: BrokerApi, init: ContextInit<P, M> = {}) {
    this.broker = broker;
    this.#id = init.id;
    this.nodeID = init.nodeID ?? broker.nodeID;
    this.params = (init.params ?? {}) as P;
    this.meta = (init.meta ?? {}) as M;
    this.#headers = init.headers;
    this.level = init.level ?? 1;
    this.parentID = init.parentID ?? null;
    this.#requestID = init.requestID ?? undefined;
    this.caller = init.caller ?? null;
    this.tracing = init.tracing ?? null;
    this.span = init.span ?? null;
    this.startTime = null;
    this.#timeout = null;
    this.timeout = init.timeout ?? null;
    this.service = init.service ?? null;
    this.action = init.action ?? null;
    this.event = init.event ?? null;
    this.eventName = init.eventName ?? null;
    this.eventType = init.eventType ?? null;
    this.eventGroups = init.eventGroups ?? null;
    this.cachedResult = false;
    this.options = init.options ?? NO_OPTIONS;
    this.stream = init.stream ?? null;
  }

  /** Request headers (protocol 5). Made when first read, when the call came without them. */
  get headers(): Record<string, unknown> {
    return this.#headers ??= {};
  }
  set headers(value: Record<string, unknown>) {
    this.#headers = value;
  }

  /**
   * Response headers, sent back with the response (protocol 5). Made when first read, like
   * {@linkcode Context.locals}: most calls never touch either.
   */
  get responseHeaders(): Record<string, unknown> {
    return this.#responseHeaders ??= {};
  }
  set responseHeaders(value: Record<string, unknown>) {
    this.#responseHeaders = value;
  }

  /** Scratch space for middlewares and hooks; never leaves this node. Made when first read. */
  get locals(): Record<string, unknown> {
    return this.#locals ??= {};
  }
  set locals(value: Record<string, unknown>) {
    this.#locals = value;
  }

  /** Unique id of this context (UUID-shaped, as Moleculer's). */
  get id(): string {
    return this.#id ??= nextId();
  }
  set id(value: string) {
    this.#id = value;
  }

  /**
   * Timeout of this call in ms, or null for none. Setting a positive one starts the clock of
   * the distributed timeout ({@linkcode Context.startTime}) unless it runs already.
   */
  get timeout(): number | null {
    return this.#timeout;
  }
  set timeout(value: number | null) {
    this.#timeout = value;
    if (value !== null && value > 0 && this.startTime === null) this.startTime = Date.now();
  }

  /** Id of the whole chain; equals `id` at its root. */
  get requestID(): string | null {
    return this.#requestID === undefined ? this.id : this.#requestID;
  }
  set requestID(value: string | null) {
    this.#requestID = value;
  }

  /**
   * The context of a new call made with `opts`: a child of `opts.parentCtx` when there is one
   * (its meta under `opts.meta`, level + 1, its requestID, its service as the caller), a new
   * chain otherwise. Used by `broker.call` and by a service's own `this.actions.x()`.
   *
   * @param broker The broker owning the context.
   * @param params Params of the call.
   * @param opts The call options (kept as `ctx.options`).
   * @returns The context; the caller then sets what it knows (target node, action, timeout).
   */
  static create<P = unknown>(broker: BrokerApi, params: P, opts: CallOptions): Context<P> {
    // `new this`: a `ContextFactory` subclass inherits these factories and gets its own class.
    const ctx = new this(broker, childInit(params, opts, opts, null, null, null)) as Context<P>;
    releaseChildInit();
    if (opts.stream !== undefined) {
      ctx.stream = toReadableStream(opts.stream) as ReadableStream<Uint8Array>;
    } else if (
      // Plain params first: reading the global `ReadableStream` is a lazy getter call on Deno.
      typeof params === "object" && params !== null &&
      Object.getPrototypeOf(params) !== Object.prototype && params instanceof ReadableStream
    ) ctx.stream = params;
    return ctx;
  }

  /**
   * The context of an event emitted with `opts` (lineage as in {@linkcode Context.create}).
   *
   * @param broker The broker owning the context.
   * @param name The event name.
   * @param data The payload.
   * @param opts The emit options.
   * @param type How the event is sent.
   * @param groups The groups it is sent to, or null for all.
   * @returns The context.
   */
  static forEvent<P = unknown>(
    broker: BrokerApi,
    name: string,
    data: P,
    opts: EmitOptions,
    type: EventType,
    groups: string[] | null,
  ): Context<P> {
    const ctx = new this(broker, childInit(data, opts, undefined, name, type, groups));
    releaseChildInit();
    return ctx as Context<P>;
  }

  /**
   * The context of a request or event that arrived from another node: id, meta, headers and
   * lineage as the sender's packet carries them.
   *
   * @param broker The broker owning the context.
   * @param sender The node the packet came from.
   * @param origin The packet's lineage fields.
   * @param params Params of the request or data of the event.
   * @returns The context; the caller then sets the local action or event.
   */
  static fromRemote<P = unknown>(
    broker: BrokerApi,
    sender: string,
    origin: RemoteOrigin,
    params: P,
  ): Context<P> {
    return new this(broker, {
      id: origin.id ?? undefined,
      nodeID: sender,
      params,
      meta: origin.meta,
      headers: origin.headers,
      level: origin.level,
      parentID: origin.parentID,
      requestID: origin.requestID,
      caller: origin.caller,
      stream: (origin.stream ?? null) as ReadableStream<Uint8Array> | null,
      tracing: origin.tracing ?? null,
    });
  }

  /**
   * A copy of this context for one event handler: the same id, lineage, params and meta object,
   * with the handler's own service and subscription.
   *
   * @param service The local service of the handler.
   * @param event The handler's subscription.
   * @param groups The groups the handler gets the event for.
   * @returns The handler's context.
   */
  forHandler(
    service: Service | null,
    event: ContextEvent,
    groups: string[] | null,
  ): Context<P, M> {
    return new (this.constructor as typeof Context)(this.broker, {
      id: this.id,
      nodeID: this.nodeID,
      params: this.params,
      meta: this.meta,
      headers: this.headers,
      level: this.level,
      parentID: this.parentID,
      requestID: this.requestID,
      caller: this.caller,
      tracing: this.tracing,
      span: this.span,
      service,
      event,
      eventName: this.eventName,
      eventType: this.eventType,
      eventGroups: groups,
    }) as Context<P, M>;
  }

  /**
   * Start a span as a child of the active one (or of this context's chain), and make it the
   * active span: calls made from this context then have it as their parent.
   *
   * @param name The span's name.
   * @param opts Its options (`tags`, `type`, …).
   * @returns The started span; finish it with {@linkcode Context.finishSpan}.
   *
   * @example
   * ```ts ignore
   * const span = ctx.startSpan("load user", { tags: { id: ctx.params.id } });
   * try { return await db.load(ctx.params.id); } finally { ctx.finishSpan(span); }
   * ```
   */
  startSpan(name: string, opts?: SpanOptions): Span {
    let span: Span;
    if (this.span !== null) span = this.span.startSpan(name, opts, this);
    else {
      const tracer = this.broker.tracer;
      span = tracer
        ? tracer.startSpan(name, opts, this)
        : new Span(NO_TRACER, name, opts, this).start();
    }
    (this.#spans ??= []).push(span);
    this.span = span;
    return span;
  }

  /**
   * Finish a span started with {@linkcode Context.startSpan}; the span active before it is active
   * again.
   *
   * @param span The span.
   * @param time Its end in ms since the epoch; now when omitted.
   */
  finishSpan(span: Span, time?: number): void {
    if (!span.isActive()) return;
    span.finish(time);
    const spans = this.#spans;
    if (spans !== null && spans[spans.length - 1] === span) {
      spans.pop();
      this.span = spans.length > 0 ? spans[spans.length - 1]! : null;
      return;
    }
    const i = spans ? spans.indexOf(span) : -1;
    if (spans && i !== -1) {
      spans.splice(i, 1);
      this.span = spans[spans.length - 1] ?? null;
    } else {
      this.broker.logger?.warn(`The span '${span.name}' was not started by this context`);
    }
  }

  /**
   * Milliseconds left of this context's timeout, or `null` when it has none.
   *
   * @returns The remaining time, possibly zero or negative when it has run out.
   */
  remainingTime(): number | null {
    const timeout = this.#timeout;
    const start = this.startTime;
    if (timeout === null || timeout <= 0 || start === null) return null;
    return timeout - (Date.now() - start);
  }

  /**
   * Call an action as a child of this context: meta, level, requestID, caller
   * and the remaining timeout propagate, and the callee's meta changes are merged back.
   *
   * @param name Full action name, e.g. `"math.add"`.
   * @param params Params of the call.
   * @param opts Call options.
   * @returns The action's result.
   * @throws {ServiceNotFoundError} when no node serves the action.
   * @throws {RequestSkippedError} when this context's timeout has already run out.
   */
  call<N extends KnownAction>(name: N, ...args: CallArgs<N>): Promise<ActionResult<N>>;
  /**
   * Call an action the compiler does not know (not in `ServiceActions`) as a child of this
   * context; params and result are `unknown` unless given, as in Moleculer's `call<R, P>`.
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
    return this.broker.call<unknown>(name, params, {
      ...opts,
      parentCtx: this as Context,
    });
  }

  /**
   * Call several actions at once as children of this context (see `BrokerApi.mcall`): meta,
   * level, requestID, caller and the remaining timeout propagate to every call, and each callee's
   * meta changes are merged back.
   *
   * @param def The calls: an array (results in order) or an object of named calls (results by key).
   * @param opts Shared call options, and `settled`.
   * @returns The results in the shape of `def`.
   * @throws {MoleculerServerError} (`INVALID_PARAMETERS`) for a malformed definition.
   */
  mcall<R = unknown>(def: MCallDefinition[], opts?: MCallOptions): Promise<R[]>;
  /**
   * Call several named actions at once as children of this context; see the array form.
   *
   * @param def The calls by name.
   * @param opts Shared call options, and `settled`.
   * @returns The results by key.
   * @throws {MoleculerServerError} (`INVALID_PARAMETERS`) for a malformed definition.
   */
  mcall<R = unknown>(
    def: Record<string, MCallDefinition>,
    opts?: MCallOptions,
  ): Promise<Record<string, R>>;
  mcall(def: MCallDefinitions, opts?: MCallOptions): Promise<unknown> {
    return runMCall(
      (action, params, o) => this.broker.call(action, params, o),
      def,
      { ...opts, parentCtx: this as Context },
    );
  }

  /**
   * Emit a balanced event as a child of this context (meta and lineage propagate).
   *
   * @param name Event name.
   * @param data Event payload.
   * @param opts Emit options.
   */
  emit<N extends KnownEvent>(name: N, ...args: EmitArgs<N>): Promise<void>;
  /**
   * Emit an event the compiler does not know (not in `ServiceEvents`) as a child of this context.
   *
   * @param name Event name.
   * @param data Event payload.
   * @param opts Emit options.
   */
  emit<D = unknown, N extends string = string>(
    name: UnknownName<N, KnownEvent>,
    data?: D,
    opts?: EmitOptions,
  ): Promise<void>;
  emit(name: string, data?: unknown, opts?: EmitOptions): Promise<void> {
    return this.broker.emit<unknown>(name, data, {
      ...opts,
      parentCtx: this as Context,
    });
  }

  /**
   * Broadcast an event to every listener as a child of this context.
   *
   * @param name Event name.
   * @param data Event payload.
   * @param opts Emit options.
   */
  broadcast<N extends KnownEvent>(name: N, ...args: EmitArgs<N>): Promise<void>;
  /**
   * Broadcast an event the compiler does not know (not in `ServiceEvents`) to every listener as
   * a child of this context.
   *
   * @param name Event name.
   * @param data Event payload.
   * @param opts Emit options.
   */
  broadcast<D = unknown, N extends string = string>(
    name: UnknownName<N, KnownEvent>,
    data?: D,
    opts?: EmitOptions,
  ): Promise<void>;
  broadcast(name: string, data?: unknown, opts?: EmitOptions): Promise<void> {
    return this.broker.broadcast<unknown>(name, data, {
      ...opts,
      parentCtx: this as Context,
    });
  }
}
