/**
 * Idle soak: does a node's memory grow while it sits idle in a cluster?
 *
 * Starts a private nats-server, one Denolecular node and one Moleculer 0.15.2
 * node with 10 services each (bench/deno/idle.ts, bench/node/idle.mjs), lets
 * them exchange heartbeats, and samples each process's RSS at a fixed interval.
 * Prints the samples and writes bench/results/idle_soak.json.
 *
 * ```sh
 * deno task bench:soak                  # 10 minutes, a sample every 30 s
 * deno run -A bench/idle_soak.ts --minutes=1 --every=10
 * ```
 *
 * @module
 */

import { startNatsServer } from "../tests/_helpers/nats_server.ts";

const arg = (name: string, fallback: number): number => {
  const hit = Deno.args.find((a) => a.startsWith(`--${name}=`));
  return hit ? Number(hit.split("=")[1]) : fallback;
};
const MINUTES = arg("minutes", 10);
const EVERY_S = arg("every", 30);
const NODE = Deno.env.get("BENCH_NODE") ?? "node";
const here = (p: string) => new URL(p, import.meta.url).pathname;

function rssMB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? NaN) / 1024;
}

async function waitReady(child: Deno.ChildProcess, name: string): Promise<void> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += value;
    if (buf.includes('"ready"')) {
      // Keep draining so the child never blocks on a full pipe.
      (async () => {
        while (!(await reader.read()).done) { /* drain */ }
      })().catch(() => {});
      return;
    }
  }
  throw new Error(`${name} did not report ready`);
}

await using nats = await startNatsServer();
const opts = (stack: string) =>
  JSON.stringify({ url: nats.url, namespace: "soak", nodeID: `soak-${stack}`, transport: "deno" });
const stacks = [
  {
    name: "denolecular",
    cmd: new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", here("./deno/idle.ts"), opts("denolecular")],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }),
  },
  {
    name: "moleculer",
    cmd: new Deno.Command(NODE, {
      args: [here("./node/idle.mjs"), opts("moleculer")],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }),
  },
].map((s) => ({ name: s.name, child: s.cmd.spawn() }));

const samples: Array<{ t: number } & Record<string, number>> = [];
try {
  for (const s of stacks) await waitReady(s.child, s.name);
  const start = Date.now();
  const total = MINUTES * 60_000;
  for (let t = 0; t <= total; t += EVERY_S * 1000) {
    const wait = start + t - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const row: { t: number } & Record<string, number> = {
      t: Math.round((Date.now() - start) / 1000),
    };
    for (const s of stacks) row[s.name] = Number(rssMB(s.child.pid).toFixed(1));
    samples.push(row);
    console.log(
      `${String(row.t).padStart(5)} s  ${
        stacks.map((s) => `${s.name} ${row[s.name]} MB`).join("  ")
      }`,
    );
  }
} finally {
  for (const s of stacks) {
    await s.child.stdin.close().catch(() => {});
    const timer = setTimeout(() => s.child.kill("SIGKILL"), 5000);
    await s.child.status;
    clearTimeout(timer);
  }
}

const summary = Object.fromEntries(stacks.map((s) => {
  const first = samples[0]?.[s.name] ?? NaN;
  const last = samples.at(-1)?.[s.name] ?? NaN;
  const max = Math.max(...samples.map((x) => x[s.name] ?? 0));
  return [s.name, {
    firstMB: first,
    lastMB: last,
    maxMB: max,
    growthMB: Number((last - first).toFixed(1)),
  }];
}));
console.log(JSON.stringify(summary, null, 2));
await Deno.writeTextFile(
  here("./results/idle_soak.json"),
  JSON.stringify(
    { date: new Date().toISOString(), minutes: MINUTES, everyS: EVERY_S, samples, summary },
    null,
    2,
  ) +
    "\n",
);
