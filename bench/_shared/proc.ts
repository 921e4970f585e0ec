/**
 * What the bench orchestrators (bench/compare.ts, bench/many_nodes.ts) read of processes and of
 * the machine from /proc: CPU time, resident memory, the machine's busy time, the nats-server's
 * pid. Linux only; a figure that cannot be read is NaN (the process is gone).
 *
 * @module
 */

const TICK_US = 10_000; // USER_HZ = 100 on Linux

/**
 * User + system CPU time of a process (all threads).
 *
 * @param pid The process; undefined gives NaN.
 * @returns µs, or NaN when it cannot be read.
 */
export function cpuUs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) * TICK_US;
  } catch {
    return NaN;
  }
}

/**
 * The pid of the nats-server listening on `port`.
 *
 * @param port Its port.
 * @returns The pid, or undefined when none is found.
 */
export function natsServerPid(port: number): number | undefined {
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const argv = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).split("\0");
      if (argv[0]?.endsWith("nats-server") && argv.includes(String(port))) return Number(e.name);
    } catch {
      // gone
    }
  }
  return undefined;
}

/**
 * Busy CPU time of the whole machine (all cores, from /proc/stat): all but idle and iowait.
 *
 * @returns µs, or NaN when it cannot be read.
 */
export function machineBusyUs(): number {
  try {
    const f = Deno.readTextFileSync("/proc/stat").split("\n")[0]!.trim().split(/\s+/).slice(1)
      .map(Number);
    // user nice system idle iowait irq softirq steal …: busy = all but idle and iowait
    const busy = f.reduce((a, b) => a + b, 0) - (f[3] ?? 0) - (f[4] ?? 0);
    return busy * TICK_US;
  } catch {
    return NaN;
  }
}

/**
 * Resident memory of a process (`VmRSS` of /proc/PID/status).
 *
 * @param pid The process.
 * @returns MiB, or NaN when it cannot be read.
 */
export async function rssMB(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`).catch(() => "");
  return Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? NaN) / 1024;
}
