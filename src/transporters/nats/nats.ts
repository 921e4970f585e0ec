/**
 * The NATS transporter: joins a Moleculer cluster through a NATS server.
 *
 * Built on the official client (`@nats-io/nats-core`), over Deno's own sockets
 * (`DenoTransport` of `nats_deno.ts`, the default) or `@nats-io/transport-node` (`transport: "node"`).
 * Moleculer nodes using `transporter: "nats://…"` on the same server and namespace see this node
 * as a peer.
 *
 * @example Connect to a server
 * ```ts ignore
 * import { NatsTransporter } from "./nats.ts";
 *
 * const nats = new NatsTransporter("nats://user:secret@127.0.0.1:4222");
 * await nats.connect({
 *   onDisconnect: () => console.log("lost NATS, reconnecting"),
 *   onReconnect: () => console.log("back"),
 *   onError: (e) => console.error(e),
 * });
 * nats.subscribe("MOL.INFO", (bytes) => console.log(bytes.length));
 * await nats.publish("MOL.INFO", new TextEncoder().encode("{}"));
 * await nats.disconnect();
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
import { BrokerDisconnectedError, BrokerOptionsError, MoleculerError } from "../../errors.ts";
import { denoTransportFactory } from "./deno_transport.ts";
import type {
  MessageHandler,
  Transporter,
  TransporterListener,
  TransporterSubscription,
} from "../transporter.ts";
import { toError } from "../../_util/values.ts";

/** Options of {@linkcode NatsTransporter}. */
export interface NatsTransporterOptions {
  /**
   * Server URL(s): `"nats://host:4222"`, `"host:4222"`, a comma-separated list, or an array.
   * A URL may carry credentials (`nats://user:pass@host`, `nats://token@host`); `tls://` asks for
   * TLS.
   *
   * @default {"nats://127.0.0.1:4222"}
   */
  servers?: string | string[];
  /**
   * Moleculer's spelling of {@linkcode NatsTransporterOptions.servers}: a URL or comma-separated
   * URLs. Used when `servers` is not given.
   */
  url?: string;
  /** User name for user/password authentication; overrides one given in a URL. */
  user?: string;
  /** Password for user/password authentication; overrides one given in a URL. */
  pass?: string;
  /** Authentication token; overrides one given in a URL. */
  token?: string;
  /**
   * TLS options passed to the NATS client (`caFile`, `certFile`, `keyFile`, `ca`, `cert`, `key`,
   * `handshakeFirst`, `rejectUnauthorized`). An empty object requires TLS with defaults.
   *
   * @default {undefined} (TLS only when a URL uses `tls://` or the server requires it)
   */
  tls?: Record<string, unknown>;
  /**
   * Reconnect attempts per server before giving up; `-1` retries forever.
   *
   * @default {-1}
   */
  maxReconnectAttempts?: number;
  /**
   * Milliseconds to wait between reconnect attempts to the same server.
   *
   * @default {2000}
   */
  reconnectTimeWait?: number;
  /**
   * Client name shown in the server's monitoring pages.
   *
   * @default {undefined}
   */
  name?: string;
  /**
   * Milliseconds allowed for each connection handshake (TCP, TLS and the server's reply).
   *
   * @default {20000}
   */
  timeout?: number;
  /**
   * Milliseconds between client pings, used to detect a dead connection.
   *
   * @default {120000}
   */
  pingInterval?: number;
  /**
   * Unanswered pings after which the connection is considered stale and is re-established.
   *
   * @default {2}
   */
  maxPingOut?: number;
  /**
   * Longest wait, in milliseconds, for {@linkcode NatsTransporter.disconnect} to drain the
   * connection before it closes it outright.
   *
   * @default {5000}
   */
  drainTimeout?: number;
  /**
   * The NATS client's socket layer.
   *
   * - `"deno"`: `DenoTransport` (`nats_deno.ts`) on `Deno.connect` / `Deno.startTls` / `Deno.connectTls`
   *   (measured faster: less CPU per received message, lower tail latency). TLS uses the system
   *   roots plus `tls.ca` / `tls.caFile`; a client certificate needs `tls.handshakeFirst`
   *   (nats-server ≥ 2.10.4), and `tls.rejectUnauthorized: false` is not available.
   * - `"node"`: `@nats-io/transport-node` over Deno's `node:net` / `node:tls` emulation. Use it for
   *   a client certificate on a server that does not support `handshakeFirst`, or for
   *   `rejectUnauthorized: false`.
   *
   * The client's transport factory is process-wide in nats-core: the transporter installs its
   * choice right before connecting and again before each of its reconnects. Two transporters with
   * different choices in one process may still race if they connect at the same moment; keep one
   * choice per process to be sure.
   *
   * @default {"deno"}
   */
  transport?: "deno" | "node";
}

/** Settings after URL parsing: host:port list for the client, credentials split out. */
interface ResolvedOptions {
  /** `host:port` entries for the client. */
  servers: string[];
  /** The servers as URLs without credentials, for messages. */
  display: string;
  user?: string;
  pass?: string;
  token?: string;
  tls?: Record<string, unknown>;
}

const DEFAULT_SERVER = "nats://127.0.0.1:4222";
const DEFAULT_DRAIN_TIMEOUT = 5_000;
const DEFAULT_RECONNECT_TIME_WAIT = 2_000;

function splitServers(value: string | string[]): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.flatMap((s) => String(s).split(",")).map((s) => s.trim()).filter((s) => s !== "");
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** Parse server URLs, pulling credentials and the `tls://` scheme out of them. */
function resolveServers(list: string[]): ResolvedOptions {
  const out: ResolvedOptions = { servers: [], display: "" };
  const shown: string[] = [];
  for (const raw of list) {
    const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `nats://${raw}`;
    let url: URL;
    try {
      url = new URL(withScheme);
    } catch (cause) {
      throw new BrokerOptionsError(`Invalid NATS server URL "${mask(raw)}"`, {
        url: mask(raw),
      }, { cause });
    }
    const scheme = url.protocol.toLowerCase();
    if (scheme !== "nats:" && scheme !== "tls:") {
      throw new BrokerOptionsError(
        `Invalid NATS server URL "${mask(raw)}": the scheme must be nats:// or tls://`,
        { url: mask(raw) },
      );
    }
    if (url.hostname === "") {
      throw new BrokerOptionsError(`Invalid NATS server URL "${mask(raw)}": no host`, {
        url: mask(raw),
      });
    }
    if (scheme === "tls:" && out.tls === undefined) out.tls = {};
    if (url.username !== "" && out.user === undefined && out.token === undefined) {
      if (url.password !== "") {
        out.user = decode(url.username);
        out.pass = decode(url.password);
      } else {
        out.token = decode(url.username);
      }
    }
    out.servers.push(url.host);
    shown.push(`${scheme}//${url.host}`);
  }
  out.display = shown.join(",");
  return out;
}

/** Hide a password or token that may be in a URL. */
function mask(url: string): string {
  return url.replace(/\/\/[^@/]*@/g, "//***@");
}

/**
 * Parse a NATS connection string into {@linkcode NatsTransporterOptions}.
 *
 * Accepts `nats://host:port`, `host:port`, `tls://host:port`, credentials
 * (`nats://user:pass@host`, `nats://token@host`, percent-encoded if needed) and comma-separated
 * lists (`nats://a:4222,nats://b:4222`). Credentials come from the first URL that has them.
 *
 * @param url The connection string.
 * @returns `servers` as `host:port` entries, plus `user`/`pass` or `token`, and `tls: {}` for
 *   `tls://`.
 * @throws {BrokerOptionsError} when a URL is malformed, has no host, or uses another scheme.
 *
 * @example
 * ```ts
 * import { parseNatsUrl } from "./nats.ts";
 *
 * parseNatsUrl("nats://u:p@10.0.0.1:4222,nats://10.0.0.2:4222");
 * // { servers: ["10.0.0.1:4222", "10.0.0.2:4222"], user: "u", pass: "p" }
 * ```
 */
export function parseNatsUrl(url: string): NatsTransporterOptions {
  const list = splitServers(url);
  if (list.length === 0) throw new BrokerOptionsError(`Invalid NATS URL "${url}": no server`);
  const r = resolveServers(list);
  const opts: NatsTransporterOptions = { servers: r.servers };
  if (r.user !== undefined) opts.user = r.user;
  if (r.pass !== undefined) opts.pass = r.pass;
  if (r.token !== undefined) opts.token = r.token;
  if (r.tls !== undefined) opts.tls = r.tls;
  return opts;
}

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
 * A transporter over NATS, compatible with Moleculer's NATS transporter.
 *
 * - Queue groups are native (`hasBuiltInBalancer: true`).
 * - The first connection attempt is bounded: a refused connection, bad credentials or a handshake
 *   timeout reject {@linkcode NatsTransporter.connect} with a {@linkcode BrokerDisconnectedError}
 *   naming the URL and the cause.
 * - Once connected, the client reconnects by itself (forever by default) and restores the
 *   subscriptions; `listener.onDisconnect` / `onReconnect` report it.
 * - While the connection is down, {@linkcode NatsTransporter.publish} rejects with
 *   {@linkcode BrokerDisconnectedError}: the nats.js client would accept the message but drop it
 *   silently on its next reconnect attempt.
 *
 * @example From a URL with credentials
 * ```ts ignore
 * import { NatsTransporter } from "./nats.ts";
 *
 * const t = new NatsTransporter("nats://user:secret@nats-1:4222,nats://nats-2:4222");
 * await t.connect({ onError: console.error });
 * console.log(t.maxPayload); // e.g. 1048576
 * await t.disconnect();
 * ```
 */
export class NatsTransporter implements Transporter {
  /** `"NATS"`. */
  readonly name: string = "NATS";
  /** Always `true`: NATS queue groups balance requests and events. */
  readonly hasBuiltInBalancer: boolean = true;
  /** The server URL(s), without credentials, e.g. `"nats://127.0.0.1:4222"`. */
  readonly url: string;

  readonly #servers: string[];
  readonly #credentials: { user?: string; pass?: string; token?: string };
  readonly #tls: Record<string, unknown> | undefined;
  readonly #options: NatsTransporterOptions;
  readonly #transport: "deno" | "node";

  #listener: TransporterListener = {};
  #nc: NatsConnection | undefined;
  #connecting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  /** True between a `disconnect` status and the following `reconnect`. */
  #down = false;
  #maxPayload: number | undefined;
  #watchers: Promise<unknown>[] = [];

  /**
   * Create a NATS transporter. Nothing connects until {@linkcode NatsTransporter.connect}.
   *
   * @param options A connection string (see {@linkcode parseNatsUrl}) or options.
   * @throws {BrokerOptionsError} when a server URL is malformed.
   */
  constructor(options: string | NatsTransporterOptions = {}) {
    const opts: NatsTransporterOptions = typeof options === "string"
      ? parseNatsUrl(options)
      : { ...options };
    const source = opts.servers ?? opts.url ?? DEFAULT_SERVER;
    const list = splitServers(source);
    if (list.length === 0) throw new BrokerOptionsError("NATS transporter: no server given");
    const resolved = resolveServers(list);
    this.#servers = resolved.servers;
    // From a connection string, show its own schemes (`tls://` survives the parsing).
    this.url = typeof options === "string"
      ? resolveServers(splitServers(options)).display
      : resolved.display;
    const credentials: { user?: string; pass?: string; token?: string } = {};
    const user = opts.user ?? resolved.user;
    const pass = opts.pass ?? resolved.pass;
    const token = opts.token ?? resolved.token;
    if (user !== undefined) credentials.user = user;
    if (pass !== undefined) credentials.pass = pass;
    if (token !== undefined && user === undefined) credentials.token = token;
    this.#credentials = credentials;
    this.#tls = opts.tls ?? resolved.tls;
    this.#options = opts;
    const transport = opts.transport ?? "deno";
    if (transport !== "deno" && transport !== "node") {
      throw new BrokerOptionsError(
        `NATS transporter: transport must be "deno" or "node", not ${
          JSON.stringify(String(transport))
        }`,
        { transport: String(transport) },
      );
    }
    this.#transport = transport;
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
    let reason: string;
    if (cause instanceof natsErrors.AuthorizationError) {
      const given = this.#credentials.token !== undefined
        ? "the token was rejected"
        : this.#credentials.user !== undefined
        ? `user "${this.#credentials.user}" and its password were rejected`
        : "no credentials were given";
      reason = `authorization failed (${cause.message}): ${given}`;
    } else if (cause instanceof natsErrors.TimeoutError) {
      reason = `timed out after ${this.#options.timeout ?? 20_000} ms`;
    } else {
      reason = cause.message || cause.name;
      if (/certificate|self[- ]signed|\bSSL\b|\bTLS\b|handshake/i.test(reason)) {
        reason += this.#tls?.caFile === undefined && this.#tls?.ca === undefined
          ? " (TLS: give the CA that signed the server's certificate as tls: { caFile })"
          : " (TLS: check tls.caFile and the server's certificate)";
      }
    }
    return new BrokerDisconnectedError(`Cannot connect to NATS at ${this.url}: ${reason}`, {
      url: this.url,
      reason,
    }, { cause });
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
      this.#notifyError(
        new BrokerDisconnectedError(
          `The NATS connection to ${this.url} closed${error ? `: ${error.message}` : ""}`,
          { url: this.url },
          error ? { cause: error } : undefined,
        ),
      );
      if (!wasDown) this.#notify("onDisconnect");
    });
    this.#watchers = [status, closed];
  }

  #notify(event: "onDisconnect" | "onReconnect"): void {
    try {
      this.#listener[event]?.();
    } catch (error) {
      this.#notifyError(error);
    }
  }

  #notifyError(error: unknown): void {
    try {
      this.#listener.onError?.(toError(error));
    } catch {
      // A throwing listener must not break the client loop.
    }
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
   * @param handler Receives each message's bytes and subject. Errors it throws (or rejections it
   *   returns) go to `listener.onError`.
   * @param queue Optional queue group: each message goes to one member of the group.
   * @returns A handle whose `unsubscribe()` stops delivery (idempotent).
   * @throws {BrokerDisconnectedError} when not connected (never connected, or closed).
   * @throws {TypeError} when the subject is malformed.
   */
  subscribe(subject: string, handler: MessageHandler, queue?: string): TransporterSubscription {
    const nc = this.#nc;
    if (!nc || nc.isClosed() || this.#closing) {
      throw new BrokerDisconnectedError(
        `Cannot subscribe to "${subject}": not connected to NATS at ${this.url}`,
        { url: this.url },
      );
    }
    // Without wildcards a message's subject is the subscribed one: skip `msg.subject`, which
    // nats.js decodes lazily from bytes (~150 ns a message on Deno).
    const exact = subject.includes("*") || subject.includes(">") ? undefined : subject;
    const opts: SubscriptionOptions = {
      callback: (err, msg) => {
        if (err) {
          this.#notifyError(err);
          return;
        }
        try {
          const result: unknown = handler(msg.data, exact ?? msg.subject);
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
      return Promise.reject(
        new BrokerDisconnectedError(
          `Cannot publish to "${subject}": ${
            this.#down ? "reconnecting to" : "not connected to"
          } NATS at ${this.url}`,
          { url: this.url },
        ),
      );
    }
    const max = this.#maxPayload;
    if (max !== undefined && data.length > max) {
      return Promise.reject(this.#tooLarge(subject, data.length, max));
    }
    try {
      nc.publish(subject, data);
    } catch (error) {
      return Promise.reject(this.#mapError(error, subject, data.length));
    }
    return Promise.resolve();
  }

  #tooLarge(subject: string, size: number, max: number): MoleculerError {
    return new MoleculerError(
      `Packet of ${size} bytes exceeds the NATS server's max_payload of ${max} bytes`,
      500,
      "MAX_PAYLOAD_EXCEEDED",
      { subject, size, maxPayload: max },
    );
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
      return this.#tooLarge(subject, size, max);
    }
    return toError(error);
  }
}
