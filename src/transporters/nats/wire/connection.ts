/**
 * One socket's life on the NATS protocol: dial, INFO, TLS, `CONNECT` + `PING` until the server's
 * `PONG` (bounded), then the read loop, the answers to server pings and the client's own pings.
 *
 * A connection does not reconnect: when it is lost it says so once (`lost`) and the client
 * (`client.ts`) dials a new one.
 *
 * @example Open one connection
 * ```ts ignore
 * import { openConnection } from "./connection.ts";
 *
 * const conn = await openConnection({
 *   hostname: "127.0.0.1", port: 4222, tls: undefined, timeout: 5_000,
 *   pingInterval: 120_000, maxPingOut: 2, connect: { name: "demo" }, subscriptions: [],
 * }, { msg: () => {}, info: () => {}, err: console.error, lost: () => {} });
 * conn.writer.pub("greet", new TextEncoder().encode("hi"));
 * await conn.roundTrip();
 * conn.close();
 * ```
 *
 * @module
 */

import {
  closeQuietly,
  dial,
  type NatsConn,
  type NatsTlsOptions,
  ReadSlab,
  secure,
  type ServerInfoFields,
  socketErrorMessage,
} from "../socket.ts";
import { Parser, type ParserEvents } from "./parser.ts";
import { Writer } from "./writer.ts";

/** The `lang` sent in `CONNECT` (visible in the server's monitoring). */
const LANG = "deno";
/** The `version` sent in `CONNECT`: this client's own revision. */
const VERSION = "1.0.0-denolecular-wire";

/** The server answered the handshake with an `-ERR`: `auth` when it is an authorization one. */
export class NatsServerError extends Error {
  /** True for authorization failures (bad or missing credentials). */
  readonly auth: boolean;

  /**
   * Wrap the server's `-ERR` text.
   *
   * @param text The server's error text, e.g. `Authorization Violation`.
   */
  constructor(text: string) {
    super(text);
    this.name = "NatsServerError";
    this.auth = /authorization violation|authentication (expired|timeout)/i.test(text);
  }
}

/** The handshake did not complete within `timeout`. */
export class HandshakeTimeoutError extends Error {
  /**
   * Say how long the handshake was given.
   *
   * @param ms The timeout.
   */
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
    this.name = "HandshakeTimeoutError";
  }
}

/** What a connection is opened with. */
export interface ConnectionOptions {
  /** The server's host (also the name its TLS certificate must carry). */
  hostname: string;
  /** The server's port. */
  port: number;
  /** TLS options; undefined for none unless the server requires it. */
  tls: NatsTlsOptions | undefined;
  /** Milliseconds for the whole handshake: TCP, TLS, INFO, CONNECT and the server's PONG. */
  timeout: number;
  /** Milliseconds between client pings. */
  pingInterval: number;
  /** Unanswered pings after which the connection is stale. */
  maxPingOut: number;
  /** Fields of `CONNECT` besides the fixed ones: `name`, `user`/`pass`, `auth_token`. */
  connect: Record<string, string>;
  /** `SUB` lines (CRLF included) to send right after `CONNECT`, before the handshake's PING. */
  subscriptions: readonly string[];
  /** Aborts the handshake (the client is closing). */
  signal?: AbortSignal;
}

/** What an open connection reports to its client. */
export interface ConnectionEvents {
  /** A message for subscription `sid` (a view of the read buffer). */
  msg(sid: number, payload: Uint8Array): void;
  /** A new INFO from the server. */
  info(info: ServerInfoFields): void;
  /** An `-ERR` from the server, or an error the connection survives. */
  err(error: Error): void;
  /** The connection is gone (socket closed or failed, bad input, stale); `error` says why. */
  lost(error: Error | undefined): void;
}

/** An open NATS connection. */
export interface WireConnection {
  /** The server's INFO (the latest one). */
  readonly serverInfo: ServerInfoFields;
  /** Where outbound protocol goes. */
  readonly writer: Writer;
  /**
   * Send `PING` and resolve at its `PONG`: everything written before has been processed by the
   * server. Also resolves if the connection is lost meanwhile.
   */
  roundTrip(): Promise<void>;
  /** Close the socket; no `lost` is reported. */
  close(): void;
}

const PING = "PING\r\n";
const PONG = "PONG\r\n";

/** A connection in progress or open: the socket, its parser, its writer and its pings. */
class Connection implements WireConnection, ParserEvents {
  serverInfo: ServerInfoFields;
  readonly writer: Writer;
  readonly #conn: NatsConn;
  readonly #options: ConnectionOptions;
  readonly #parser: Parser;
  readonly #slab: ReadSlab;
  #events: ConnectionEvents | undefined;
  /** Settled by the handshake's PONG (or its failure). */
  readonly #ready = Promise.withResolvers<void>();
  #open = false;
  #done = false;
  /** One entry per PING sent: the resolver of a `roundTrip()`, or undefined for a timer ping. */
  #pongs: ((() => void) | undefined)[] = [];
  #pinger: ReturnType<typeof setInterval> | undefined;

  constructor(conn: NatsConn, slab: ReadSlab, info: ServerInfoFields, options: ConnectionOptions) {
    this.#conn = conn;
    this.#slab = slab;
    this.serverInfo = info;
    this.#options = options;
    this.#parser = new Parser(this);
    this.writer = new Writer(conn, (error) => this.#fail(new Error(socketErrorMessage(error))));
  }

  /** Send CONNECT, the subscriptions and PING; resolve at the PONG. */
  handshake(leftover: Uint8Array, events: ConnectionEvents): Promise<void> {
    const o = this.#options;
    const connect = {
      verbose: false,
      pedantic: false,
      lang: LANG,
      version: VERSION,
      protocol: 1,
      headers: false,
      no_responders: false,
      echo: true,
      ...o.connect,
    };
    this.writer.line(`CONNECT ${JSON.stringify(connect)}\r\n`);
    for (const sub of o.subscriptions) this.writer.line(sub);
    this.writer.line(PING);
    // Messages may come before the PONG (the SUBs are already active): deliver them.
    this.#events = events;
    this.#pongs.push(() => {
      this.#open = true;
      this.#ready.resolve();
    });
    if (leftover.length > 0) this.#parser.feed(leftover);
    void this.#readLoop();
    return this.#ready.promise;
  }

  roundTrip(): Promise<void> {
    if (this.#done) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#pongs.push(resolve);
    this.writer.line(PING);
    return promise;
  }

  close(): void {
    this.#end();
  }

  startPings(): void {
    const { pingInterval, maxPingOut } = this.#options;
    this.#pinger = setInterval(() => {
      const unanswered = this.#pongs.length;
      if (unanswered >= maxPingOut) {
        this.#fail(new Error(`stale connection: ${unanswered} pings unanswered`));
        return;
      }
      this.#pongs.push(undefined);
      this.writer.line(PING);
    }, pingInterval);
  }

  async #readLoop(): Promise<void> {
    const conn = this.#conn;
    const slab = this.#slab;
    const parser = this.#parser;
    try {
      for (;;) {
        const room = slab.room();
        const n = await conn.read(room);
        if (this.#done) return;
        if (n === null) {
          this.#fail(undefined);
          return;
        }
        parser.feed(slab.took(room, n));
      }
    } catch (error) {
      if (!this.#done) {
        this.#fail(
          error instanceof Error && error.name === "ProtocolError"
            ? error
            : new Error(socketErrorMessage(error), { cause: error }),
        );
      }
    }
  }

  /** The connection is unusable: end it, and tell whoever waits (handshake or client). */
  #fail(error: Error | undefined): void {
    if (this.#done) return;
    const wasOpen = this.#open;
    this.#end();
    if (wasOpen) this.#events?.lost(error);
    else this.#ready.reject(error ?? new Error("socket closed by the server during the handshake"));
  }

  #end(): void {
    if (this.#done) return;
    this.#done = true;
    clearInterval(this.#pinger);
    this.writer.close();
    closeQuietly(this.#conn);
    const pongs = this.#pongs;
    this.#pongs = [];
    // Round trips waiting on a dead connection end now (the handshake's rejects in #fail).
    for (const resolve of pongs) if (resolve !== undefined && this.#open) resolve();
  }

  // ParserEvents: called synchronously by the parser.

  msg(sid: number, payload: Uint8Array): void {
    this.#events?.msg(sid, payload);
  }

  ping(): void {
    this.writer.line(PONG);
  }

  pong(): void {
    this.#pongs.shift()?.();
  }

  info(info: ServerInfoFields): void {
    this.serverInfo = info;
    this.#events?.info(info);
  }

  err(text: string): void {
    const error = new NatsServerError(text);
    if (!this.#open) {
      // Any -ERR before the handshake's PONG fails it; the server closes the socket after it.
      this.#end();
      this.#ready.reject(error);
      return;
    }
    this.#events?.err(error);
  }
}

/**
 * Dial a server and complete the NATS handshake, all within `options.timeout`.
 *
 * @param options Where, how, and what to send.
 * @param events Where the open connection reports.
 * @returns The open connection (client pings running).
 * @throws {NatsServerError} when the server answers with `-ERR` (e.g. bad credentials).
 * @throws {HandshakeTimeoutError} when it takes longer than `timeout`.
 * @throws {Error} when the socket or TLS cannot be set up (`"connection refused"`, …).
 */
export async function openConnection(
  options: ConnectionOptions,
  events: ConnectionEvents,
): Promise<WireConnection> {
  let conn: NatsConn | undefined;
  let connection: Connection | undefined;
  let cancelled = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  /** Close whatever is open; a step still awaiting sees `cancelled` and closes what it gets. */
  const abandon = () => {
    cancelled = true;
    if (connection !== undefined) connection.close();
    else closeQuietly(conn);
  };
  const check = (): void => {
    if (cancelled) {
      closeQuietly(conn);
      throw new Error("connection attempt abandoned");
    }
  };
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new HandshakeTimeoutError(options.timeout)), options.timeout);
  });
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new Error("connection closed"));
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener("abort", onAbort, { once: true });
  });
  const steps = (async () => {
    const dialed = await dial(options.hostname, options.port, options.tls);
    conn = dialed.conn;
    check();
    const slab = new ReadSlab();
    const first = await slab.readFirstLine(conn);
    check();
    const upgraded = await secure(
      conn,
      dialed.encrypted,
      first.info,
      options.hostname,
      options.tls,
    );
    conn = upgraded;
    check();
    connection = new Connection(upgraded, slab, first.info, options);
    // Bytes after INFO on a plain socket are protocol; on an upgraded one there are none.
    const leftover = upgraded === dialed.conn
      ? first.bytes.subarray(first.lineEnd)
      : new Uint8Array(0);
    await connection.handshake(leftover, events);
    check();
    return connection;
  })();
  // A step still running when the race is lost settles later: keep it from being unhandled.
  steps.catch(() => {});
  aborted.catch(() => {});
  deadline.catch(() => {});
  try {
    const open = await Promise.race([steps, deadline, aborted]);
    open.startPings();
    return open;
  } catch (error) {
    abandon();
    throw error;
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) options.signal?.removeEventListener("abort", onAbort);
  }
}
