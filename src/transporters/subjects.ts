/**
 * The NATS subjects of Moleculer's NATS transporter, shared by the transporters that follow NATS
 * semantics (NATS itself, and the in-process memory bus that emulates it). Subjects are
 * `.`-separated tokens; `*` matches one token and `>` the rest; a queue group gets each message
 * once.
 *
 * @example
 * ```ts
 * import { balancedEventPattern, packetSubject } from "./subjects.ts";
 *
 * packetSubject("MOL", "REQ", "node-1"); // "MOL.REQ.node-1"
 * packetSubject("MOL-dev", "INFO"); // "MOL-dev.INFO"
 * balancedEventPattern("MOL", "billing", "order.**"); // "MOL.EVENTB.billing.order.>"
 * ```
 *
 * @module
 */

import type { PacketType } from "../core/protocol.ts";

/**
 * A packet's subject: `<prefix>.<TYPE>` (to all nodes) or `<prefix>.<TYPE>.<nodeID>` (to one).
 *
 * @param prefix The topic prefix, `MOL` or `MOL-<namespace>`.
 * @param type The packet type.
 * @param nodeID The target node, for targeted packets.
 * @returns The subject.
 */
export function packetSubject(prefix: string, type: PacketType, nodeID?: string): string {
  return nodeID ? `${prefix}.${type}.${nodeID}` : `${prefix}.${type}`;
}

/**
 * The subject of a balanced request: `<prefix>.REQB.<action>`. Nodes that serve the action
 * subscribe to it with the action name as their queue group.
 *
 * @param prefix The topic prefix.
 * @param action The full action name.
 * @returns The subject.
 */
export function balancedRequestSubject(prefix: string, action: string): string {
  return `${prefix}.REQB.${action}`;
}

/**
 * The subject of a balanced event copy: `<prefix>.EVENTB.<group>.<event>`.
 *
 * @param prefix The topic prefix.
 * @param group The event group the copy is for (also the subscribers' queue group).
 * @param event The concrete event name.
 * @returns The subject.
 */
export function balancedEventSubject(prefix: string, group: string, event: string): string {
  return `${prefix}.EVENTB.${group}.${event}`;
}

/**
 * The subject a node subscribes to (queue group = `group`) for one of its event subscriptions,
 * as Moleculer's NATS transporter builds it: everything from the first `**` on becomes `>`; a
 * single `*` stays a one-token wildcard.
 *
 * @param prefix The topic prefix.
 * @param group The event group.
 * @param pattern The event name or pattern, e.g. `user.*` or `order.**`.
 * @returns The subject, e.g. `MOL.EVENTB.billing.order.>`.
 */
export function balancedEventPattern(prefix: string, group: string, pattern: string): string {
  return balancedEventSubject(prefix, group, pattern).replace(/\*\*.*$/, ">");
}
