/**
 * The transporter contract: how packets' bytes move between nodes, in the terms of Moleculer's
 * transporters (`src/transporters/base.js` of Moleculer).
 *
 * Transit speaks packet types and targets, never topics: it asks a transporter to
 * {@linkcode Transporter.subscribe} to a packet type (for this node, or broadcast), to publish a
 * packet of a type to a node (or to all), and, when the transporter balances
 * (`disableBalancer`), to subscribe to and publish on balanced request queues (by action) and
 * balanced event queues (by event and group). How that maps onto the wire — NATS subjects with
 * queue groups, MQTT topics with `/`, AMQP queues and exchanges, TCP connections — is each
 * transporter's own business. The payload bytes are opaque to it: transit serializes them.
 *
 * @module
 */

import type { NodeInfo } from "../registry/registry.ts";
import type { PacketType, ProtocolVersion } from "../core/protocol.ts";

/** A live subscription, returned by the `subscribe…` methods of a {@linkcode Transporter}. */
export interface TransporterSubscription {
  /** Stop receiving messages on this subscription. Idempotent. */
  unsubscribe(): void;
}

/** Connection-state callbacks a transporter reports to its owner. */
export interface TransporterListener {
  /** The connection came back after a loss (subscriptions are already restored). */
  onReconnect?(): void;
  /** The connection was lost; the client is trying to reconnect. */
  onDisconnect?(): void;
  /** A non-fatal error worth logging. */
  onError?(error: Error): void;
}

/**
 * What a transporter is given when it connects: who this node is, where its packets go, and the
 * connection-state callbacks. Deliberately narrow — a transporter sees no broker. One that
 * needs more of this node (a gossiping TCP transporter reads the node list) is given it through
 * an interface of its own, next to this one.
 */
export interface TransporterHost extends TransporterListener {
  /** The broker's namespace, `""` for none. Nodes of other namespaces must never be heard. */
  readonly namespace: string;
  /**
   * The topic prefix of Moleculer's transporters: `"MOL"`, or `"MOL-<namespace>"`. Transporters
   * that name topics start them with it, whatever their separator.
   */
  readonly prefix: string;
  /** This node's id: the target of the packets sent to this node. */
  readonly nodeID: string;
  /**
   * Called with the bytes of each packet that arrives, and the packet type of the subscription
   * it came on (`REQ` for a balanced request, `EVENT` for a balanced event). An error it throws
   * is reported to {@linkcode TransporterListener.onError}; delivery goes on.
   *
   * @param type The packet type.
   * @param data The serialized packet; treat it as read-only.
   * @returns For a request or an event, possibly a promise that settles once the
   *   packet is handled — the response sent, the handlers done: a transporter that acknowledges
   *   messages acknowledges then, as Moleculer's AMQP transporter does. Nothing otherwise.
   */
  receive(type: PacketType, data: Uint8Array): unknown;
}

/**
 * What a gossiping transporter (TCP) needs more of its node: the node list, and the verbs of
 * Moleculer's TCP transporter on it. Such a transporter carries no INFO, DISCOVER, HEARTBEAT or
 * DISCONNECT packets: it learns the nodes' INFO by gossip and hands it over here, and says which
 * nodes are gone (a connection closed, gossip said so). Transit gives every transporter a host
 * of this shape; {@linkcode isGossipHost} tells a bare {@linkcode TransporterHost} from it.
 */
export interface GossipHost extends TransporterHost {
  /** The protocol this node speaks: gossip of another version is dropped. */
  readonly protocolVersion: ProtocolVersion;
  /**
   * Known nodes by id, this one included. The transporter may set `seq`, `cpu` and `cpuSeq`
   * (as Moleculer's gossip does); it adds or removes nodes only through the methods below.
   */
  readonly nodes: ReadonlyMap<string, NodeInfo>;
  /** This node. */
  readonly localNode: NodeInfo;
  /** This node's INFO payload as it would announce it now (without `ver` and `sender`). */
  localInfo(): Record<string, unknown>;
  /** This node's CPU usage 0–100, or null when unknown. */
  cpuUsage(): number | null;
  /** Serialize a payload signed with this node's protocol version and nodeID. */
  encode(payload: Record<string, unknown>): Uint8Array;
  /**
   * Deserialize a payload.
   *
   * @throws {Error} when the bytes are not a payload of the broker's serializer.
   */
  decode(data: Uint8Array): Record<string, unknown>;
  /**
   * Register a node known only by its address (static list, UDP announcement, HELLO) as
   * offline, with `seq` 0, as Moleculer does. A known node is returned as is.
   *
   * @param nodeID The node.
   * @param host Its address.
   */
  addOfflineNode(nodeID: string, host: string): NodeInfo;
  /**
   * A node's INFO learnt by gossip: processed as an INFO packet from it.
   *
   * @throws {Error} when the INFO is malformed (nothing is applied).
   */
  nodeInfo(nodeID: string, info: Record<string, unknown>): void;
  /**
   * A node is gone: its endpoints are removed and its pending requests rejected.
   *
   * @param unexpected False for an orderly leave (its connection ended, gossip says so).
   */
  nodeDisconnected(nodeID: string, unexpected: boolean): void;
  /** Stop the heartbeats and their checks: node liveness comes from the transporter. */
  disableHeartbeat(): void;
}

/**
 * Whether a host is a {@linkcode GossipHost}.
 *
 * @param host What a transporter was given on connect.
 * @returns True when it carries the node list and the gossip verbs.
 */
export function isGossipHost(host: TransporterHost): host is GossipHost {
  const h = host as Partial<GossipHost>;
  return h.nodes instanceof Map && typeof h.nodeInfo === "function" &&
    typeof h.encode === "function" && typeof h.disableHeartbeat === "function";
}

/**
 * A way to move packets between nodes: in-process memory, NATS, and so on.
 *
 * Transit connects it, makes Moleculer's subscriptions (each packet type broadcast and/or for
 * this node), publishes packets by type and target, and — with `disableBalancer` on a
 * transporter that {@linkcode Transporter.hasBuiltInBalancer | balances} — makes one balanced
 * request subscription per served action and one balanced event subscription per event and
 * group, and publishes calls and emits without a target on them.
 *
 * @example Two nodes on the in-process transporter
 * ```ts
 * import { MemoryTransporter } from "./memory.ts";
 * import type { TransporterHost } from "./transporter.ts";
 *
 * const host = (nodeID: string): TransporterHost => ({
 *   namespace: "",
 *   prefix: "MOL",
 *   nodeID,
 *   receive: (type, data) => console.log(nodeID, type, data.length),
 * });
 * const a = new MemoryTransporter("contract-example");
 * const b = new MemoryTransporter("contract-example");
 * await a.connect(host("a"));
 * await b.connect(host("b"));
 * await b.subscribe("REQ", "b");
 * await a.publish("REQ", "b", new TextEncoder().encode("{}")); // b REQ 2
 * await a.disconnect();
 * await b.disconnect();
 * ```
 */
export interface Transporter {
  /** A short name for logs, e.g. `"NATS"` or `"Memory"`. */
  readonly name: string;
  /**
   * True when the transporter balances by itself (queue groups), so `disableBalancer` can work:
   * the `…Balanced…` methods are then available.
   */
  readonly hasBuiltInBalancer: boolean;
  /** True while connected. */
  readonly connected: boolean;
  /**
   * The largest payload in bytes the transport accepts, or `undefined` when unknown/unbounded.
   * Known only after {@linkcode Transporter.connect}.
   */
  readonly maxPayload: number | undefined;
  /**
   * Open the connection. Calling it again while connected keeps the connection and takes the
   * new host.
   *
   * @param host This node, where its packets go, and the connection-state callbacks.
   * @throws {BrokerDisconnectedError} when the server cannot be reached; the message names the
   *   URL and cause.
   */
  connect(host: TransporterHost): Promise<void>;
  /** Close the connection, flushing what was published. Idempotent. */
  disconnect(): Promise<void>;
  /**
   * Receive the packets of a type: those sent to all nodes, or those sent to `nodeID`.
   * Moleculer's `subscribe(cmd, nodeID)`.
   *
   * @param type The packet type.
   * @param nodeID This node's id for targeted packets; `undefined` for broadcast ones.
   * @returns The subscription, once it is active.
   * @throws {BrokerDisconnectedError} when not connected.
   */
  subscribe(type: PacketType, nodeID?: string): Promise<TransporterSubscription>;
  /**
   * Join the balanced queue of an action: each request published with
   * {@linkcode Transporter.publishBalancedRequest} for it reaches one member of the queue, and
   * arrives as a `REQ`.
   *
   * @param action The full action name, e.g. `"users.get"`.
   * @returns The subscription, once it is active.
   * @throws {BrokerDisconnectedError} when not connected.
   */
  subscribeBalancedRequest(action: string): Promise<TransporterSubscription>;
  /**
   * Join the balanced queue of an event group: each event published with
   * {@linkcode Transporter.publishBalancedEvent} for the group, whose name matches `event`,
   * reaches one member of the queue, and arrives as an `EVENT`.
   *
   * @param event The event name or pattern (`*` one segment, `**` any number of them).
   * @param group The event group: the handler's `group`, or else its service name.
   * @returns The subscription, once it is active.
   * @throws {BrokerDisconnectedError} when not connected.
   */
  subscribeBalancedEvent(event: string, group: string): Promise<TransporterSubscription>;
  /**
   * Publish a packet to one node, or to every node subscribed to its type.
   *
   * @param type The packet type.
   * @param target The node it is for; `undefined` to broadcast it.
   * @param data The serialized packet; not copied, so do not modify it afterwards.
   * @returns A promise that resolves once the packet is handed to the transport.
   * @throws {BrokerDisconnectedError} when not connected.
   * @throws {MoleculerError} (500 `MAX_PAYLOAD_EXCEEDED`) when `data` exceeds
   *   {@linkcode Transporter.maxPayload}.
   */
  publish(type: PacketType, target: string | undefined, data: Uint8Array): Promise<void>;
  /**
   * Publish a request (a `REQ` packet) to the balanced queue of its action.
   *
   * @param action The full action name.
   * @param data The serialized packet.
   * @returns A promise that resolves once the packet is handed to the transport.
   * @throws {BrokerDisconnectedError} when not connected.
   * @throws {MoleculerError} (500 `MAX_PAYLOAD_EXCEEDED`) when `data` is too large.
   */
  publishBalancedRequest(action: string, data: Uint8Array): Promise<void>;
  /**
   * Publish one copy of an event (an `EVENT` packet) to the balanced queue of a group.
   *
   * @param event The concrete event name.
   * @param group The event group the copy is for.
   * @param data The serialized packet.
   * @returns A promise that resolves once the packet is handed to the transport.
   * @throws {BrokerDisconnectedError} when not connected.
   * @throws {MoleculerError} (500 `MAX_PAYLOAD_EXCEEDED`) when `data` is too large.
   */
  publishBalancedEvent(event: string, group: string, data: Uint8Array): Promise<void>;
}
