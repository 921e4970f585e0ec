/** The broker options of each observability mode. */
export const MODES: Record<string, Record<string, unknown>>;
/** A measurement with the CPU time the process spent per operation, in ns. */
export function withCpu<R extends { count: number }>(
  run: () => Promise<R>,
): Promise<R & { cpuNsPerOp: number }>;
/** The CPU time the process has used so far, in µs. */
export function cpuSoFar(): Promise<
  { count: number; ms: number; opsPerSec: number; cpuUs: number }
>;
