// Types of measure.mjs for the Deno side.

/** One measurement. */
export interface Result {
  count: number;
  ms: number;
  opsPerSec: number;
  p50?: number;
  p99?: number;
  sendRate?: number;
  /** Events sent but never acknowledged (flood gave up after 5 s without progress). */
  lost?: number;
}

/** What `flood` needs from the sender. */
export interface FloodIO {
  send(): void;
  acked(): number;
  waitAck(ms: number): Promise<boolean>;
  sync(): void;
}

export declare function echoParams(size: number): { a: number; b: number; data: string };
export declare const tick: () => Promise<void>;
export declare function median(values: number[]): number;
export declare function throughput(fn: () => unknown, ms: number): Promise<Result>;
export declare function latency(
  fn: () => Promise<unknown>,
  inFlight: number,
  ms: number,
): Promise<Result>;
export declare function flood(
  io: FloodIO,
  ms: number,
  window?: number,
  burst?: number,
): Promise<Result>;
export declare function handshake(io: FloodIO, timeoutMs?: number): Promise<void>;
export declare function serve(
  lines: AsyncIterable<string>,
  measurements: Record<string, (ms: number) => Promise<Result>>,
  report: (obj: Record<string, unknown>) => void,
): Promise<void>;
