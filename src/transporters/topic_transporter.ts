/**
 * The shape shared by the transporters over a plain publish/subscribe broker with no queue
 * groups (Redis Pub/Sub, MQTT): one topic per packet type and target, loaded lazily, and no
 * balanced queues — the broker's own balancer picks the node, as in Moleculer, where these
 * transporters have `hasBuiltInBalancer: false`.
 *
 * @module
 */

import { noBalancedQueues } from "./_errors.ts";
import { BrokerDisconnectedError, type MoleculerError } from "../errors.ts";
import type { PacketType } from "../core/protocol.ts";
import type {
  Transporter,
  TransporterHost,
  TransporterListener,
  TransporterSubscription,
} from "./transporter.ts";

/** The client a {@linkcode TopicTransporter} drives: topics and bytes on one connection. */
export interface TopicClient {
  /** True while the connection is up. */
  readonly connected: boolean;
  /**
   * Connect, or keep the connection and take the new listener.
   *
   * @throws {BrokerDisconnectedError} when the server cannot be reached.
   */
  connect(listener: TransporterListener): Promise<void>;
  /** Close the connection. Idempotent. */
  disconnect(): Promise<void>;
  /**
   * Receive the messages of a topic; resolves once the server confirmed the subscription.
   *
   * @throws {BrokerDisconnectedError} when not connected.
   */
  subscribe(topic: string, handler: (data: Uint8Array) => void): Promise<TransporterSubscription>;
  /**
   * Publish bytes on a topic.
   *
   * @throws {BrokerDisconnectedError} when not connected, including while reconnecting.
   */
  publish(topic: string, data: Uint8Array): Promise<void>;
}

/**
 * A transporter over a {@linkcode TopicClient}: the client loads on the first connect, and
 * each packet goes to the topic {@linkcode TopicTransporter.topic} names.
 */
export abstract class TopicTransporter implements Transporter {
  /** The transporter's name, e.g. `"Redis"`. */
  abstract readonly name: string;
  /** The server(s), without credentials. */
  abstract readonly url: string;
  /** `false`: the server has no queue groups; the broker balances. */
  readonly hasBuiltInBalancer: boolean = false;
  /** `undefined`: these servers' limits are far above what a packet needs, and not announced. */
  readonly maxPayload: number | undefined = undefined;

  #client: TopicClient | undefined;
  #loading: Promise<TopicClient> | undefined;
  #host: TransporterHost | undefined;

  /** Load the client's module and create the client (called once, on the first connect). */
  protected abstract load(): Promise<TopicClient>;

  /**
   * The topic of a packet type, for one node or for all.
   *
   * @param prefix `MOL` or `MOL-<namespace>`.
   * @param type The packet type.
   * @param nodeID The target, for targeted packets.
   */
  protected abstract topic(prefix: string, type: PacketType, nodeID?: string): string;

  /** True while connected. */
  get connected(): boolean {
    return this.#client?.connected ?? false;
  }

  /**
   * Load the client (the first time) and connect.
   *
   * @param host This node, where its packets go, and the connection-state callbacks.
   * @throws {BrokerDisconnectedError} when the server cannot be reached.
   */
  async connect(host: TransporterHost): Promise<void> {
    this.#host = host;
    this.#loading ??= this.load().then(
      (client) => this.#client = client,
      (error) => {
        this.#loading = undefined;
        throw error;
      },
    );
    await (await this.#loading).connect(host);
  }

  /** Close the connection. Idempotent. */
  async disconnect(): Promise<void> {
    if (this.#client === undefined) await this.#loading?.catch(() => {});
    await this.#client?.disconnect();
  }

  /**
   * Receive the packets of a type, broadcast or for this node.
   *
   * @param type The packet type.
   * @param nodeID This node, for targeted packets.
   * @returns The subscription, once the server confirmed it.
   * @throws {BrokerDisconnectedError} when not connected.
   */
  async subscribe(type: PacketType, nodeID?: string): Promise<TransporterSubscription> {
    const { client, host } = this.#ready();
    return await client.subscribe(
      this.topic(host.prefix, type, nodeID),
      (data) => host.receive(type, data),
    );
  }

  /**
   * Publish a packet to one node, or to all.
   *
   * @param type The packet type.
   * @param target The node it is for; `undefined` to broadcast.
   * @param data The payload.
   * @throws {BrokerDisconnectedError} when not connected, including while reconnecting.
   */
  async publish(type: PacketType, target: string | undefined, data: Uint8Array): Promise<void> {
    const { client, host } = this.#ready();
    await client.publish(this.topic(host.prefix, type, target), data);
  }

  /**
   * Not available: no balanced queues here.
   *
   * @param _action The action.
   */
  subscribeBalancedRequest(_action: string): Promise<TransporterSubscription> {
    return Promise.reject(this.#noBalancer());
  }

  /**
   * Not available: no balanced queues here.
   *
   * @param _event The event.
   * @param _group The group.
   */
  subscribeBalancedEvent(_event: string, _group: string): Promise<TransporterSubscription> {
    return Promise.reject(this.#noBalancer());
  }

  /**
   * Not available: no balanced queues here.
   *
   * @param _action The action.
   * @param _data The payload.
   */
  publishBalancedRequest(_action: string, _data: Uint8Array): Promise<void> {
    return Promise.reject(this.#noBalancer());
  }

  /**
   * Not available: no balanced queues here.
   *
   * @param _event The event.
   * @param _group The group.
   * @param _data The payload.
   */
  publishBalancedEvent(_event: string, _group: string, _data: Uint8Array): Promise<void> {
    return Promise.reject(this.#noBalancer());
  }

  #ready(): { client: TopicClient; host: TransporterHost } {
    const client = this.#client;
    const host = this.#host;
    if (client === undefined || host === undefined) throw this.#notConnected();
    return { client, host };
  }

  #notConnected(): BrokerDisconnectedError {
    return new BrokerDisconnectedError(`Not connected to ${this.name} at ${this.url}`, {
      url: this.url,
    });
  }

  #noBalancer(): MoleculerError {
    if (!this.connected) return this.#notConnected();
    return noBalancedQueues(this.name);
  }
}
