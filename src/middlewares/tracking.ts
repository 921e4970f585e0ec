/**
 * Built-in middleware: context tracking for a graceful stop. While tracking is
 * on, `broker.stop()` waits for in-flight calls and events, up to
 * `shutdownTimeout`, then rejects what is still running with
 * `GracefulStopTimeoutError`, so no caller is left waiting.
 *
 * @module
 */

import type { Context } from "../core/context.ts";
import type { Handler, MiddlewareHooks } from "../core/middleware.ts";
import { GracefulStopTimeoutError } from "../errors.ts";
import { boolOption, numberOption, optionGroup } from "./_options.ts";

/** Tracking options, broker-wide (`tracking`); an action or event may say `tracking: true|false`. */
export interface TrackingOptions {
  /** Track in-flight calls and events. @default {false} */
  enabled?: boolean;
  /** Most ms `stop()` waits for them. @default {5000} */
  shutdownTimeout?: number;
}

/** Defaults of {@linkcode TrackingOptions} (Moleculer's). */
export const TRACKING_DEFAULTS: Readonly<Required<TrackingOptions>> = Object.freeze({
  enabled: false,
  shutdownTimeout: 5000,
});

const TRACKING_KEYS: ReadonlySet<string> = new Set(Object.keys(TRACKING_DEFAULTS));

/**
 * The broker option `tracking`, checked and completed with {@linkcode TRACKING_DEFAULTS}.
 *
 * @param value The user's `tracking`, or `undefined`.
 * @returns The complete options.
 * @throws {BrokerOptionsError} naming the key that is unknown or ill-typed.
 */
export function resolveTrackingOptions(value: unknown): Required<TrackingOptions> {
  const o = optionGroup("tracking", value, TRACKING_KEYS) as TrackingOptions;
  return {
    enabled: boolOption("tracking.enabled", o.enabled, TRACKING_DEFAULTS.enabled),
    shutdownTimeout: numberOption(
      "tracking.shutdownTimeout",
      o.shutdownTimeout,
      TRACKING_DEFAULTS.shutdownTimeout,
    ),
  };
}

interface InFlight {
  readonly ctx: Context;
  readonly fail: (err: unknown) => void;
}

/** The in-flight tracker as a broker shows it (`broker.tracker`). */
export interface TrackerView {
  /** Calls and events in flight now (0 while tracking is disabled). */
  readonly size: number;
  /** How long `stop()` waits for them, in ms. */
  readonly shutdownTimeout: number;
}

/**
 * Counts the calls and events in flight on this node and drains them on stop.
 * Tracked: local action calls (requests from other nodes included, as they
 * run the local chain), calls this node sends to others, and local event
 * handlers — of the actions and events whose definition, or else the
 * broker-wide `tracking.enabled`, says so. A call made with
 * `{ tracking: false }` is left out.
 */
export class ContextTracker implements TrackerView {
  readonly #inFlight = new Set<InFlight>();
  readonly #idle = new Set<() => void>();
  readonly #opts: Required<TrackingOptions>;

  /**
   * Make a tracker.
   *
   * @param opts Broker-wide tracking options, complete.
   */
  constructor(opts: Required<TrackingOptions> = TRACKING_DEFAULTS) {
    this.#opts = opts;
  }

  /** Number of tracked calls and events running now. */
  get size(): number {
    return this.#inFlight.size;
  }

  /** The contexts of the tracked calls and events running now. */
  get contexts(): Context[] {
    return [...this.#inFlight].map((e) => e.ctx);
  }

  /** The broker-wide `shutdownTimeout` in ms. */
  get shutdownTimeout(): number {
    return this.#opts.shutdownTimeout;
  }

  #wrap(next: Handler, enabled: boolean): Handler {
    if (!enabled) return next;
    return (ctx) => {
      if (ctx.options.tracking === false) return next(ctx);
      return new Promise((resolve, reject) => {
        const entry: InFlight = { ctx, fail: reject };
        this.#inFlight.add(entry);
        const done = () => {
          this.#inFlight.delete(entry);
          if (this.#inFlight.size === 0) {
            for (const wake of this.#idle) wake();
          }
        };
        let result: unknown;
        try {
          result = next(ctx);
        } catch (err) {
          done();
          return reject(err);
        }
        Promise.resolve(result).then(
          (value) => {
            done();
            resolve(value);
          },
          (err) => {
            done();
            reject(err);
          },
        );
      });
    };
  }

  /**
   * The middleware that tracks actions and events.
   *
   * @returns The middleware.
   */
  middleware(): MiddlewareHooks {
    const on = (schema: Readonly<Record<string, unknown>>) =>
      typeof schema.tracking === "boolean" ? schema.tracking : this.#opts.enabled;
    return {
      name: "ContextTracker",
      localAction: (next, action) => this.#wrap(next, on(action.schema)),
      remoteAction: (next) => this.#wrap(next, this.#opts.enabled),
      localEvent: (next, event) => this.#wrap(next, on(event.schema)),
    };
  }

  /**
   * Wait until nothing tracked is in flight, or `timeout` passes; then reject
   * whatever still runs with `GracefulStopTimeoutError` (its handler keeps
   * running, but its caller gets the error).
   *
   * @param timeout Most ms to wait. @default {shutdownTimeout}
   * @returns How many calls and events were cut off.
   */
  async drain(timeout: number = this.#opts.shutdownTimeout): Promise<number> {
    if (this.#inFlight.size === 0) return 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let wake: (() => void) | undefined;
    await new Promise<void>((resolve) => {
      wake = resolve;
      this.#idle.add(resolve);
      timer = setTimeout(resolve, timeout);
    });
    clearTimeout(timer);
    this.#idle.delete(wake!);
    const left = [...this.#inFlight];
    this.#inFlight.clear();
    for (const entry of left) {
      const service = entry.ctx.service;
      entry.fail(
        new GracefulStopTimeoutError(
          service ? { service: { name: service.name, version: service.version } } : {},
        ),
      );
    }
    return left.length;
  }
}
