/**
 * Deno sockets for NATS, shared by the two clients that run on them (`DenoTransport` under
 * nats.js, and the lean client of `wire/`): dialing, the TLS upgrade, the read slab and the
 * server's first line.
 *
 * TLS: `tls://` upgrades (`Deno.startTls`) with the system roots plus `tls.ca` / `tls.caFile`;
 * client certificates (`tls.cert`/`certFile` + `tls.key`/`keyFile`) need `tls.handshakeFirst`
 * (`Deno.connectTls`), because `Deno.startTls` cannot present one. `rejectUnauthorized: false` is
 * not available on Deno.
 *
 * @example Dial, read INFO, upgrade when asked
 * ```ts ignore
 * import { dial, ReadSlab, secure } from "./socket.ts";
 *
 * const { conn, encrypted } = await dial("127.0.0.1", 4222, undefined);
 * const slab = new ReadSlab();
 * const first = await slab.readFirstLine(conn);
 * const upgraded = await secure(conn, encrypted, first.info, "127.0.0.1", undefined);
 * upgraded.close();
 * ```
 *
 * @module
 */

import { toError } from "../../_util/values.ts";

/** TLS options of a NATS connection, as the transporter's `tls` option holds them. */
export interface NatsTlsOptions {
  /** The CA certificate(s) (PEM) to trust, besides the system roots. */
  ca?: string;
  /** A file holding {@linkcode NatsTlsOptions.ca}. */
  caFile?: string;
  /** The client certificate (PEM); needs `handshakeFirst`. */
  cert?: string;
  /** A file holding {@linkcode NatsTlsOptions.cert}. */
  certFile?: string;
  /** The client key (PEM); needs `handshakeFirst`. */
  key?: string;
  /** A file holding {@linkcode NatsTlsOptions.key}. */
  keyFile?: string;
  /** TLS from the first byte (`Deno.connectTls`), before the server's INFO. */
  handshakeFirst?: boolean;
  /** Only `true` (the default) is available on Deno. */
  rejectUnauthorized?: boolean;
}

/** A socket to a NATS server. */
export type NatsConn = Deno.TcpConn | Deno.TlsConn;

/** The fields of the server's INFO that the clients read. */
export interface ServerInfoFields {
  /** The server's id. */
  server_id?: string;
  /** The largest payload the server accepts, in bytes. */
  max_payload?: number;
  /** The protocol version. */
  proto?: number;
  /** The server accepts only TLS. */
  tls_required?: boolean;
  /** The server offers TLS. */
  tls_available?: boolean;
  /** The server needs credentials. */
  auth_required?: boolean;
  /** A challenge for nkey authentication. */
  nonce?: string;
  /** Other servers of the cluster that clients may connect to. */
  connect_urls?: string[];
  /** The server is in lame-duck mode (about to shut down). */
  ldm?: boolean;
  /** Whatever else the server says. */
  [key: string]: unknown;
}

/** A TLS option that cannot be honoured: which one (`option`) and why (`reason`). */
export class TlsOptionError extends Error {
  /**
   * Name the option and the reason.
   *
   * @param option The option, e.g. `"tls.cert"`.
   * @param reason Why, e.g. `"needs both a certificate and a key"`.
   */
  constructor(readonly option: string, readonly reason: string) {
    super(`'${option}' ${reason}`);
    this.name = "TlsOptionError";
  }
}

/** Size of a read slab. */
export const SLAB_SIZE = 128 * 1024;
/** A read never gets less room than this: below it a new slab is started. */
export const MIN_READ = 16 * 1024;

/**
 * The message for an error of dialing or reading a socket: `"connection refused"` and
 * `"cannot resolve host: …"` for the common ones, the error's own message otherwise.
 *
 * @param error What was thrown.
 * @returns A short cause, for "Cannot connect to NATS at …: <cause>".
 */
export function socketErrorMessage(error: unknown): string {
  if (error instanceof Deno.errors.ConnectionRefused) return "connection refused";
  if (error instanceof Deno.errors.NotFound) {
    return `cannot resolve host: ${(error as Error).message}`;
  }
  return toError(error).message;
}

async function tlsMaterial(
  tls: NatsTlsOptions,
  withClientCert: boolean,
): Promise<{ caCerts?: string[]; cert?: string; key?: string }> {
  if (tls.rejectUnauthorized === false) {
    throw new TlsOptionError("tls.rejectUnauthorized", "cannot be disabled on Deno");
  }
  const out: { caCerts?: string[]; cert?: string; key?: string } = {};
  const ca = tls.ca ?? (tls.caFile ? await Deno.readTextFile(tls.caFile) : undefined);
  if (ca) out.caCerts = [ca];
  const cert = tls.cert ?? (tls.certFile ? await Deno.readTextFile(tls.certFile) : undefined);
  const key = tls.key ?? (tls.keyFile ? await Deno.readTextFile(tls.keyFile) : undefined);
  if (cert || key) {
    if (!withClientCert) {
      throw new TlsOptionError(
        "tls.cert",
        "needs tls.handshakeFirst on Deno (Deno.startTls cannot present a client certificate)",
      );
    }
    if (!cert || !key) throw new TlsOptionError("tls", "needs both a certificate and a key");
    out.cert = cert;
    out.key = key;
  }
  return out;
}

/**
 * Open a socket to a server: plain TCP (no Nagle delay), or TLS from the first byte when
 * `tls.handshakeFirst` is set.
 *
 * @param hostname The server's host.
 * @param port The server's port.
 * @param tls The TLS options, if any.
 * @returns The socket and whether it is already encrypted.
 */
export async function dial(
  hostname: string,
  port: number,
  tls: NatsTlsOptions | undefined,
): Promise<{ conn: NatsConn; encrypted: boolean }> {
  if (tls?.handshakeFirst !== true) {
    const conn = await Deno.connect({ hostname, port });
    conn.setNoDelay(true);
    return { conn, encrypted: false };
  }
  const m = await tlsMaterial(tls, true);
  const base: Deno.ConnectTlsOptions = { hostname, port };
  if (m.caCerts) base.caCerts = m.caCerts;
  const conn = m.cert && m.key
    ? await Deno.connectTls({ ...base, cert: m.cert, key: m.key })
    : await Deno.connectTls(base);
  try {
    await conn.handshake();
  } catch (error) {
    closeQuietly(conn);
    throw error;
  }
  return { conn, encrypted: true };
}

/**
 * After the server's INFO: upgrade to TLS when the server requires it or the options ask for it
 * and the server offers it; refuse a server that cannot give the TLS the options ask for.
 *
 * @param conn The socket INFO came on.
 * @param encrypted Whether it is already TLS (`handshakeFirst`).
 * @param info The server's INFO.
 * @param hostname The name the server's certificate must carry.
 * @param tls The TLS options, if any.
 * @returns The socket to go on with: `conn` itself, or its TLS upgrade.
 * @throws {Error} `"server does not support 'tls'"`, `"the server requires TLS"`, or the TLS
 *   handshake's error (a bad certificate surfaces at the handshake, not at `startTls`).
 */
export async function secure(
  conn: NatsConn,
  encrypted: boolean,
  info: ServerInfoFields,
  hostname: string,
  tls: NatsTlsOptions | undefined,
): Promise<NatsConn> {
  if (encrypted) return conn;
  const offers = info.tls_required === true || info.tls_available === true;
  if (tls !== undefined && !offers) throw new Error("server does not support 'tls'");
  if (!offers || (info.tls_required !== true && tls === undefined)) {
    if (info.tls_required === true) throw new Error("the server requires TLS");
    return conn;
  }
  const m = await tlsMaterial(tls ?? {}, false);
  const opts: Deno.StartTlsOptions = { hostname };
  if (m.caCerts) opts.caCerts = m.caCerts;
  const upgraded = await Deno.startTls(conn as Deno.TcpConn, opts);
  try {
    await upgraded.handshake();
  } catch (error) {
    closeQuietly(upgraded);
    throw error;
  }
  return upgraded;
}

/** Close a socket that may already be closed. */
export function closeQuietly(conn: NatsConn | undefined): void {
  try {
    conn?.close();
  } catch {
    // Already closed.
  }
}

const INFO_LINE = /^INFO\s+([^\r\n]+)\r?\n$/i;
const LF = 10;

/**
 * Where reads land: a slab that is only replaced when it runs low, never overwritten, so a view
 * into it (a message's payload) stays valid as long as its holder keeps it.
 */
export class ReadSlab {
  #slab: Uint8Array = new Uint8Array(SLAB_SIZE);
  #offset = 0;

  /**
   * The free room for the next read (at least {@linkcode MIN_READ} bytes): a new slab is started
   * when the current one has less.
   *
   * @returns The view to read into.
   */
  room(): Uint8Array {
    if (SLAB_SIZE - this.#offset < MIN_READ) {
      this.#slab = new Uint8Array(SLAB_SIZE);
      this.#offset = 0;
    }
    return this.#slab.subarray(this.#offset);
  }

  /**
   * Account for `n` bytes read into the last {@linkcode ReadSlab.room}.
   *
   * @param room The view returned by `room()`.
   * @param n How many bytes the read put there.
   * @returns Those bytes.
   */
  took(room: Uint8Array, n: number): Uint8Array {
    this.#offset += n;
    return room.subarray(0, n);
  }

  /**
   * Read the server's first protocol line (its INFO) on a fresh slab.
   *
   * @param conn The socket.
   * @returns The parsed INFO, every byte read so far, and where the INFO line ends in them.
   * @throws {Error} when the socket closes first, the line does not fit, or it is not an INFO.
   */
  async readFirstLine(
    conn: NatsConn,
  ): Promise<{ info: ServerInfoFields; bytes: Uint8Array; lineEnd: number }> {
    for (;;) {
      if (SLAB_SIZE - this.#offset < MIN_READ) {
        throw new Error("no INFO from the server in the first bytes");
      }
      const from = this.#offset;
      const n = await conn.read(this.#slab.subarray(from));
      if (n === null) throw new Error("socket closed while expecting INFO");
      this.#offset += n;
      const lf = this.#slab.subarray(from, this.#offset).indexOf(LF);
      if (lf === -1) continue;
      const lineEnd = from + lf + 1;
      const line = new TextDecoder().decode(this.#slab.subarray(0, lineEnd));
      const m = INFO_LINE.exec(line);
      let info: unknown;
      try {
        info = m?.[1] === undefined ? undefined : JSON.parse(m[1]);
      } catch {
        info = undefined;
      }
      if (info === null || typeof info !== "object") {
        throw new Error("unexpected response from server");
      }
      return {
        info: info as ServerInfoFields,
        bytes: this.#slab.subarray(0, this.#offset),
        lineEnd,
      };
    }
  }
}
