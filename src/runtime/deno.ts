/**
 * The {@linkcode Runtime} of Deno: the one place where the broker's platform facts come from
 * (`node:os`, `Deno.pid`, `Deno.version`, `Deno.memoryUsage`, `Deno.unrefTimer`, signals).
 *
 * @module
 */

import * as os from "node:os";
import type { HostInfo, MemoryUsage, Runtime } from "../core/runtime.ts";
import { onShutdownSignal } from "./signals.ts";

function safe<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

function hostname(): string {
  return safe(() => os.hostname().toLowerCase(), "localhost");
}

function ipList(): string[] {
  return safe(() => {
    const external: string[] = [];
    const internal: string[] = [];
    for (const addrs of Object.values(os.networkInterfaces())) {
      const v4 = addrs?.find((a) => a.family === "IPv4");
      if (!v4) continue;
      (v4.internal ? internal : external).push(v4.address);
    }
    return external.length ? external : internal;
  }, []);
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

/** Like Moleculer's heartbeat `cpu`: busy share of all cores since the previous call. */
function cpuUsage(): number | null {
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

function hostInfo(): HostInfo {
  const [load1 = 0, load5 = 0, load15 = 0] = safe(() => os.loadavg(), [0, 0, 0]);
  return {
    load: [load1, load5, load15],
    cores: safe(() => os.cpus().length, 1),
    mem: { total: safe(() => os.totalmem(), 0), free: safe(() => os.freemem(), 0) },
    uptime: safe(() => os.uptime(), 0),
    os: {
      type: safe(() => os.type(), ""),
      release: safe(() => os.release(), ""),
      arch: safe(() => os.arch(), ""),
      platform: safe(() => os.platform(), ""),
    },
    user: safe((): unknown => os.userInfo(), {}),
  };
}

/**
 * The Deno runtime: what a broker uses unless it is given another {@linkcode Runtime}.
 *
 * @example
 * ```ts
 * import { denoRuntime } from "./deno.ts";
 *
 * console.log(denoRuntime.hostname(), denoRuntime.version());
 * ```
 */
export const denoRuntime: Runtime = Object.freeze({
  name: "deno",
  version: () => safe(() => Deno.version.deno, ""),
  hostname,
  ipList,
  cpuUsage,
  pid: () => safe(() => Deno.pid, 0),
  args: () => safe(() => [...Deno.args], []),
  memoryUsage: (): MemoryUsage | null => safe(() => Deno.memoryUsage(), null),
  hostInfo,
  onShutdownSignal,
  // Deno's timers are numbers; the type says otherwise where Node's typings are loaded.
  unrefTimer: (timer: ReturnType<typeof setTimeout>) =>
    safe(() => Deno.unrefTimer(timer as unknown as number), undefined),
  cwd: () => safe(() => Deno.cwd(), "."),
});

/**
 * The default nodeID: `<hostname>-<pid>`, as Moleculer makes it.
 *
 * @param runtime The runtime to ask.
 * @returns The id.
 */
export function defaultNodeID(runtime: Runtime = denoRuntime): string {
  return `${runtime.hostname()}-${runtime.pid()}`;
}
