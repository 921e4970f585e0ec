/**
 * `broker.localBus`: Moleculer's in-process event bus (an EventEmitter2 with wildcards there).
 * The broker emits its `$`-prefixed internal events on it (`$broker.started`,
 * `$services.changed`, `$node.connected`, …) besides delivering them to services.
 *
 * @module
 */

import { matchEventName } from "../core/event_match.ts";

/** A listener of the local bus: gets the payload and the event's name. */
export type LocalBusListener = (payload: unknown, eventName: string) => unknown;

interface Entry {
  readonly pattern: string;
  readonly fn: LocalBusListener;
  readonly once: boolean;
}

/**
 * An event emitter whose names may be patterns (`$node.*`, `**`), as EventEmitter2 with
 * `wildcard: true`. Listener errors are reported to `onError`, never thrown into the emitter.
 */
export class LocalBus {
  #entries: Entry[] = [];
  readonly #onError: (err: unknown, eventName: string) => void;

  /**
   * Create a bus.
   *
   * @param onError Told about a listener that threw.
   */
  constructor(onError: (err: unknown, eventName: string) => void) {
    this.#onError = onError;
  }

  /**
   * Listen to an event or a pattern.
   *
   * @param pattern Event name or pattern.
   * @param fn The listener.
   * @returns This bus.
   */
  on(pattern: string, fn: LocalBusListener): this {
    this.#entries.push({ pattern, fn, once: false });
    return this;
  }

  /**
   * Listen to the next occurrence only.
   *
   * @param pattern Event name or pattern.
   * @param fn The listener.
   * @returns This bus.
   */
  once(pattern: string, fn: LocalBusListener): this {
    this.#entries.push({ pattern, fn, once: true });
    return this;
  }

  /**
   * Remove a listener (all of it, for `off(pattern)`).
   *
   * @param pattern Event name or pattern as given to `on`.
   * @param fn The listener; all of the pattern's when omitted.
   * @returns This bus.
   */
  off(pattern: string, fn?: LocalBusListener): this {
    this.#entries = this.#entries.filter((e) =>
      e.pattern !== pattern || (fn !== undefined && e.fn !== fn)
    );
    return this;
  }

  /** Moleculer's (EventEmitter's) alias of {@linkcode LocalBus.off}. */
  removeListener(pattern: string, fn?: LocalBusListener): this {
    return this.off(pattern, fn);
  }

  /**
   * Call the listeners of an event, synchronously.
   *
   * @param eventName The event.
   * @param payload Its payload.
   * @returns True when a listener was called.
   */
  emit(eventName: string, payload?: unknown): boolean {
    if (this.#entries.length === 0) return false;
    const hit = this.#entries.filter((e) => matchEventName(eventName, e.pattern));
    if (hit.length === 0) return false;
    if (hit.some((e) => e.once)) {
      this.#entries = this.#entries.filter((e) => !(e.once && hit.includes(e)));
    }
    for (const e of hit) {
      try {
        const r = e.fn(payload, eventName);
        if (r instanceof Promise) r.catch((err) => this.#onError(err, eventName));
      } catch (err) {
        this.#onError(err, eventName);
      }
    }
    return true;
  }

  /**
   * The number of listeners an event would reach.
   *
   * @param eventName The event.
   * @returns The count.
   */
  listenerCount(eventName: string): number {
    return this.#entries.filter((e) => matchEventName(eventName, e.pattern)).length;
  }
}
