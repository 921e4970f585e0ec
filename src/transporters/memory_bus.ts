/**
 * The in-process message bus under the memory transporter, and its subject-level client.
 *
 * Clients created with the same *group* name share one bus; different groups never see each
 * other's messages, so parallel tests stay isolated. The bus follows NATS subject rules (`*` is one
 * token, `>` is the rest, queue groups get each message once) and delivers asynchronously, in
 * publish order. A {@linkcode MemoryBusClient} is to the memory transporter what a plain NATS
 * connection is to the NATS transporter: it sees and sends raw subjects.
 *
 * @example Two clients on one bus
 * ```ts
 * import { MemoryBusClient } from "./memory_bus.ts";
 *
 * const a = new MemoryBusClient("my-test");
 * const b = new MemoryBusClient("my-test");
 * await a.connect();
 * await b.connect();
 * b.subscribe("MOL.INFO", (bytes, subject) => console.log(subject, bytes.length));
 * await a.publish("MOL.INFO", new TextEncoder().encode("{}"));
 * await a.disconnect();
 * await b.disconnect();
 * ```
 *
 * @module
 */

import { BrokerDisconnectedError } from "../errors.ts";
import type { TransporterSubscription } from "./transporter.ts";

/** Called with the bytes and the concrete subject of each message of a subscription. */
export type BusMessageHandler = (data: Uint8Array, subject: string) => unknown;

/** Route-cache size past which it is reset (bounds memory with many distinct subjects). */
const MAX_ROUTES = 10_000;

/** One subscription on a bus. */
interface BusSub {
  readonly tokens: readonly string[];
  readonly queue: string | undefined;
  readonly handler: BusMessageHandler;
  readonly report: (error: unknown) => void;
  active: boolean;
}

/** The subscribers one subject reaches: plain ones, and queue groups by name. */
interface Route {
  readonly plain: readonly BusSub[];
  readonly groups: ReadonlyMap<string, readonly BusSub[]>;
}

/** A message waiting for delivery. */
interface Delivery {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly targets: readonly BusSub[];
}

/** Does the subject (no wildcards) match the subscription pattern's tokens? */
function matches(pattern: readonly string[], subject: readonly string[]): boolean {
  const n = pattern.length;
  for (let i = 0; i < n; i++) {
    const p = pattern[i];
    if (p === ">") return subject.length > i;
    if (i >= subject.length) return false;
    if (p !== "*" && p !== subject[i]) return false;
  }
  return subject.length === n;
}

/** Split and validate a subject; wildcards are allowed only for subscriptions. */
function tokenize(subject: string, wildcards: boolean): string[] {
  if (typeof subject !== "string" || subject.length === 0 || /\s/.test(subject)) {
    throw new TypeError(`Invalid subject: ${JSON.stringify(subject)}`);
  }
  const tokens = subject.split(".");
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t === "") throw new TypeError(`Invalid subject (empty token): "${subject}"`);
    if (wildcards && t === ">" && i !== tokens.length - 1) {
      throw new TypeError(`Invalid subject ('>' must be the last token): "${subject}"`);
    }
  }
  return tokens;
}

/** The message bus shared by every connected transporter of one group. */
class Bus {
  readonly #subs = new Set<BusSub>();
  readonly #routes = new Map<string, Route>();
  readonly #roundRobin = new Map<string, number>();
  #pending: Delivery[] = [];
  #scheduled = false;
  #enqueued = 0;
  #delivered = 0;
  #waiters: { seq: number; resolve: () => void }[] = [];
  /** How many transporters are connected to this bus. */
  members = 0;

  add(sub: BusSub): void {
    this.#subs.add(sub);
    this.#routes.clear();
  }

  remove(sub: BusSub): void {
    if (this.#subs.delete(sub)) this.#routes.clear();
  }

  #route(subject: string): Route {
    let route = this.#routes.get(subject);
    if (route) return route;
    const tokens = tokenize(subject, false);
    const plain: BusSub[] = [];
    const groups = new Map<string, BusSub[]>();
    for (const sub of this.#subs) {
      if (!matches(sub.tokens, tokens)) continue;
      if (sub.queue === undefined) plain.push(sub);
      else {
        const members = groups.get(sub.queue);
        if (members) members.push(sub);
        else groups.set(sub.queue, [sub]);
      }
    }
    route = { plain, groups };
    if (this.#routes.size >= MAX_ROUTES) this.#routes.clear();
    this.#routes.set(subject, route);
    return route;
  }

  /** Route a message now (like a server would) and queue it for asynchronous delivery. */
  publish(subject: string, data: Uint8Array): void {
    const route = this.#route(subject);
    let targets: readonly BusSub[] = route.plain;
    if (route.groups.size > 0) {
      const picked = [...route.plain];
      for (const [queue, members] of route.groups) {
        const n = this.#roundRobin.get(queue) ?? 0;
        this.#roundRobin.set(queue, n + 1);
        picked.push(members[n % members.length] as BusSub);
      }
      targets = picked;
    }
    this.#enqueued++;
    this.#pending.push({ subject, data, targets });
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  /** Resolves once every message queued so far has been delivered. */
  settled(): Promise<void> {
    if (this.#delivered >= this.#enqueued) return Promise.resolve();
    const seq = this.#enqueued;
    return new Promise((resolve) => this.#waiters.push({ seq, resolve }));
  }

  readonly #flush = (): void => {
    const batch = this.#pending;
    this.#pending = [];
    for (const { subject, data, targets } of batch) {
      for (const sub of targets) {
        if (!sub.active) continue;
        try {
          const result: unknown = sub.handler(data, subject);
          if (result instanceof Promise) result.catch(sub.report);
        } catch (error) {
          sub.report(error);
        }
      }
      this.#delivered++;
    }
    if (this.#waiters.length > 0) {
      const delivered = this.#delivered;
      this.#waiters = this.#waiters.filter((w) => {
        if (w.seq > delivered) return true;
        w.resolve();
        return false;
      });
    }
    // Messages published by handlers go in the next batch, so other microtasks get a turn.
    if (this.#pending.length > 0) queueMicrotask(this.#flush);
    else this.#scheduled = false;
  };
}

/** Buses by group name; a bus lives while at least one transporter is connected to it. */
const buses = new Map<string, Bus>();

/**
 * A client of the bus of one group: subject-level publish and subscribe with NATS rules.
 *
 * - Subjects follow NATS rules: `*` matches one token, `>` the remaining ones.
 * - Queue groups: each message goes to one member of each queue group (round-robin), and to every
 *   subscriber without a queue, including the publisher's own subscriptions.
 * - Delivery is asynchronous (a microtask) and keeps the publish order. The bytes are shared, not
 *   copied: treat received data as read-only.
 * - A handler that throws (or rejects) does not stop delivery to others; the error goes to the
 *   subscribing client's `onError`.
 *
 * @example Isolated groups
 * ```ts
 * import { MemoryBusClient } from "./memory_bus.ts";
 *
 * const c = new MemoryBusClient("test-42");
 * await c.connect((e) => console.error(e));
 * const sub = c.subscribe("MOL.REQB.>", (data) => console.log(data), "workers");
 * sub.unsubscribe();
 * await c.disconnect();
 * ```
 */
export class MemoryBusClient {
  /** The bus group this client joins on connect. */
  readonly group: string;

  #bus: Bus | undefined;
  #onError: ((error: Error) => void) | undefined;
  readonly #subs = new Set<BusSub>();
  #closing: Promise<void> | undefined;

  /**
   * Create a client of the given bus group.
   *
   * @param group The bus name; clients with the same group see each other.
   * @throws {TypeError} when the group is not a non-empty string.
   */
  constructor(group: string = "default") {
    if (typeof group !== "string" || group.length === 0) {
      throw new TypeError(`MemoryTransporter group must be a non-empty string, got ${group}`);
    }
    this.group = group;
  }

  /** True between {@linkcode MemoryBusClient.connect} and {@linkcode MemoryBusClient.disconnect}. */
  get connected(): boolean {
    return this.#bus !== undefined && this.#closing === undefined;
  }

  /**
   * Join the group's bus. Calling it again while connected only replaces `onError`.
   *
   * @param onError Receives the errors of this client's handlers.
   * @returns A promise that resolves once connected.
   */
  async connect(onError?: (error: Error) => void): Promise<void> {
    if (this.#closing) await this.#closing;
    this.#onError = onError;
    if (this.#bus) return;
    let bus = buses.get(this.group);
    if (!bus) {
      bus = new Bus();
      buses.set(this.group, bus);
    }
    bus.members++;
    this.#bus = bus;
  }

  /**
   * Leave the bus: messages already published (by anyone) are delivered first, then this
   * client's subscriptions end. Publishing is refused from the moment it is called. Idempotent.
   *
   * @returns A promise that resolves once disconnected.
   */
  disconnect(): Promise<void> {
    if (this.#closing) return this.#closing;
    const bus = this.#bus;
    if (!bus) return Promise.resolve();
    this.#closing = (async () => {
      await bus.settled();
      for (const sub of this.#subs) {
        sub.active = false;
        bus.remove(sub);
      }
      this.#subs.clear();
      bus.members--;
      if (bus.members === 0 && buses.get(this.group) === bus) buses.delete(this.group);
      this.#bus = undefined;
      this.#closing = undefined;
    })();
    return this.#closing;
  }

  /**
   * Subscribe to a subject.
   *
   * @param subject The subject; `*` and `>` wildcards allowed.
   * @param handler Receives each message's bytes and concrete subject.
   * @param queue Optional queue group: each message goes to one member of the group.
   * @returns A handle whose `unsubscribe()` stops delivery (idempotent).
   * @throws {BrokerDisconnectedError} when not connected.
   * @throws {TypeError} when the subject is malformed.
   */
  subscribe(subject: string, handler: BusMessageHandler, queue?: string): TransporterSubscription {
    const bus = this.#bus;
    if (!bus || this.#closing) {
      throw new BrokerDisconnectedError(
        `Cannot subscribe to "${subject}": the memory transporter is not connected.`,
      );
    }
    const sub: BusSub = {
      tokens: tokenize(subject, true),
      queue: queue === undefined || queue === "" ? undefined : queue,
      handler,
      report: (error) => this.#report(error, subject),
      active: true,
    };
    this.#subs.add(sub);
    bus.add(sub);
    return {
      unsubscribe: () => {
        if (!sub.active) return;
        sub.active = false;
        this.#subs.delete(sub);
        bus.remove(sub);
      },
    };
  }

  /**
   * Publish bytes on a subject. Delivery happens asynchronously, after this resolves.
   *
   * @param subject A concrete subject (no wildcards needed).
   * @param data The bytes; not copied, so do not modify them afterwards.
   * @returns A promise that resolves once the message is queued for delivery.
   * @throws {BrokerDisconnectedError} when not connected.
   * @throws {TypeError} when the subject is malformed.
   */
  publish(subject: string, data: Uint8Array): Promise<void> {
    const bus = this.#bus;
    if (!bus || this.#closing) {
      return Promise.reject(
        new BrokerDisconnectedError(
          `Cannot publish to "${subject}": the memory transporter is not connected.`,
        ),
      );
    }
    try {
      bus.publish(subject, data);
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.resolve();
  }

  #report(error: unknown, subject: string): void {
    const err = error instanceof Error
      ? error
      : new Error(`Message handler for "${subject}" threw: ${String(error)}`);
    try {
      this.#onError?.(err);
    } catch {
      // A failing listener must not break delivery.
    }
  }
}
