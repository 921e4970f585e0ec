/**
 * The NATS transporter's options: their types, connection-string parsing and validation.
 *
 * This module imports no NATS client, so a broker checks `transporter: "nats://…"` when it is
 * constructed (a bad URL or option is a {@linkcode BrokerOptionsError} at `new ServiceBroker`)
 * while the client itself loads only when the transporter connects.
 *
 * @example Parse a connection string
 * ```ts
 * import { parseNatsUrl } from "./options.ts";
 *
 * parseNatsUrl("nats://u:p@10.0.0.1:4222,nats://10.0.0.2:4222");
 * // { servers: ["10.0.0.1:4222", "10.0.0.2:4222"], user: "u", pass: "p" }
 * ```
 *
 * @module
 */

import { BrokerOptionsError } from "../../errors.ts";

/** Options of the NATS transporter. */
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
   * Longest wait, in milliseconds, for the transporter's `disconnect()` to drain the
   * connection before it closes it outright.
   *
   * @default {5000}
   */
  drainTimeout?: number;
  /**
   * The NATS client.
   *
   * - `"wire"` (the default): a lean client of the NATS protocol (`wire/client.ts`) on Deno's own
   *   sockets (`Deno.connect` / `Deno.startTls` / `Deno.connectTls`). Fewer allocations per
   *   message than a general-purpose client: the payload is handed over as a view of the read
   *   buffer, `PUB` lines are written in place into one output buffer, one socket write per
   *   microtask turn. It speaks the core protocol (no headers, request/reply or JetStream), which
   *   is all the transporter uses; reconnects try the servers in order, with up to 100 ms of
   *   random extra wait.
   * - `"deno"`: nats.js (`@nats-io/nats-core`) on the same Deno sockets (`DenoTransport` of
   *   `deno_transport.ts`).
   * - `"node"`: nats.js with `@nats-io/transport-node` over Deno's `node:net` / `node:tls`
   *   emulation. Use it for a client certificate on a server that does not support
   *   `handshakeFirst`, or for `rejectUnauthorized: false`.
   *
   * On Deno sockets (`"wire"`, `"deno"`), TLS uses the system roots plus `tls.ca` / `tls.caFile`;
   * a client certificate needs `tls.handshakeFirst` (nats-server ≥ 2.10.4), and
   * `tls.rejectUnauthorized: false` is not available.
   *
   * For `"deno"` and `"node"`, the client's transport factory is process-wide in nats-core: the
   * transporter installs its choice right before connecting and again before each of its
   * reconnects. Two transporters with different choices in one process may still race if they
   * connect at the same moment; keep one choice per process to be sure. `"wire"` connections have
   * no such shared state.
   *
   * @default {"wire"}
   */
  transport?: NatsTransportKind;
}

/** The NATS client's socket layer: see {@linkcode NatsTransporterOptions.transport}. */
export type NatsTransportKind = "deno" | "node" | "wire";

const TRANSPORTS: readonly NatsTransportKind[] = ["deno", "node", "wire"];

/** The options once checked: what the client connects with, credentials split out of URLs. */
export interface NatsSettings {
  /** `host:port` entries for the client. */
  readonly servers: readonly string[];
  /** The server URL(s) without credentials, for messages, e.g. `"nats://127.0.0.1:4222"`. */
  readonly url: string;
  /** User/password or token, from the options or else from the first URL that has them. */
  readonly credentials: { readonly user?: string; readonly pass?: string; readonly token?: string };
  /** TLS options; `{}` when a URL uses `tls://`; `undefined` when none was asked for. */
  readonly tls: Record<string, unknown> | undefined;
  /** The socket layer. */
  readonly transport: NatsTransportKind;
  /** The options as given (parsed from the connection string when one was given). */
  readonly options: Readonly<NatsTransporterOptions>;
}

/** Where the transporter connects when no server is given. */
const DEFAULT_SERVER = "nats://127.0.0.1:4222";

/** `timeout` when not given: milliseconds allowed for each connection handshake. */
export const DEFAULT_TIMEOUT = 20_000;
/** `reconnectTimeWait` when not given: milliseconds between two rounds of reconnect attempts. */
export const DEFAULT_RECONNECT_TIME_WAIT = 2_000;
/** `drainTimeout` when not given: the longest drain of `disconnect()`, in milliseconds. */
export const DEFAULT_DRAIN_TIMEOUT = 5_000;

/** Server URLs parsed, credentials and the `tls://` scheme pulled out of them. */
interface ParsedServers {
  servers: string[];
  display: string;
  user?: string;
  pass?: string;
  token?: string;
  tls?: Record<string, unknown>;
}

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

/** Hide a password or token that may be in a URL. */
function mask(url: string): string {
  return url.replace(/\/\/[^@/]*@/g, "//***@");
}

/** Parse server URLs, pulling credentials and the `tls://` scheme out of them. */
function parseServers(list: string[]): ParsedServers {
  const out: ParsedServers = { servers: [], display: "" };
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
 * import { parseNatsUrl } from "./options.ts";
 *
 * parseNatsUrl("tls://secure:4443"); // { servers: ["secure:4443"], tls: {} }
 * ```
 */
export function parseNatsUrl(url: string): NatsTransporterOptions {
  const list = splitServers(url);
  if (list.length === 0) throw new BrokerOptionsError(`Invalid NATS URL "${url}": no server`);
  const r = parseServers(list);
  const opts: NatsTransporterOptions = { servers: r.servers };
  if (r.user !== undefined) opts.user = r.user;
  if (r.pass !== undefined) opts.pass = r.pass;
  if (r.token !== undefined) opts.token = r.token;
  if (r.tls !== undefined) opts.tls = r.tls;
  return opts;
}

/**
 * Check the NATS transporter's options and settle what the client connects with.
 *
 * @param options A connection string (see {@linkcode parseNatsUrl}) or options.
 * @returns The settings.
 * @throws {BrokerOptionsError} when a server URL is malformed, no server is given, or
 *   `transport` is not `"deno"`, `"node"` or `"wire"`.
 *
 * @example
 * ```ts
 * import { resolveNatsSettings } from "./options.ts";
 *
 * const s = resolveNatsSettings("nats://user:secret@nats-1:4222");
 * console.log(s.url, s.servers, s.credentials.user); // nats://nats-1:4222 ["nats-1:4222"] user
 * ```
 */
export function resolveNatsSettings(options: string | NatsTransporterOptions = {}): NatsSettings {
  const opts: NatsTransporterOptions = typeof options === "string"
    ? parseNatsUrl(options)
    : { ...options };
  const list = splitServers(opts.servers ?? opts.url ?? DEFAULT_SERVER);
  if (list.length === 0) throw new BrokerOptionsError("NATS transporter: no server given");
  const parsed = parseServers(list);
  const credentials: { user?: string; pass?: string; token?: string } = {};
  const user = opts.user ?? parsed.user;
  const pass = opts.pass ?? parsed.pass;
  const token = opts.token ?? parsed.token;
  if (user !== undefined) credentials.user = user;
  if (pass !== undefined) credentials.pass = pass;
  if (token !== undefined && user === undefined) credentials.token = token;
  const transport = opts.transport ?? "wire";
  if (!TRANSPORTS.includes(transport)) {
    throw new BrokerOptionsError(
      `NATS transporter: transport must be "deno", "node" or "wire", not ${
        JSON.stringify(String(transport))
      }`,
      { transport: String(transport) },
    );
  }
  return {
    servers: parsed.servers,
    // From a connection string, show its own schemes (`tls://` survives the parsing).
    url: typeof options === "string" ? parseServers(splitServers(options)).display : parsed.display,
    credentials,
    tls: opts.tls ?? parsed.tls,
    transport,
    options: opts,
  };
}
