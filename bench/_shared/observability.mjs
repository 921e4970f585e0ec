// The broker options of each observability mode of bench/observability.ts, the same for
// Denolecular and Moleculer: tracing at rate 1 with the Event exporter (its default 5 s batches),
// metrics with the process metrics Moleculer collects by default.

import process from "node:process";

/** @type {Record<string, Record<string, unknown>>} */
export const MODES = {
  off: {},
  tracing: {
    tracing: { enabled: true, sampling: { rate: 1 }, exporter: { type: "Event" } },
  },
  metrics: {
    metrics: { enabled: true, collectProcessMetrics: true },
  },
  both: {
    tracing: { enabled: true, sampling: { rate: 1 }, exporter: { type: "Event" } },
    metrics: { enabled: true, collectProcessMetrics: true },
  },
};

/**
 * Run a measurement and add the CPU time the process spent per operation (user + system, every
 * thread: the garbage collector's helpers too). On a machine shared with other work, CPU time
 * varies less than throughput, which counts the time the process waited for a core.
 *
 * @template {{ count: number }} R
 * @param {() => Promise<R>} run
 * @returns {Promise<R & { cpuNsPerOp: number }>}
 */
export async function withCpu(run) {
  const before = process.cpuUsage();
  const result = await run();
  const used = process.cpuUsage(before);
  return { ...result, cpuNsPerOp: ((used.user + used.system) * 1000) / result.count };
}

/**
 * The CPU time the process has used so far, in µs (user + system, every thread): a responder
 * answers it before and after each of its caller's measurements, so a remote call's CPU time
 * counts both ends.
 *
 * @returns {Promise<{ count: number, ms: number, opsPerSec: number, cpuUs: number }>}
 */
export function cpuSoFar() {
  const { user, system } = process.cpuUsage();
  return Promise.resolve({ count: 1, ms: 0, opsPerSec: 0, cpuUs: user + system });
}
