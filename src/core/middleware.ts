/**
 * The middleware contract and the registry that applies middlewares.
 *
 * Wrapping hooks are applied once, when an endpoint is registered, never per
 * call. The first middleware registered is the outermost wrapper.
 *
 * @module
 */

import type { BrokerApi } from "./broker_api.ts";
import type { CallOptions, Context, EmitOptions } from "./context.ts";
import type { Service } from "./service.ts";
import type { Visibility } from "./schema.ts";
import type { ParamsSchema } from "./schema.ts";
import { BrokerOptionsError } from "../errors.ts";

/** A handler in a wrapping chain. It may return a value or a promise. */
// deno-lint-ignore no-explicit-any
export type Handler = (ctx: Context<any, any>) => unknown;

/** What a middleware sees of the action it wraps. */
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
 * The hooks a middleware may define. Every hook is optional.
 *
 * Wrapping hooks return a new handler that usually calls `next`. Lifecycle
 * hooks run in registration order, except `brokerStopped` and `serviceStopped`,
 * which run in reverse (the outermost middleware stops last, as in Moleculer);
 * async ones are awaited.
 */
export interface MiddlewareHooks {
  /** A name for logs. */
  readonly name?: string;
  /** Wrap a local action handler (also used for requests arriving from other nodes). */
  localAction?(next: Handler, action: ActionInfo): Handler;
  /** Wrap the sending of a request to a remote action. */
  remoteAction?(next: Handler, action: ActionInfo): Handler;
  /** Wrap a local event handler (also used for events arriving from other nodes). */
  localEvent?(next: Handler, event: EventInfo): Handler;
  /** Wrap `broker.call`. */
  call?(next: CallHandler): CallHandler;
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
  /** The broker was constructed (sync). Moleculer's name: `created`. */
  brokerCreated?(broker: BrokerApi): void;
  /** Moleculer's name for `brokerCreated`. */
  created?(broker: BrokerApi): void;
  /** The broker has started. Moleculer's name: `started`. */
  brokerStarted?(broker: BrokerApi): void | Promise<void>;
  /** Moleculer's name for `brokerStarted`. */
  started?(broker: BrokerApi): void | Promise<void>;
  /** The broker has stopped. Moleculer's name: `stopped`. */
  brokerStopped?(broker: BrokerApi): void | Promise<void>;
  /** Moleculer's name for `brokerStopped`. */
  stopped?(broker: BrokerApi): void | Promise<void>;
  /** A service was created (after its `created` handlers). */
  serviceCreated?(service: Service): void | Promise<void>;
  /** A service has started. */
  serviceStarted?(service: Service): void | Promise<void>;
  /** A service has stopped. */
  serviceStopped?(service: Service): void | Promise<void>;
}

/**
 * Base class for class-style middlewares: extend it and define any of the
 * {@linkcode MiddlewareHooks}.
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

/** A middleware: a {@linkcode Middleware} subclass instance or a plain hooks object. */
export type MiddlewareOption = MiddlewareHooks | Middleware;

/** The wrapping hooks applied to endpoint handlers. */
export type WrapHook = "localAction" | "remoteAction" | "localEvent";
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
  | "brokerStarted"
  | "brokerStopped"
  | "serviceCreated"
  | "serviceStarted"
  | "serviceStopped";

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
  "call",
  "emit",
  "broadcast",
  "broadcastLocal",
  "transitPublish",
  "transitMessageHandler",
  "transporterSend",
  "transporterReceive",
  "brokerCreated",
  "created",
  "brokerStarted",
  "started",
  "brokerStopped",
  "stopped",
  "serviceCreated",
  "serviceStarted",
  "serviceStopped",
]);

function hookOf(mw: MiddlewareHooks, hook: keyof MiddlewareHooks): unknown {
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
   * @param mw The middleware.
   * @throws {BrokerOptionsError} when it is not an object or names no known hook.
   */
  add(mw: MiddlewareOption): void;
}

/**
 * Holds a broker's middlewares and applies them. Used by the broker; exposed
 * for custom wiring and tests.
 */
export class MiddlewareRegistry implements MiddlewaresView {
  readonly #list: MiddlewareHooks[] = [];

  /**
   * Add a middleware at the end (innermost so far).
   *
   * @param mw The middleware.
   * @throws {BrokerOptionsError} when it is not an object or names no known hook.
   */
  add(mw: MiddlewareOption): void {
    if (mw === null || typeof mw !== "object") {
      throw new BrokerOptionsError(
        `A middleware must be an object or a Middleware instance, got ${typeof mw}`,
        { middleware: String(mw) },
      );
    }
    const hooks = mw as MiddlewareHooks;
    const names = new Set<string>();
    for (
      let o: object | null = mw;
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
    this.#list.push(hooks);
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
   * Wrap a handler with every middleware's `hook`, the first registered outermost.
   *
   * @param hook Which wrapping hook.
   * @param handler The innermost handler.
   * @param info The action or event being wrapped.
   * @returns The wrapped handler.
   */
  wrap(
    hook: WrapHook,
    handler: Handler,
    info: ActionInfo | EventInfo,
  ): Handler {
    let h = handler;
    for (let i = this.#list.length - 1; i >= 0; i--) {
      const mw = this.#list[i]!;
      const fn = hookOf(mw, hook) as
        | ((next: Handler, info: ActionInfo | EventInfo) => Handler)
        | undefined;
      if (fn) h = fn.call(mw, h, info) ?? h;
    }
    return h;
  }

  /**
   * Wrap a broker method (`call`, `emit`, ...) with every middleware's hook of that name.
   *
   * @param hook The method name.
   * @param fn The broker's own implementation.
   * @returns The wrapped function.
   */
  wrapMethod<F extends CallHandler | EmitHandler>(
    hook: "call" | "emit" | "broadcast" | "broadcastLocal",
    fn: F,
  ): F {
    let h = fn;
    for (let i = this.#list.length - 1; i >= 0; i--) {
      const mw = this.#list[i]!;
      const wrap = hookOf(mw, hook) as ((next: F) => F) | undefined;
      if (wrap) h = wrap.call(mw, h) ?? h;
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
   * Run a synchronous lifecycle hook on every middleware, in order.
   *
   * @param hook `brokerCreated`.
   * @param arg The broker.
   */
  callSync(hook: "brokerCreated", arg: BrokerApi): void {
    for (const mw of this.#list) {
      const fn = hookOf(mw, hook) as ((a: unknown) => void) | undefined;
      fn?.call(mw, arg);
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
      if (fn) await fn.call(mw, arg);
    }
  }
}
