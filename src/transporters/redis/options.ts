/**
 * The Redis transporter's options: their types and their checks, without the Redis client.
 *
 * A broker checks `transporter: "redis://…"` when it is constructed (a bad URL or option is a
 * {@linkcode BrokerOptionsError} at `new ServiceBroker`); `ioredis` itself loads only when the
 * transporter connects.
 *
 * @example
 * ```ts
 * import { resolveRedisSettings } from "./options.ts";
 *
 * resolveRedisSettings("redis://:s3cret@cache-1:6379/2").url; // "redis://cache-1:6379/2"
 * ```
 *
 * @module
 */

import { BrokerOptionsError } from "../../errors.ts";

/**
 * Options of the Redis transporter, as Moleculer's: a connection string, the options of an
 * `ioredis` client (`host`, `port`, `password`, `db`, `tls`, …), or `{ cluster }` for a Redis
 * Cluster.
 */
export interface RedisTransporterOptions {
  /** Server host. @default {"127.0.0.1"} */
  host?: string;
  /** Server port. @default {6379} */
  port?: number;
  /** Password (`AUTH`). */
  password?: string;
  /** ACL user name (Redis 6+). */
  username?: string;
  /** Database index; Pub/Sub is server-wide, so it does not separate clusters. @default {0} */
  db?: number;
  /** TLS options of `node:tls` `connect()`; `{}` asks for TLS with defaults (`rediss://`). */
  tls?: Record<string, unknown>;
  /**
   * A Redis Cluster instead of one server: `nodes` as `[{ host, port }]` or URLs, and the
   * options of `ioredis`' `Cluster` (Moleculer's names).
   */
  cluster?: { nodes: unknown[]; clusterOptions?: Record<string, unknown> };
  /** Any other `ioredis` option, passed as is. */
  [option: string]: unknown;
}

/** The options once checked. */
export interface RedisSettings {
  /** The server(s) for messages, without credentials, e.g. `"redis://127.0.0.1:6379"`. */
  readonly url: string;
  /** The connection string given, with its credentials, for `ioredis`; or undefined. */
  readonly connectionString: string | undefined;
  /** The `ioredis` options (the connection string's are merged in by the client). */
  readonly options: Readonly<Record<string, unknown>>;
  /** The cluster, when one is configured. */
  readonly cluster: {
    nodes: unknown[];
    clusterOptions: Record<string, unknown>;
  } | undefined;
}

/** Hide a password that may be in a URL. */
export function maskUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/g, "//***@");
}

function fromUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch (cause) {
    throw new BrokerOptionsError(
      `Invalid Redis URL "${maskUrl(value)}": expected redis://[user:pass@]host[:port][/db]`,
      { url: maskUrl(value) },
      { cause },
    );
  }
  const scheme = url.protocol.toLowerCase();
  if (scheme !== "redis:" && scheme !== "rediss:") {
    throw new BrokerOptionsError(
      `Invalid Redis URL "${maskUrl(value)}": the scheme must be redis:// or rediss://`,
      { url: maskUrl(value) },
    );
  }
  if (url.hostname === "") {
    throw new BrokerOptionsError(
      `Invalid Redis URL "${maskUrl(value)}": no host`,
      {
        url: maskUrl(value),
      },
    );
  }
  const db = url.pathname.replace(/^\//, "");
  if (db !== "" && !/^\d+$/.test(db)) {
    throw new BrokerOptionsError(
      `Invalid Redis URL "${maskUrl(value)}": the path must be a database number, e.g. /0`,
      { url: maskUrl(value) },
    );
  }
  return `${scheme}//${url.hostname}:${url.port || "6379"}${db ? `/${db}` : ""}`;
}

/**
 * Check the Redis options (a transporter's or a cacher's) and settle what the client connects
 * with.
 *
 * @param options A connection string or options.
 * @param what Whose options, for messages: `"Redis transporter"` or `"Redis cacher"`.
 * @returns The settings.
 * @throws {BrokerOptionsError} for a malformed URL, a cluster without nodes, or options that are
 *   neither a string nor an object.
 */
export function resolveRedisSettings(
  options: string | RedisTransporterOptions | undefined = {},
  what = "Redis transporter",
): RedisSettings {
  if (typeof options === "string") {
    return {
      url: fromUrl(options),
      connectionString: options,
      options: {},
      cluster: undefined,
    };
  }
  if (
    typeof options !== "object" || options === null || Array.isArray(options)
  ) {
    throw new BrokerOptionsError(
      `Invalid ${what} options: expected a redis:// URL or ioredis options, got ${
        Array.isArray(options) ? "an array" : typeof options
      }`,
    );
  }
  const { cluster, ...rest } = options;
  if (cluster !== undefined) {
    const nodes = (cluster as { nodes?: unknown })?.nodes;
    if (!Array.isArray(nodes) || nodes.length === 0) {
      throw new BrokerOptionsError(
        `${what}: 'cluster.nodes' must list the cluster's nodes, e.g. ` +
          `[{ host: "127.0.0.1", port: 7000 }]`,
        { option: "cluster.nodes" },
      );
    }
    const clusterOptions = (cluster as { clusterOptions?: Record<string, unknown> })
      .clusterOptions ?? {};
    const shown = nodes.map((n) =>
      typeof n === "string"
        ? maskUrl(n)
        : `${(n as { host?: string })?.host ?? "127.0.0.1"}:${
          (n as { port?: number })?.port ?? 6379
        }`
    );
    return {
      url: `redis-cluster://${shown.join(",")}`,
      connectionString: undefined,
      options: rest,
      cluster: { nodes, clusterOptions },
    };
  }
  for (
    const [key, type] of [["host", "string"], ["port", "number"], [
      "db",
      "number",
    ]] as const
  ) {
    const value = rest[key];
    if (value !== undefined && typeof value !== type) {
      throw new BrokerOptionsError(
        `${what}: '${key}' must be a ${type}, got ${typeof value}`,
        {
          option: key,
        },
      );
    }
  }
  const scheme = rest.tls ? "rediss" : "redis";
  const db = rest.db ? `/${rest.db}` : "";
  return {
    url: `${scheme}://${rest.host ?? "127.0.0.1"}:${rest.port ?? 6379}${db}`,
    connectionString: undefined,
    options: rest,
    cluster: undefined,
  };
}
