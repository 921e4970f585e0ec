/**
 * Facts about the host for INFO packets and `$node.health`: hostname, IPv4
 * addresses, CPU usage. Every probe degrades to a neutral value when the
 * runtime or its permissions do not allow it.
 *
 * @module
 */

import * as os from "node:os";

/** The host name, lower-cased, or `"localhost"` when unknown. */
export function hostname(): string {
  try {
    return os.hostname().toLowerCase();
  } catch {
    return "localhost";
  }
}

/** The first IPv4 address of each external interface (loopback only if there is nothing else). */
export function ipList(): string[] {
  try {
    const external: string[] = [];
    const internal: string[] = [];
    for (const addrs of Object.values(os.networkInterfaces())) {
      const v4 = addrs?.find((a) => a.family === "IPv4");
      if (!v4) continue;
      (v4.internal ? internal : external).push(v4.address);
    }
    return external.length ? external : internal;
  } catch {
    return [];
  }
}

let lastTimes: { idle: number; total: number } | undefined;

function cpuTimes(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const t = cpu.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  return { idle, total };
}

/**
 * Whole-machine CPU usage in percent (0–100) since the previous call, like
 * Moleculer's heartbeat `cpu`; null when it cannot be read.
 */
export function cpuUsage(): number | null {
  try {
    const now = cpuTimes();
    const prev = lastTimes;
    lastTimes = now;
    if (!prev || now.total === prev.total) return 0;
    const busy = 1 - (now.idle - prev.idle) / (now.total - prev.total);
    return Math.max(0, Math.min(100, Math.round(busy * 100)));
  } catch {
    return null;
  }
}

/** The default nodeID: `<hostname>-<pid>`. */
export function defaultNodeID(): string {
  let pid = 0;
  try {
    pid = Deno.pid;
  } catch { /* not Deno */ }
  return `${hostname()}-${pid}`;
}
