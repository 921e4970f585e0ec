/**
 * The `disableBalancer` subscriptions: with the broker's balancer off, the transporter's queues
 * balance, so a node joins one balanced request queue per action it serves and one balanced
 * event queue per event and group it handles. They follow the services each broadcast INFO
 * announces.
 *
 * @example
 * ```ts
 * import { BalancedSubscriptions } from "./balanced.ts";
 * import { MemoryTransporter } from "../transporters/memory.ts";
 *
 * const t = new MemoryTransporter("balanced-example");
 * await t.connect({ namespace: "", prefix: "MOL", nodeID: "n1", receive: () => {} });
 * const balanced = new BalancedSubscriptions(t, console);
 * await balanced.sync([{ name: "users", actions: { "users.get": {} }, events: {} }]);
 * console.log(balanced.keys); // ["REQ users.get"]
 * balanced.clear();
 * await t.disconnect();
 * ```
 *
 * @module
 */

import type { Logger } from "../logging.ts";
import type { Transporter, TransporterSubscription } from "../transporters/transporter.ts";
import { isRecord } from "../_util/values.ts";

const EMPTY: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/** The balanced subscriptions of this node, kept in step with its announced services. */
export class BalancedSubscriptions {
  readonly #transporter: Pick<Transporter, "subscribeBalancedRequest" | "subscribeBalancedEvent">;
  readonly #logger: Pick<Logger, "warn">;
  /**
   * By `REQ <action>` or `EVENT <group> <event>`: the promise of the subscription (of `undefined`
   * when it failed: it is logged, and dropped from here).
   */
  readonly #subs = new Map<string, Promise<TransporterSubscription | undefined>>();

  /**
   * @param transporter Makes the subscriptions.
   * @param logger Where failed subscriptions are reported.
   */
  constructor(
    transporter: Pick<Transporter, "subscribeBalancedRequest" | "subscribeBalancedEvent">,
    logger: Pick<Logger, "warn">,
  ) {
    this.#transporter = transporter;
    this.#logger = logger;
  }

  /** The current subscriptions, as `REQ <action>` and `EVENT <group> <event>`. */
  get keys(): string[] {
    return [...this.#subs.keys()];
  }

  /**
   * Make the subscriptions match the announced services: per action a balanced request
   * subscription, per event one balanced event subscription for its group (the event's, or else
   * the service name). Moleculer drops and recreates them all; keeping the unchanged ones gives
   * the transporter the same set without a window in which none exists.
   *
   * @param services The `services` of this node's INFO.
   * @returns A promise that settles once every wanted subscription is made (or failed, logged).
   */
  sync(services: readonly Record<string, unknown>[]): Promise<unknown> {
    const wanted = new Map<string, () => Promise<TransporterSubscription>>();
    const t = this.#transporter;
    for (const svc of services) {
      const name = typeof svc.name === "string" ? svc.name : "";
      for (const action of Object.keys(isRecord(svc.actions) ? svc.actions : EMPTY)) {
        wanted.set(`REQ ${action}`, () => t.subscribeBalancedRequest(action));
      }
      const events = isRecord(svc.events) ? svc.events : EMPTY;
      for (const [event, def] of Object.entries(events)) {
        const own = isRecord(def) ? def.group : undefined;
        const group = typeof own === "string" && own ? own : name;
        wanted.set(`EVENT ${group} ${event}`, () => t.subscribeBalancedEvent(event, group));
      }
    }
    for (const [key, sub] of this.#subs) {
      if (wanted.has(key)) continue;
      void sub.then((s) => s?.unsubscribe());
      this.#subs.delete(key);
    }
    for (const [key, subscribe] of wanted) {
      if (this.#subs.has(key)) continue;
      let made: Promise<TransporterSubscription>;
      try {
        made = subscribe();
      } catch (err) {
        made = Promise.reject(err);
      }
      const entry: Promise<TransporterSubscription | undefined> = made.catch((err) => {
        this.#logger.warn(
          `Cannot make the balanced subscription '${key}': ${(err as Error).message}`,
        );
        // The next INFO tries again.
        if (this.#subs.get(key) === entry) this.#subs.delete(key);
        return undefined;
      });
      this.#subs.set(key, entry);
    }
    return Promise.all(this.#subs.values());
  }

  /** Drop every subscription. */
  clear(): void {
    for (const sub of this.#subs.values()) void sub.then((s) => s?.unsubscribe());
    this.#subs.clear();
  }
}
