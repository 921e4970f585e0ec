/**
 * The servers a client may connect to: the configured ones plus those a server advertises in
 * INFO (`connect_urls`), with the attempts made on each for the reconnect policy.
 *
 * @example Rotate through servers
 * ```ts
 * import { ServerPool } from "./servers.ts";
 *
 * const pool = new ServerPool(["127.0.0.1:4222", "nats-2"]);
 * pool.next()?.port; // 4222
 * pool.next()?.hostname; // "nats-2"
 * ```
 *
 * @module
 */

/** The default NATS client port. */
const DEFAULT_PORT = 4222;

/** A server of the pool. */
export interface PoolServer {
  /** The host, without IPv6 brackets (as `Deno.connect` takes it). */
  readonly hostname: string;
  /** The port (4222 when none was given). */
  readonly port: number;
  /** `host:port`, to recognise it again. */
  readonly key: string;
  /** Failed attempts since the last success. */
  failures: number;
  /** When the last attempt began (ms since the epoch); 0 for never. */
  lastAttempt: number;
}

/**
 * Parse `host`, `host:port`, `[v6]:port` or a `nats://` URL into a pool entry.
 *
 * @param server The server as configured or advertised.
 * @returns The entry, or `undefined` when it cannot be parsed.
 */
export function parseServer(server: string): PoolServer | undefined {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(server) ? server : `nats://${server}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return undefined;
  }
  if (url.hostname === "") return undefined;
  const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = url.port === "" ? DEFAULT_PORT : Number(url.port);
  return { hostname, port, key: `${url.hostname}:${port}`, failures: 0, lastAttempt: 0 };
}

/** The servers in rotation. */
export class ServerPool {
  readonly #servers: PoolServer[] = [];
  #at = 0;

  /**
   * Start the pool with the configured servers.
   *
   * @param servers The configured servers (`host:port` entries).
   */
  constructor(servers: readonly string[]) {
    for (const s of servers) this.add(s);
  }

  /** All servers, configured first. */
  get servers(): readonly PoolServer[] {
    return this.#servers;
  }

  /**
   * Add a server unless it is known (or cannot be parsed).
   *
   * @param server `host:port` or a URL.
   */
  add(server: string): void {
    const entry = parseServer(server);
    if (entry === undefined || this.#servers.some((s) => s.key === entry.key)) return;
    this.#servers.push(entry);
  }

  /**
   * The next server in rotation that has attempts left.
   *
   * @param maxAttempts Failed attempts allowed per server; -1 for no limit.
   * @returns The server, or `undefined` when every server used its attempts.
   */
  next(maxAttempts = -1): PoolServer | undefined {
    const n = this.#servers.length;
    for (let k = 0; k < n; k++) {
      const s = this.#servers[(this.#at + k) % n]!;
      if (maxAttempts < 0 || s.failures < maxAttempts) {
        this.#at = (this.#at + k + 1) % n;
        return s;
      }
    }
    return undefined;
  }

  /** Start the rotation over with fresh counts (a new session). */
  reset(): void {
    this.#at = 0;
    for (const s of this.#servers) {
      s.failures = 0;
      s.lastAttempt = 0;
    }
  }
}
