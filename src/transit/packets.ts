/**
 * Packet types of the Moleculer transit protocol and their subjects.
 *
 * @module
 */

/** The packet types this node sends and receives. */
export const PacketType = {
  EVENT: "EVENT",
  REQUEST: "REQ",
  RESPONSE: "RES",
  DISCOVER: "DISCOVER",
  INFO: "INFO",
  DISCONNECT: "DISCONNECT",
  HEARTBEAT: "HEARTBEAT",
  PING: "PING",
  PONG: "PONG",
} as const;

/** A packet type string, e.g. `"REQ"`. */
export type PacketType = typeof PacketType[keyof typeof PacketType];

/** Moleculer's protocol versions: `"4"` (Moleculer 0.14) and `"5"` (Moleculer 0.15). */
export type ProtocolVersion = "4" | "5";

/**
 * Subject prefix: `MOL`, or `MOL-<namespace>`.
 *
 * @param namespace The broker namespace.
 * @returns The prefix.
 */
export function topicPrefix(namespace: string): string {
  return namespace ? `MOL-${namespace}` : "MOL";
}

/**
 * A packet's subject: `<prefix>.<TYPE>` or `<prefix>.<TYPE>.<nodeID>`.
 *
 * @param prefix The namespace prefix.
 * @param type The packet type.
 * @param nodeID The target node, for targeted packets.
 * @returns The subject.
 */
export function topicOf(prefix: string, type: string, nodeID?: string): string {
  return nodeID ? `${prefix}.${type}.${nodeID}` : `${prefix}.${type}`;
}

/**
 * The 12 subscriptions a node makes at connect, in Moleculer's order, with the
 * packet type each delivers.
 *
 * @param prefix The namespace prefix.
 * @param nodeID This node.
 * @returns Pairs of packet type and subject.
 */
export function subscriptionsOf(
  prefix: string,
  nodeID: string,
): Array<[PacketType, string]> {
  const T = PacketType;
  return [
    [T.EVENT, topicOf(prefix, T.EVENT, nodeID)],
    [T.REQUEST, topicOf(prefix, T.REQUEST, nodeID)],
    [T.RESPONSE, topicOf(prefix, T.RESPONSE, nodeID)],
    [T.DISCOVER, topicOf(prefix, T.DISCOVER)],
    [T.DISCOVER, topicOf(prefix, T.DISCOVER, nodeID)],
    [T.INFO, topicOf(prefix, T.INFO)],
    [T.INFO, topicOf(prefix, T.INFO, nodeID)],
    [T.DISCONNECT, topicOf(prefix, T.DISCONNECT)],
    [T.HEARTBEAT, topicOf(prefix, T.HEARTBEAT)],
    [T.PING, topicOf(prefix, T.PING)],
    [T.PING, topicOf(prefix, T.PING, nodeID)],
    [T.PONG, topicOf(prefix, T.PONG, nodeID)],
  ];
}

/**
 * The subject of a balanced request (`disableBalancer`): `<prefix>.REQB.<action>`. Nodes that serve
 * the action subscribe to it with the action name as their queue group.
 *
 * @param prefix The namespace prefix.
 * @param action The full action name.
 * @returns The subject.
 */
export function balancedRequestTopic(prefix: string, action: string): string {
  return `${prefix}.REQB.${action}`;
}

/**
 * The subject of a balanced event copy (`disableBalancer`): `<prefix>.EVENTB.<group>.<event>`.
 *
 * @param prefix The namespace prefix.
 * @param group The event group the copy is for.
 * @param event The concrete event name (publish) or the subscription pattern (subscribe, see
 *   {@linkcode balancedEventSubscription}).
 * @returns The subject.
 */
export function balancedEventTopic(
  prefix: string,
  group: string,
  event: string,
): string {
  return `${prefix}.EVENTB.${group}.${event}`;
}

/**
 * The subject a node subscribes to (queue group = `group`) for one of its event subscriptions,
 * as Moleculer's NATS transporter builds it: everything from the first `**` on becomes `>`; a
 * single `*` stays a one-token wildcard.
 *
 * @param prefix The namespace prefix.
 * @param group The event group.
 * @param pattern The event name or pattern, e.g. `user.*` or `order.**`.
 * @returns The subject, e.g. `MOL.EVENTB.billing.order.>`.
 */
export function balancedEventSubscription(
  prefix: string,
  group: string,
  pattern: string,
): string {
  return balancedEventTopic(prefix, group, pattern).replace(/\*\*.*$/, ">");
}
