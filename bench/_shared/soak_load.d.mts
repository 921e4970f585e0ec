// Types of soak_load.mjs for the Deno side.

/** What the soak load counted. */
export interface LoadCounts {
  /** Calls made. */
  calls: number;
  /** Calls answered with the right result. */
  ok: number;
  /** Validation errors of the calls made with invalid params. */
  expectedErrors: number;
  /** Any other error, a wrong result, or an invalid call that succeeded. */
  unexpectedErrors: number;
  /** Calls rejected with RequestTimeoutError. */
  timeouts: number;
  /** Calls not settled long after their timeout. */
  hung: number;
  /** Events emitted. */
  events: number;
  /** Calls not made because the loop fell more than a few ticks behind. */
  dropped: number;
  /** Calls made and not settled yet. */
  inFlight: number;
  /** The most calls in flight at once. */
  maxInFlight: number;
  /** The first few unexpected errors. */
  errors: string[];
}

/** The counters at the end, with the duration and the rate achieved. */
export interface LoadTotals extends LoadCounts {
  ms: number;
  callsPerSec: number;
}

/** A running load. */
export interface Load {
  counts(): LoadCounts;
  stop(): Promise<LoadTotals>;
}

/** What the load is made with. */
export interface LoadOptions {
  call(action: string, params: unknown, opts: { timeout: number }): Promise<unknown>;
  emit(event: string, payload: unknown): unknown;
  /** Calls per second. */
  rate: number;
  /** @default 5000 */
  timeoutMs?: number;
  /** @default 10 */
  services?: number;
}

export declare const INVALID_EVERY: number;
export declare function startLoad(options: LoadOptions): Load;
