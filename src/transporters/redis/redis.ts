/**
 * The Redis transporter: joins a Moleculer cluster through Redis Pub/Sub.
 *
 * Its options are checked when it is constructed; `ioredis` (`client.ts`) loads by `import()`
 * on the first {@linkcode RedisTransporter.connect}. Channels are Moleculer's:
 * `MOL[-<namespace>].<TYPE>[.<nodeID>]`. Redis Pub/Sub has no queue groups, so this transporter
 * does not balance (`disableBalancer` is ignored, as in Moleculer): the broker's own balancer
 * picks the node.
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

import { BrokerDisconnectedError, MoleculerError } from "../../errors.ts";
import type { PacketType } from "../../transit/packets.ts";
import { packetSubject } from "../subjects.ts";
import type { Transporter, TransporterHost, TransporterSubscription } from "../transporter.ts";
import type { RedisClient } from "./client.ts";
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
 *   {@linkcode RedisTransporter.connect} with a {@linkcode BrokerDisconnectedError}.
 * - Afterwards the client reconnects by itself; the channels are subscribed again before
 *   `host.onReconnect` is called. While down, publishing rejects with
 *   {@linkcode BrokerDisconnectedError} (nothing is queued to go late).
 *
 * @example Options as in Moleculer
 * ```ts ignore
 * import { RedisTransporter } from "./redis.ts";
 *
 * new RedisTransporter({ host: "redis-1", port: 6379, password: "s3cret", db: 0 });
 * new RedisTransporter({ cluster: { nodes: [{ host: "r1", port: 7000 }] } });
 * ```
 */
export class RedisTransporter implements Transporter {
  /** `"Redis"`. */
  readonly name: string = "Redis";
  /** `false`: Pub/Sub has no queue groups. */
  readonly hasBuiltInBalancer: boolean = false;
  /** Redis limits a message to its `proto-max-bulk-len` (512 MB by default): unknown here. */
  readonly maxPayload: number | undefined = undefined;
  /** The server(s), without credentials, e.g. `"redis://127.0.0.1:6379"`. */
  readonly url: string;

  readonly #settings: RedisSettings;
  #client: RedisClient | undefined;
  #loading: Promise<RedisClient> | undefined;
  #host: TransporterHost | undefined;

  /**
   * Create a Redis transporter. Nothing loads or connects until
   * {@linkcode RedisTransporter.connect}.
   *
   * @param options A `redis://` / `rediss://` URL, `ioredis` options, or `{ cluster }`.
   * @throws {BrokerOptionsError} when the URL or an option is malformed.
   */
  constructor(options: string | RedisTransporterOptions = {}) {
    this.#settings = resolveRedisSettings(options);
    this.url = this.#settings.url;
  }

  /** True while both connections are up. */
  get connected(): boolean {
    return this.#client?.connected ?? false;
  }

  /**
   * Load `ioredis` (the first time) and open both connections.
   *
   * @param host This node, where its packets go, and the connection-state callbacks.
   * @throws {BrokerDisconnectedError} when the server cannot be reached.
   */
  async connect(host: TransporterHost): Promise<void> {
    this.#host = host;
    this.#loading ??= import("./client.ts").then(
      ({ RedisClient }) => this.#client = new RedisClient(this.#settings),
      (error) => {
        this.#loading = undefined;
        throw error;
      },
    );
    await (await this.#loading).connect(host);
  }

  /** Close both connections. Idempotent. */
  async disconnect(): Promise<void> {
    if (this.#client === undefined) await this.#loading?.catch(() => {});
    await this.#client?.disconnect();
  }

  /**
   * Receive the packets of a type on `<prefix>.<TYPE>` or `<prefix>.<TYPE>.<nodeID>`.
   *
   * @param type The packet type.
   * @param nodeID This node, for targeted packets.
   * @returns The subscription, once the server confirmed it.
   * @throws {BrokerDisconnectedError} when not connected.
   */
  async subscribe(
    type: PacketType,
    nodeID?: string,
  ): Promise<TransporterSubscription> {
    const { client, host } = this.#ready();
    return await client.subscribe(
      packetSubject(host.prefix, type, nodeID),
      (data) => host.receive(type, data),
    );
  }

  /**
   * Not available: Redis does not balance (see {@linkcode RedisTransporter.hasBuiltInBalancer}).
   *
   * @param _action The action.
   * @returns Never; rejects.
   */
  subscribeBalancedRequest(_action: string): Promise<TransporterSubscription> {
    return Promise.reject(this.#noBalancer());
  }

  /**
   * Not available: Redis does not balance.
   *
   * @param _event The event.
   * @param _group The group.
   * @returns Never; rejects.
   */
  subscribeBalancedEvent(
    _event: string,
    _group: string,
  ): Promise<TransporterSubscription> {
    return Promise.reject(this.#noBalancer());
  }

  /**
   * Publish a packet on `<prefix>.<TYPE>` or `<prefix>.<TYPE>.<target>`.
   *
   * @param type The packet type.
   * @param target The node it is for; `undefined` to broadcast.
   * @param data The payload.
   * @returns A promise that resolves once the command is written.
   * @throws {BrokerDisconnectedError} when not connected, including while reconnecting.
   */
  async publish(
    type: PacketType,
    target: string | undefined,
    data: Uint8Array,
  ): Promise<void> {
    const { client, host } = this.#ready();
    await client.publish(packetSubject(host.prefix, type, target), data);
  }

  /**
   * Not available: Redis does not balance.
   *
   * @param _action The action.
   * @param _data The payload.
   * @returns Never; rejects.
   */
  publishBalancedRequest(_action: string, _data: Uint8Array): Promise<void> {
    return Promise.reject(this.#noBalancer());
  }

  /**
   * Not available: Redis does not balance.
   *
   * @param _event The event.
   * @param _group The group.
   * @param _data The payload.
   * @returns Never; rejects.
   */
  publishBalancedEvent(
    _event: string,
    _group: string,
    _data: Uint8Array,
  ): Promise<void> {
    return Promise.reject(this.#noBalancer());
  }

  #ready(): { client: RedisClient; host: TransporterHost } {
    const client = this.#client;
    const host = this.#host;
    if (client === undefined || host === undefined) {
      throw new BrokerDisconnectedError(
        `Not connected to Redis at ${this.url}`,
        { url: this.url },
      );
    }
    return { client, host };
  }

  #noBalancer(): MoleculerError {
    if (!this.connected) {
      return new BrokerDisconnectedError(
        `Not connected to Redis at ${this.url}`,
        {
          url: this.url,
        },
      );
    }
    return new MoleculerError(
      "The Redis transporter has no balanced queues: the broker balances (disableBalancer " +
        "is ignored on Redis)",
      500,
      "NOT_BALANCING",
    );
  }
}
