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
 * ```sh
 * deno task bench:soak                  # 10 minutes, a sample every 30 s
 * deno run -A bench/idle_soak.ts --minutes=1 --every=10
 * deno run -A bench/idle_soak.ts --gc=false
 * ```
 *
 * @module
 */

import { startNatsServer } from "../tests/_helpers/nats_server.ts";
import { Child, type Line } from "./_shared/child.ts";

const arg = (name: string, fallback: number): number => {
  const hit = Deno.args.find((a) => a.startsWith(`--${name}=`));
  return hit ? Number(hit.split("=")[1]) : fallback;
};
const MINUTES = arg("minutes", 10);
const EVERY_S = arg("every", 30);
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

/** One stack at one sample; heapUsedMB and self only when GC is forced. */
interface StackSample {
  vmRssMB: number;
  heapUsedMB?: number;
  self?: SelfReport;
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
  };
}

await using nats = await startNatsServer();
const opts = (stack: string) =>
  JSON.stringify({ url: nats.url, namespace: "soak", nodeID: `soak-${stack}`, transport: "deno" });
const nodes = [
  new Child("denolecular", Deno.execPath(), [
    "run",
    "-A",
    "--quiet",
    ...(GC ? ["--v8-flags=--expose-gc"] : []),
    here("./deno/idle.ts"),
    opts("denolecular"),
  ]),
  // The runtime and the NATS client alone: what the Denolecular node's drift is measured against.
  new Child("deno-control", Deno.execPath(), [
    "run",
    "-A",
    "--quiet",
    ...(GC ? ["--v8-flags=--expose-gc"] : []),
    here("./deno/idle_control.ts"),
    opts("control"),
  ]),
  new Child("moleculer", NODE, [
    ...(GC ? ["--expose-gc"] : []),
    here("./node/idle.mjs"),
    opts("moleculer"),
  ]),
];

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

const rows: Row[] = [];
try {
  for (const n of nodes) await n.expect("ready", 30_000);
  console.log(
    GC
      ? `full GC (gc() twice) in each node before each sample, every ${EVERY_S} s for ${MINUTES} min`
      : `no forced GC, VmRSS only, every ${EVERY_S} s for ${MINUTES} min`,
  );
  printHeader("t, s");
  const start = Date.now();
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

interface Points {
  ready: number | null;
  at1Min: number | null;
  at5Min: number | null;
  end: number | null;
  growth1MinToEnd: number | null;
}

interface StackSummary {
  vmRssMB: Points;
  heapUsedMB?: Points;
  heapUsedSlopeKBPerMin1MinToEnd?: number | null;
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
  const at1Min = v(nearest(60));
  const end = v(rows.at(-1));
  return {
    ready: v(rows[0]),
    at1Min,
    at5Min: v(nearest(300)),
    end,
    growth1MinToEnd: at1Min === null || end === null ? null : round(end - at1Min, digits),
  };
}

const from1Min = rows.slice(Math.round(60 / EVERY_S));
const summary: Record<string, StackSummary> = Object.fromEntries(nodes.map((n) => {
  const vmRssMB = points(n.name, (s) => s.vmRssMB, 1);
  if (!GC) return [n.name, { vmRssMB } satisfies StackSummary];
  const heapUsedMB = points(n.name, (s) => s.heapUsedMB, 2);
  const kbPerMin = slope(
    from1Min.flatMap((r) => {
      const used = r.stacks[n.name]?.self?.heapUsed;
      return used === undefined ? [] : [[r.t / 60, used / 1024] as [number, number]];
    }),
  );
  const s: StackSummary = {
    vmRssMB,
    heapUsedMB,
    heapUsedSlopeKBPerMin1MinToEnd: kbPerMin === null ? null : round(kbPerMin, 1),
  };
  return [n.name, s];
}));

console.log();
printHeader("summary");
const fmt = (x: number | null | undefined, digits: number, sign = false) =>
  x === null || x === undefined ? "—" : (sign && x >= 0 ? "+" : "") + x.toFixed(digits);
for (
  const [label, key] of [
    ["ready", "ready"],
    ["1 min", "at1Min"],
    ["5 min", "at5Min"],
    ["end", "end"],
    ["growth 1 min → end", "growth1MinToEnd"],
  ] as const
) {
  const sign = key === "growth1MinToEnd";
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
}

// Committed figures change only when asked (`--update`).
const outDir = Deno.args.includes("--update") ? "results" : ".out";
await Deno.mkdir(here(`./${outDir}`), { recursive: true });
await Deno.writeTextFile(
  here(`./${outDir}/idle_soak.json`),
  JSON.stringify(
    {
      date: new Date().toISOString(),
      minutes: MINUTES,
      everyS: EVERY_S,
      forcedGC: GC,
      samples: rows,
      summary,
    },
    null,
    2,
  ) + "\n",
);
