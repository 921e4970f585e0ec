/**
 * What tracing and metrics cost, Denolecular next to Moleculer 0.15.2, in one run: a local call
 * and a remote call over NATS (32 in flight) in four modes — off, tracing (rate 1, Event
 * exporter), metrics, both — with the same options on both stacks. Every node is its own
 * process; measurements rotate through the stacks and modes, so a drift of the machine hits all
 * alike. Prints ops/s, each mode's slowdown against `off`, and the targets: Denolecular's
 * slowdown at most half of Moleculer's.
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
const MODES = ["off", "tracing", "metrics", "both"] as const;
const NODE = Deno.env.get("BENCH_NODE") ?? "node";
const path = (p: string) => new URL(p, import.meta.url).pathname;

interface Result {
  opsPerSec: number;
  p50?: number;
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
    // An older checkout has no observed.ts: its plain local bench is `off`.
    const root = BASELINE!.replace(/\/?$/, "/");
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

async function measure(
  drivers: Array<{ key: string; child: Child }>,
  name: string,
): Promise<Record<string, number>> {
  for (const d of drivers) await d.child.run(name, 500, true);
  const runs: Record<string, number[]> = {};
  for (let r = 0; r < REPS; r++) {
    // Rotate the order each repetition.
    const order = drivers.map((_, i) => drivers[(i + r) % drivers.length]!);
    for (const { key, child } of order) {
      log(`${name} ${key} (${r + 1}/${REPS})`);
      const res = await child.run(name === "local-baseline" ? "local" : name, MS);
      (runs[key] ??= []).push(res.opsPerSec);
    }
  }
  return Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)]));
}

const out: Record<string, Record<string, number>> = {};
const children: Child[] = [];
try {
  if (ONLY.has("local")) {
    const drivers: Array<{ key: string; child: Child }> = [];
    for (const stack of ["denolecular", "moleculer"] as const) {
      for (const mode of MODES) {
        const child = spawn(stack, { role: "local", mode });
        children.push(child);
        await child.expect("ready", 30_000);
        drivers.push({ key: `${stack}/${mode}`, child });
      }
    }
    if (BASELINE) {
      const child = spawn("baseline", { role: "local", mode: "off" });
      children.push(child);
      await child.expect("ready", 30_000);
      drivers.push({ key: "baseline/off", child });
    }
    out.local = await measure(drivers, "local");
    await Promise.all(children.splice(0).map((c) => c.close()));
  }
  if (ONLY.has("remote")) {
    await using nats = await startNatsServer();
    const drivers: Array<{ key: string; child: Child }> = [];
    for (const stack of ["denolecular", "moleculer"] as const) {
      for (const mode of MODES) {
        const ns = `obs-${stack}-${mode}`;
        const responder = spawn(stack, { role: "responder", mode, url: nats.url, ns });
        children.push(responder);
        await responder.expect("ready", 30_000);
        const caller = spawn(stack, { role: "caller", mode, url: nats.url, ns });
        children.push(caller);
        await caller.expect("ready", 30_000);
        drivers.push({ key: `${stack}/${mode}`, child: caller });
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
for (const [section, r] of Object.entries(out)) {
  lines.push(
    "",
    `| ${section}, ops/s | Denolecular | slowdown | Moleculer | slowdown | Denolecular vs Moleculer |`,
    "|---|---:|---:|---:|---:|---:|",
  );
  for (const mode of MODES) {
    const d = r[`denolecular/${mode}`]!, m = r[`moleculer/${mode}`]!;
    const dOff = r["denolecular/off"]!, mOff = r["moleculer/off"]!;
    const ds = 1 - d / dOff, ms = 1 - m / mOff;
    lines.push(
      `| ${mode} | ${fmt(d)} | ${mode === "off" ? "" : pct(ds)} | ${fmt(m)} | ${
        mode === "off" ? "" : pct(ms)
      } | ${(d / m).toFixed(2)}× |`,
    );
    if (mode !== "off") {
      verdicts.push(
        `${ds <= ms / 2 ? "HOLDS  " : "MISSES "} ${section} ${mode}: Denolecular slows by ${
          pct(ds)
        }, at most half of Moleculer's ${pct(ms)}`,
      );
    }
  }
  if (r["baseline/off"] !== undefined) {
    const rel = r["denolecular/off"]! / r["baseline/off"]!;
    lines.push(
      "",
      `tracing off vs the baseline checkout: ${rel.toFixed(3)}× (${fmt(r["baseline/off"])} ops/s)`,
    );
    verdicts.push(
      `${rel >= 0.98 ? "HOLDS  " : "MISSES "} ${section}: tracing off costs < 2 % (${
        pct(1 - rel)
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
