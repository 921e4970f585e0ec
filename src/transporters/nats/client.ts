/**
 * The NATS client side of the NATS transporter: the connection to the server(s), reconnection,
 * and subject-level publish and subscribe on `@nats-io/nats-core`, over Deno's own sockets
 * (`DenoTransport` of `deno_transport.ts`, the default) or `@nats-io/transport-node`
 * (`transport: "node"`).
 *
 * The transporter (`nats.ts`) loads this module by `import()` when it connects, so a broker that
 * never connects to NATS never loads the client library.
 *
 * @example Subjects and bytes on a connection
 * ```ts ignore
 * import { NatsClient } from "./client.ts";
 * import { resolveNatsSettings } from "./options.ts";
 *
 * const client = new NatsClient(resolveNatsSettings("nats://127.0.0.1:4222"));
 * await client.connect({ onError: (e) => console.error(e) });
 * client.subscribe("MOL.INFO", (bytes) => console.log(bytes.length));
 * await client.publish("MOL.INFO", new TextEncoder().encode("{}"));
 * await client.disconnect();
 * ```
 *
 * @module
 */

import {
  type ConnectionOptions,
  errors as natsErrors,
  type NatsConnection,
  NatsConnectionImpl,
  setTransportFactory,
  type Subscription,
  type SubscriptionOptions,
  type TlsOptions,
} from "@nats-io/transport-node";
import type { TransportFactory } from "@nats-io/nats-core/internal";
import { nodeResolveHost, NodeTransport } from "@nats-io/transport-node/lib/node_transport.js";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { BrokerDisconnectedError } from "../../errors.ts";
import {
  cannotSubscribe,
  connectError,
  type ConnectFailure,
  connectionClosed,
  maxPayloadExceeded,
} from "./_errors.ts";
import { denoTransportFactory } from "./deno_transport.ts";
import type { TransporterListener, TransporterSubscription } from "../transporter.ts";
import {
  DEFAULT_DRAIN_TIMEOUT,
  DEFAULT_RECONNECT_TIME_WAIT,
  DEFAULT_TIMEOUT,
  type NatsSettings,
} from "./options.ts";
import { toError } from "../../_util/values.ts";
import { notifyListener, reportError } from "../_listener.ts";
import { notConnected } from "../_errors.ts";

/** Called with the bytes of each message of a subscription. */
export type NatsMessageHandler = (data: Uint8Array) => unknown;

/**
 * The Node transport of nats.js, hardened for Deno's `node:net`: there a socket that nats.js has
 * already closed (and stripped of listeners) can still emit a late `ECONNRESET` (seen after an
 * authorization failure), and an `error` event with no listener is an uncaught exception that
 * would kill the process. Each socket keeps a no-op `error` listener for its whole life.
 */
class GuardedNodeTransport extends NodeTransport {
  override async dial(hp: { hostname: string; port: number }): Promise<Socket> {
    return guard(await super.dial(hp));
  }

  override async tlsFirst(hp: { hostname: string; port: number }): Promise<TLSSocket> {
    return guard(await super.tlsFirst(hp));
  }

  override async startTLS(): Promise<TLSSocket> {
    return guard(await super.startTLS());
  }
}

const ignore = (): void => {};

function guard<S extends Socket>(socket: S): S {
  socket.on("error", ignore);
  const removeAll = socket.removeAllListeners;
  socket.removeAllListeners = function (this: S, ...args: [(string | symbol)?]): S {
    removeAll.apply(this, args);
    if (args.length === 0 || args[0] === "error") this.on("error", ignore);
    return this;
  };
  return socket;
}

/** What `connect()` of @nats-io/transport-node installs, with the hardened transport. */
const nodeTransportFactory: TransportFactory = {
  factory: () => new GuardedNodeTransport(),
  dnsResolveFn: nodeResolveHost,
};

/**
 * Make every later (re)dial of `nc` install `factory` first. nats-core asks its process-wide
 * factory for a new transport in `ProtocolHandler.prepare()`, synchronously, on each dial: doing
 * the install there keeps a reconnect on this connection's own transport even when another
 * connection of the process installed a different factory meanwhile.
 */
function pinTransportFactory(nc: NatsConnection, factory: TransportFactory): void {
  const protocol = (nc as Partial<NatsConnectionImpl>).protocol as unknown as
    | { prepare?: (...args: unknown[]) => unknown }
    | undefined;
  const prepare = protocol?.prepare;
  if (protocol === undefined || typeof prepare !== "function") return;
  protocol.prepare = function (this: unknown, ...args: unknown[]): unknown {
    setTransportFactory(factory);
    return prepare.apply(this, args);
  };
}

/**
 * One NATS connection (at a time) with subject-level publish and subscribe.
 *
 * - The first connection attempt is bounded: a refused connection, bad credentials or a handshake
 *   timeout reject {@linkcode NatsClient.connect} with a {@linkcode BrokerDisconnectedError}
 *   naming the URL and the cause.
 * - Once connected, the client reconnects by itself (forever by default) and restores the
 *   subscriptions; `listener.onDisconnect` / `onReconnect` report it.
 * - While the connection is down, {@linkcode NatsClient.publish} rejects with
 *   {@linkcode BrokerDisconnectedError}: the nats.js client would accept the message but drop it
 *   silently on its next reconnect attempt.
 */
export class NatsClient {
  /** The server URL(s), without credentials, e.g. `"nats://127.0.0.1:4222"`. */
  readonly url: string;

  readonly #servers: string[];
  readonly #credentials: { user?: string; pass?: string; token?: string };
  readonly #tls: Record<string, unknown> | undefined;
  readonly #options: NatsSettings["options"];
  readonly #transport: NatsSettings["transport"];

  #listener: TransporterListener = {};
  #nc: NatsConnection | undefined;
  #connecting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  /** True between a `disconnect` status and the following `reconnect`. */
  #down = false;
  #maxPayload: number | undefined;
  #watchers: Promise<unknown>[] = [];

  /**
   * Create the client. Nothing connects until {@linkcode NatsClient.connect}.
   *
   * @param settings The checked options (`resolveNatsSettings` of `options.ts`).
   */
  constructor(settings: NatsSettings) {
    this.url = settings.url;
    this.#servers = [...settings.servers];
    this.#credentials = { ...settings.credentials };
    this.#tls = settings.tls;
    this.#options = settings.options;
    this.#transport = settings.transport;
  }

  /** True while the connection is up (false while reconnecting, and after disconnect). */
  get connected(): boolean {
    const nc = this.#nc;
    return nc !== undefined && !nc.isClosed() && !this.#down && this.#closing === undefined;
  }

  /** The server's `max_payload` in bytes, known after connect; `undefined` before. */
  get maxPayload(): number | undefined {
    return this.#maxPayload;
  }

  /**
   * Connect to the server(s). Each server is tried once; reconnection after a later loss is left
   * to the client. Calling it while connected (or connecting) does not open a second connection.
   *
   * @param listener Connection-state callbacks.
   * @returns A promise that resolves once connected.
   * @throws {BrokerDisconnectedError} when no server can be reached or authentication fails; the
   *   message names the URL and the cause.
   */
  async connect(listener: TransporterListener): Promise<void> {
    this.#listener = listener;
    if (this.#closing) await this.#closing;
    if (this.#connecting) return this.#connecting;
    if (this.#nc && !this.#nc.isClosed()) return;
    this.#connecting = this.#open();
    try {
      await this.#connecting;
    } finally {
      this.#connecting = undefined;
    }
  }

  async #open(): Promise<void> {
    const o = this.#options;
    const opts: ConnectionOptions = {
      servers: this.#servers,
      maxReconnectAttempts: o.maxReconnectAttempts ?? -1,
      reconnectTimeWait: o.reconnectTimeWait ?? DEFAULT_RECONNECT_TIME_WAIT,
      waitOnFirstConnect: false,
      ...this.#credentials,
    };
    if (o.name !== undefined) opts.name = o.name;
    if (o.timeout !== undefined) opts.timeout = o.timeout;
    if (o.pingInterval !== undefined) opts.pingInterval = o.pingInterval;
    if (o.maxPingOut !== undefined) opts.maxPingOut = o.maxPingOut;
    if (this.#tls !== undefined) opts.tls = this.#tls as TlsOptions;

    // The factory is process-wide: install ours right before connecting, and pin it for the
    // reconnects of this connection.
    const factory = this.#transport === "node" ? nodeTransportFactory : denoTransportFactory;
    setTransportFactory(factory);
    let nc: NatsConnection;
    try {
      nc = await NatsConnectionImpl.connect(opts);
    } catch (error) {
      throw this.#connectError(error);
    }
    pinTransportFactory(nc, factory);
    this.#nc = nc;
    this.#down = false;
    this.#maxPayload = nc.info?.max_payload;
    this.#watch(nc);
  }

  #connectError(error: unknown): BrokerDisconnectedError {
    const cause = toError(error);
    const failure: ConnectFailure = cause instanceof natsErrors.AuthorizationError
      ? { auth: cause.message }
      : cause instanceof natsErrors.TimeoutError
      ? { timeout: this.#options.timeout ?? DEFAULT_TIMEOUT }
      : { message: cause.message || cause.name };
    return connectError(
      { url: this.url, credentials: this.#credentials, tls: this.#tls },
      failure,
      cause,
    );
  }

  #watch(nc: NatsConnection): void {
    const status = (async () => {
      for await (const s of nc.status()) {
        switch (s.type) {
          case "disconnect":
            if (!this.#down) {
              this.#down = true;
              this.#notify("onDisconnect");
            }
            break;
          case "reconnect":
            this.#maxPayload = nc.info?.max_payload ?? this.#maxPayload;
            if (this.#down) {
              this.#down = false;
              this.#notify("onReconnect");
            }
            break;
          case "error":
            this.#notifyError(s.error);
            break;
          case "slowConsumer":
            this.#notifyError(
              new Error(
                `NATS slow consumer on "${s.sub.getSubject()}": ${s.pending} messages pending`,
              ),
            );
            break;
        }
      }
    })().catch((error) => this.#notifyError(error));

    const closed = nc.closed().then((error) => {
      if (this.#closing !== undefined) return;
      // Closed without disconnect(): reconnect attempts exhausted, or an auth failure on reconnect.
      const wasDown = this.#down;
      this.#down = true;
      this.#notifyError(connectionClosed(this.url, error || undefined));
      if (!wasDown) this.#notify("onDisconnect");
    });
    this.#watchers = [status, closed];
  }

  #notify(event: "onDisconnect" | "onReconnect"): void {
    notifyListener(this.#listener, event);
  }

  #notifyError(error: unknown): void {
    reportError(this.#listener, error);
  }

  /**
   * Close the connection gracefully: subscriptions are drained and pending publishes flushed,
   * then the socket closes. Bounded by `drainTimeout`; when the connection is down it closes at
   * once. Idempotent.
   *
   * @returns A promise that resolves once the connection is closed.
   */
  async disconnect(): Promise<void> {
    if (this.#connecting) {
      try {
        await this.#connecting;
      } catch {
        // Nothing was opened.
      }
    }
    if (this.#closing) return this.#closing;
    const nc = this.#nc;
    if (!nc) return;
    this.#closing = this.#close(nc);
    try {
      await this.#closing;
    } finally {
      this.#nc = undefined;
      this.#down = false;
      this.#closing = undefined;
    }
  }

  async #close(nc: NatsConnection): Promise<void> {
    if (!nc.isClosed()) {
      if (this.#down) {
        await nc.close();
      } else {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timedOut = new Promise<boolean>((resolve) => {
          timer = setTimeout(
            () => resolve(true),
            this.#options.drainTimeout ?? DEFAULT_DRAIN_TIMEOUT,
          );
        });
        try {
          const drained = nc.drain().then(() => false, () => true);
          if (await Promise.race([drained, timedOut])) await nc.close();
        } finally {
          clearTimeout(timer);
        }
      }
    }
    await Promise.all(this.#watchers);
    this.#watchers = [];
  }

  /**
   * Subscribe to a subject, optionally in a queue group. Subscriptions survive reconnects.
   *
   * @param subject The subject; `*` and `>` wildcards allowed.
   * @param handler Receives each message's bytes. Errors it throws (or rejections it returns) go
   *   to `listener.onError`.
   * @param queue Optional queue group: each message goes to one member of the group.
   * @returns A handle whose `unsubscribe()` stops delivery (idempotent).
   * @throws {BrokerDisconnectedError} when not connected (never connected, or closed).
   * @throws {TypeError} when the subject is malformed.
   */
  subscribe(subject: string, handler: NatsMessageHandler, queue?: string): TransporterSubscription {
    const nc = this.#nc;
    if (!nc || nc.isClosed() || this.#closing) {
      throw cannotSubscribe(subject, this.url);
    }
    const opts: SubscriptionOptions = {
      callback: (err, msg) => {
        if (err) {
          this.#notifyError(err);
          return;
        }
        try {
          // Only the bytes: nats.js decodes `msg.subject` lazily (~150 ns a message on Deno).
          const result: unknown = handler(msg.data);
          if (result instanceof Promise) result.catch((e) => this.#notifyError(e));
        } catch (error) {
          this.#notifyError(error);
        }
      },
    };
    if (queue !== undefined && queue !== "") opts.queue = queue;
    let sub: Subscription;
    try {
      sub = nc.subscribe(subject, opts);
    } catch (error) {
      throw this.#mapError(error, subject);
    }
    let active = true;
    return {
      unsubscribe: () => {
        if (!active) return;
        active = false;
        try {
          sub.unsubscribe();
        } catch {
          // Already closed with the connection.
        }
      },
    };
  }

  /**
   * Publish bytes on a subject. Resolves once the message is handed to the client, which sends
   * it on its next flush (same tick).
   *
   * @param subject The subject.
   * @param data The payload.
   * @returns A promise that resolves once the message is queued on the connection.
   * @throws {BrokerDisconnectedError} when not connected, including while reconnecting.
   * @throws {MoleculerError} (500 `MAX_PAYLOAD_EXCEEDED`) when `data` is larger than the server's
   *   `max_payload`.
   */
  publish(subject: string, data: Uint8Array): Promise<void> {
    const nc = this.#nc;
    if (!nc || nc.isClosed() || this.#closing || this.#down) {
      return Promise.reject(notConnected(`publish to "${subject}"`, "NATS", this.url, this.#down));
    }
    const max = this.#maxPayload;
    if (max !== undefined && data.length > max) {
      return Promise.reject(maxPayloadExceeded(subject, data.length, max));
    }
    try {
      nc.publish(subject, data);
    } catch (error) {
      return Promise.reject(this.#mapError(error, subject, data.length));
    }
    return Promise.resolve();
  }

  #mapError(error: unknown, subject: string, size?: number): Error {
    if (
      error instanceof natsErrors.ClosedConnectionError ||
      error instanceof natsErrors.DrainingConnectionError
    ) {
      return new BrokerDisconnectedError(
        `NATS connection to ${this.url} is ${
          error instanceof natsErrors.ClosedConnectionError ? "closed" : "draining"
        } ("${subject}")`,
        { url: this.url },
        { cause: error },
      );
    }
    if (error instanceof natsErrors.InvalidSubjectError) {
      return new TypeError(`Invalid subject: ${JSON.stringify(subject)}`, { cause: error });
    }
    if (
      size !== undefined && error instanceof natsErrors.InvalidArgumentError &&
      /max_payload/.test(error.message)
    ) {
      const max = this.#nc?.info?.max_payload ?? this.#maxPayload ?? 0;
      return maxPayloadExceeded(subject, size, max);
    }
    return toError(error);
  }
}
