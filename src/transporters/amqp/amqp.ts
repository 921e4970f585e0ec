/**
 * The AMQP transporter: joins a Moleculer cluster through an AMQP 0.9.1 broker (RabbitMQ).
 *
 * Its options are checked when it is constructed; `amqplib` (`client.ts`) loads by `import()`
 * on the first connect. The layout is Moleculer's, name for name:
 *
 * - a packet for one node goes to the queue `<prefix>.<TYPE>.<nodeID>` (requests there are
 *   acknowledged once handled);
 * - a broadcast goes to the fanout exchange `<prefix>.<TYPE>`, bound to each node's queue
 *   `<prefix>.<TYPE>.<nodeID>`;
 * - with `disableBalancer`, RabbitMQ balances: a request goes to the queue
 *   `<prefix>.REQB.<action>` and an event copy to `<prefix>.EVENTB.<group>.<event>`, consumed
 *   by every node that serves them, at most `prefetch` unacknowledged messages each, each
 *   acknowledged once handled — a request whose node dies first is delivered again.
 *
 * A balanced event queue is named after the handler's event name, as in Moleculer, so a
 * pattern (`user.*`) only gets the events emitted under that very name.
 *
 * @example
 * ```ts ignore
 * import { AmqpTransporter } from "./amqp.ts";
 *
 * const amqp = new AmqpTransporter({ url: "amqp://guest:guest@127.0.0.1:5672", prefetch: 10 });
 * ```
 *
 * @module
 */

import type { PacketType } from "../../core/protocol.ts";
import type { Transporter, TransporterHost, TransporterSubscription } from "../transporter.ts";
import { BrokerDisconnectedError } from "../../errors.ts";
import type { AmqpClient } from "./client.ts";
import {
  type AmqpSettings,
  type AmqpTransporterOptions,
  queueOptions,
  resolveAmqpSettings,
} from "./options.ts";

/**
 * A transporter over AMQP 0.9.1, compatible with Moleculer's AMQP transporter.
 *
 * - The first connection is bounded: a refused connection or a rejected login reject
 *   `connect()` with a `BrokerDisconnectedError` naming the URL and the cause.
 * - Afterwards a lost connection is reopened (the next URL in turn) and everything is declared
 *   and consumed again before `host.onReconnect`. While down, publishing rejects with
 *   `BrokerDisconnectedError`.
 */
export class AmqpTransporter implements Transporter {
  /** `"AMQP"`. */
  readonly name: string = "AMQP";
  /** `true`: RabbitMQ's queues balance requests and events (`disableBalancer`). */
  readonly hasBuiltInBalancer: boolean = true;
  /** `undefined`: the server's limit (RabbitMQ: 128 MiB by default) is not announced. */
  readonly maxPayload: number | undefined = undefined;
  /** The servers, without credentials, e.g. `"amqp://127.0.0.1:5672"`. */
  readonly url: string;
  readonly #s: AmqpSettings;
  #client: AmqpClient | undefined;
  #loading: Promise<AmqpClient> | undefined;
  #host: TransporterHost | undefined;

  /**
   * Create an AMQP transporter. Nothing loads or connects until `connect()`.
   *
   * @param options An `amqp://` URL (`;` between several) or Moleculer's options.
   * @throws {BrokerOptionsError} when the URL or an option is malformed.
   */
  constructor(options: string | AmqpTransporterOptions = {}) {
    this.#s = resolveAmqpSettings(options);
    this.url = this.#s.url;
  }

  /** True while the connection and its channel are open. */
  get connected(): boolean {
    return this.#client?.connected ?? false;
  }

  /**
   * Load `amqplib` (the first time), connect and open the channel.
   *
   * @param host This node, where its packets go, and the connection-state callbacks.
   * @throws {BrokerDisconnectedError} when the server cannot be reached.
   */
  async connect(host: TransporterHost): Promise<void> {
    this.#host = host;
    this.#loading ??= import("./client.ts").then(
      ({ AmqpClient }) => this.#client = new AmqpClient(this.#s),
      (error) => {
        this.#loading = undefined;
        throw error;
      },
    );
    await (await this.#loading).connect(host);
  }

  /** Unbind this node's broadcast queues, close the channel and the connection. Idempotent. */
  async disconnect(): Promise<void> {
    if (this.#client === undefined) await this.#loading?.catch(() => {});
    await this.#client?.disconnect();
  }

  /**
   * Consume the packets of a type: this node's queue `<prefix>.<TYPE>.<nodeID>` (targeted), or
   * the same queue bound to the fanout exchange `<prefix>.<TYPE>` (broadcast).
   *
   * @param type The packet type.
   * @param nodeID This node, for targeted packets.
   * @returns The subscription, once consuming.
   * @throws {BrokerDisconnectedError} when not connected.
   */
  async subscribe(type: PacketType, nodeID?: string): Promise<TransporterSubscription> {
    const { client, host } = this.#ready();
    const receive = (data: Uint8Array) => host.receive(type, data);
    if (nodeID !== undefined) {
      return await client.subscribe({
        queue: `${host.prefix}.${type}.${nodeID}`,
        queueOptions: queueOptions(this.#s, type),
        ack: type === "REQ",
        handler: receive,
      });
    }
    return await client.subscribe({
      queue: `${host.prefix}.${type}.${host.nodeID}`,
      queueOptions: queueOptions(this.#s, type),
      exchange: `${host.prefix}.${type}`,
      ack: false,
      handler: receive,
    });
  }

  /**
   * Consume the balanced queue `<prefix>.REQB.<action>`; each request is acknowledged once its
   * response is sent.
   *
   * @param action The full action name.
   * @returns The subscription.
   * @throws {BrokerDisconnectedError} when not connected.
   */
  async subscribeBalancedRequest(action: string): Promise<TransporterSubscription> {
    const { client, host } = this.#ready();
    return await client.subscribe({
      queue: `${host.prefix}.REQB.${action}`,
      queueOptions: queueOptions(this.#s, "REQ", true),
      ack: true,
      handler: (data) => host.receive("REQ", data),
    });
  }

  /**
   * Consume the balanced queue `<prefix>.EVENTB.<group>.<event>`; each event is acknowledged
   * once handled.
   *
   * @param event The event name, as the handler subscribed it.
   * @param group The event group.
   * @returns The subscription.
   * @throws {BrokerDisconnectedError} when not connected.
   */
  async subscribeBalancedEvent(event: string, group: string): Promise<TransporterSubscription> {
    const { client, host } = this.#ready();
    return await client.subscribe({
      queue: `${host.prefix}.EVENTB.${group}.${event}`,
      queueOptions: queueOptions(this.#s, "EVENTLB", true),
      ack: true,
      handler: (data) => host.receive("EVENT", data),
    });
  }

  /**
   * Send a packet to a node's queue, or publish it on the type's fanout exchange.
   *
   * @param type The packet type.
   * @param target The node it is for; `undefined` to broadcast.
   * @param data The payload.
   * @throws {BrokerDisconnectedError} when not connected, including while reconnecting.
   */
  async publish(type: PacketType, target: string | undefined, data: Uint8Array): Promise<void> {
    const { client, host } = this.#ready();
    if (target !== undefined) await client.sendToQueue(`${host.prefix}.${type}.${target}`, data);
    else await client.publish(`${host.prefix}.${type}`, data);
  }

  /**
   * Send a request to the action's balanced queue `<prefix>.REQB.<action>`.
   *
   * @param action The full action name.
   * @param data The payload.
   * @throws {BrokerDisconnectedError} when not connected.
   */
  async publishBalancedRequest(action: string, data: Uint8Array): Promise<void> {
    const { client, host } = this.#ready();
    await client.sendToQueue(`${host.prefix}.REQB.${action}`, data);
  }

  /**
   * Send an event copy to the group's balanced queue `<prefix>.EVENTB.<group>.<event>`.
   *
   * @param event The event name.
   * @param group The group.
   * @param data The payload.
   * @throws {BrokerDisconnectedError} when not connected.
   */
  async publishBalancedEvent(event: string, group: string, data: Uint8Array): Promise<void> {
    const { client, host } = this.#ready();
    await client.sendToQueue(`${host.prefix}.EVENTB.${group}.${event}`, data);
  }

  #ready(): { client: AmqpClient; host: TransporterHost } {
    const client = this.#client;
    const host = this.#host;
    if (client === undefined || host === undefined) {
      throw new BrokerDisconnectedError(`Not connected to AMQP at ${this.url}`, { url: this.url });
    }
    return { client, host };
  }
}
