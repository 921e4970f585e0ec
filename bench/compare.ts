/**
 * Side-by-side benchmark: Denolecular (Deno) against Moleculer 0.15.2 (Node) and against the raw
 * NATS request pattern, on a private nats-server on 127.0.0.1. Every node is its own process.
 *
 * ```sh
 * deno run -A bench/compare.ts           # 3 s per measurement, 3 repetitions, medians (~7 min)
 * deno run -A bench/compare.ts --quick   # 1 s, 1 repetition: a smoke run (~30 s)
 * deno run -A bench/compare.ts --only=remote,events,denolecular,moleculer --ms=2000 --reps=5
 * deno run -A bench/compare.ts --baseline=/tmp/old   # also an older checkout of this project
 * deno run -A bench/compare.ts --only=payload,denolecular,moleculer,raw-deno
 * deno run -A bench/compare.ts --only=nodes     # the many-nodes cluster (bench/many_nodes.ts)
 * ```
 *
 * All nodes of a section are started first (each pairing in its own namespace), then the
 * orchestrator asks them for one measurement at a time, rotating through the stacks, so a slow
 * drift of the machine hits every stack alike. Around each measured run it samples the CPU time of
 * the processes involved (caller, responder, nats-server) from /proc.
 *
 * Prints a table, the ratios, CPU per operation and the target checks, and writes
 * `bench/.out/latest.json` (not committed); `--update` writes the committed
 * `bench/results/latest.json` instead. See docs/BENCHMARKS.md for the method.
 *
 * Sections: `local` (in-process call), `remote` (1 and 32 in flight), `events`, `payload`
 * (`math.echo` at 32 in flight with a `data` string of 1, 64 and 256 KiB that the responder sends
 * back, on every pairing), `idle` (RSS and start-up), and `nodes` (50 nodes × 20 services form one
 * cluster, bench/many_nodes.ts: Denolecular on its default client and Moleculer only; ~2 min, so only
 * when asked for). The Targets block checks every target of the performance work.
 *
 * Flags: `--quick`; `--ms=N`, `--reps=N` (plan); `--nodes=N`, `--services=N`, `--wave=N` (the
 * cluster of `nodes`: 50, 20, 10); `--only=` sections (`local`, `remote`, `events`, `payload`,
 * `idle`, `nodes`) and/or pairings (`denolecular` (the default client), `denolecular-deno`,
 * `moleculer`, `raw-node`, `raw-deno`, `raw-wire`, `baseline`); `--baseline=DIR` adds a column for the
 * checkout in DIR (its `bench/deno/` scripts, DenoTransport), with a table of this tree against
 * it; `--serializer=NAME` (e.g. `MsgPack`) for the Denolecular and Moleculer nodes of the remote
 * section; `--update`.
 * `--transporter=redis|mqtt|amqp` measures remote calls over that transporter instead of NATS
 * (a private redis-server or mosquitto, or a RabbitMQ vhost of its own): Denolecular against
 * Moleculer only, as the raw floors are NATS clients; it writes `latest-<transporter>.json`.
 * Environment: `BENCH_NODE` (node binary), `BENCH_DENO_FLAGS` (extra flags for
 * every Deno child, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 *
 * @module
 */

import { startNatsServer } from "../tests/_helpers/nats_server.ts";
import { startMosquitto, startRabbitVhost, startRedisServer } from "../tests/_helpers/servers.ts";
import { Child as JsonLineChild, type Line } from "./_shared/child.ts";
import type { Result } from "./_shared/measure.d.mts";
import { cpuUs, machineBusyUs, natsServerPid, rssMB } from "./_shared/proc.ts";
import { fmtRatio, median, ratio, table } from "./_shared/report.ts";
import { denoCommand, NODE_BIN, nodeCommand } from "./_shared/spawn.ts";
import {
  type ClusterResult,
  type ClusterStack,
  manyNodes,
  manyNodesReport,
  manyNodesTargets,
} from "./many_nodes.ts";

// ---------------------------------------------------------------- options

const QUICK = Deno.args.includes("--quick");
const UPDATE = Deno.args.includes("--update");
/** An older checkout of this project to measure beside this one (`--baseline=DIR`). */
const BASELINE = Deno.args.find((a) => a.startsWith("--baseline="))?.slice("--baseline=".length);
/** The serializer of the Denolecular and Moleculer nodes of the remote section (`--serializer=`). */
const SERIALIZER = Deno.args.find((a) => a.startsWith("--serializer="))?.slice(
  "--serializer=".length,
);
const flag = (name: string): number | undefined => {
  const a = Deno.args.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? undefined : Number(a.slice(name.length + 3));
};
const PLAN = {
  warmupMs: QUICK ? 300 : 1_000,
  ms: flag("ms") ?? (QUICK ? 1_000 : 3_000),
  reps: flag("reps") ?? (QUICK ? 1 : 3),
};
const IN_FLIGHT = 32;
/** A measured run during which other work used more cores than this is repeated… */
const BUSY_CORES = 0.15;
/** …at most this many times… */
const MAX_RETRIES = 2;
/** …and this many times in the whole run, which keeps a full run under ~9 minutes. */
const RETRY_BUDGET = QUICK ? 4 : 16;
let retryBudget = RETRY_BUDGET;
const CONC = `conc${IN_FLIGHT}`;
/**
 * Sizes of the payload section: `math.echo` with a `data` string of this many characters, sent
 * back whole, so request and response both carry it (measurement `payload<size>`).
 */
const PAYLOAD_SIZES = [1024, 65_536, 262_144];
const payloadName = (size: number): string => `payload${size}`;
const kib = (size: number): string => `${size / 1024} KiB`;
// The cluster of the `nodes` section (bench/many_nodes.ts): `--nodes=`, `--services=`, `--wave=`.
const MANY_NODES = {
  nodes: flag("nodes") ?? 50,
  services: flag("services") ?? 20,
  wave: flag("wave") ?? 10,
};
const IDLE_SETTLE_MS = QUICK ? 1_000 : 2_000;
const IDLE_REPS = QUICK ? 1 : 3;

/** The transporter of the remote section: NATS unless `--transporter=redis|mqtt|amqp`. */
const TRANSPORTER = Deno.args.find((a) => a.startsWith("--transporter="))?.slice(14) ?? "nats";
const SERVERS: Record<string, () => Promise<{ url: string } & AsyncDisposable>> = {
  redis: startRedisServer,
  mqtt: startMosquitto,
  amqp: startRabbitVhost,
};
if (TRANSPORTER !== "nats" && !(TRANSPORTER in SERVERS)) {
  throw new Error(`--transporter must be nats, redis, mqtt or amqp, not "${TRANSPORTER}"`);
}
const ONLY = new Set([
  ...Deno.args.filter((a) => a.startsWith("--only=")).flatMap((a) => a.slice(7).split(",")),
  ...(TRANSPORTER === "nats" ? [] : ["remote", "denolecular", "moleculer"]),
]);
/** The members of `all` named in `--only=`, else `defaults`. */
const pick = (all: string[], defaults = all): Set<string> => {
  const chosen = all.filter((x) => ONLY.has(x));
  return new Set(chosen.length ? chosen : defaults);
};

type Stack = "denolecular" | "moleculer" | "raw";
interface Pairing {
  key: string;
  label: string;
  stack: Stack;
  /** `"wire"`: the minimal NATS client of bench/deno/raw_wire.ts (raw floor only). */
  transport: "node" | "deno" | "wire";
  /** The checkout whose bench scripts run this pairing; this one when omitted. */
  root?: string;
}

const PAIRINGS: Pairing[] = [
  {
    key: "denolecular",
    label: "Denolecular (default NATS client: wire)",
    stack: "denolecular",
    transport: "wire",
  },
  {
    key: "denolecular-deno",
    label: 'Denolecular, nats.js on DenoTransport (transport: "deno")',
    stack: "denolecular",
    transport: "deno",
  },
  { key: "moleculer", label: "Moleculer 0.15.2 (Node)", stack: "moleculer", transport: "node" },
  { key: "raw-node", label: "raw NATS floor, node transport", stack: "raw", transport: "node" },
  { key: "raw-deno", label: "raw NATS floor, DenoTransport", stack: "raw", transport: "deno" },
  {
    key: "raw-wire",
    label: "raw floor, minimal NATS client (bench only)",
    stack: "raw",
    transport: "wire",
  },
];
if (BASELINE) {
  PAIRINGS.push({
    key: "baseline",
    label: "Denolecular @ baseline, DenoTransport",
    stack: "denolecular",
    transport: "deno",
    root: BASELINE,
  });
}
// `nodes` (bench/many_nodes.ts: 100 processes, ~1 min) only when asked for.
const SECTION = pick(
  ["local", "remote", "events", "payload", "idle", "nodes"],
  ["local", "remote", "events", "payload", "idle"],
);
const PAIRING = pick(PAIRINGS.map((p) => p.key));

const HERE = new URL(".", import.meta.url);
const path = (rel: string): string => new URL(rel, HERE).pathname;

// ---------------------------------------------------------------- child processes

/** Medians over the repetitions, and the repetitions themselves. */
type Summary = Result & { runs: Result[] };

/** A bench node: a JSON-line child that runs measurements on request. */
class Child extends JsonLineChild {
  /** The CPU meter attached to this child's phases, if any. */
  meter: CpuMeter | undefined;

  /** Run one measurement in the child and return its result. */
  async run(name: string, ms: number, warmup = false): Promise<Result> {
    await this.send(JSON.stringify({ cmd: "run", name, ms, warmup }));
    const line = await this.expect("result", ms * 3 + 30_000);
    if (line.error) throw new Error(`${this.name}: ${line.error}`);
    return line.result as Result;
  }
}

const killAll = (): void => JsonLineChild.killAll();

async function closeAll(list: Child[]): Promise<void> {
  await Promise.all(list.map((c) => c.close()));
}

const deno = (
  name: string,
  script: string,
  opts: Record<string, unknown>,
  root?: string,
): Child => new Child(name, ...denoCommand(script, opts, root));
const node = (name: string, script: string, opts: Record<string, unknown>): Child =>
  new Child(name, ...nodeCommand(script, opts));

// ---------------------------------------------------------------- CPU accounting

/** CPU µs per operation of each process involved, plus `total`. */
type CpuSplit = Record<string, number>;

/**
 * Accumulates, per measurement name, the CPU time of `pids` between the `phase` start/end lines
 * of `driver`; `perOp(name, ops)` divides by the operations counted.
 */
class CpuMeter {
  readonly #spent = new Map<string, Record<string, number>>();
  /** Per measurement: busy CPU of the machine outside `pids`, and wall time, in µs. */
  readonly #foreign = new Map<string, { busy: number; wall: number }>();
  constructor(driver: Child, pids: Record<string, number | undefined>) {
    driver.meter = this;
    let at: Record<string, number> = {};
    let atMachine = 0;
    let atWall = 0;
    driver.onLine = (line) => {
      if (line.type !== "phase") return;
      const now: Record<string, number> = {};
      for (const [k, pid] of Object.entries(pids)) now[k] = cpuUs(pid);
      const machine = machineBusyUs();
      const wall = performance.now() * 1000;
      if (line.edge === "start") {
        at = now;
        atMachine = machine;
        atWall = wall;
        return;
      }
      const name = String(line.name);
      const acc = this.#spent.get(name) ?? {};
      let ours = 0;
      for (const k of Object.keys(now)) {
        const d = now[k]! - at[k]!;
        acc[k] = (acc[k] ?? 0) + d;
        if (!Number.isNaN(d)) ours += d;
      }
      this.#spent.set(name, acc);
      const f = this.#foreign.get(name) ?? { busy: 0, wall: 0 };
      const busy = machine - atMachine - ours;
      f.busy += busy;
      f.wall += wall - atWall;
      this.#foreign.set(name, f);
      const delta: Record<string, number> = {};
      for (const k of Object.keys(now)) delta[k] = now[k]! - at[k]!;
      this.#last = { name, delta, busy, wall: wall - atWall };
    };
  }

  #last: { name: string; delta: Record<string, number>; busy: number; wall: number } | undefined;

  /** Cores busy with other work during the last measured run. */
  get lastForeignCores(): number {
    const l = this.#last;
    return l && l.wall > 0 ? Math.max(0, l.busy / l.wall) : NaN;
  }

  /** Forget the last measured run (it is being repeated). */
  discardLast(): void {
    const l = this.#last;
    if (!l) return;
    const acc = this.#spent.get(l.name);
    if (acc) { for (const [k, d] of Object.entries(l.delta)) acc[k] = acc[k]! - d; }
    const f = this.#foreign.get(l.name);
    if (f) {
      f.busy -= l.busy;
      f.wall -= l.wall;
    }
    this.#last = undefined;
  }

  /** Average cores busy with other work (other processes, kernel threads) during the runs. */
  foreignCores(name: string): number {
    const f = this.#foreign.get(name);
    return f && f.wall > 0 ? Math.max(0, f.busy / f.wall) : NaN;
  }

  perOp(name: string, ops: number): CpuSplit | undefined {
    const acc = this.#spent.get(name);
    if (!acc || ops === 0) return undefined;
    const split: CpuSplit = {};
    let total = 0;
    for (const [k, us] of Object.entries(acc)) {
      split[k] = us / ops;
      total += us / ops;
    }
    split.total = total;
    return split;
  }
}

// ---------------------------------------------------------------- helpers

function summarize(runs: Result[]): Summary {
  const out: Record<string, unknown> = { runs };
  for (const key of Object.keys(runs[0] ?? {})) {
    out[key] = median(runs.map((r) => (r as unknown as Record<string, number>)[key]!));
  }
  return out as unknown as Summary;
}

/** `list` rotated by `r`: each repetition starts with another stack. */
function rotate<T>(list: T[], r: number): T[] {
  const k = list.length ? r % list.length : 0;
  return [...list.slice(k), ...list.slice(0, k)];
}

function log(msg: string): void {
  console.error(`· ${msg}`);
}

/** Warm up every driver, then run `names` `PLAN.reps` times, rotating through the drivers. */
/** An older checkout (`--baseline`) has no payload measurements. */
const runsIt = (key: string, name: string): boolean =>
  !(key === "baseline" && name.startsWith("payload"));

async function interleave(
  drivers: Array<{ key: string; child: Child }>,
  names: string[],
): Promise<Record<string, Record<string, Summary>>> {
  for (const { key, child } of drivers) {
    for (const name of names) if (runsIt(key, name)) await child.run(name, PLAN.warmupMs, true);
  }
  const runs: Record<string, Record<string, Result[]>> = {};
  for (let r = 0; r < PLAN.reps; r++) {
    for (const name of names) {
      for (const { key, child } of rotate(drivers, r)) {
        if (!runsIt(key, name)) continue;
        log(`${name} ${key} (${r + 1}/${PLAN.reps})`);
        let result = await child.run(name, PLAN.ms);
        // Another process took CPU during the run: repeat it (twice at most).
        for (let retry = 0; retry < MAX_RETRIES; retry++) {
          const busy = child.meter?.lastForeignCores ?? NaN;
          if (!(busy > BUSY_CORES) || retryBudget <= 0) break;
          retryBudget--;
          log(`  the machine was busy (${busy.toFixed(2)} cores of other work): repeating`);
          child.meter!.discardLast();
          result = await child.run(name, PLAN.ms);
        }
        ((runs[key] ??= {})[name] ??= []).push(result);
      }
    }
  }
  const out: Record<string, Record<string, Summary>> = {};
  for (const [key, byName] of Object.entries(runs)) {
    out[key] = {};
    for (const [name, list] of Object.entries(byName)) out[key][name] = summarize(list);
  }
  return out;
}

const totalOps = (s: Summary | undefined): number =>
  s ? s.runs.reduce((n, r) => n + r.count, 0) : 0;

// ---------------------------------------------------------------- sections

/** CPU ns per local call, by driver: less disturbed by other work than throughput is. */
const localCpuNs: Record<string, number> = {};

async function localCalls(): Promise<Record<string, Summary>> {
  const drivers = [
    { key: "denolecular", child: deno("deno local", "deno/local_call.ts", {}) },
    { key: "moleculer", child: node("node local", "node/local_call.mjs", {}) },
  ];
  if (BASELINE) {
    drivers.push({
      key: "baseline",
      child: deno("baseline local", "deno/local_call.ts", {}, BASELINE),
    });
  }
  try {
    const meters = new Map<string, CpuMeter>();
    for (const d of drivers) {
      await d.child.expect("ready", 30_000);
      meters.set(d.key, new CpuMeter(d.child, { runner: d.child.proc.pid }));
    }
    const out = await interleave(drivers, ["local"]);
    for (const [k, v] of Object.entries(out)) {
      const split = meters.get(k)?.perOp("local", totalOps(v.local));
      if (split) localCpuNs[k] = split.total! * 1000;
    }
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.local!]));
  } finally {
    await closeAll(drivers.map((d) => d.child));
  }
}

interface RemoteOut {
  calls: Record<string, Record<string, Summary>>;
  events: Record<string, Summary>;
  /** CPU µs per operation, by pairing, then measurement, then process. */
  cpu: Record<string, Record<string, CpuSplit>>;
  /** Cores busy with other work during the measured runs, by pairing and measurement. */
  foreignCores: Record<string, Record<string, number>>;
}

async function remote(url: string, serverPid: number | undefined): Promise<RemoteOut> {
  const pairings = PAIRINGS.filter((p) => PAIRING.has(p.key));
  const doCalls = SECTION.has("remote");
  const doEvents = SECTION.has("events");
  const doPayload = SECTION.has("payload");
  const spawned: Child[] = [];
  const spawn = (p: Pairing, role: string, extra: Record<string, unknown>): Child => {
    const opts = {
      url,
      namespace: `bench-${p.key}`,
      transport: p.transport,
      inFlight: IN_FLIGHT,
      role,
      nodeID: `${p.key}-${role}`,
      ...(SERIALIZER && p.stack !== "raw" ? { serializer: SERIALIZER } : {}),
      ...(doPayload ? { payloads: PAYLOAD_SIZES } : {}),
      ...extra,
    };
    const name = `${p.key} ${role}`;
    const c = p.stack === "denolecular"
      ? deno(name, "deno/remote.ts", opts, p.root)
      : p.stack === "moleculer"
      ? node(name, "node/remote.mjs", opts)
      : deno(name, p.transport === "wire" ? "deno/raw_wire.ts" : "deno/raw.ts", opts);
    spawned.push(c);
    return c;
  };
  const checkDeno = (p: Pairing, line: Line, who: string) => {
    // A baseline older than the Deno transport's counter reports none: trust its default.
    if (
      TRANSPORTER === "nats" &&
      p.stack === "denolecular" && p.transport !== "node" && line.denoTransports !== 1 &&
      !(p.root && line.denoTransports === undefined)
    ) {
      throw new Error(`the ${who} of ${p.key} did not run on Deno sockets`);
    }
  };
  const out: RemoteOut = { calls: {}, events: {}, cpu: {}, foreignCores: {} };
  try {
    log("starting the nodes");
    const responders = new Map<string, Child>();
    for (const p of pairings) {
      const r = spawn(p, "responder", { peer: `${p.key}-caller` });
      checkDeno(p, await r.expect("ready", 30_000), "responder");
      responders.set(p.key, r);
    }
    const callers: Array<{ key: string; child: Child }> = [];
    const emitters: Array<{ key: string; child: Child }> = [];
    const meters = new Map<string, CpuMeter>();
    for (const p of pairings) {
      const responder = responders.get(p.key)!;
      if (doCalls || doPayload) {
        const c = spawn(p, "caller", { peer: `${p.key}-responder` });
        checkDeno(p, await c.expect("ready", 30_000), "caller");
        meters.set(
          `${p.key} calls`,
          new CpuMeter(c, {
            caller: c.proc.pid,
            responder: responder.proc.pid,
            natsServer: serverPid,
          }),
        );
        callers.push({ key: p.key, child: c });
      }
      if (doEvents && p.stack !== "raw") {
        const e = spawn(p, "emitter", {});
        checkDeno(p, await e.expect("ready", 30_000), "emitter");
        meters.set(
          `${p.key} events`,
          new CpuMeter(e, {
            emitter: e.proc.pid,
            receiver: responder.proc.pid,
            natsServer: serverPid,
          }),
        );
        emitters.push({ key: p.key, child: e });
      }
    }
    if (callers.length) {
      out.calls = await interleave(callers, [
        ...(doCalls ? ["seq", CONC] : []),
        ...(doPayload ? PAYLOAD_SIZES.map(payloadName) : []),
      ]);
      for (const [key, byName] of Object.entries(out.calls)) {
        const m = meters.get(`${key} calls`)!;
        for (const [name, s] of Object.entries(byName)) {
          const split = m.perOp(name, totalOps(s));
          if (split) (out.cpu[key] ??= {})[name] = split;
          (out.foreignCores[key] ??= {})[name] = m.foreignCores(name);
        }
      }
    }
    if (emitters.length) {
      const ev = await interleave(emitters, ["events"]);
      for (const [key, byName] of Object.entries(ev)) {
        out.events[key] = byName.events!;
        const m = meters.get(`${key} events`)!;
        const split = m.perOp("events", totalOps(byName.events));
        if (split) (out.cpu[key] ??= {}).events = split;
        (out.foreignCores[key] ??= {}).events = m.foreignCores("events");
      }
    }
  } finally {
    await closeAll(spawned);
  }
  return out;
}

interface Idle {
  rssMB: number;
  spawnToReadyMs: number;
  startMs: number;
  runs: Array<{ rssMB: number; spawnToReadyMs: number; startMs: number }>;
}

async function idle(url: string): Promise<Record<string, Idle>> {
  const variants = [
    { key: "denolecular", script: "deno/idle.ts", runtime: deno, transport: "wire" },
    { key: "denolecular-deno", script: "deno/idle.ts", runtime: deno, transport: "deno" },
    { key: "moleculer", script: "node/idle.mjs", runtime: node, transport: "node" },
  ].filter((v) => PAIRING.has(v.key));
  const runs: Record<string, Idle["runs"]> = {};
  for (let r = 0; r < IDLE_REPS; r++) {
    for (const v of rotate(variants, r)) {
      log(`idle RSS and start-up ${v.key} (${r + 1}/${IDLE_REPS})`);
      const c = v.runtime(`${v.key} idle`, v.script, {
        url,
        namespace: `idle-${v.key}-${r}`,
        nodeID: `idle-${v.key}`,
        transport: v.transport,
      });
      try {
        const ready = await c.expect("ready", 30_000);
        const spawnToReadyMs = performance.now() - c.started;
        await new Promise((res) => setTimeout(res, IDLE_SETTLE_MS));
        (runs[v.key] ??= []).push({
          rssMB: await rssMB(c.proc.pid),
          spawnToReadyMs,
          startMs: ready.startMs as number,
        });
      } finally {
        await c.close();
      }
    }
  }
  const out: Record<string, Idle> = {};
  for (const [key, list] of Object.entries(runs)) {
    out[key] = {
      rssMB: median(list.map((x) => x.rssMB)),
      spawnToReadyMs: median(list.map((x) => x.spawnToReadyMs)),
      startMs: median(list.map((x) => x.startMs)),
      runs: list,
    };
  }
  return out;
}

// ---------------------------------------------------------------- environment

async function output(cmd: string, args: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    return new TextDecoder().decode(out.stdout.length ? out.stdout : out.stderr).trim();
  } catch {
    return "unknown";
  }
}

async function environment(): Promise<Record<string, unknown>> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const moleculer = JSON.parse(
    await Deno.readTextFile(path("../tests/node_modules/moleculer-015/package.json")),
  ).version;
  return {
    date: new Date().toISOString(),
    machine: {
      nproc: navigator.hardwareConcurrency,
      cpu: /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? "unknown",
      ramGB: Math.round(Deno.systemMemoryInfo().total / 2 ** 30 * 10) / 10,
      kernel: Deno.osRelease(),
    },
    runtimes: {
      deno: Deno.version.deno,
      v8: Deno.version.v8,
      node: await output(NODE_BIN, ["--version"]),
      natsServer: await output(Deno.env.get("NATS_SERVER_BIN") ?? "nats-server", ["--version"]),
      moleculer,
    },
  };
}

// ---------------------------------------------------------------- report

const fmtOps = (n: number | undefined): string =>
  n === undefined || Number.isNaN(n) ? "—" : Math.round(n).toLocaleString("en-US");
const fmtMs = (n: number | undefined): string =>
  n === undefined || Number.isNaN(n) ? "—" : n.toFixed(3);
const fmtUs = (n: number | undefined): string =>
  n === undefined || Number.isNaN(n) ? "—" : n.toFixed(1);

interface Target {
  name: string;
  value: string;
  /** Undefined when a figure is missing (section or pairing not run). */
  holds: boolean | undefined;
}

/** `test(x)` unless x is NaN (missing figure). */
const check = (x: number, test: (x: number) => boolean): boolean | undefined =>
  Number.isNaN(x) ? undefined : test(x);

// ---------------------------------------------------------------- main

Deno.addSignalListener("SIGINT", () => {
  killAll();
  Deno.exit(130);
});

const t0 = performance.now();
const env = await environment();
await using nats = TRANSPORTER === "nats" ? await startNatsServer() : await SERVERS[TRANSPORTER]!();
const serverPid = TRANSPORTER === "nats"
  ? natsServerPid((nats as { port: number }).port)
  : undefined;
let local: Record<string, Summary> = {};
let rem: RemoteOut = { calls: {}, events: {}, cpu: {}, foreignCores: {} };
const loadBefore = await Deno.readTextFile("/proc/loadavg").catch(() => "");
let idleOut: Record<string, Idle> = {};
let nodesOut: Partial<Record<ClusterStack, ClusterResult>> = {};
try {
  if (SECTION.has("local")) local = await localCalls();
  if (SECTION.has("remote") || SECTION.has("events") || SECTION.has("payload")) {
    rem = await remote(nats.url, serverPid);
  }
  if (SECTION.has("idle")) idleOut = await idle(nats.url);
  if (SECTION.has("nodes") && TRANSPORTER === "nats") {
    nodesOut = await manyNodes(
      { ...MANY_NODES, url: nats.url, serverPid, log },
      (["denolecular", "moleculer"] as const).filter((s) =>
        PAIRING.has(s === "denolecular" ? "denolecular" : "moleculer")
      ),
    );
  }
} catch (err) {
  killAll();
  throw err;
}
const elapsedS = (performance.now() - t0) / 1000;
const loadAfter = await Deno.readTextFile("/proc/loadavg").catch(() => "");
const foreign = Object.values(rem.foreignCores).flatMap((m) => Object.values(m)).filter((x) =>
  !Number.isNaN(x)
);
const foreignAvg = foreign.length ? foreign.reduce((a, b) => a + b, 0) / foreign.length : NaN;
const foreignMax = foreign.length ? Math.max(...foreign) : NaN;
const c = rem.calls;
const ev = rem.events;
const cpu = rem.cpu;
const D = "denolecular";
const DD = "denolecular-deno";
const M = "moleculer";

const cols = PAIRINGS.map((p) => p.key);
const row = (name: string, f: (k: string) => string): string[] => [name, ...cols.map(f)];
const heads = [
  "Denolecular (wire, default)",
  "Denolecular (nats.js, DenoTransport)",
  "Moleculer 0.15.2",
  "raw NATS (node tr.)",
  "raw NATS (DenoTransport)",
  "raw, minimal client",
  ...(BASELINE ? ["Denolecular @ baseline"] : []),
];
const results: string[][] = [
  ["measurement", ...heads],
  row(
    "local call, ops/s",
    (k) =>
      k === D
        ? fmtOps(local.denolecular?.opsPerSec)
        : k === M || k === "baseline"
        ? fmtOps(local[k]?.opsPerSec)
        : "—",
  ),
  row(
    "local call, CPU ns/call",
    (k) =>
      k === D
        ? fmtUs(localCpuNs.denolecular)
        : k === M || k === "baseline"
        ? fmtUs(localCpuNs[k])
        : "—",
  ),
  row("remote, 1 in flight: ops/s", (k) => fmtOps(c[k]?.seq?.opsPerSec)),
  row("remote, 1 in flight: p50 ms", (k) => fmtMs(c[k]?.seq?.p50)),
  row("remote, 1 in flight: p99 ms", (k) => fmtMs(c[k]?.seq?.p99)),
  row(`remote, ${IN_FLIGHT} in flight: ops/s`, (k) => fmtOps(c[k]?.[CONC]?.opsPerSec)),
  row(`remote, ${IN_FLIGHT} in flight: p50 ms`, (k) => fmtMs(c[k]?.[CONC]?.p50)),
  row(`remote, ${IN_FLIGHT} in flight: p99 ms`, (k) => fmtMs(c[k]?.[CONC]?.p99)),
  row("events over NATS, received/s", (k) => fmtOps(ev[k]?.opsPerSec)),
  row("idle RSS, 10 services, MB", (k) => idleOut[k] ? idleOut[k].rssMB.toFixed(1) : "—"),
  row(
    "start-up, spawn → ready, ms",
    (k) => idleOut[k] ? idleOut[k].spawnToReadyMs.toFixed(0) : "—",
  ),
  row("  of which broker.start(), ms", (k) => idleOut[k] ? idleOut[k].startMs.toFixed(0) : "—"),
];

const r2 = (f: (k: string) => number): string[] => [fmtRatio(f(D)), fmtRatio(f(DD))];
// The bare nats.js client on Deno sockets, the faster of its two transports.
const rawOf = (_k: string) => "raw-deno";
const ratios: string[][] = [
  ["ratio", "Denolecular (wire, default)", "Denolecular (nats.js, DenoTransport)"],
  [
    "local call vs Moleculer",
    fmtRatio(ratio(local.denolecular?.opsPerSec, local.moleculer?.opsPerSec)),
    "—",
  ],
  [
    "remote 1 in flight, ops/s vs Moleculer",
    ...r2((k) => ratio(c[k]?.seq?.opsPerSec, c[M]?.seq?.opsPerSec)),
  ],
  [
    "remote 1 in flight, p50 vs Moleculer (lower is better)",
    ...r2((k) => ratio(c[k]?.seq?.p50, c[M]?.seq?.p50)),
  ],
  [
    `remote ${IN_FLIGHT} in flight, ops/s vs Moleculer`,
    ...r2((k) => ratio(c[k]?.[CONC]?.opsPerSec, c[M]?.[CONC]?.opsPerSec)),
  ],
  [
    `remote ${IN_FLIGHT} in flight, ops/s vs the bare nats.js floor (DenoTransport)`,
    ...r2((k) => ratio(c[k]?.[CONC]?.opsPerSec, c[rawOf(k)]?.[CONC]?.opsPerSec)),
  ],
  ["events vs Moleculer", ...r2((k) => ratio(ev[k]?.opsPerSec, ev[M]?.opsPerSec))],
  [
    "idle RSS vs Moleculer (lower is better)",
    ...r2((k) => ratio(idleOut[k]?.rssMB, idleOut[M]?.rssMB)),
  ],
  [
    "start-up vs Moleculer (lower is better)",
    ...r2((k) => ratio(idleOut[k]?.spawnToReadyMs, idleOut[M]?.spawnToReadyMs)),
  ],
];

// How far the bare clients themselves are from Moleculer: the ceiling for any framework on them.
const floors: string[][] = [
  ["raw floor vs Moleculer", "1 in flight, ops/s", `${IN_FLIGHT} in flight, ops/s`],
  ...PAIRINGS.filter((p) => p.stack === "raw" && c[p.key]).map((p) => [
    p.label,
    fmtRatio(ratio(c[p.key]?.seq?.opsPerSec, c[M]?.seq?.opsPerSec)),
    fmtRatio(ratio(c[p.key]?.[CONC]?.opsPerSec, c[M]?.[CONC]?.opsPerSec)),
  ]),
];

// This tree against an older checkout, measured in the same run (`--baseline=DIR`).
const B = "baseline";
const callCpu = (k: string): number =>
  (cpu[k]?.[CONC]?.caller ?? NaN) + (cpu[k]?.[CONC]?.responder ?? NaN);
const vsBaseline: string[][] = [
  ["this tree (default client) vs baseline", "this tree", "baseline", "ratio"],
  [
    "local call, ops/s",
    fmtOps(local.denolecular?.opsPerSec),
    fmtOps(local[B]?.opsPerSec),
    fmtRatio(ratio(local.denolecular?.opsPerSec, local[B]?.opsPerSec)),
  ],
  [
    "local call: CPU ns/call (lower is better)",
    fmtUs(localCpuNs.denolecular),
    fmtUs(localCpuNs[B]),
    fmtRatio(ratio(localCpuNs.denolecular, localCpuNs[B])),
  ],
  [
    "remote, 1 in flight: ops/s",
    fmtOps(c[D]?.seq?.opsPerSec),
    fmtOps(c[B]?.seq?.opsPerSec),
    fmtRatio(ratio(c[D]?.seq?.opsPerSec, c[B]?.seq?.opsPerSec)),
  ],
  [
    "remote, 1 in flight: p50 ms (lower is better)",
    fmtMs(c[D]?.seq?.p50),
    fmtMs(c[B]?.seq?.p50),
    fmtRatio(ratio(c[D]?.seq?.p50, c[B]?.seq?.p50)),
  ],
  [
    `remote, ${IN_FLIGHT} in flight: ops/s`,
    fmtOps(c[D]?.[CONC]?.opsPerSec),
    fmtOps(c[B]?.[CONC]?.opsPerSec),
    fmtRatio(ratio(c[D]?.[CONC]?.opsPerSec, c[B]?.[CONC]?.opsPerSec)),
  ],
  [
    `remote, ${IN_FLIGHT} in flight: caller + responder CPU µs/call (lower is better)`,
    fmtUs(callCpu(D)),
    fmtUs(callCpu(B)),
    fmtRatio(ratio(callCpu(D), callCpu(B))),
  ],
  [
    "events over NATS, received/s",
    fmtOps(ev[D]?.opsPerSec),
    fmtOps(ev[B]?.opsPerSec),
    fmtRatio(ratio(ev[D]?.opsPerSec, ev[B]?.opsPerSec)),
  ],
];

const cpuRows: string[][] = [
  [
    "CPU µs per operation",
    `${IN_FLIGHT} in flight: caller`,
    "responder",
    "nats-server",
    "total",
    "events: emitter",
    "receiver",
    "nats-server",
    "total",
  ],
  ...PAIRINGS.filter((p) => cpu[p.key]).map((p) => {
    const r = cpu[p.key]![CONC];
    const e = cpu[p.key]!.events;
    return [
      p.label,
      fmtUs(r?.caller),
      fmtUs(r?.responder),
      fmtUs(r?.natsServer),
      fmtUs(r?.total),
      fmtUs(e?.emitter),
      fmtUs(e?.receiver),
      fmtUs(e?.natsServer),
      fmtUs(e?.total),
    ];
  }),
];

// Payload scaling: `math.echo` at 32 in flight, the `data` string there and back.
const callCpuOf = (k: string, name: string): number =>
  (cpu[k]?.[name]?.caller ?? NaN) + (cpu[k]?.[name]?.responder ?? NaN);
const payloadRows: string[][] = [
  [`payload, ${IN_FLIGHT} in flight, echoed`, ...heads],
  ...PAYLOAD_SIZES.flatMap((size) => {
    const n = payloadName(size);
    return [
      row(`${kib(size)}: calls/s`, (k) => fmtOps(c[k]?.[n]?.opsPerSec)),
      row(`${kib(size)}: p50 ms`, (k) => fmtMs(c[k]?.[n]?.p50)),
      row(`${kib(size)}: p99 ms`, (k) => fmtMs(c[k]?.[n]?.p99)),
      row(`${kib(size)}: caller + responder CPU µs/call`, (k) => fmtUs(callCpuOf(k, n))),
    ];
  }),
];
const payloadRatios: string[][] = [
  ["payload ratio", "Denolecular (wire, default)", "Denolecular (nats.js, DenoTransport)"],
  ...PAYLOAD_SIZES.flatMap((size) => {
    const n = payloadName(size);
    return [
      [
        `${kib(size)}: calls/s vs Moleculer`,
        ...r2((k) => ratio(c[k]?.[n]?.opsPerSec, c[M]?.[n]?.opsPerSec)),
      ],
      [
        `${kib(size)}: calls/s vs the bare nats.js floor (DenoTransport)`,
        ...r2((k) => ratio(c[k]?.[n]?.opsPerSec, c[rawOf(k)]?.[n]?.opsPerSec)),
      ],
      [
        `${kib(size)}: CPU per call vs Moleculer (lower is better)`,
        ...r2((k) => ratio(callCpuOf(k, n), callCpuOf(M, n))),
      ],
    ];
  }),
];
const payloadCpuRows: string[][] = [
  ["CPU µs per call, payload echoed", "size", "caller", "responder", "nats-server", "total"],
  ...PAIRINGS.filter((p) => cpu[p.key]?.[payloadName(PAYLOAD_SIZES[0]!)]).flatMap((p) =>
    PAYLOAD_SIZES.map((size) => {
      const r = cpu[p.key]![payloadName(size)];
      return [
        p.label,
        kib(size),
        fmtUs(r?.caller),
        fmtUs(r?.responder),
        fmtUs(r?.natsServer),
        fmtUs(r?.total),
      ];
    })
  ),
];

/** The payload targets: calls/s at 32 in flight against Moleculer's, by size. */
const PAYLOAD_TARGETS: Record<number, number> = { 1024: 1.5, 65_536: 1.5, 262_144: 1.8 };
/** The CPU target per call was set when the DenoTransport floor measured this much. */
const CPU_TARGET_US = 15;
const CPU_TARGET_FLOOR_US = 17.9;

function targetsFor(k: string): Target[] {
  const localR = ratio(local.denolecular?.opsPerSec, local.moleculer?.opsPerSec);
  const r32 = ratio(c[k]?.[CONC]?.opsPerSec, c[M]?.[CONC]?.opsPerSec);
  const floor = ratio(c[k]?.[CONC]?.opsPerSec, c[rawOf(k)]?.[CONC]?.opsPerSec);
  const cpuUs = callCpu(k);
  const floorCpuUs = callCpu(rawOf(k));
  const p50 = ratio(c[k]?.seq?.p50, c[M]?.seq?.p50);
  const evR = ratio(ev[k]?.opsPerSec, ev[M]?.opsPerSec);
  const list: Target[] = [
    {
      name: `remote ${IN_FLIGHT} in flight ≥ 1.6× Moleculer`,
      value: fmtRatio(r32),
      holds: check(r32, (x) => x >= 1.6),
    },
    {
      name: `remote ${IN_FLIGHT} in flight ≥ 1.0× the bare nats.js floor (DenoTransport, same run)`,
      value: fmtRatio(floor),
      holds: check(floor, (x) => x >= 1.0),
    },
    {
      name: `caller + responder CPU ≤ ${CPU_TARGET_US} µs per call at ${IN_FLIGHT} in flight ` +
        `(set when the floor measured ${CPU_TARGET_FLOOR_US})`,
      value: `${fmtUs(cpuUs)} µs; floor ${fmtUs(floorCpuUs)} µs; ${
        fmtRatio(ratio(cpuUs, floorCpuUs))
      } vs floor (target ${fmtRatio(CPU_TARGET_US / CPU_TARGET_FLOOR_US)})`,
      holds: check(cpuUs, (x) => x <= CPU_TARGET_US),
    },
    {
      name: "remote 1 in flight p50 ≤ 0.9× Moleculer's",
      value: `${fmtMs(c[k]?.seq?.p50)} vs ${fmtMs(c[M]?.seq?.p50)} ms: ${fmtRatio(p50)}`,
      holds: check(p50, (x) => x <= 0.9),
    },
    {
      name: "local call ≥ 3× Moleculer",
      value: fmtRatio(localR),
      holds: check(localR, (x) => x >= 3),
    },
    {
      name: "events over NATS ≥ 2× Moleculer",
      value: fmtRatio(evR),
      holds: check(evR, (x) => x >= 2),
    },
    ...PAYLOAD_SIZES.map((size) => {
      const n = payloadName(size);
      const x = ratio(c[k]?.[n]?.opsPerSec, c[M]?.[n]?.opsPerSec);
      const min = PAYLOAD_TARGETS[size]!;
      return {
        name: `payload ${kib(size)} at ${IN_FLIGHT} in flight ≥ ${min}× Moleculer`,
        value: fmtRatio(x),
        holds: check(x, (v) => v >= min),
      };
    }),
  ];
  // The cluster runs on the default client only.
  if (k === D) {
    for (const t of manyNodesTargets(nodesOut)) {
      list.push({
        name: t.name,
        value: SECTION.has("nodes")
          ? fmtRatio(t.value)
          : "not in the default run (`--only=nodes` or `deno task bench:nodes`)",
        holds: t.holds,
      });
    }
  }
  return list;
}
// A block for each Denolecular pairing that ran (both when neither did: every target n/a).
const targetKeys = [D, DD].filter((k) => PAIRING.has(k));
const targets = Object.fromEntries(
  (targetKeys.length ? targetKeys : [D, DD]).map((k) => [k, targetsFor(k)]),
);

console.log(
  `\nDenolecular vs Moleculer ${(env.runtimes as Record<string, string>).moleculer} — ${
    QUICK ? "QUICK run" : "full run"
  }: ${PLAN.ms / 1000} s × ${PLAN.reps} per measurement (medians), interleaved; ` +
    `payload {a: 1, b: 2} → a + b (payload section: math.echo of {a: 1, b: 2, data}, ` +
    `data sent back); serializer ${SERIALIZER ?? "JSON"}; ` +
    `${elapsedS.toFixed(0)} s in all\n`,
);
// The main tables only when one of their sections ran (not for `--only=payload` or `nodes`).
if (["local", "remote", "events", "idle"].some((x) => SECTION.has(x))) {
  console.log(table(results));
  console.log("");
  console.log(table(ratios));
  console.log("");
  console.log(table(floors));
  console.log("");
  console.log(table(cpuRows));
}
if (SECTION.has("payload")) {
  console.log("");
  console.log(table(payloadRows));
  console.log("");
  console.log(table(payloadRatios));
  console.log("");
  console.log(table(payloadCpuRows));
}
if (SECTION.has("nodes")) console.log(`\n${manyNodesReport(nodesOut, MANY_NODES)}`);
else console.log("\nMany nodes: not in the default run (`--only=nodes`, ~2 min).");
if (BASELINE) {
  console.log(`\nBaseline: ${BASELINE}`);
  console.log(table(vsBaseline));
}
console.log(
  `\nOther load on the machine during the measured remote/event/payload runs: ${
    Number.isNaN(foreignAvg) ? "—" : foreignAvg.toFixed(2)
  } cores on average, ${Number.isNaN(foreignMax) ? "—" : foreignMax.toFixed(2)} at most ` +
    `(of ${navigator.hardwareConcurrency}); ${RETRY_BUDGET - retryBudget} run(s) repeated; ` +
    `loadavg before: ${loadBefore.trim()}, after: ${loadAfter.trim()}`,
);
const lost = Object.entries(ev).flatMap(([k, e]) =>
  e.runs.filter((r) => (r.lost ?? 0) > 0).map((r) => `${k}: ${r.lost}`)
);
if (lost.length) console.log(`  WARNING: events never acknowledged (lost): ${lost.join(", ")}`);
if (foreignMax > 0.15) {
  console.log("  WARNING: the machine was busy with other work; absolute figures are depressed.");
}
for (const [k, list] of Object.entries(targets)) {
  console.log(
    `\nTargets — ${
      k === D ? "Denolecular, default NATS client (wire)" : 'Denolecular, transport: "deno"'
    }:`,
  );
  for (const t of list) {
    const verdict = t.holds === undefined ? "n/a   " : t.holds ? "HOLDS " : "MISSES";
    console.log(`  ${verdict}  ${t.name}: ${t.value}`);
  }
}

const report = {
  ...env,
  quick: QUICK,
  args: Deno.args,
  plan: { ...PLAN, inFlight: IN_FLIGHT, idleSettleMs: IDLE_SETTLE_MS, idleReps: IDLE_REPS },
  elapsedS,
  local,
  localCpuNs,
  remote: c,
  events: ev,
  cpu,
  foreignCores: rem.foreignCores,
  load: {
    before: loadBefore.trim(),
    after: loadAfter.trim(),
    foreignAvg,
    foreignMax,
    repeatedRuns: RETRY_BUDGET - retryBudget,
  },
  idle: idleOut,
  nodes: nodesOut,
  targets,
  tables: {
    results: table(results),
    ratios: table(ratios),
    floors: table(floors),
    cpu: table(cpuRows),
    payload: table(payloadRows),
    payloadRatios: table(payloadRatios),
    payloadCpu: table(payloadCpuRows),
    ...(BASELINE ? { vsBaseline: table(vsBaseline) } : {}),
  },
  baseline: BASELINE ?? null,
  serializer: SERIALIZER ?? "JSON",
};
// Committed figures change only when asked; an ordinary run writes beside them, ignored by git.
const outDir = UPDATE ? "results" : ".out";
await Deno.mkdir(path(outDir), { recursive: true });
const outFile = TRANSPORTER === "nats" ? "latest.json" : `latest-${TRANSPORTER}.json`;
await Deno.writeTextFile(
  path(`${outDir}/${outFile}`),
  JSON.stringify({ transporter: TRANSPORTER, ...report }, null, 2) + "\n",
);
console.log(`\nwritten: bench/${outDir}/${outFile}`);
