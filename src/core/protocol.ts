/**
 * The words of the Moleculer transit protocol that transit, the transporters and the broker
 * share: packet types, protocol versions, and what makes a nodeID one a packet can be sent to.
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

/** Longest nodeID accepted as a packet's sender. */
const MAX_NODE_ID_LENGTH = 512;

/**
 * A sender we can answer: a topic ends with its nodeID, so it has no whitespace, control
 * characters or wildcards, and no empty token. Moleculer's default nodeID (`hostname-pid`) passes.
 *
 * @param value A packet's `sender`.
 * @returns Whether packets can be sent back to it.
 */
export function isValidSender(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 &&
    value.length <= MAX_NODE_ID_LENGTH &&
    // deno-lint-ignore no-control-regex
    !/[\s*>\u0000-\u001f\u007f]/.test(value) && value[0] !== "." &&
    value[value.length - 1] !== "." && !value.includes("..");
}
