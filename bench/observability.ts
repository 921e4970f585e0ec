/**
 * What tracing and metrics cost, Denolecular next to Moleculer 0.15.2, in one run: a local call
 * and a remote call over NATS (32 in flight) in four modes — off, tracing (rate 1, Event
 * exporter), metrics, both — with the same options on both stacks. Every node is its own
 * process; measurements rotate through the stacks and modes, so a drift of the machine hits all
 * alike. Prints ops/s and the CPU time per call (user + system, every thread; of both processes
 * for a remote call, the NATS server aside); each mode's slowdown against `off` — how much longer
 * a call takes, `time on / time off − 1` — and the targets: Denolecular's slowdown at most half of
 * Moleculer's. The slowdowns come from CPU time, which a machine shared with other work disturbs
 * less than throughput. The verdicts also print the fall in throughput, `1 − ops on / ops off`. `--baseline=DIR` adds the local call of
 * an older checkout (local and remote, every mode, run by this same driver) when it has
 * bench/deno/observed.ts, else its plain local call as `off`.
 *
 * ```sh
 * deno run -A bench/observability.ts                  # 2 s × 3 per measurement (~3 min)
 * deno run -A bench/observability.ts --ms=1000 --reps=1 --only=local
 * deno run -A bench/observability.ts --baseline=/tmp/old   # also `off` of an older checkout
 * ```
 *
 * Writes `bench/.out/observability.json` (ignored by git).
 *
 * @module
 */

import { Child as JsonLineChild } from "./_shared/child.ts";
import { startNatsServer } from "../tests/_helpers/nats_server.ts";

const flag = (name: string): string | undefined =>
  Deno.args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const MS = Number(flag("ms") ?? 2000);
const REPS = Number(flag("reps") ?? 3);
const ONLY = new Set((flag("only") ?? "local,remote").split(","));
const BASELINE = flag("baseline");
const BASELINE_OBSERVED = BASELINE !== undefined &&
  await Deno.stat(`${BASELINE.replace(/\/?$/, "/")}bench/deno/observed.ts`).then(
    () => true,
    () => false,
  );
const MODES = ["off", "tracing", "metrics", "both"] as const;
const NODE = Deno.env.get("BENCH_NODE") ?? "node";
const path = (p: string) => new URL(p, import.meta.url).pathname;

interface Result {
  opsPerSec: number;
  /** Operations measured. */
  count: number;
  /** A responder's CPU time so far, in µs. */
  cpuUs?: number;
  p50?: number;
  /** CPU time of the process per operation, in ns (absent from an older checkout's bench). */
  cpuNsPerOp?: number;
}

class Child extends JsonLineChild {
  async run(name: string, ms: number, warmup = false): Promise<Result> {
    await this.send(JSON.stringify({ cmd: "run", name, ms, warmup }));
    const line = await this.expect("result", ms * 3 + 30_000);
    if (line.error) throw new Error(`${this.name}: ${line.error}`);
    return line.result as Result;
  }
}

type Stack = "denolecular" | "moleculer" | "baseline";
const spawn = (stack: Stack, opts: Record<string, unknown>): Child => {
  const name = `${stack}-${opts.role}-${opts.mode}`;
  if (stack === "moleculer") {
    return new Child(name, NODE, [path("node/observed.mjs"), JSON.stringify(opts)], path("../"));
  }
  if (stack === "baseline") {
    const root = BASELINE!.replace(/\/?$/, "/");
    if (BASELINE_OBSERVED) {
      // This driver, the older checkout's library (and its import map).
      return new Child(name, Deno.execPath(), [
        "run",
        "-A",
        "--quiet",
        `--config=${root}deno.json`,
        path("deno/observed.ts"),
        JSON.stringify({ ...opts, root }),
      ], root);
    }
    // A checkout older than observed.ts: its plain local bench is `off`.
    return new Child(name, Deno.execPath(), [
      "run",
      "-A",
      "--quiet",
      `${root}bench/deno/local_call.ts`,
      "{}",
    ], root);
  }
  return new Child(name, Deno.execPath(), [
    "run",
    "-A",
    "--quiet",
    path("deno/observed.ts"),
    JSON.stringify(opts),
  ], path("../"));
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const log = (s: string) => console.error(`[observability] ${s}`);

/** Medians of each driver's measurements: ops/s, and CPU ns per operation when reported. */
interface Medians {
  ops: Record<string, number>;
  cpu: Record<string, number>;
}

/** A node that measures, and for a remote call the responder whose CPU time counts too. */
interface Driver {
  key: string;
  child: Child;
  responder?: Child;
}

/** The CPU time per operation of a measurement, both ends of a remote call included. */
async function run(d: Driver, name: string): Promise<Result> {
  const before = d.responder ? (await d.responder.run("cpu", 0)).cpuUs! : 0;
  const res = await d.child.run(name, MS);
  if (!d.responder || res.cpuNsPerOp === undefined) return res;
  const spent = (await d.responder.run("cpu", 0)).cpuUs! - before;
  return { ...res, cpuNsPerOp: res.cpuNsPerOp + spent * 1000 / res.count };
}

async function measure(drivers: Driver[], name: string): Promise<Medians> {
  for (const d of drivers) await d.child.run(name, 500, true);
  const ops: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  for (let r = 0; r < REPS; r++) {
    // Rotate the order each repetition.
    const order = drivers.map((_, i) => drivers[(i + r) % drivers.length]!);
    for (const d of order) {
      const key = d.key;
      log(`${name} ${key} (${r + 1}/${REPS})`);
      const res = await run(d, name);
      (ops[key] ??= []).push(res.opsPerSec);
      if (res.cpuNsPerOp !== undefined) (cpu[key] ??= []).push(res.cpuNsPerOp);
    }
  }
  const medians = (o: Record<string, number[]>) =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, median(v)]));
  return { ops: medians(ops), cpu: medians(cpu) };
}

const out: Record<string, Medians> = {};
const children: Child[] = [];
try {
  if (ONLY.has("local")) {
    const drivers: Driver[] = [];
    for (const stack of ["denolecular", "moleculer"] as const) {
      for (const mode of MODES) {
        const child = spawn(stack, { role: "local", mode });
        children.push(child);
        await child.expect("ready", 30_000);
        drivers.push({ key: `${stack}/${mode}`, child });
      }
    }
    if (BASELINE) {
      for (const mode of BASELINE_OBSERVED ? MODES : ["off" as const]) {
        const child = spawn("baseline", { role: "local", mode });
        children.push(child);
        await child.expect("ready", 30_000);
        drivers.push({ key: `baseline/${mode}`, child });
      }
    }
    out.local = await measure(drivers, "local");
    await Promise.all(children.splice(0).map((c) => c.close()));
  }
  if (ONLY.has("remote")) {
    await using nats = await startNatsServer();
    const drivers: Driver[] = [];
    const stacks = ["denolecular", "moleculer", ...(BASELINE_OBSERVED ? ["baseline"] : [])];
    for (const stack of stacks as Stack[]) {
      for (const mode of MODES) {
        const ns = `obs-${stack}-${mode}`;
        const responder = spawn(stack, { role: "responder", mode, url: nats.url, ns });
        children.push(responder);
        await responder.expect("ready", 30_000);
        const caller = spawn(stack, { role: "caller", mode, url: nats.url, ns });
        children.push(caller);
        await caller.expect("ready", 30_000);
        drivers.push({ key: `${stack}/${mode}`, child: caller, responder });
      }
    }
    out.remote = await measure(drivers, "conc32");
    await Promise.all(children.splice(0).map((c) => c.close()));
  }
} finally {
  for (const c of children) c.kill();
}

const fmt = (n: number | undefined) => n === undefined ? "—" : Math.round(n).toLocaleString("en");
const pct = (x: number) => `${x >= 0 ? "" : "−"}${Math.abs(x * 100).toFixed(1)} %`;
const lines: string[] = [];
const verdicts: string[] = [];
for (const [section, { ops, cpu }] of Object.entries(out)) {
  // Slowdown against `off`: how much longer a call takes (time on / time off − 1), from CPU time
  // per call where every node reported it, else from ops/s. The fall in throughput (1 − on / off)
  // is printed beside it: it is bounded by 100 %, so it cannot tell a stack whose mode makes a
  // call 9× as long from one where it makes it 24× as long (88.9 % and 95.9 %).
  const byCpu = cpu["denolecular/off"] !== undefined && cpu["moleculer/off"] !== undefined;
  const slowdown = (stack: string, mode: string): number | undefined => {
    if (byCpu && cpu[`${stack}/${mode}`] !== undefined && cpu[`${stack}/off`] !== undefined) {
      return cpu[`${stack}/${mode}`]! / cpu[`${stack}/off`]! - 1;
    }
    const v = ops[`${stack}/${mode}`], off = ops[`${stack}/off`];
    return v === undefined || off === undefined ? undefined : off / v - 1;
  };
  const fall = (stack: string, mode: string) => 1 - 1 / (1 + slowdown(stack, mode)!);
  const stacks = ["denolecular", "moleculer", ...(ops["baseline/both"] ? ["baseline"] : [])];
  const cell = (stack: string, mode: string) => {
    const s = slowdown(stack, mode);
    const c = byCpu ? ` | ${fmt(cpu[`${stack}/${mode}`])}` : "";
    return `${fmt(ops[`${stack}/${mode}`])}${c} | ${
      mode === "off" || s === undefined ? "" : pct(s)
    }`;
  };
  const head = stacks.map((st) => {
    const label = st === "baseline" ? "before" : st[0]!.toUpperCase() + st.slice(1);
    return `${label} ops/s${byCpu ? ` | ${label} CPU ns/call` : ""} | slowdown`;
  });
  const cols = stacks.length * (byCpu ? 3 : 2) + 1;
  lines.push(
    "",
    `| ${section} | ${head.join(" | ")} | Denolecular vs Moleculer |`,
    `|---|${"---:|".repeat(cols)}`,
  );
  for (const mode of MODES) {
    const d = ops[`denolecular/${mode}`]!, m = ops[`moleculer/${mode}`]!;
    lines.push(
      `| ${mode} | ${stacks.map((st) => cell(st, mode)).join(" | ")} | ${(d / m).toFixed(2)}× |`,
    );
    if (mode !== "off") {
      const ds = slowdown("denolecular", mode)!, ms = slowdown("moleculer", mode)!;
      verdicts.push(
        `${ds <= ms / 2 ? "HOLDS  " : "MISSES "} ${section} ${mode}: a call takes ${
          pct(ds)
        } longer on Denolecular, at most half of Moleculer's ${pct(ms)}${
          byCpu ? " (CPU time)" : ""
        }; throughput falls by ${pct(fall("denolecular", mode))} and ${
          pct(fall("moleculer", mode))
        }`,
      );
    }
  }
  lines.push(
    "",
    `slowdown: how much longer a call takes than with both off, from ${
      byCpu ? "CPU time per call" : "ops/s"
    }`,
  );
  if (ops["baseline/off"] !== undefined) {
    const base = byCpu && cpu["baseline/off"] !== undefined
      ? cpu["baseline/off"]! / cpu["denolecular/off"]!
      : ops["denolecular/off"]! / ops["baseline/off"]!;
    lines.push(
      `tracing off vs the baseline checkout: ${base.toFixed(3)}× (${
        fmt(ops["baseline/off"])
      } ops/s)`,
    );
    verdicts.push(
      `${base >= 0.98 ? "HOLDS  " : "MISSES "} ${section}: tracing off costs < 2 % (${
        pct(1 - base)
      })`,
    );
  }
}
console.log(lines.join("\n"));
console.log("\nTargets:\n" + verdicts.map((v) => "  " + v).join("\n"));
await Deno.mkdir(path(".out"), { recursive: true });
await Deno.writeTextFile(
  path(".out/observability.json"),
  JSON.stringify({ ms: MS, reps: REPS, loadavg: Deno.loadavg(), results: out }, null, 2),
);
