/**
 * Small helpers shared by the transporter tests: an inbox that can be awaited, a deadline, and a
 * "sync" that proves a transporter's earlier subscriptions are active on the server.
 */

import type { Transporter, TransporterListener } from "../../src/transporters/transporter.ts";

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

/** Collects received messages; `waitFor(n)` resolves once n have arrived. */
export class Inbox {
  readonly messages: { subject: string; text: string }[] = [];
  #waiters: { n: number; resolve: () => void }[] = [];

  /** The handler to pass to `subscribe`. */
  readonly handler = (data: Uint8Array, subject: string): void => {
    this.messages.push({ subject, text: td.decode(data) });
    this.#waiters = this.#waiters.filter((w) => {
      if (this.messages.length < w.n) return true;
      w.resolve();
      return false;
    });
  };

  get texts(): string[] {
    return this.messages.map((m) => m.text);
  }

  get subjects(): string[] {
    return this.messages.map((m) => m.subject);
  }

  waitFor(n: number, ms = 5_000): Promise<void> {
    if (this.messages.length >= n) return Promise.resolve();
    const p = new Promise<void>((resolve) => this.#waiters.push({ n, resolve }));
    return within(p, ms, `${n} message(s) (got ${this.messages.length})`);
  }
}

let syncSeq = 0;

/**
 * Round-trip a message through the transporter to itself. Subscriptions and publishes travel in
 * order on one connection, so once the echo is back every earlier subscription is active.
 */
export async function sync(t: Transporter): Promise<void> {
  const inbox = new Inbox();
  const subject = `_sync.${++syncSeq}.${crypto.randomUUID()}`;
  const sub = t.subscribe(subject, inbox.handler);
  try {
    await t.publish(subject, bytes("sync"));
    await inbox.waitFor(1);
  } finally {
    sub.unsubscribe();
  }
}

/** A listener that records calls, with promises for disconnect/reconnect/error counts. */
export class RecordingListener implements TransporterListener {
  readonly events: string[] = [];
  readonly errors: Error[] = [];
  #waiters: { event: string; count: number; resolve: () => void }[] = [];

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

  /** How many times the event happened. */
  count(event: string): number {
    return this.events.filter((e) => e === event).length;
  }

  /** Resolves once the event has happened `count` times in total. */
  until(event: "disconnect" | "reconnect" | "error", count = 1, ms = 10_000): Promise<void> {
    if (this.count(event) >= count) return Promise.resolve();
    const p = new Promise<void>((resolve) => this.#waiters.push({ event, count, resolve }));
    return within(p, ms, `listener event "${event}" x${count}`);
  }

  #fire(event: string): void {
    this.events.push(event);
    this.#waiters = this.#waiters.filter((w) => {
      if (w.event !== event || this.count(event) < w.count) return true;
      w.resolve();
      return false;
    });
  }
}
