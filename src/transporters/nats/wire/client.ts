/**
 * A lean NATS client for the NATS transporter (`transport: "wire"`): the protocol written
 * directly on Deno's sockets (`../socket.ts`), with exactly the surface and behaviour of
 * `NatsClient` (`../client.ts`), so that the transporter uses either.
 *
 * What it saves per message, against nats.js: no Msg object and no subject decoding (a message
 * is routed by its sid, its payload handed as a view of the read buffer); no per-publish string
 * encoding (the `PUB <subject> ` bytes are cached per subject, the payload copied once into the
 * output buffer); no per-publish promise (one resolved promise is shared); one socket write per
 * microtask turn at most, with everything queued meanwhile in the next one.
 *
 * @example Subjects and bytes on a connection
 * ```ts ignore
 * import { WireClient } from "./client.ts";
 * import { resolveNatsSettings } from "../options.ts";
 *
 * const client = new WireClient(resolveNatsSettings({ servers: "127.0.0.1:4222" }));
 * await client.connect({ onError: (e) => console.error(e) });
 * client.subscribe("MOL.INFO", (bytes) => console.log(bytes.length));
 * await client.publish("MOL.INFO", new TextEncoder().encode("{}"));
 * await client.disconnect();
 * ```
 *
 * @module
 */

import type { BrokerDisconnectedError } from "../../../errors.ts";
import {
  cannotSubscribe,
  connectError,
  type ConnectFailure,
  connectionClosed,
  maxPayloadExceeded,
} from "../_errors.ts";
import { toError } from "../../../_util/values.ts";
import type { TransporterListener, TransporterSubscription } from "../../transporter.ts";
import {
  DEFAULT_DRAIN_TIMEOUT,
  DEFAULT_RECONNECT_TIME_WAIT,
  DEFAULT_TIMEOUT,
  type NatsSettings,
} from "../options.ts";
import { type NatsTlsOptions, type ServerInfoFields, socketErrorMessage } from "../socket.ts";
import {
  type ConnectionEvents,
  HandshakeTimeoutError,
  NatsServerError,
  openConnection,
  type WireConnection,
} from "./connection.ts";
import { type PoolServer, ServerPool } from "./servers.ts";
import { checkSubject } from "./writer.ts";
import { notifyListener, reportError } from "../../_listener.ts";
import { notConnected } from "../../_errors.ts";
import { delay } from "../../../_util/async.ts";

/** Called with the bytes of each message of a subscription. */
export type WireMessageHandler = (data: Uint8Array) => unknown;

/** Up to this many ms are added at random to each reconnect wait. */
const RECONNECT_JITTER = 100;
const DEFAULT_PING_INTERVAL = 120_000;
const DEFAULT_MAX_PING_OUT = 2;

/** What `publish` returns once the message is queued: one promise for all of them. */
const QUEUED: Promise<void> = Promise.resolve();

interface Subscription {
  readonly line: string;
  readonly handler: WireMessageHandler;
}

/**
 * One NATS connection (at a time) with subject-level publish and subscribe.
 *
 * - The first connection attempt is bounded: a refused connection, bad credentials or a handshake
 *   timeout reject {@linkcode WireClient.connect} with a {@linkcode BrokerDisconnectedError}
 *   naming the URL and the cause.
 * - Once connected, the client reconnects by itself (forever by default) and restores the
 *   subscriptions; `listener.onDisconnect` / `onReconnect` report it.
 * - While the connection is down, {@linkcode WireClient.publish} rejects with
 *   {@linkcode BrokerDisconnectedError}.
 */
export class WireClient implements ConnectionEvents {
  /** The server URL(s), without credentials, e.g. `"nats://127.0.0.1:4222"`. */
  readonly url: string;

  readonly #pool: ServerPool;
  readonly #credentials: { user?: string; pass?: string; token?: string };
  readonly #tls: NatsTlsOptions | undefined;
  readonly #options: NatsSettings["options"];

  #listener: TransporterListener = {};
  /** The open connection; undefined while down and when not connected. */
  #conn: WireConnection | undefined;
  /** True from a successful connect until disconnect() or reconnects are exhausted. */
  #session = false;
  /** True between a loss and the following reconnect (or the end of the session). */
  #down = false;
  #connecting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #reconnecting: Promise<void> | undefined;
  /** Aborts the reconnect loop (its wait and its dial) when the client closes. */
  #abort: AbortController | undefined;
  #maxPayload: number | undefined;
  readonly #subs = new Map<number, Subscription>();
  #nextSid = 1;
  readonly #onHandlerRejection = (error: unknown): void => this.#notifyError(error);

  /**
   * Create the client. Nothing connects until {@linkcode WireClient.connect}.
   *
   * @param settings The checked options (`resolveNatsSettings` of `../options.ts`).
   */
  constructor(settings: NatsSettings) {
    this.url = settings.url;
    this.#pool = new ServerPool(settings.servers);
    this.#credentials = { ...settings.credentials };
    this.#tls = settings.tls as NatsTlsOptions | undefined;
    this.#options = settings.options;
  }

  /** True while the connection is up (false while reconnecting, and after disconnect). */
  get connected(): boolean {
    return this.#conn !== undefined && this.#closing === undefined;
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
    if (this.#session) return;
    this.#connecting = this.#open();
    try {
      await this.#connecting;
    } finally {
      this.#connecting = undefined;
    }
  }

  async #open(): Promise<void> {
    // A session after one that ended (reconnects exhausted) starts from a clean state.
    await this.#reconnecting;
    this.#pool.reset();
    this.#subs.clear();
    let last: unknown = new Error("no server");
    for (const server of [...this.#pool.servers]) {
      try {
        const conn = await this.#dial(server, undefined);
        this.#conn = conn;
        this.#session = true;
        this.#down = false;
        this.#maxPayload = conn.serverInfo.max_payload;
        this.#learnServers(conn.serverInfo);
        return;
      } catch (error) {
        last = error;
      }
    }
    throw this.#connectError(last);
  }

  #dial(server: PoolServer, signal: AbortSignal | undefined): Promise<WireConnection> {
    const o = this.#options;
    const connect: Record<string, string> = {};
    if (o.name !== undefined) connect.name = o.name;
    const c = this.#credentials;
    if (c.user !== undefined) {
      connect.user = c.user;
      connect.pass = c.pass ?? "";
    } else if (c.token !== undefined) {
      connect.auth_token = c.token;
    }
    server.lastAttempt = Date.now();
    return openConnection({
      hostname: server.hostname,
      port: server.port,
      tls: this.#tls,
      timeout: o.timeout ?? DEFAULT_TIMEOUT,
      pingInterval: o.pingInterval ?? DEFAULT_PING_INTERVAL,
      maxPingOut: o.maxPingOut ?? DEFAULT_MAX_PING_OUT,
      connect,
      subscriptions: [...this.#subs.values()].map((s) => s.line),
      ...(signal !== undefined ? { signal } : {}),
    }, this);
  }

  #learnServers(info: ServerInfoFields): void {
    const urls = info.connect_urls;
    if (Array.isArray(urls)) { for (const u of urls) if (typeof u === "string") this.#pool.add(u); }
  }

  #connectError(error: unknown): BrokerDisconnectedError {
    const cause = toError(error);
    const failure: ConnectFailure = cause instanceof NatsServerError && cause.auth
      ? { auth: cause.message }
      : cause instanceof HandshakeTimeoutError
      ? { timeout: this.#options.timeout ?? DEFAULT_TIMEOUT }
      : { message: socketErrorMessage(error) || cause.name };
    return connectError(
      { url: this.url, credentials: this.#credentials, tls: this.#tls },
      failure,
      cause,
    );
  }

  // ConnectionEvents of the open connection.

  /** Deliver a message to its subscription, by sid. */
  msg(sid: number, payload: Uint8Array): void {
    const sub = this.#subs.get(sid);
    if (sub === undefined) return; // unsubscribed; the server has not seen the UNSUB yet
    try {
      const result: unknown = sub.handler(payload);
      if (result instanceof Promise) result.catch(this.#onHandlerRejection);
    } catch (error) {
      this.#notifyError(error);
    }
  }

  /** A later INFO: the payload limit or the cluster may have changed. */
  info(info: ServerInfoFields): void {
    if (typeof info.max_payload === "number") this.#maxPayload = info.max_payload;
    this.#learnServers(info);
  }

  /** An `-ERR` on an open connection (permissions, …). */
  err(error: Error): void {
    this.#notifyError(error);
  }

  /** The open connection is gone: tell the listener, and reconnect unless closing. */
  lost(error: Error | undefined): void {
    this.#conn = undefined;
    if (this.#closing !== undefined || !this.#session) return;
    if (error !== undefined) this.#notifyError(error);
    if (!this.#down) {
      this.#down = true;
      this.#notify("onDisconnect");
    }
    this.#reconnecting ??= this.#reconnect().finally(() => this.#reconnecting = undefined);
  }

  async #reconnect(): Promise<void> {
    const o = this.#options;
    const max = o.maxReconnectAttempts ?? -1;
    const wait = o.reconnectTimeWait ?? DEFAULT_RECONNECT_TIME_WAIT;
    const abort = new AbortController();
    this.#abort = abort;
    let last: Error | undefined;
    try {
      for (;;) {
        if (abort.signal.aborted) return;
        const server = this.#pool.next(max);
        if (server === undefined) break;
        const since = Date.now() - server.lastAttempt;
        // A random extra wait, as nats.js adds (`reconnectJitter`): the nodes of a cluster that
        // lost the same server do not all come back in the same instant.
        if (since < wait) {
          await delay(wait - since + Math.random() * RECONNECT_JITTER, abort.signal);
        }
        if (abort.signal.aborted) return;
        let conn: WireConnection;
        // The dial sends the SUBs known now; one made while it runs is sent once it is open.
        const firstUnsent = this.#nextSid;
        try {
          conn = await this.#dial(server, abort.signal);
        } catch (error) {
          server.failures++;
          last = toError(error);
          continue;
        }
        if (abort.signal.aborted) {
          conn.close();
          return;
        }
        server.failures = 0;
        for (const [sid, sub] of this.#subs) if (sid >= firstUnsent) conn.writer.line(sub.line);
        this.#conn = conn;
        this.#maxPayload = conn.serverInfo.max_payload ?? this.#maxPayload;
        this.#learnServers(conn.serverInfo);
        this.#down = false;
        this.#notify("onReconnect");
        return;
      }
    } finally {
      if (this.#abort === abort) this.#abort = undefined;
    }
    // Every server used its attempts: the session is over.
    this.#session = false;
    this.#notifyError(connectionClosed(this.url, last));
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
    if (!this.#session && this.#reconnecting === undefined) return;
    this.#closing = this.#close();
    try {
      await this.#closing;
    } finally {
      this.#conn = undefined;
      this.#session = false;
      this.#down = false;
      this.#closing = undefined;
    }
  }

  async #close(): Promise<void> {
    this.#abort?.abort();
    await this.#reconnecting;
    const conn = this.#conn;
    if (conn !== undefined) {
      // Drain: the server stops sending once it has the UNSUBs; the PONG after them means every
      // earlier PUB was processed and every message before them delivered.
      for (const sid of this.#subs.keys()) conn.writer.line(`UNSUB ${sid}\r\n`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.#options.drainTimeout ?? DEFAULT_DRAIN_TIMEOUT);
      });
      try {
        await Promise.race([conn.roundTrip(), timedOut]);
      } finally {
        clearTimeout(timer);
      }
      conn.close();
    }
    this.#subs.clear();
  }

  /**
   * Subscribe to a subject, optionally in a queue group. Subscriptions survive reconnects.
   *
   * @param subject The subject; `*` and `>` wildcards allowed.
   * @param handler Receives each message's bytes (a view of the read buffer, never overwritten).
   *   Errors it throws (or rejections it returns) go to `listener.onError`.
   * @param queue Optional queue group: each message goes to one member of the group.
   * @returns A handle whose `unsubscribe()` stops delivery (idempotent).
   * @throws {BrokerDisconnectedError} when not connected (never connected, or closed).
   * @throws {TypeError} when the subject is malformed.
   */
  subscribe(subject: string, handler: WireMessageHandler, queue?: string): TransporterSubscription {
    if (!this.#session || this.#closing) {
      throw cannotSubscribe(subject, this.url);
    }
    checkSubject(subject);
    const grouped = queue !== undefined && queue !== "";
    if (grouped && /\s/.test(queue)) {
      throw new TypeError(`Invalid queue group: ${JSON.stringify(queue)}`);
    }
    const sid = this.#nextSid++;
    const line = grouped ? `SUB ${subject} ${queue} ${sid}\r\n` : `SUB ${subject} ${sid}\r\n`;
    this.#subs.set(sid, { line, handler });
    // While down, the SUB goes out with the others on the reconnect.
    this.#conn?.writer.line(line);
    let active = true;
    return {
      unsubscribe: () => {
        if (!active) return;
        active = false;
        if (!this.#subs.delete(sid)) return;
        this.#conn?.writer.line(`UNSUB ${sid}\r\n`);
      },
    };
  }

  /**
   * Publish bytes on a subject. Resolves once the message is queued on the connection, which
   * sends it on its next flush (same tick).
   *
   * @param subject The subject.
   * @param data The payload.
   * @returns A promise that resolves once the message is queued on the connection.
   * @throws {BrokerDisconnectedError} when not connected, including while reconnecting.
   * @throws {MoleculerError} (500 `MAX_PAYLOAD_EXCEEDED`) when `data` is larger than the server's
   *   `max_payload`.
   * @throws {TypeError} when the subject is malformed.
   */
  publish(subject: string, data: Uint8Array): Promise<void> {
    const conn = this.#conn;
    if (conn === undefined || this.#closing !== undefined) {
      return Promise.reject(notConnected(`publish to "${subject}"`, "NATS", this.url, this.#down));
    }
    const max = this.#maxPayload;
    if (max !== undefined && data.length > max) {
      return Promise.reject(maxPayloadExceeded(subject, data.length, max));
    }
    try {
      conn.writer.pub(subject, data);
    } catch (error) {
      return Promise.reject(error);
    }
    return QUEUED;
  }
}
