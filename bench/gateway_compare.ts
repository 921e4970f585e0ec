/**
 * The API gateway side by side: `GET /api/echo` through the Denolecular gateway (Deno) and
 * through moleculer-web 0.11 (Moleculer 0.15.2 on Node), with the `echo` action local to the
 * gateway and on another node over NATS. Same machine, one run, loopback only; the load comes
 * from `wrk` (one thread, 32 connections), bounded in time.
 *
 * ```sh
 * deno run -A bench/gateway_compare.ts            # 3 s per run, 3 repetitions, medians (~1 min)
 * deno run -A bench/gateway_compare.ts --quick    # 1 s, 1 repetition
 * deno run -A bench/gateway_compare.ts --update   # also write bench/results/gateway.json
 * ```
 *
 * Needs `wrk` (`apt-get install -y wrk`) and `cd tests && npm ci`. Writes
 * `bench/.out/gateway.json`; see docs/BENCHMARKS.md ("API gateway") for the method and results.
 *
 * @module
 */

import { startNatsServer } from "../tests/_helpers/nats_server.ts";
import { freePort } from "../tests/_helpers/nats_server.ts";
import { Child } from "./_shared/child.ts";

const QUICK = Deno.args.includes("--quick");
const UPDATE = Deno.args.includes("--update");
const SECONDS = QUICK ? 1 : 3;
const REPS = QUICK ? 1 : 3;
const CONNECTIONS = 32;
const NODE = Deno.env.get("BENCH_NODE") ?? "node";
const path = (p: string) => new URL(p, import.meta.url).pathname;

type Stack = "denolecular" | "moleculer-web";
type Case = "local" | "remote";

interface Run {
  rps: number;
  p50: number;
  p99: number;
}

function spawn(stack: Stack, name: string, opts: Record<string, unknown>): Child {
  return stack === "denolecular"
    ? new Child(name, Deno.execPath(), [
      "run",
      "-A",
      "--quiet",
      path("./deno/gateway.ts"),
      JSON.stringify(opts),
    ], path("../"))
    : new Child(name, NODE, [path("./node/gateway.mjs"), JSON.stringify(opts)], path("../"));
}

function ms(value: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(value.trim());
  if (!m) throw new Error(`wrk latency '${value}' not understood`);
  const n = Number(m[1]);
  return m[2] === "us" ? n / 1000 : m[2] === "s" ? n * 1000 : n;
}

async function wrk(url: string, seconds: number): Promise<Run> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("wrk", {
      args: ["-t1", `-c${CONNECTIONS}`, `-d${seconds}s`, "--latency", url],
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (err) {
    throw new Error(`wrk is not installed: run \`apt-get install -y wrk\` (${err})`);
  }
  const text = new TextDecoder().decode(out.stdout);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  const p50 = /^\s+50%\s+(\S+)/m.exec(text);
  const p99 = /^\s+99%\s+(\S+)/m.exec(text);
  const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(text);
  if (!rps || !p50 || !p99 || errors) {
    throw new Error(
      `wrk run against ${url} failed:\n${text}\n${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return { rps: Number(rps[1]), p50: ms(p50[1] as string), p99: ms(p99[1] as string) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function startCase(
  c: Case,
  natsUrl: string,
): Promise<{ urls: Record<Stack, string>; children: Child[] }> {
  const children: Child[] = [];
  const urls = {} as Record<Stack, string>;
  for (const stack of ["denolecular", "moleculer-web"] as const) {
    const port = freePort();
    const namespace = `gw-${stack}-${c}`;
    const common = { remote: c === "remote", url: c === "remote" ? natsUrl : undefined, namespace };
    if (c === "remote") {
      const responder = spawn(stack, `${stack} responder`, {
        ...common,
        role: "responder",
        nodeID: `${stack}-resp`,
      });
      children.push(responder);
      await responder.expect("ready", 20_000);
    }
    const gateway = spawn(stack, `${stack} gateway`, {
      ...common,
      role: "gateway",
      nodeID: `${stack}-gw`,
      port,
    });
    children.push(gateway);
    await gateway.expect("ready", 20_000);
    urls[stack] = `http://127.0.0.1:${port}/api/echo?name=bench`;
  }
  return { urls, children };
}

const results: Record<Case, Record<Stack, Run & { runs: Run[] }>> = {} as never;
await using nats = await startNatsServer();
try {
  for (const c of ["local", "remote"] as const) {
    const { urls, children } = await startCase(c, nats.url);
    try {
      const runs: Record<Stack, Run[]> = { denolecular: [], "moleculer-web": [] };
      for (const stack of Object.keys(urls) as Stack[]) await wrk(urls[stack], 1); // warm-up
      for (let r = 0; r < REPS; r++) {
        // Alternate the order, so a drift of the machine hits both stacks alike.
        const order: Stack[] = r % 2 === 0
          ? ["denolecular", "moleculer-web"]
          : ["moleculer-web", "denolecular"];
        for (const stack of order) runs[stack].push(await wrk(urls[stack], SECONDS));
      }
      results[c] = {} as never;
      for (const stack of Object.keys(runs) as Stack[]) {
        const list = runs[stack];
        results[c][stack] = {
          rps: median(list.map((x) => x.rps)),
          p50: median(list.map((x) => x.p50)),
          p99: median(list.map((x) => x.p99)),
          runs: list,
        };
      }
    } finally {
      for (const child of children) await child.close();
    }
  }
} catch (err) {
  Child.killAll();
  throw err;
}

const row = (c: Case, s: Stack) => {
  const r = results[c][s];
  return `| ${c} | ${s} | ${Math.round(r.rps).toLocaleString("en")} | ${r.p50.toFixed(2)} | ${
    r.p99.toFixed(2)
  } |`;
};
console.log(`GET /api/echo, wrk -t1 -c${CONNECTIONS}, ${SECONDS} s × ${REPS}, medians\n`);
console.log("| action | gateway | req/s | p50 ms | p99 ms |\n|---|---|---:|---:|---:|");
for (const c of ["local", "remote"] as const) {
  for (const s of ["denolecular", "moleculer-web"] as const) console.log(row(c, s));
}
console.log(
  "\n| action | req/s ratio | p50 ratio (theirs/ours) | p99 ratio (theirs/ours) |\n|---|---:|---:|---:|",
);
for (const c of ["local", "remote"] as const) {
  const d = results[c].denolecular;
  const m = results[c]["moleculer-web"];
  console.log(
    `| ${c} | ${(d.rps / m.rps).toFixed(2)}× | ${(m.p50 / d.p50).toFixed(2)}× | ${
      (m.p99 / d.p99).toFixed(2)
    }× |`,
  );
}
const json = JSON.stringify(
  {
    date: new Date().toISOString(),
    deno: Deno.version.deno,
    plan: { seconds: SECONDS, reps: REPS, connections: CONNECTIONS, wrkThreads: 1 },
    results,
  },
  null,
  2,
);
await Deno.mkdir(path("./.out"), { recursive: true });
await Deno.writeTextFile(path("./.out/gateway.json"), json + "\n");
if (UPDATE) await Deno.writeTextFile(path("./results/gateway.json"), json + "\n");
