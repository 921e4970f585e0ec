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
export function subscriptionsOf(prefix: string, nodeID: string): Array<[PacketType, string]> {
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
