/**
 * The middleware contract and the registry that applies middlewares.
 *
 * Wrapping hooks are applied once, when an endpoint is registered, never per
 * call. The first middleware registered is the outermost wrapper.
 *
 * @module
 */

import type { LogBindings } from "../logging.ts";
import type { BrokerApi } from "./broker_api.ts";
import type { CallOptions, Context, EmitOptions } from "./context.ts";
import type { Service } from "./service.ts";
import type { Visibility } from "./schema.ts";
import type { ParamsSchema } from "./schema.ts";
import { BrokerOptionsError } from "../errors.ts";

/** A handler in a wrapping chain. It may return a value or a promise. */
// deno-lint-ignore no-explicit-any
export type Handler = (ctx: Context<any, any>) => unknown;

/**
 * What a middleware sees of the action it wraps. For a local action it also carries every key of
 * the action's definition, custom ones included (`action.myFlag`), as Moleculer hands the
 * definition itself to `localAction`.
 */
export interface ActionInfo {
  /** Full action name. */
  readonly name: string;
  /** Short name. */
  readonly rawName: string | undefined;
  /** The local service, or null for a remote action. */
  readonly service: Service | null;
  /** Params schema, if any. */
  readonly params: ParamsSchema | undefined;
  /** Visibility. */
  readonly visibility: Visibility;
  /** Action timeout in ms, if any. */
  readonly timeout: number | undefined;
  /** The action definition (for a remote action: as announced by its node). */
  readonly schema: Readonly<Record<string, unknown>>;
  /** A custom key of the definition, e.g. `action.myFlag` (local actions). */
  readonly [custom: string]: unknown;
}

/** What a `localMethod` middleware sees of the service method it wraps (Moleculer's shape). */
export interface MethodInfo {
  /** The method's name. */
  readonly name: string;
  /** The service owning it. */
  readonly service: Service;
  /** The method, bound to the service. */
  readonly handler: (...args: unknown[]) => unknown;
  /** A custom key of a `{ handler, ... }` method definition. */
  readonly [custom: string]: unknown;
}

/** What a middleware sees of the event handler it wraps. */
export interface EventInfo {
  /** Subscription name (may be a pattern). */
  readonly name: string;
  /** Group of the handler. */
  readonly group: string;
  /** The local service. */
  readonly service: Service;
  /** Params schema, if any. */
  readonly params: ParamsSchema | undefined;
  /** The event definition. */
  readonly schema: Readonly<Record<string, unknown>>;
}

/** `broker.call` as a middleware sees it. */
export type CallHandler = (
  name: string,
  params: unknown,
  opts: CallOptions,
) => Promise<unknown>;
/** `broker.emit` / `broadcast` / `broadcastLocal` as a middleware sees them. */
export type EmitHandler = (
  name: string,
  data: unknown,
  opts: EmitOptions,
) => Promise<void>;

/** A wrapping function of the broker's methods: `(next) => (...args) => next(...args)`. */
// deno-lint-ignore no-explicit-any
export type MethodWrapper<F = (...args: any[]) => any> = (next: F) => F;

/**
 * A packet as transit publishes it and as the `transitPublish` and `transitMessageHandler`
 * hooks see it: Moleculer's `Packet`, before serialization (or after deserialization).
 */
export interface TransitPacket {
  /** The packet type, e.g. `"REQ"`, `"INFO"`. */
  readonly type: string;
  /**
   * The node it is for; null when it goes to every node, or (a `REQ` or an `EVENT` with
   * `groups`) to a balanced queue, and for a packet received.
   */
  readonly target: string | null;
  /** The payload: a plain object, `ver` and `sender` included once it is serialized. */
  readonly payload: Record<string, unknown>;
}

/** What the `transporterSend` hook is told of the bytes it handles (Moleculer's `meta`). */
export interface TransporterSendMeta {
  /** The packet the bytes were serialized from. */
  readonly packet: TransitPacket;
  /** True when the bytes go to a balanced queue (`disableBalancer`). */
  readonly balanced?: boolean;
  /** The event group of a balanced `EVENT` copy. */
  readonly group?: string;
}

/** Transit's `publish` as the `transitPublish` hook wraps it. */
export type TransitPublishHandler = (packet: TransitPacket) => Promise<void>;
/**
 * Transit's handler of a received packet, as the `transitMessageHandler` hook wraps it. It
 * resolves with true when the packet was processed.
 */
export type TransitMessageHandler = (cmd: string, packet: TransitPacket) => Promise<boolean>;
/**
 * The sending of a serialized packet, as the `transporterSend` hook wraps it. `topic` is the
 * topic Moleculer's NATS transporter would publish on (for logs: the packet goes where
 * `meta.packet` says); `data` is what goes on the wire.
 */
export type TransporterSendHandler = (
  topic: string,
  data: Uint8Array,
  meta: TransporterSendMeta,
) => Promise<void>;
/**
 * The receiving of a packet's bytes, as the `transporterReceive` hook wraps it: `cmd` is the
 * packet type of the subscription it came on, `data` the bytes, `s` what the transporter adds
 * (nothing, on the built-in transporters). What it returns (or rejects with) is awaited; a
 * rejection drops the packet with a warning.
 */
export type TransporterReceiveHandler = (
  cmd: string,
  data: Uint8Array,
  s?: unknown,
) => unknown;

/**
 * The hooks a middleware may define, under Moleculer's names. Every hook is optional. Inside a
 * hook `this` is the broker (as in Moleculer); in a {@linkcode Middleware} subclass it is the
 * instance.
 *
 * Wrapping hooks return a new handler that usually calls `next`. Lifecycle hooks run in
 * registration order, except `stopping`, `stopped`, `serviceStopping` and `serviceStopped`,
 * which run in reverse (the outermost middleware stops last, as in Moleculer); async ones are
 * awaited.
 */
export interface MiddlewareHooks {
  /** A name for logs. */
  readonly name?: string;
  /**
   * Wrap a local action handler (also used for requests arriving from other nodes). `action` is
   * the action's definition, custom keys included.
   */
  localAction?(next: Handler, action: ActionInfo): Handler;
  /** Wrap the sending of a request to a remote action. */
  remoteAction?(next: Handler, action: ActionInfo): Handler;
  /** Wrap a local event handler (also used for events arriving from other nodes). */
  localEvent?(next: Handler, event: EventInfo): Handler;
  /** Wrap a method of a local service (`this.myMethod(...)`); `next` takes the method's arguments. */
  localMethod?(
    next: (...args: unknown[]) => unknown,
    method: MethodInfo,
  ): (...args: unknown[]) => unknown;
  /** Wrap `broker.call`. */
  call?(next: CallHandler): CallHandler;
  /** Wrap `broker.mcall`: `(def, opts) => Promise`. */
  mcall?: MethodWrapper;
  /** Wrap `broker.emit`. */
  emit?(next: EmitHandler): EmitHandler;
  /** Wrap `broker.broadcast`. */
  broadcast?(next: EmitHandler): EmitHandler;
  /** Wrap `broker.broadcastLocal`. */
  broadcastLocal?(next: EmitHandler): EmitHandler;
  /** Wrap transit's publishing of a packet (before serialization). */
  transitPublish?(next: TransitPublishHandler): TransitPublishHandler;
  /** Wrap transit's handling of a received packet (after deserialization and screening). */
  transitMessageHandler?(next: TransitMessageHandler): TransitMessageHandler;
  /** Wrap the sending of a packet's bytes (after serialization): compression, encryption. */
  transporterSend?(next: TransporterSendHandler): TransporterSendHandler;
  /** Wrap the receiving of a packet's bytes (before deserialization). */
  transporterReceive?(next: TransporterReceiveHandler): TransporterReceiveHandler;
  /** Wrap `broker.createService`: `(schema, schemaMods) => Service`. */
  createService?: MethodWrapper;
  /** Wrap the registration of a started local service's endpoints: `(item) => void`. */
  registerLocalService?: MethodWrapper;
  /** Wrap `broker.destroyService`: `(service) => Promise`. */
  destroyService?: MethodWrapper;
  /** The broker was constructed (sync). Moleculer's name: `created`. */
  brokerCreated?(broker: BrokerApi): void;
  /** Moleculer's name for `brokerCreated`. */
  created?(broker: BrokerApi): void;
  /** The broker is starting: before the transporter connects. */
  starting?(broker: BrokerApi): void | Promise<void>;
  /** The broker has started. Moleculer's name: `started`. */
  brokerStarted?(broker: BrokerApi): void | Promise<void>;
  /** Moleculer's name for `brokerStarted`. */
  started?(broker: BrokerApi): void | Promise<void>;
  /** The broker is stopping: before its services stop (reverse order). */
  stopping?(broker: BrokerApi): void | Promise<void>;
  /** The broker has stopped. Moleculer's name: `stopped`. */
  brokerStopped?(broker: BrokerApi): void | Promise<void>;
  /** Moleculer's name for `brokerStopped`. */
  stopped?(broker: BrokerApi): void | Promise<void>;
  /** A service is being created, its mixins merged: `schema` may still be changed (sync). */
  serviceCreating?(service: Service, schema: Record<string, unknown>): void;
  /** A service was created (after its `created` handlers). */
  serviceCreated?(service: Service): void | Promise<void>;
  /** A service is starting: before its dependencies are waited for and `started` runs. */
  serviceStarting?(service: Service): void | Promise<void>;
  /** A service has started. */
  serviceStarted?(service: Service): void | Promise<void>;
  /** A service is stopping: before its `stopped` handlers (reverse order). */
  serviceStopping?(service: Service): void | Promise<void>;
  /** A service has stopped. */
  serviceStopped?(service: Service): void | Promise<void>;
  /** A log entry is being written: `type` is the level, `args` the logger's arguments (sync). */
  newLogEntry?(type: string, args: unknown[], bindings: LogBindings): void;
}

/**
 * Base class for class-style middlewares: extend it and define any of the
 * {@linkcode MiddlewareHooks}. Inside its hooks `this` is the instance.
 *
 * @example
 * ```ts ignore
 * class Timing extends Middleware {
 *   localAction(next: Handler, action: ActionInfo): Handler {
 *     return async (ctx) => {
 *       const t = performance.now();
 *       try { return await next(ctx); }
 *       finally { console.log(action.name, performance.now() - t); }
 *     };
 *   }
 * }
 * ```
 */
export abstract class Middleware {
  /** A name for logs; defaults to the class name. */
  get name(): string {
    return this.constructor.name;
  }
}

/** A middleware factory as Moleculer users write them: called once with the broker. */
export type MiddlewareFactory = (
  this: BrokerApi,
  broker: BrokerApi,
) => MiddlewareHooks | Middleware | null | undefined;

/**
 * A middleware: a {@linkcode Middleware} subclass instance, a plain hooks object, a factory
 * `(broker) => hooks`, or the name of a built-in (`"Retry"`, `"Timeout"`, …).
 */
export type MiddlewareOption = MiddlewareHooks | Middleware | MiddlewareFactory | string;

/** The wrapping hooks applied to endpoint handlers. */
export type WrapHook = "localAction" | "remoteAction" | "localEvent" | "localMethod";
/** The broker methods middlewares may wrap. */
export type MethodHook =
  | "call"
  | "mcall"
  | "emit"
  | "broadcast"
  | "broadcastLocal"
  | "createService"
  | "registerLocalService"
  | "destroyService";
/** The hooks that wrap transit and its transporter, in Moleculer's order. */
export type TransitHook =
  | "transitPublish"
  | "transitMessageHandler"
  | "transporterSend"
  | "transporterReceive";

/** The handler each {@linkcode TransitHook} wraps. */
export interface TransitHandlers {
  /** Transit's `publish`. */
  transitPublish: TransitPublishHandler;
  /** Transit's handler of received packets. */
  transitMessageHandler: TransitMessageHandler;
  /** The sending of bytes. */
  transporterSend: TransporterSendHandler;
  /** The receiving of bytes. */
  transporterReceive: TransporterReceiveHandler;
}

/** The asynchronous lifecycle hooks. */
export type LifecycleHook =
  | "starting"
  | "brokerStarted"
  | "stopping"
  | "brokerStopped"
  | "serviceCreated"
  | "serviceStarting"
  | "serviceStarted"
  | "serviceStopping"
  | "serviceStopped";
/** The synchronous hooks. */
export type SyncHook = "brokerCreated" | "serviceCreating" | "newLogEntry";

const ALIASES: Partial<Record<string, keyof MiddlewareHooks>> = {
  brokerCreated: "created",
  brokerStarted: "started",
  brokerStopped: "stopped",
};

const KNOWN = new Set([
  "name",
  "localAction",
  "remoteAction",
  "localEvent",
  "localMethod",
  "call",
  "mcall",
  "emit",
  "broadcast",
  "broadcastLocal",
  "transitPublish",
  "transitMessageHandler",
  "transporterSend",
  "transporterReceive",
  "createService",
  "registerLocalService",
  "destroyService",
  "brokerCreated",
  "created",
  "starting",
  "brokerStarted",
  "started",
  "stopping",
  "brokerStopped",
  "stopped",
  "serviceCreating",
  "serviceCreated",
  "serviceStarting",
  "serviceStarted",
  "serviceStopping",
  "serviceStopped",
  "newLogEntry",
]);

function hookOf(mw: MiddlewareHooks, hook: string): unknown {
  const direct = (mw as Record<string, unknown>)[hook];
  if (typeof direct === "function") return direct;
  const alias = ALIASES[hook];
  const aliased = alias ? (mw as Record<string, unknown>)[alias] : undefined;
  return typeof aliased === "function" ? aliased : undefined;
}

/** A broker's middlewares as it shows them (`broker.middlewares`). */
export interface MiddlewaresView {
  /** Number of middlewares registered (built-in ones included). */
  readonly count: number;
  /**
   * True when some middleware defines `hook`.
   *
   * @param hook A hook name.
   */
  has(hook: keyof MiddlewareHooks): boolean;
  /**
   * Add a middleware at the end (innermost so far). Handlers wrapped before stay as they are:
   * add middlewares through the `middlewares` option to wrap every service.
   *
   * @param mw The middleware, a factory or a built-in's name.
   * @throws {BrokerOptionsError} when it is not one or names no known hook.
   */
  add(mw: MiddlewareOption): void;
}

/** How a {@linkcode MiddlewareRegistry} resolves factories and built-in names. */
export interface MiddlewareRegistryOptions {
  /** The broker: passed to factories and bound as `this` in the hooks of plain objects. */
  readonly owner?: BrokerApi;
  /**
   * A built-in middleware by name (`"Retry"`), or undefined for an unknown name.
   *
   * @param name The name.
   */
  builtin?(name: string): MiddlewareHooks | undefined;
  /** The names `builtin` knows, for the message of an unknown one. */
  readonly builtinNames?: readonly string[];
}

/**
 * Holds a broker's middlewares and applies them. Used by the broker; exposed
 * for custom wiring and tests.
 *
 * Two sections, as in Moleculer: the internal middlewares (added with `addInternal`, first
 * outermost) wrap the user's (added with `add`, first outermost of them), so a user's
 * `localAction` runs inside the validator and the action hooks, closest to the handler.
 */
export class MiddlewareRegistry implements MiddlewaresView {
  readonly #list: MiddlewareHooks[] = [];
  #internal = 0;
  readonly #opts: MiddlewareRegistryOptions;

  /**
   * @param opts The broker and the built-ins by name.
   */
  constructor(opts: MiddlewareRegistryOptions = {}) {
    this.#opts = opts;
  }

  #resolve(mw: MiddlewareOption): MiddlewareHooks | null {
    let value: unknown = mw;
    if (typeof value === "string") {
      const found = this.#opts.builtin?.(value);
      if (!found) {
        const known = this.#opts.builtinNames;
        throw new BrokerOptionsError(
          `Unknown built-in middleware '${value}'` +
            (known?.length ? `. Built-in middlewares: ${known.join(", ")}` : ""),
          { middleware: value },
        );
      }
      value = found;
    }
    if (typeof value === "function") {
      const owner = this.#opts.owner;
      value = (value as (b: unknown) => unknown).call(owner, owner);
    }
    if (value === null || value === undefined || value === false) return null;
    if (typeof value !== "object") {
      throw new BrokerOptionsError(
        `A middleware must be an object, a factory function or a built-in's name, got ${typeof value}`,
        { middleware: String(value) },
      );
    }
    const hooks = value as MiddlewareHooks;
    const names = new Set<string>();
    for (
      let o: object | null = hooks;
      o && o !== Object.prototype;
      o = Object.getPrototypeOf(o)
    ) {
      for (const k of Object.getOwnPropertyNames(o)) names.add(k);
    }
    if (![...names].some((k) => k !== "name" && KNOWN.has(k))) {
      throw new BrokerOptionsError(
        `Middleware '${hooks.name ?? "anonymous"}' defines none of the known hooks (${
          [...KNOWN].filter((k) => k !== "name").join(", ")
        })`,
      );
    }
    return hooks;
  }

  /**
   * Add a user middleware at the end (innermost so far). A factory is called with the broker;
   * a string names a built-in; null, undefined and false are skipped (as in Moleculer).
   *
   * @param mw The middleware.
   * @throws {BrokerOptionsError} when it is not one or names no known hook.
   */
  add(mw: MiddlewareOption): void {
    const hooks = this.#resolve(mw);
    if (hooks) this.#list.push(hooks);
  }

  /**
   * Add an internal middleware after the internal ones so far and outside every user one.
   *
   * @param mw The middleware.
   * @throws {BrokerOptionsError} when it is not one.
   */
  addInternal(mw: MiddlewareHooks): void {
    const hooks = this.#resolve(mw);
    if (hooks) this.#list.splice(this.#internal++, 0, hooks);
  }

  /** Number of middlewares registered. */
  get count(): number {
    return this.#list.length;
  }

  /** True when some middleware defines `hook`. */
  has(hook: keyof MiddlewareHooks): boolean {
    return this.#list.some((mw) => hookOf(mw, hook) !== undefined);
  }

  /**
   * True when a user middleware (not an internal one) defines `hook`.
   *
   * @param hook A hook name.
   * @returns Whether one does.
   */
  userHas(hook: keyof MiddlewareHooks): boolean {
    return this.#list.slice(this.#internal).some((mw) => hookOf(mw, hook) !== undefined);
  }

  /** `this` inside a middleware's hooks: the instance for a class, else the broker. */
  #self(mw: MiddlewareHooks): unknown {
    return mw instanceof Middleware ? mw : this.#opts.owner ?? mw;
  }

  /**
   * Wrap a handler with every middleware's `hook`, the first registered outermost.
   *
   * @param hook Which wrapping hook.
   * @param handler The innermost handler.
   * @param info The action, event or method being wrapped.
   * @returns The wrapped handler.
   */
  wrap(
    hook: "localAction" | "remoteAction" | "localEvent",
    handler: Handler,
    info: ActionInfo | EventInfo,
  ): Handler;
  /** Wrap a service method with every middleware's `localMethod`, the first registered outermost. */
  wrap(
    hook: "localMethod",
    handler: (...args: unknown[]) => unknown,
    info: MethodInfo,
  ): (...args: unknown[]) => unknown;
  wrap(
    hook: WrapHook,
    handler: (...args: never[]) => unknown,
    info: ActionInfo | EventInfo | MethodInfo,
  ): unknown {
    type H = typeof handler;
    let h = handler;
    for (let i = this.#list.length - 1; i >= 0; i--) {
      const mw = this.#list[i]!;
      const fn = hookOf(mw, hook) as ((next: H, info: unknown) => H) | undefined;
      if (fn) h = fn.call(this.#self(mw), h, info) ?? h;
    }
    return h;
  }

  /**
   * Wrap a broker method (`call`, `emit`, `createService`, ...) with every middleware's hook of
   * that name.
   *
   * @param hook The method name.
   * @param fn The broker's own implementation.
   * @returns The wrapped function.
   */
  // deno-lint-ignore no-explicit-any
  wrapMethod<F extends (...args: any[]) => any>(hook: MethodHook, fn: F): F {
    let h = fn;
    for (let i = this.#list.length - 1; i >= 0; i--) {
      const mw = this.#list[i]!;
      const wrap = hookOf(mw, hook) as ((next: F) => F) | undefined;
      if (wrap) h = wrap.call(this.#self(mw), h) ?? h;
    }
    return h;
  }

  /**
   * Wrap one of transit's handlers with every middleware's hook of that name, in Moleculer's
   * order, so that the same `middlewares` list makes the same bytes on a Moleculer node and on
   * this one: the first middleware registered is the nearest to the transporter for
   * `transitPublish`, `transporterSend` and `transporterReceive` (it compresses last and
   * decompresses first), and the nearest to the packet handler for `transitMessageHandler`.
   *
   * @param hook The hook.
   * @param fn Transit's own handler.
   * @returns The wrapped handler; `fn` itself when no middleware defines the hook.
   */
  wrapTransit<K extends TransitHook>(hook: K, fn: TransitHandlers[K]): TransitHandlers[K] {
    const list = hook === "transporterReceive" ? [...this.#list].reverse() : this.#list;
    let h = fn;
    for (const mw of list) {
      const wrap = hookOf(mw, hook) as
        | ((next: TransitHandlers[K]) => TransitHandlers[K])
        | undefined;
      if (wrap) h = wrap.call(mw, h) ?? h;
    }
    return h;
  }

  /**
   * The names of the middlewares that define `hook`, in registration order (for messages).
   *
   * @param hook A hook name.
   * @returns Their names (`"anonymous"` for one without a name).
   */
  namesWith(hook: keyof MiddlewareHooks): string[] {
    return this.#list.filter((mw) => hookOf(mw, hook) !== undefined).map((mw) =>
      typeof mw.name === "string" && mw.name ? mw.name : "anonymous"
    );
  }

  /**
   * Run a synchronous hook on every middleware, in order.
   *
   * @param hook `brokerCreated`, `serviceCreating` or `newLogEntry`.
   * @param args Its arguments.
   */
  callSync(hook: SyncHook, ...args: unknown[]): void {
    for (const mw of this.#list) {
      const fn = hookOf(mw, hook) as ((...a: unknown[]) => void) | undefined;
      fn?.apply(this.#self(mw), args);
    }
  }

  /**
   * Run an async lifecycle hook on every middleware, one after the other.
   *
   * @param hook The hook.
   * @param arg The broker or the service.
   * @param reverse Last registered first (Moleculer's order for the stop hooks).
   */
  async callAsync(
    hook: LifecycleHook,
    arg: BrokerApi | Service,
    reverse = false,
  ): Promise<void> {
    const list = reverse ? [...this.#list].reverse() : this.#list;
    for (const mw of list) {
      const fn = hookOf(mw, hook) as ((a: unknown) => unknown) | undefined;
      if (fn) await fn.call(this.#self(mw), arg);
    }
  }
}
