/**
 * A rate limit for warnings that may repeat without end (dropped packets, failed sends), so
 * that garbage traffic cannot flood the log.
 *
 * @example
 * ```ts
 * import { WarnLimiter } from "./warn_limiter.ts";
 *
 * const lines: string[] = [];
 * const limiter = new WarnLimiter((m) => lines.push(m));
 * for (let i = 0; i < 5; i++) limiter.warn("malformed INFO", `Dropped a malformed INFO (#${i})`);
 * console.log(lines); // ["Dropped a malformed INFO (#0)"]: the other four are muted for 10 s
 * ```
 *
 * @module
 */

/** At most one warning per key in this window... */
export const WARN_WINDOW_MS = 10_000;
/** ...and at most this many in all per window; the next one logged says how many were left out. */
export const WARN_BUDGET = 20;
/** Bound of the limiter's memory (keys); also the bound of other per-sender warning sets. */
export const WARN_MAX_KEYS = 1_000;

/**
 * Logs a warning at most once per key every {@linkcode WARN_WINDOW_MS}, and at most
 * {@linkcode WARN_BUDGET} warnings in all per window. The next warning logged after some were left
 * out says how many.
 */
export class WarnLimiter {
  readonly #log: (message: string) => void;
  readonly #now: () => number;
  /** By key: until when the key is muted, and how many of its warnings were left out since. */
  readonly #muted = new Map<string, { until: number; suppressed: number }>();
  /** The global budget of the current window. */
  readonly #window = { until: 0, logged: 0, suppressed: 0 };

  /**
   * @param log Where the warnings go, e.g. `(m) => logger.warn(m)`.
   * @param now The clock, in ms (`Date.now` by default).
   */
  constructor(log: (message: string) => void, now: () => number = Date.now) {
    this.#log = log;
    this.#now = now;
  }

  /**
   * Log `message`, unless `key` was logged less than a window ago or the window's budget is
   * spent.
   *
   * @param key What makes two warnings "the same", e.g. `"malformed INFO"`.
   * @param message The line to log.
   */
  warn(key: string, message: string): void {
    const now = this.#now();
    const muted = this.#muted.get(key);
    if (muted && now < muted.until) {
      muted.suppressed++;
      return;
    }
    const w = this.#window;
    if (now >= w.until) {
      w.until = now + WARN_WINDOW_MS;
      w.logged = 0;
    }
    if (w.logged >= WARN_BUDGET) {
      w.suppressed++;
      return;
    }
    w.logged++;
    const left = (muted?.suppressed ?? 0) + w.suppressed;
    w.suppressed = 0;
    if (!muted && this.#muted.size >= WARN_MAX_KEYS) {
      for (const [k, m] of this.#muted) {
        if (now >= m.until) this.#muted.delete(k);
      }
      if (this.#muted.size >= WARN_MAX_KEYS) this.#muted.clear();
    }
    this.#muted.set(key, { until: now + WARN_WINDOW_MS, suppressed: 0 });
    this.#log(
      left > 0 ? `${message} (${left} similar warning(s) left out in the last 10 s)` : message,
    );
  }
}
