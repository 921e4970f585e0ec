/**
 * Packet types of the Moleculer transit protocol and the subscriptions a node makes.
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
 * The topic prefix of Moleculer's transporters: `MOL`, or `MOL-<namespace>`.
 *
 * @param namespace The broker namespace.
 * @returns The prefix.
 */
export function topicPrefix(namespace: string): string {
  return namespace ? `MOL-${namespace}` : "MOL";
}

/**
 * The 12 subscriptions a node makes at connect, in Moleculer's order: each packet type, and
 * whether it is the one for this node (`true`) or the broadcast one (`false`).
 */
export const SUBSCRIPTIONS: ReadonlyArray<readonly [PacketType, boolean]> = [
  [PacketType.EVENT, true],
  [PacketType.REQUEST, true],
  [PacketType.RESPONSE, true],
  [PacketType.DISCOVER, false],
  [PacketType.DISCOVER, true],
  [PacketType.INFO, false],
  [PacketType.INFO, true],
  [PacketType.DISCONNECT, false],
  [PacketType.HEARTBEAT, false],
  [PacketType.PING, false],
  [PacketType.PING, true],
  [PacketType.PONG, true],
];
