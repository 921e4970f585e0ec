/**
 * The Redis transporter: joins a Moleculer cluster through Redis Pub/Sub.
 *
 * Its options are checked when it is constructed; `ioredis` (`client.ts`) loads by `import()`
 * on the first connect. Channels are Moleculer's: `MOL[-<namespace>].<TYPE>[.<nodeID>]`.
 * Redis Pub/Sub has no queue groups, so this transporter does not balance (`disableBalancer`
 * is ignored, as in Moleculer): the broker's own balancer picks the node.
 *
 * @example
 * ```ts ignore
 * import { RedisTransporter } from "./redis.ts";
 *
 * const redis = new RedisTransporter("redis://127.0.0.1:6379");
 * await redis.connect({ namespace: "", prefix: "MOL", nodeID: "n1", receive: () => {} });
 * await redis.subscribe("INFO"); // MOL.INFO
 * await redis.disconnect();
 * ```
 *
 * @module
 */

import type { PacketType } from "../../core/protocol.ts";
import { packetSubject } from "../subjects.ts";
import { type TopicClient, TopicTransporter } from "../topic_transporter.ts";
import {
  type RedisSettings,
  type RedisTransporterOptions,
  resolveRedisSettings,
} from "./options.ts";

/**
 * A transporter over Redis Pub/Sub, compatible with Moleculer's Redis transporter (one
 * connection publishes, one subscribes).
 *
 * - The first connection is bounded: a refused connection or a rejected password reject
 *   `connect()` with a `BrokerDisconnectedError` naming the URL and the cause.
 * - Afterwards the client reconnects by itself; the channels are subscribed again before
 *   `host.onReconnect` is called. While down, publishing rejects with
 *   `BrokerDisconnectedError` (nothing is queued to go late).
 *
 * @example Options as in Moleculer
 * ```ts ignore
 * import { RedisTransporter } from "./redis.ts";
 *
 * new RedisTransporter({ host: "redis-1", port: 6379, password: "s3cret", db: 0 });
 * new RedisTransporter({ cluster: { nodes: [{ host: "r1", port: 7000 }] } });
 * ```
 */
export class RedisTransporter extends TopicTransporter {
  /** `"Redis"`. */
  readonly name: string = "Redis";
  /** The server(s), without credentials, e.g. `"redis://127.0.0.1:6379"`. */
  readonly url: string;
  readonly #settings: RedisSettings;

  /**
   * Create a Redis transporter. Nothing loads or connects until `connect()`.
   *
   * @param options A `redis://` / `rediss://` URL, `ioredis` options, or `{ cluster }`.
   * @throws {BrokerOptionsError} when the URL or an option is malformed.
   */
  constructor(options: string | RedisTransporterOptions = {}) {
    super();
    this.#settings = resolveRedisSettings(options);
    this.url = this.#settings.url;
  }

  /** Load `ioredis` and create the client. */
  protected override async load(): Promise<TopicClient> {
    const { RedisClient } = await import("./client.ts");
    return new RedisClient(this.#settings);
  }

  /** Moleculer's channel: `<prefix>.<TYPE>[.<nodeID>]`. */
  protected override topic(prefix: string, type: PacketType, nodeID?: string): string {
    return packetSubject(prefix, type, nodeID);
  }
}
