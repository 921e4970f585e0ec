/**
 * A Deno-native socket layer for the official NATS client: a `Transport` for
 * `@nats-io/nats-core` built on `Deno.connect` / `Deno.startTls` / `Deno.connectTls`, and a
 * {@linkcode connect} that opens a `NatsConnection` with it.
 *
 * It plays the role of JSR's `@nats-io/transport-deno` (unreachable from our build machines) and
 * replaces the `node:net` emulation that `@nats-io/transport-node` goes through on Deno:
 *
 * - reads go straight from `Deno.TcpConn.read` into a shared slab that is only replaced when it
 *   runs low, instead of a fresh buffer per read; the client's parser keeps views into it, so a
 *   slab is never overwritten;
 * - writes queued while one is in flight are coalesced into a single `write`;
 * - the read side is a plain async iterator (no generator, no event emitter in between).
 *
 * Dialing, TLS and the read slab are those of `socket.ts`, shared with the lean client of
 * `wire/`: `tls://` upgrades (`Deno.startTls`) with the system roots plus `tls.ca` /
 * `tls.caFile`; client certificates need `tls.handshakeFirst` (`Deno.connectTls`), and
 * `rejectUnauthorized: false` is not available on Deno.
 *
 * Host names are resolved by `Deno.connect` (the system resolver, so `/etc/hosts` applies); a
 * name with several addresses is not expanded into several servers.
 *
 * @example Publish and subscribe
 * ```ts ignore
 * import { connect } from "./deno_transport.ts";
 *
 * const nc = await connect({ servers: "127.0.0.1:4222" });
 * nc.subscribe("greet", { callback: (_err, msg) => console.log(msg.string()) });
 * nc.publish("greet", "hello");
 * await nc.drain();
 * ```
 *
 * @module
 */

import {
  checkOptions,
  type ConnectionOptions,
  type Deferred,
  deferred,
  errors,
  type NatsConnection,
  NatsConnectionImpl,
  type Server,
  type ServerInfo,
  setTransportFactory,
  type Transport,
  type TransportFactory,
} from "@nats-io/nats-core/internal";
import { toError } from "../../_util/values.ts";
import {
  closeQuietly,
  dial,
  type NatsConn,
  type NatsTlsOptions,
  ReadSlab,
  secure,
  socketErrorMessage,
  TlsOptionError,
} from "./socket.ts";

/** The `lang` this transport reports in the NATS `CONNECT` (visible in server monitoring). */
const LANG = "nats.deno";
/** The `version` it reports: this transport's own revision. */
const TRANSPORT_VERSION = "1.0.0-denolecular";

/** Longest wait for queued writes when the connection is closed gracefully. */
const CLOSE_FLUSH_MS = 2_000;

const DONE: IteratorReturnResult<undefined> = Object.freeze({
  done: true,
  value: undefined,
});

function concat(frames: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}

/**
 * A NATS client `Transport` over Deno's own TCP and TLS sockets.
 *
 * One instance carries one connection attempt; the client makes a new one (through the transport
 * factory) for every dial and reconnect. Use {@linkcode connect}, or install
 * {@linkcode denoTransportFactory} with `setTransportFactory` and call
 * `NatsConnectionImpl.connect` yourself.
 *
 * @example Install it as the client's transport
 * ```ts ignore
 * import { NatsConnectionImpl, setTransportFactory } from "@nats-io/nats-core/internal";
 * import { denoTransportFactory } from "./deno_transport.ts";
 *
 * setTransportFactory(denoTransportFactory);
 * const nc = await NatsConnectionImpl.connect({ servers: "127.0.0.1:4222" });
 * ```
 */
export class DenoTransport implements Transport {
  /** The client library name sent in `CONNECT`. */
  readonly lang: string = LANG;
  /** The transport version sent in `CONNECT`. */
  readonly version: string = TRANSPORT_VERSION;
  /** Why the connection ended, when it ended on an error. */
  closeError?: Error;

  #options: ConnectionOptions = {};
  #conn: NatsConn | undefined;
  #encrypted = false;
  #done = false;
  #connClosed = false;
  readonly #closed: Deferred<void | Error> = deferred();
  /** Bytes read while waiting for INFO; handed to the parser first. */
  #first: Uint8Array | undefined;
  readonly #slab = new ReadSlab();
  /** The write in flight, if any. */
  #writing: Promise<void> | undefined;
  #queue: Uint8Array[] = [];
  #queued = 0;

  /** True once the connection has ended (or was never usable). */
  get isClosed(): boolean {
    return this.#done;
  }

  /**
   * Open the socket, read the server's INFO and upgrade to TLS when the server or the options
   * ask for it. Called by the client.
   *
   * @param hp The server to dial.
   * @param options The connection options.
   * @throws {errors.ConnectionError} when the connection is refused or TLS cannot be set up.
   */
  async connect(hp: Server, options: ConnectionOptions): Promise<void> {
    this.#options = options;
    const tls = (options.tls ?? undefined) as NatsTlsOptions | undefined;
    try {
      const dialed = await dial(hp.hostname, hp.port, tls);
      this.#conn = dialed.conn;
      if (this.#done) {
        throw new errors.ConnectionError("connection closed while connecting");
      }
      const first = await this.#slab.readFirstLine(dialed.conn);
      // nats-core's parser reads the INFO line itself: hand it every byte read.
      this.#first = first.bytes;
      checkOptions(first.info as unknown as ServerInfo, options);
      this.#conn = await secure(
        dialed.conn,
        dialed.encrypted,
        first.info,
        hp.tlsName || hp.hostname,
        tls,
      );
      this.#encrypted = this.#conn !== dialed.conn || dialed.encrypted;
      if (this.#done) {
        throw new errors.ConnectionError("connection closed while connecting");
      }
    } catch (error) {
      this.#closeConn();
      throw this.#connectError(error);
    }
  }

  #connectError(error: unknown): Error {
    if (
      error instanceof errors.ConnectionError ||
      error instanceof errors.InvalidArgumentError
    ) {
      return error;
    }
    if (error instanceof TlsOptionError) {
      return errors.InvalidArgumentError.format(error.option, error.reason, { cause: error });
    }
    return new errors.ConnectionError(socketErrorMessage(error), { cause: error });
  }

  /**
   * The bytes received from the server, chunk by chunk, for the client's parser. Ends when the
   * connection ends; an unexpected end resolves {@linkcode DenoTransport.closed}.
   *
   * @returns An iterator over received chunks.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    const it: AsyncIterableIterator<Uint8Array> = {
      next: () => this.#next(),
      return: () => Promise.resolve(DONE),
      [Symbol.asyncIterator]: () => it,
    };
    return it;
  }

  #next(): Promise<IteratorResult<Uint8Array>> {
    const first = this.#first;
    if (first !== undefined) {
      this.#first = undefined;
      return Promise.resolve({ done: false, value: first });
    }
    const conn = this.#conn;
    if (this.#done || conn === undefined) return Promise.resolve(DONE);
    const room = this.#slab.room();
    return conn.read(room).then(
      (n): IteratorResult<Uint8Array> | Promise<IteratorResult<Uint8Array>> => {
        if (n === null) {
          this.#ended(undefined);
          return DONE;
        }
        if (n === 0) return this.#next();
        return { done: false, value: this.#slab.took(room, n) };
      },
      (error) => {
        this.#ended(this.#done ? undefined : toError(error));
        return DONE;
      },
    );
  }

  /** The socket ended under us (EOF or error): close and tell the client, which reconnects. */
  #ended(error: Error | undefined): void {
    if (this.#done) return;
    this.#done = true;
    if (error !== undefined) this.closeError = error;
    this.#queue = [];
    this.#queued = 0;
    this.#closeConn();
    this.#closed.resolve(error);
  }

  /**
   * Queue bytes for the server. Frames queued while a write is in flight go out together in
   * one write. Write errors are not reported here: the read side sees the broken connection.
   *
   * @param frame Protocol bytes.
   */
  send(frame: Uint8Array): void {
    if (this.#done || frame.length === 0) return;
    if (this.#writing !== undefined) {
      this.#queue.push(frame);
      this.#queued += frame.length;
      return;
    }
    this.#writing = this.#flush(frame);
  }

  async #flush(frame: Uint8Array): Promise<void> {
    let buf = frame;
    try {
      for (;;) {
        const conn = this.#conn;
        if (conn === undefined || this.#connClosed) break;
        let at = 0;
        while (at < buf.length) {
          at += await conn.write(at === 0 ? buf : buf.subarray(at));
        }
        const queue = this.#queue;
        if (queue.length === 0) break;
        buf = queue.length === 1 ? queue[0]! : concat(queue, this.#queued);
        this.#queue = [];
        this.#queued = 0;
      }
    } catch {
      // The read side reports the broken connection; what is queued is lost with it.
      this.#queue = [];
      this.#queued = 0;
    } finally {
      this.#writing = undefined;
    }
  }

  /** Wait (bounded) until queued writes are on the wire. */
  async #drainWrites(): Promise<void> {
    if (this.#writing === undefined) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => timer = setTimeout(resolve, CLOSE_FLUSH_MS));
    try {
      await Promise.race([this.#writing, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** True when the socket is a TLS one. */
  isEncrypted(): boolean {
    return this.#encrypted;
  }

  /**
   * Close on the client's request (explicit close, or a failed dial). Queued writes are flushed
   * first unless `err` is given. Does not resolve {@linkcode DenoTransport.closed}: the client
   * is the one closing.
   *
   * @param err Why the client closes, if it is an error.
   */
  async close(err?: Error): Promise<void> {
    if (this.#done) {
      this.#closeConn();
      return;
    }
    this.#done = true;
    if (err !== undefined) this.closeError = err;
    else await this.#drainWrites();
    this.#closeConn();
  }

  /**
   * Drop the connection so that the client reconnects (stale connection, forced reconnect):
   * flush, close, then resolve {@linkcode DenoTransport.closed}.
   */
  disconnect(): void {
    if (this.#done) return;
    this.#done = true;
    this.#drainWrites().finally(() => {
      this.#closeConn();
      this.#closed.resolve(undefined);
    });
  }

  /**
   * Resolves when the connection ended without the client asking (and on
   * {@linkcode DenoTransport.disconnect}), with the error if there was one.
   *
   * @returns The end of the connection.
   */
  closed(): Promise<void | Error> {
    return this.#closed;
  }

  /** Abandon this transport (the client is replacing it): close the socket, say nothing. */
  discard(): void {
    this.#done = true;
    this.#closeConn();
  }

  #closeConn(): void {
    if (this.#connClosed || this.#conn === undefined) return;
    this.#connClosed = true;
    closeQuietly(this.#conn);
  }
}

/**
 * The transport factory for `setTransportFactory` of `@nats-io/nats-core`: every dial and
 * reconnect gets a new {@linkcode DenoTransport}.
 *
 * The factory is process-global in nats-core and is read again at each reconnect: a process that
 * also opens connections with another transport must install its factory before each connect, and
 * reconnects use whichever factory was installed last.
 */
export const denoTransportFactory: TransportFactory = {
  factory: (): Transport => new DenoTransport(),
};

/**
 * Open a NATS connection over Deno's sockets ({@linkcode DenoTransport}).
 *
 * @param opts The NATS connection options (`servers`, credentials, `tls`, reconnect settings…).
 * @returns The connection.
 * @throws {errors.ConnectionError} when no server can be reached.
 * @throws {errors.AuthorizationError} when the server rejects the credentials.
 *
 * @example Request / reply
 * ```ts ignore
 * import { connect } from "./deno_transport.ts";
 *
 * const nc = await connect({ servers: "127.0.0.1:4222" });
 * nc.subscribe("echo", { callback: (_e, m) => m.respond(m.data) });
 * console.log((await nc.request("echo", "ping")).string()); // ping
 * await nc.close();
 * ```
 */
export function connect(opts: ConnectionOptions = {}): Promise<NatsConnection> {
  setTransportFactory(denoTransportFactory);
  return NatsConnectionImpl.connect(opts);
}
