/**
 * An in-process transporter: brokers in the same process talk without a network.
 *
 * Transporters created with the same *group* name share one bus (`memory_bus.ts`); different
 * groups never see each other's messages, so parallel tests stay isolated. The bus emulates NATS,
 * and the transporter lays Moleculer's NATS subjects on it (`subjects.ts`), queue groups
 * included: `disableBalancer` works on it as on NATS.
 *
 * @example Two brokers' transporters on one bus
 * ```ts
 * import { MemoryTransporter } from "./memory.ts";
 * import type { TransporterHost } from "./transporter.ts";
 *
 * const host = (nodeID: string): TransporterHost => ({
 *   namespace: "",
 *   prefix: "MOL",
 *   nodeID,
 *   receive: (type, bytes) => console.log(nodeID, type, bytes.length),
 * });
 * const a = new MemoryTransporter("my-test");
 * const b = new MemoryTransporter("my-test");
 * await a.connect(host("a"));
 * await b.connect(host("b"));
 * await b.subscribe("INFO");
 * await a.publish("INFO", undefined, new TextEncoder().encode("{}"));
 * await a.disconnect(); // delivers what was published first: "b INFO 2"
 * await b.disconnect();
 * ```
 *
 * @module
 */

import { BrokerDisconnectedError } from "../errors.ts";
import type { PacketType } from "../core/protocol.ts";
import { MemoryBusClient } from "./memory_bus.ts";
import {
  balancedEventPattern,
  balancedEventSubject,
  balancedRequestSubject,
  packetSubject,
} from "./subjects.ts";
import type { Transporter, TransporterHost, TransporterSubscription } from "./transporter.ts";

/**
 * An in-process transporter for tests and single-process clusters (Moleculer's `Fake`, but scoped
 * to a group instead of global). Resolved from `"memory://<group>"` or `"Memory"`.
 *
 * - Queue groups: each balanced request or event copy goes to one member of its queue
 *   (round-robin), and every broadcast reaches every subscriber, the publisher included.
 * - Delivery is asynchronous (a microtask) and keeps the publish order. The bytes are shared, not
 *   copied: treat received data as read-only.
 * - A `receive` that throws does not stop delivery to others; the error goes to the receiving
 *   transporter's `host.onError`.
 *
 * @example Isolated groups
 * ```ts
 * import { MemoryTransporter } from "./memory.ts";
 *
 * const t = new MemoryTransporter("test-42");
 * await t.connect({ namespace: "", prefix: "MOL", nodeID: "n1", receive: () => {} });
 * const sub = await t.subscribeBalancedRequest("users.get");
 * sub.unsubscribe();
 * await t.disconnect();
 * ```
 */
export class MemoryTransporter implements Transporter {
  /** `"Memory"`. */
  readonly name: string = "Memory";
  /** Always `true`: queue groups are supported. */
  readonly hasBuiltInBalancer: boolean = true;
  /** The bus group this transporter joins on connect. */
  readonly group: string;

  readonly #bus: MemoryBusClient;
  #host: TransporterHost | undefined;

  /**
   * Create a transporter on the given bus group.
   *
   * @param group The bus name; transporters with the same group see each other.
   * @throws {TypeError} when the group is not a non-empty string.
   */
  constructor(group: string = "default") {
    this.#bus = new MemoryBusClient(group);
    this.group = group;
  }

  /** True between {@linkcode MemoryTransporter.connect} and {@linkcode MemoryTransporter.disconnect}. */
  get connected(): boolean {
    return this.#bus.connected;
  }

  /** Always `undefined`: the memory bus has no payload limit. */
  get maxPayload(): number | undefined {
    return undefined;
  }

  /**
   * Join the group's bus. Calling it again while connected only replaces the host.
   *
   * @param host This node and its callbacks; only `onError` is ever called (`receive` errors).
   * @returns A promise that resolves once connected.
   */
  connect(host: TransporterHost): Promise<void> {
    this.#host = host;
    return this.#bus.connect((error) => this.#host?.onError?.(error));
  }

  /**
   * Leave the bus: messages already published (by anyone) are delivered first, then this
   * transporter's subscriptions end. Publishing is refused from the moment it is called.
   * Idempotent.
   *
   * @returns A promise that resolves once disconnected.
   */
  disconnect(): Promise<void> {
    return this.#bus.disconnect();
  }

  /**
   * Receive the packets of a type, broadcast (`<prefix>.<TYPE>`) or for `nodeID`
   * (`<prefix>.<TYPE>.<nodeID>`).
   *
   * @param type The packet type.
   * @param nodeID This node, for targeted packets.
   * @returns The subscription (active at once).
   * @throws {BrokerDisconnectedError} when not connected.
   */
  subscribe(type: PacketType, nodeID?: string): Promise<TransporterSubscription> {
    return this.#subscribe(type, (prefix) => packetSubject(prefix, type, nodeID));
  }

  /**
   * Join the queue group of an action on `<prefix>.REQB.<action>`.
   *
   * @param action The full action name.
   * @returns The subscription (active at once).
   * @throws {BrokerDisconnectedError} when not connected.
   */
  subscribeBalancedRequest(action: string): Promise<TransporterSubscription> {
    return this.#subscribe("REQ", (prefix) => balancedRequestSubject(prefix, action), action);
  }

  /**
   * Join the queue group `group` on `<prefix>.EVENTB.<group>.<event>` (`**` and what follows it
   * become `>`).
   *
   * @param event The event name or pattern.
   * @param group The event group.
   * @returns The subscription (active at once).
   * @throws {BrokerDisconnectedError} when not connected.
   */
  subscribeBalancedEvent(event: string, group: string): Promise<TransporterSubscription> {
    return this.#subscribe("EVENT", (prefix) => balancedEventPattern(prefix, group, event), group);
  }

  /**
   * Publish a packet on `<prefix>.<TYPE>` or `<prefix>.<TYPE>.<target>`. Delivery happens
   * asynchronously, after this resolves.
   *
   * @param type The packet type.
   * @param target The node it is for; `undefined` to broadcast.
   * @param data The bytes; not copied, so do not modify them afterwards.
   * @returns A promise that resolves once the packet is queued for delivery.
   * @throws {BrokerDisconnectedError} when not connected.
   */
  publish(type: PacketType, target: string | undefined, data: Uint8Array): Promise<void> {
    const host = this.#host;
    if (host === undefined) return Promise.reject(notConnected("publish"));
    return this.#bus.publish(packetSubject(host.prefix, type, target), data);
  }

  /**
   * Publish a request on `<prefix>.REQB.<action>`.
   *
   * @param action The full action name.
   * @param data The bytes.
   * @returns A promise that resolves once the packet is queued for delivery.
   * @throws {BrokerDisconnectedError} when not connected.
   */
  publishBalancedRequest(action: string, data: Uint8Array): Promise<void> {
    const host = this.#host;
    if (host === undefined) return Promise.reject(notConnected("publish"));
    return this.#bus.publish(balancedRequestSubject(host.prefix, action), data);
  }

  /**
   * Publish an event copy on `<prefix>.EVENTB.<group>.<event>`.
   *
   * @param event The concrete event name.
   * @param group The event group.
   * @param data The bytes.
   * @returns A promise that resolves once the packet is queued for delivery.
   * @throws {BrokerDisconnectedError} when not connected.
   */
  publishBalancedEvent(event: string, group: string, data: Uint8Array): Promise<void> {
    const host = this.#host;
    if (host === undefined) return Promise.reject(notConnected("publish"));
    return this.#bus.publish(balancedEventSubject(host.prefix, group, event), data);
  }

  #subscribe(
    type: PacketType,
    subject: (prefix: string) => string,
    queue?: string,
  ): Promise<TransporterSubscription> {
    const host = this.#host;
    if (host === undefined) return Promise.reject(notConnected("subscribe"));
    try {
      return Promise.resolve(
        this.#bus.subscribe(subject(host.prefix), (data) => this.#host!.receive(type, data), queue),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

function notConnected(what: string): BrokerDisconnectedError {
  return new BrokerDisconnectedError(`Cannot ${what}: the memory transporter is not connected.`);
}
