/**
 * Small helpers shared by the transporter tests: a host that records what its transporter
 * delivers and reports, a deadline, an inbox for subject-level clients, and a "sync" that proves
 * a transporter's earlier subscriptions are active on the server.
 */

import type { PacketType } from "../../src/transit/packets.ts";
import type { Transporter, TransporterHost } from "../../src/transporters/transporter.ts";

const te = new TextEncoder();
const td = new TextDecoder();

/** UTF-8 bytes of a string. */
export function bytes(text: string): Uint8Array {
  return te.encode(text);
}

/** Race a promise against a deadline; the timer is always cleared. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waiters on a growing list: each resolves once the list holds `n` items. */
class Counted {
  #waiters: { n: number; resolve: () => void }[] = [];

  constructor(private readonly length: () => number) {}

  wait(n: number, ms: number, what: string): Promise<void> {
    if (this.length() >= n) return Promise.resolve();
    const p = new Promise<void>((resolve) => this.#waiters.push({ n, resolve }));
    return within(p, ms, `${n} ${what} (got ${this.length()})`);
  }

  grew(): void {
    this.#waiters = this.#waiters.filter((w) => {
      if (this.length() < w.n) return true;
      w.resolve();
      return false;
    });
  }
}

/** A packet as a {@linkcode RecordingHost} received it. */
export interface Received {
  readonly type: PacketType;
  readonly text: string;
}

/** Marks the packets of {@linkcode sync}, which a host does not record. */
const SYNC_MARK = "\u0000sync:";

/**
 * A transporter host that records the packets it receives and the connection events it is told
 * of, with promises for counts. `fail` makes `receive` throw for chosen packets.
 */
export class RecordingHost implements TransporterHost {
  readonly received: Received[] = [];
  readonly events: string[] = [];
  readonly errors: Error[] = [];
  /** Throw from `receive` for the packets whose text it returns true for. */
  fail: (text: string) => boolean = () => false;
  readonly #received = new Counted(() => this.received.length);
  readonly #events = new Map<string, Counted>();
  readonly #syncs = new Map<string, () => void>();

  constructor(
    readonly nodeID: string,
    readonly namespace = "",
    readonly prefix = namespace ? `MOL-${namespace}` : "MOL",
  ) {}

  receive(type: PacketType, data: Uint8Array): void {
    const text = td.decode(data);
    if (text.startsWith(SYNC_MARK)) {
      this.#syncs.get(text)?.();
      return;
    }
    if (this.fail(text)) throw new Error(`receive refused '${text}'`);
    this.received.push({ type, text });
    this.#received.grew();
  }

  onDisconnect(): void {
    this.#fire("disconnect");
  }

  onReconnect(): void {
    this.#fire("reconnect");
  }

  onError(error: Error): void {
    this.errors.push(error);
    this.#fire("error");
  }

  /** The texts of the packets received. */
  get texts(): string[] {
    return this.received.map((r) => r.text);
  }

  /** Received packets as `"<TYPE> <text>"`. */
  get lines(): string[] {
    return this.received.map((r) => `${r.type} ${r.text}`);
  }

  /** Resolves once `n` packets have arrived. */
  waitFor(n: number, ms = 5_000): Promise<void> {
    return this.#received.wait(n, ms, "packet(s)");
  }

  /** How many times the event happened. */
  count(event: string): number {
    return this.events.filter((e) => e === event).length;
  }

  /** Resolves once the event has happened `count` times in total. */
  until(event: "disconnect" | "reconnect" | "error", count = 1, ms = 10_000): Promise<void> {
    return this.#counted(event).wait(count, ms, `"${event}" event(s)`);
  }

  /** Resolves when the sync packet `text` arrives (used by {@linkcode sync}). */
  expectSync(text: string): Promise<void> {
    return new Promise((resolve) => {
      this.#syncs.set(text, () => {
        this.#syncs.delete(text);
        resolve();
      });
    });
  }

  #counted(event: string): Counted {
    let c = this.#events.get(event);
    if (!c) this.#events.set(event, c = new Counted(() => this.count(event)));
    return c;
  }

  #fire(event: string): void {
    this.events.push(event);
    this.#events.get(event)?.grew();
  }
}

let syncSeq = 0;

/**
 * Round-trip a packet through the transporter to itself (a `PONG` for its own node). Subscriptions
 * and publishes travel in order on one connection, so once the echo is back every earlier
 * subscription is active, and every packet published before it to this node has arrived.
 */
export async function sync(t: Transporter, host: RecordingHost): Promise<void> {
  const text = `${SYNC_MARK}${++syncSeq}:${crypto.randomUUID()}`;
  const back = host.expectSync(text);
  const sub = await t.subscribe("PONG", host.nodeID);
  try {
    await t.publish("PONG", host.nodeID, bytes(text));
    await within(back, 5_000, "the sync packet");
  } finally {
    sub.unsubscribe();
  }
}

/** Collects the messages of a subject-level client; `waitFor(n)` resolves once n have arrived. */
export class Inbox {
  readonly messages: { subject: string; text: string }[] = [];
  readonly #count = new Counted(() => this.messages.length);

  /** The handler to pass to a subject-level `subscribe`. */
  readonly handler = (data: Uint8Array, subject: string): void => {
    this.messages.push({ subject, text: td.decode(data) });
    this.#count.grew();
  };

  get texts(): string[] {
    return this.messages.map((m) => m.text);
  }

  get subjects(): string[] {
    return this.messages.map((m) => m.subject);
  }

  waitFor(n: number, ms = 5_000): Promise<void> {
    return this.#count.wait(n, ms, "message(s)");
  }
}
