/**
 * Side-by-side benchmark of the TCP transporter: Denolecular (Deno) against Moleculer 0.15.2
 * (Node), each pairing a caller and a responder process on 127.0.0.1 over TCP with static
 * `urls` (no server, no UDP). Remote calls one at a time (`seq`) and 32 in flight (`conc32`).
 *
 * ```sh
 * deno run -A bench/tcp_compare.ts           # 3 s per measurement, 3 repetitions, medians
 * deno run -A bench/tcp_compare.ts --quick   # 1 s, 1 repetition
 * ```
 *
 * The measurements rotate through the pairings, as in bench/compare.ts (whose sections are built
 * around a NATS server: this one has none). The CPU time of the caller and the responder is read
 * from /proc around each run. Writes `bench/.out/tcp.json`.
 *
 * @module
 */

import { freePort } from "../tests/_helpers/nats_server.ts";
import { Child } from "./_shared/child.ts";
import type { Result } from "./_shared/measure.d.mts";

const QUICK = Deno.args.includes("--quick");
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
const NAMES = ["seq", `conc${IN_FLIGHT}`];
const HERE = new URL(".", import.meta.url);
const path = (rel: string): string => new URL(rel, HERE).pathname;
const NODE = Deno.env.get("BENCH_NODE") ?? "node";

/** User + system CPU time of a process, in µs (USER_HZ = 100). */
function cpuUs(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * 10_000;
}

interface Pair {
  key: string;
  label: string;
  caller: Child;
  responder: Child;
}

function spawnPair(key: string, label: string, stack: "deno" | "node"): Pair {
  const ports = { caller: freePort(), responder: freePort() };
  const urls = [
    `127.0.0.1:${ports.caller}/${key}-caller`,
    `127.0.0.1:${ports.responder}/${key}-responder`,
  ];
  const child = (role: "caller" | "responder") => {
    const opts = JSON.stringify({
      role,
      nodeID: `${key}-${role}`,
      namespace: `bench-${key}`,
      inFlight: IN_FLIGHT,
      tcp: { udpDiscovery: false, urls, port: ports[role] },
    });
    return stack === "deno"
      ? new Child(`${key} ${role}`, Deno.execPath(), [
        "run",
        "-A",
        "--quiet",
        path("deno/remote.ts"),
        opts,
      ], path("../"))
      : new Child(`${key} ${role}`, NODE, [path("node/remote.mjs"), opts], path("../"));
  };
  return { key, label, responder: child("responder"), caller: child("caller") };
}

async function run(p: Pair, name: string, ms: number, warmup = false) {
  const pids = [p.caller.proc.pid, p.responder.proc.pid];
  const before = pids.map(cpuUs);
  await p.caller.send(JSON.stringify({ cmd: "run", name, ms, warmup }));
  const line = await p.caller.expect("result", ms * 3 + 30_000);
  if (line.error) throw new Error(`${p.key}: ${line.error}`);
  const cpu = pids.map((pid, i) => cpuUs(pid) - before[i]!);
  const result = line.result as Result;
  return { result, cpuUsPerOp: (cpu[0]! + cpu[1]!) / result.count };
}

const median = (v: number[]) => {
  const s = v.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const pairs = [
  spawnPair("denolecular-tcp", "Denolecular, TCP transporter", "deno"),
  spawnPair("moleculer-tcp", "Moleculer 0.15.2, TCP transporter", "node"),
];
/** Medians of one measurement. */
interface Summary {
  opsPerSec: number;
  p50: number;
  p99: number;
  cpuUsPerOp: number;
}
const out: Record<string, Record<string, Summary>> = {};
try {
  for (const p of pairs) {
    await p.responder.expect("ready", 30_000);
    await p.caller.expect("ready", 30_000);
  }
  for (const p of pairs) for (const name of NAMES) await run(p, name, PLAN.warmupMs, true);
  const runs: Record<string, Record<string, { result: Result; cpuUsPerOp: number }[]>> = {};
  for (let r = 0; r < PLAN.reps; r++) {
    for (const name of NAMES) {
      for (const p of r % 2 ? [...pairs].reverse() : pairs) {
        console.error(`· ${name} ${p.key} (${r + 1}/${PLAN.reps})`);
        ((runs[p.key] ??= {})[name] ??= []).push(await run(p, name, PLAN.ms));
      }
    }
  }
  for (const [key, byName] of Object.entries(runs)) {
    out[key] = {};
    for (const [name, list] of Object.entries(byName)) {
      out[key][name] = {
        opsPerSec: median(list.map((x) => x.result.opsPerSec)),
        p50: median(list.map((x) => x.result.p50 ?? NaN)),
        p99: median(list.map((x) => x.result.p99 ?? NaN)),
        cpuUsPerOp: median(list.map((x) => x.cpuUsPerOp)),
      };
    }
  }
} finally {
  await Promise.all(pairs.flatMap((p) => [p.caller.close(), p.responder.close()]));
}

const [d, m] = [out["denolecular-tcp"]!, out["moleculer-tcp"]!];
console.log(`\nRemote calls over TCP (127.0.0.1), ${PLAN.reps} × ${PLAN.ms} ms, medians\n`);
console.log("| measurement | Denolecular | Moleculer 0.15.2 | ratio |");
console.log("|---|---:|---:|---:|");
for (const name of NAMES) {
  const a = d[name]!, b = m[name]!;
  console.log(
    `| ${name} ops/s | ${a.opsPerSec.toFixed(0)} | ${b.opsPerSec.toFixed(0)} | ${
      (a.opsPerSec / b.opsPerSec).toFixed(2)
    }× |`,
  );
  console.log(
    `| ${name} p50 ms | ${a.p50.toFixed(3)} | ${b.p50.toFixed(3)} | ${
      (b.p50 / a.p50).toFixed(2)
    }× |`,
  );
  console.log(
    `| ${name} p99 ms | ${a.p99.toFixed(3)} | ${b.p99.toFixed(3)} | ${
      (b.p99 / a.p99).toFixed(2)
    }× |`,
  );
  console.log(
    `| ${name} CPU µs/call | ${a.cpuUsPerOp.toFixed(1)} | ${b.cpuUsPerOp.toFixed(1)} | ${
      (b.cpuUsPerOp / a.cpuUsPerOp).toFixed(2)
    }× |`,
  );
}
const conc = `conc${IN_FLIGHT}`;
console.log(
  `\nTargets: conc32 ≥ 1.3× Moleculer: ${(d[conc]!.opsPerSec / m[conc]!.opsPerSec).toFixed(2)}×; ` +
    `p50 ≤ Moleculer's: ${d.seq!.p50.toFixed(3)} vs ${m.seq!.p50.toFixed(3)} ms (seq), ` +
    `${d[conc]!.p50.toFixed(3)} vs ${m[conc]!.p50.toFixed(3)} ms (conc32)`,
);
await Deno.mkdir(path(".out"), { recursive: true });
await Deno.writeTextFile(
  path(".out/tcp.json"),
  JSON.stringify(
    {
      date: new Date().toISOString(),
      plan: PLAN,
      deno: Deno.version.deno,
      cpus: navigator.hardwareConcurrency,
      results: out,
    },
    null,
    2,
  ) + "\n",
);
console.log("written: bench/.out/tcp.json");
