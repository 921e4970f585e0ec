/**
 * Built-in middleware: request tracking for a graceful stop. While tracking is
 * on, `broker.stop()` waits for in-flight local calls and events, up to
 * `shutdownTimeout`, then rejects what is still running with
 * `GracefulStopTimeoutError` so no caller is left waiting.
 *
 * @module
 */

import type { Context } from "../context.ts";
import type { Handler, MiddlewareHooks } from "../middleware.ts";
import { GracefulStopTimeoutError } from "../errors.ts";

/** Tracking options, broker-wide (`tracking`) or per action/event (`tracking: true|false`). */
export interface TrackingOptions {
  /** Track in-flight calls and events. @default {false} */
  enabled?: boolean;
  /** Most ms `stop()` waits for them. @default {5000} */
  shutdownTimeout?: number;
}

/** Defaults of {@linkcode TrackingOptions}. */
export const TRACKING_DEFAULTS: Required<TrackingOptions> = {
  enabled: false,
  shutdownTimeout: 5000,
};

interface InFlight {
  readonly ctx: Context;
  readonly fail: (err: unknown) => void;
}

/** Counts in-flight local work and drains it on stop. */
export class ContextTracker {
  readonly #inFlight = new Set<InFlight>();
  readonly #idle = new Set<() => void>();
  readonly #opts: Required<TrackingOptions>;

  /** @param opts Broker-wide tracking options. */
  constructor(opts: TrackingOptions = {}) {
    this.#opts = { ...TRACKING_DEFAULTS, ...opts };
  }

  /** Number of calls and events running now. */
  get size(): number {
    return this.#inFlight.size;
  }

  #wrap(next: Handler, enabled: boolean): Handler {
    if (!enabled) return next;
    return (ctx) =>
      new Promise((resolve, reject) => {
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
          (v) => {
            done();
            resolve(v);
          },
          (e) => {
            done();
            reject(e);
          },
        );
      });
  }

  /**
   * The middleware that tracks local actions and events.
   *
   * @returns The middleware.
   */
  middleware(): MiddlewareHooks {
    const on = (schema: Readonly<Record<string, unknown>>) =>
      typeof schema.tracking === "boolean" ? schema.tracking : this.#opts.enabled;
    return {
      name: "ContextTracker",
      localAction: (next, action) => this.#wrap(next, on(action.schema)),
      localEvent: (next, event) => this.#wrap(next, on(event.schema)),
    };
  }

  /**
   * Wait until nothing is in flight, or `shutdownTimeout` passes; then reject
   * whatever still runs with `GracefulStopTimeoutError`.
   *
   * @param timeout Override of `shutdownTimeout` in ms.
   * @returns How many calls were cut off.
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
    for (const entry of left) {
      this.#inFlight.delete(entry);
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
