/**
 * Which event subscriptions can match a concrete event name. A subscription without a wildcard
 * matches only its own name, so only the wildcard ones need matching: looking an event up costs
 * one map lookup plus the wildcard subscriptions, not a match against every subscription of the
 * cluster (50 nodes × 20 services is 1 000 subscriptions, scanned for each local
 * `$services.changed` and `$node.connected` every INFO brings, and for every event whose lookup
 * is not cached).
 *
 * @example
 * ```ts
 * import { EventPatterns } from "./event_patterns.ts";
 *
 * const patterns = new EventPatterns();
 * patterns.add("user.*");
 * patterns.add("user.created");
 * patterns.add("order.created");
 * patterns.matching("user.created"); // ["user.*", "user.created"]
 * ```
 *
 * @module
 */

import { matchEventName } from "../core/event_match.ts";

/** True when `pattern` has a wildcard (`*`, `**`, `?`), i.e. may match another name. */
function isWildcard(pattern: string): boolean {
  return pattern.indexOf("*") !== -1 || pattern.indexOf("?") !== -1;
}

/** The subscription names of a registry, indexed for matching. */
export class EventPatterns {
  /** Every name, with the order in which it was subscribed. */
  readonly #order = new Map<string, number>();
  /** The names with a wildcard. */
  readonly #wildcards = new Set<string>();
  #next = 0;

  /**
   * A subscription name is in use (again: it then counts as subscribed last, as a name
   * re-inserted into a `Map` would).
   *
   * @param name The subscription name.
   */
  add(name: string): void {
    if (this.#order.has(name)) return;
    this.#order.set(name, this.#next++);
    if (isWildcard(name)) this.#wildcards.add(name);
  }

  /**
   * A subscription name is no longer used by any endpoint.
   *
   * @param name The subscription name.
   */
  delete(name: string): void {
    this.#order.delete(name);
    this.#wildcards.delete(name);
  }

  /**
   * The subscription names that match `eventName`, in the order they were subscribed.
   *
   * @param eventName A concrete event name.
   * @returns The matching names.
   */
  matching(eventName: string): string[] {
    const out: string[] = [];
    for (const pattern of this.#wildcards) {
      if (matchEventName(eventName, pattern)) out.push(pattern);
    }
    if (this.#order.has(eventName) && !this.#wildcards.has(eventName)) {
      out.push(eventName);
      // Keep the order of a scan of every subscription: who was subscribed first is first.
      if (out.length > 1) out.sort((a, b) => this.#order.get(a)! - this.#order.get(b)!);
    }
    return out;
  }
}
