/**
 * Idle soak: does a node's memory grow while it sits idle in a cluster?
 *
 * Starts a private nats-server, one Denolecular node and one Moleculer 0.15.2
 * node with 10 services each (bench/deno/idle.ts, bench/node/idle.mjs), lets
 * them exchange heartbeats, and samples each node at a fixed interval. A third
 * process, bench/deno/idle_control.ts, holds only the Deno runtime and the same
 * NATS client: the baseline that tells the runtime's drift from the broker's.
 *
 * RSS alone cannot tell a leak from garbage V8 has not collected yet, so by
 * default both nodes run with GC exposed and, before each sample, are asked
 * (`sample` on stdin) to run a full GC and report `Deno.memoryUsage()` /
 * `process.memoryUsage()`; VmRSS is read from /proc right after. A heapUsed
 * that keeps rising across forced GCs is live memory, i.e. a leak.
 * `--gc=false` samples VmRSS only, with no forced GC, to compare with the
 * undisturbed process.
 *
 * Prints the samples and a summary (ready, 1 min, 5 min, end, growth from
 * 1 min to end, least-squares slope of heapUsed from 1 min on) and writes
 * bench/.out/idle_soak.json (not committed; `--update` writes the committed
 * bench/results/idle_soak.json).
 *
 * `--load=RATE` soaks under load instead: each stack gets a caller (bench/deno/soak_caller.ts,
 * bench/node/soak_caller.mjs) that calls its 10-service node at RATE calls/s and emits RATE/10
 * events/s (the mix of bench/_shared/soak_load.mjs), each stack in a namespace of its own so that
 * neither serves the other's calls. The callers are sampled like the nodes; the summary is then
 * ready, 1 min, 10 min, end, growth 1 → 10 min and 10 min → end, the heapUsed slopes from 1 min
 * and from 10 min on, and the
 * callers' counts (calls, calls/s achieved, errors, timeouts). Unexpected errors, timeouts or hung
 * calls make the run fail (exit code 1) after the summary. Writes soak_load.json.
 *
 * ```sh
 * deno task bench:soak                  # 10 minutes, a sample every 30 s
 * deno run -A bench/idle_soak.ts --minutes=1 --every=10
 * deno run -A bench/idle_soak.ts --gc=false
 * deno task bench:soak:load             # 2000 calls/s, 30 minutes, a sample a minute
 * deno run -A bench/idle_soak.ts --load=500 --minutes=1 --every=10
 * ```
 *
 * @module
 */

import { startNatsServer } from "../tests/_helpers/nats_server.ts";
import { Child, type Line } from "./_shared/child.ts";
// @ts-types="./_shared/soak_load.d.mts"
import type { LoadCounts, LoadTotals } from "./_shared/soak_load.mjs";

const arg = (name: string, fallback: number): number => {
  const hit = Deno.args.find((a) => a.startsWith(`--${name}=`));
  return hit ? Number(hit.split("=")[1]) : fallback;
};
const MINUTES = arg("minutes", 10);
const EVERY_S = arg("every", 30);
/** Calls per second of each caller; 0 = no callers, the idle soak. */
const LOAD = arg("load", 0);
if (!(LOAD >= 0)) throw new Error(`--load: expected calls per second, 0 or more`);
const GC = (() => {
  const hit = Deno.args.find((a) => a.startsWith("--gc="))?.slice("--gc=".length) ?? "true";
  if (hit !== "true" && hit !== "false") throw new Error(`--gc=${hit}: expected true or false`);
  return hit === "true";
})();
const NODE = Deno.env.get("BENCH_NODE") ?? "node";
const here = (p: string) => new URL(p, import.meta.url).pathname;
const MB = 1024 * 1024;
const round = (x: number, digits: number) => Number(x.toFixed(digits));

/** A node's own view of its memory after a forced GC, in bytes. */
interface SelfReport {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}

/** One stack at one sample; heapUsedMB and self only when GC is forced, load from callers. */
interface StackSample {
  vmRssMB: number;
  heapUsedMB?: number;
  self?: SelfReport;
  load?: LoadCounts;
}

interface Row {
  /** Seconds since both nodes were ready. */
  t: number;
  stacks: Record<string, StackSample>;
}

function vmRssMB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? NaN) / 1024;
}

function bytes(line: Line, key: keyof SelfReport, who: string): number {
  const v = line[key];
  if (typeof v !== "number") throw new Error(`${who}: sample without numeric '${key}'`);
  return v;
}

async function sample(node: Child): Promise<StackSample> {
  if (!GC) return { vmRssMB: round(vmRssMB(node.proc.pid), 1) };
  const reply = node.expect("sample", 15_000);
  await node.send("sample");
  const line = await reply;
  if (line.gc !== true) throw new Error(`${node.name}: gc() is not exposed`);
  const self: SelfReport = {
    rss: bytes(line, "rss", node.name),
    heapUsed: bytes(line, "heapUsed", node.name),
    heapTotal: bytes(line, "heapTotal", node.name),
    external: bytes(line, "external", node.name),
  };
  // Read after the reply so that VmRSS, too, is the post-GC figure.
  return {
    vmRssMB: round(vmRssMB(node.proc.pid), 1),
    heapUsedMB: round(self.heapUsed / MB, 2),
    self,
    ...(line.load ? { load: line.load as LoadCounts } : {}),
  };
}

await using nats = await startNatsServer();
// Idle, all share one cluster. Under load, each stack has its own, or the callers' requests
// would be balanced across both stacks' services.
const ns = (stack: "deno" | "moleculer") => LOAD > 0 ? `soak-${stack}` : "soak";
const opts = (stack: string, namespace: string) =>
  JSON.stringify({ url: nats.url, namespace, nodeID: `soak-${stack}`, transport: "wire" });
const callerOpts = (stack: "deno" | "moleculer") =>
  JSON.stringify({
    url: nats.url,
    namespace: ns(stack),
    nodeID: `soak-${stack}-caller`,
    rate: LOAD,
  });
const nodes = [
  new Child("denolecular", Deno.execPath(), [
    "run",
    "-A",
    "--quiet",
    ...(GC ? ["--v8-flags=--expose-gc"] : []),
    here("./deno/idle.ts"),
    opts("denolecular", ns("deno")),
  ]),
  // The runtime and the NATS client alone: what the Denolecular node's drift is measured against.
  new Child("deno-control", Deno.execPath(), [
    "run",
    "-A",
    "--quiet",
    ...(GC ? ["--v8-flags=--expose-gc"] : []),
    here("./deno/idle_control.ts"),
    opts("control", ns("deno")),
  ]),
  new Child("moleculer", NODE, [
    ...(GC ? ["--expose-gc"] : []),
    here("./node/idle.mjs"),
    opts("moleculer", ns("moleculer")),
  ]),
];
const callers = LOAD > 0
  ? [
    new Child("deno-caller", Deno.execPath(), [
      "run",
      "-A",
      "--quiet",
      ...(GC ? ["--v8-flags=--expose-gc"] : []),
      here("./deno/soak_caller.ts"),
      callerOpts("deno"),
    ]),
    new Child("moleculer-caller", NODE, [
      ...(GC ? ["--expose-gc"] : []),
      here("./node/soak_caller.mjs"),
      callerOpts("moleculer"),
    ]),
  ]
  : [];
nodes.push(...callers);

const COLS = GC ? ["VmRSS MB", "heapUsed MB"] : ["VmRSS MB"];
const LABEL_W = 24;
const colW = (c: string) => c.length + 3;
const groupW = COLS.reduce((n, c) => n + colW(c), 0);
const printHeader = (label: string) => {
  console.log(" ".repeat(LABEL_W) + nodes.map((n) => n.name.padStart(groupW)).join(""));
  console.log(
    label.padEnd(LABEL_W) + nodes.map(() => COLS.map((c) => c.padStart(colW(c))).join("")).join(""),
  );
};
/** One line of a table: per stack, a VmRSS cell and (with GC) a heapUsed cell. */
const printLine = (label: string, cells: (name: string) => Array<string>) =>
  console.log(
    label.padEnd(LABEL_W) +
      nodes.map((n) => cells(n.name).map((v, i) => v.padStart(colW(COLS[i] ?? ""))).join(""))
        .join(""),
  );

/** One line per caller after each sample: how the load goes so far. */
function printLoad(row: Row, seconds: number): void {
  for (const c of callers) {
    const l = row.stacks[c.name]?.load;
    if (!l) continue;
    const rate = seconds > 0 ? Math.round(l.calls / seconds) : 0;
    console.log(
      `  ${c.name}: ${l.calls} calls (${rate}/s), ${l.events} events, ${l.expectedErrors} ` +
        `expected errors, ${l.unexpectedErrors} unexpected, ${l.timeouts} timeouts, ` +
        `${l.hung} hung, ${l.inFlight} in flight` + (l.errors.length ? `: ${l.errors[0]}` : ""),
    );
  }
}

const rows: Row[] = [];
/** The callers' totals, by name, once stopped. */
const totals: Record<string, LoadTotals> = {};
try {
  for (const n of nodes) await n.expect("ready", callers.includes(n) ? 45_000 : 30_000);
  console.log(
    GC
      ? `full GC (gc() twice) in each node before each sample, every ${EVERY_S} s for ${MINUTES} min`
      : `no forced GC, VmRSS only, every ${EVERY_S} s for ${MINUTES} min`,
  );
  if (LOAD > 0) {
    console.log(
      `load: each caller makes ${LOAD} calls/s (5 s timeout) and ${LOAD / 10} events/s from the ` +
        `first sample on`,
    );
  }
  printHeader("t, s");
  const start = Date.now();
  let loadStart = 0;
  const total = MINUTES * 60_000;
  for (let t = 0; t <= total; t += EVERY_S * 1000) {
    const wait = start + t - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const at = Math.round((Date.now() - start) / 1000);
    const got = await Promise.all(nodes.map(async (n) => [n.name, await sample(n)] as const));
    const row: Row = { t: at, stacks: Object.fromEntries(got) };
    rows.push(row);
    printLine(String(row.t), (name) => {
      const s = row.stacks[name];
      return GC
        ? [s?.vmRssMB.toFixed(1) ?? "—", s?.heapUsedMB?.toFixed(2) ?? "—"]
        : [s?.vmRssMB.toFixed(1) ?? "—"];
    });
    // The load starts right after the first sample, which is the unloaded baseline.
    if (t === 0 && LOAD > 0) {
      loadStart = Date.now();
      await Promise.all(callers.map((c) => c.send("start")));
    } else printLoad(row, (Date.now() - loadStart) / 1000);
  }
  // Stop the callers before the nodes, so that calls still in flight are answered.
  for (const c of callers) {
    const done = c.expect("done", 20_000);
    await c.send("stop");
    totals[c.name] = (await done).load as LoadTotals;
  }
} finally {
  await Promise.all(nodes.map((n) => n.close(5_000)));
}

/** The sample nearest to `seconds` after ready, on the schedule; undefined past the end. */
const nearest = (seconds: number): Row | undefined => rows[Math.round(seconds / EVERY_S)];

/** Least-squares slope of y over x; null with fewer than two distinct x. */
function slope(points: Array<[number, number]>): number | null {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  const sxy = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  return n >= 2 && sxx > 0 ? sxy / sxx : null;
}

/** The summary's points in time: label, key, seconds after ready (Infinity: the last sample). */
const MARKS: ReadonlyArray<readonly [string, string, number]> = [
  ["ready", "ready", 0],
  ["1 min", "at1Min", 60],
  LOAD > 0 ? ["10 min", "at10Min", 600] : ["5 min", "at5Min", 300],
  ["end", "end", Infinity],
];
/** The summary's growths: label, key, from which mark to which. */
const GROWTHS: ReadonlyArray<readonly [string, string, string, string]> = LOAD > 0
  ? [
    ["growth 1 → 10 min", "growth1To10Min", "at1Min", "at10Min"],
    ["growth 10 min → end", "growth10MinToEnd", "at10Min", "end"],
  ]
  : [["growth 1 min → end", "growth1MinToEnd", "at1Min", "end"]];

/** A figure at each mark and its growths, by key. */
type Points = Record<string, number | null>;

interface StackSummary {
  vmRssMB: Points;
  heapUsedMB?: Points;
  heapUsedSlopeKBPerMin1MinToEnd?: number | null;
  /** Under load only: a one-off drop or step during warm-up weighs less from here on. */
  heapUsedSlopeKBPerMin10MinToEnd?: number | null;
}

function points(
  name: string,
  pick: (s: StackSample) => number | undefined,
  digits: number,
): Points {
  const v = (r: Row | undefined) => {
    const x = r?.stacks[name] ? pick(r.stacks[name]) : undefined;
    return x === undefined ? null : round(x, digits);
  };
  const p: Points = {};
  for (const [, key, t] of MARKS) p[key] = v(t === Infinity ? rows.at(-1) : nearest(t));
  for (const [, key, from, to] of GROWTHS) {
    const a = p[from] ?? null;
    const b = p[to] ?? null;
    p[key] = a === null || b === null ? null : round(b - a, digits);
  }
  return p;
}

/** Slope of `name`'s heapUsed (KB/min) from the sample nearest `fromS` on. */
const heapSlope = (name: string, fromS: number): number | null => {
  const kbPerMin = slope(
    rows.slice(Math.round(fromS / EVERY_S)).flatMap((r) => {
      const used = r.stacks[name]?.self?.heapUsed;
      return used === undefined ? [] : [[r.t / 60, used / 1024] as [number, number]];
    }),
  );
  return kbPerMin === null ? null : round(kbPerMin, 1);
};
const summary: Record<string, StackSummary> = Object.fromEntries(nodes.map((n) => {
  const vmRssMB = points(n.name, (s) => s.vmRssMB, 1);
  if (!GC) return [n.name, { vmRssMB } satisfies StackSummary];
  const heapUsedMB = points(n.name, (s) => s.heapUsedMB, 2);
  const s: StackSummary = {
    vmRssMB,
    heapUsedMB,
    heapUsedSlopeKBPerMin1MinToEnd: heapSlope(n.name, 60),
    ...(LOAD > 0 ? { heapUsedSlopeKBPerMin10MinToEnd: heapSlope(n.name, 600) } : {}),
  };
  return [n.name, s];
}));

console.log();
printHeader("summary");
const fmt = (x: number | null | undefined, digits: number, sign = false) =>
  x === null || x === undefined ? "—" : (sign && x >= 0 ? "+" : "") + x.toFixed(digits);
for (
  const [label, key, sign] of [
    ...MARKS.map(([label, key]) => [label, key, false] as const),
    ...GROWTHS.map(([label, key]) => [label, key, true] as const),
  ]
) {
  printLine(label, (name) => {
    const s = summary[name];
    return GC
      ? [fmt(s?.vmRssMB[key], 1, sign), fmt(s?.heapUsedMB?.[key], 2, sign)]
      : [fmt(s?.vmRssMB[key], 1, sign)];
  });
}
if (GC) {
  printLine(
    "heapUsed slope, KB/min",
    (name) => ["", fmt(summary[name]?.heapUsedSlopeKBPerMin1MinToEnd, 1, true)],
  );
  if (LOAD > 0) {
    printLine(
      "heapUsed slope 10 min →",
      (name) => ["", fmt(summary[name]?.heapUsedSlopeKBPerMin10MinToEnd, 1, true)],
    );
  }
}
const LOAD_ROWS: ReadonlyArray<readonly [string, (l: LoadTotals) => number]> = [
  ["calls", (l) => l.calls],
  ["calls/s", (l) => Math.round(l.callsPerSec)],
  ["events", (l) => l.events],
  ["expected errors", (l) => l.expectedErrors],
  ["unexpected errors", (l) => l.unexpectedErrors],
  ["timeouts", (l) => l.timeouts],
  ["hung", (l) => l.hung],
  ["dropped (behind)", (l) => l.dropped],
  ["max in flight", (l) => l.maxInFlight],
];
if (LOAD > 0) {
  for (const [label, pick] of LOAD_ROWS) {
    printLine(label, (name) => {
      const l = totals[name];
      return GC ? ["", l ? String(pick(l)) : ""] : [l ? String(pick(l)) : ""];
    });
  }
}

// Committed figures change only when asked (`--update`).
const outDir = Deno.args.includes("--update") ? "results" : ".out";
await Deno.mkdir(here(`./${outDir}`), { recursive: true });
await Deno.writeTextFile(
  here(`./${outDir}/${LOAD > 0 ? "soak_load" : "idle_soak"}.json`),
  JSON.stringify(
    {
      date: new Date().toISOString(),
      minutes: MINUTES,
      everyS: EVERY_S,
      forcedGC: GC,
      ...(LOAD > 0 ? { load: LOAD, totals } : {}),
      samples: rows,
      summary,
    },
    null,
    2,
  ) + "\n",
);

// A load run that lost calls or got wrong answers fails, after the summary and the JSON are out.
const bad = Object.entries(totals).filter(([, l]) => l.unexpectedErrors + l.timeouts + l.hung > 0);
if (bad.length > 0) {
  for (const [name, l] of bad) {
    console.error(
      `FAIL ${name}: ${l.unexpectedErrors} unexpected errors, ${l.timeouts} timeouts, ` +
        `${l.hung} hung calls` + (l.errors.length ? `\n  ${l.errors.join("\n  ")}` : ""),
    );
  }
  Deno.exit(1);
}
