/**
 * Stream throughput side by side: one node streams `--size` MiB to another over a private
 * nats-server, Denolecular → Denolecular against Moleculer 0.15 → Moleculer 0.15 (Node), with
 * Moleculer's default chunk size (256 KiB) and each serializer; every node is its own process.
 * Deno → Moleculer is measured too. Each run also reports the peak RSS of the sender and of the
 * receiver, so `--size=1024` is the 1 GiB check of bounded memory.
 *
 * ```sh
 * deno task bench:streams                       # 128 MiB, 3 runs per pairing, JSON and MsgPack
 * deno task bench:streams --size=1024 --reps=1  # 1 GiB, once
 * deno task bench:streams --serializers=JSON --pairs=deno-deno,node-node
 * ```
 *
 * Prints MB/s (medians), the ratio (Denolecular / Moleculer: above 1 is faster here) and the RSS
 * peaks, and writes `bench/.out/streams.json` (not committed). Needs `cd tests && npm ci`.
 *
 * @module
 */

import { startNatsServer } from "../tests/_helpers/nats_server.ts";

const flag = (name: string, fallback: string): string =>
  Deno.args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const SIZE = Number(flag("size", "128")) * 1024 * 1024;
const REPS = Number(flag("reps", "3"));
const SERIALIZERS = flag("serializers", "JSON,MsgPack").split(",");
const PAIRS = flag("pairs", "deno-deno,node-node,deno-node").split(",");
const NODE = Deno.env.get("BENCH_NODE") ?? "node";
const here = (p: string) => decodeURIComponent(new URL(p, import.meta.url).pathname);

type Stack = "deno" | "node";
interface Run {
  ms: number;
  bytes: number;
  rss: number;
  sinkRss: number;
}

function command(stack: Stack, opts: Record<string, unknown>, stdin: "piped" | "null") {
  const json = JSON.stringify(opts);
  const io = { stdin, stdout: "piped", stderr: "piped" } as const;
  return stack === "deno"
    ? new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", here("./deno/stream_node.ts"), json],
      ...io,
    })
    : new Deno.Command(NODE, { args: [here("./node/stream.mjs"), json], ...io });
}

async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.releaseLock();
  return text;
}

async function pairing(natsUrl: string, pair: string, serializer: string): Promise<Run[]> {
  const [from, to] = pair.split("-") as [Stack, Stack];
  const namespace = `bench-${pair}-${serializer}-${crypto.randomUUID().slice(0, 8)}`;
  const base = { nats: natsUrl, namespace, serializer, size: SIZE, reps: REPS };
  const sink = command(to, { ...base, role: "sink", nodeID: `sink-${to}` }, "piped").spawn();
  try {
    const ready = await firstLine(sink.stdout);
    if (!ready.includes('"ready"')) {
      const err = new TextDecoder().decode((await sink.output()).stderr);
      throw new Error(`the ${to} sink did not start: ${ready}\n${err}`);
    }
    const sender = await command(from, { ...base, role: "send", nodeID: `send-${from}` }, "null")
      .output();
    if (sender.code !== 0) {
      throw new Error(
        `the ${from} sender failed (run \`cd tests && npm ci\` for the Node side):\n` +
          new TextDecoder().decode(sender.stderr),
      );
    }
    return new TextDecoder().decode(sender.stdout).split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l))
      .filter((l) => l.type === "run");
  } finally {
    await sink.stdin.close().catch(() => {});
    await sink.status;
    await sink.stderr.cancel().catch(() => {});
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const MB = 1e6;
const MiB = 1024 * 1024;

await using nats = await startNatsServer();
const rows: Record<string, unknown>[] = [];
console.log(
  `stream of ${SIZE / MiB} MiB, ${REPS} run(s) each, chunks of 256 KiB, NATS on 127.0.0.1 — ` +
    `Deno ${Deno.version.deno}, ${NODE} ${
      new TextDecoder().decode(
        (await new Deno.Command(NODE, { args: ["--version"] }).output()).stdout,
      )
        .trim()
    }`,
);
console.log("serializer  pairing       MB/s   sender RSS peak   receiver RSS peak");
for (const serializer of SERIALIZERS) {
  const speed: Record<string, number> = {};
  for (const pair of PAIRS) {
    const runs = await pairing(nats.url, pair, serializer);
    const mbs = median(runs.map((r) => r.bytes / MB / (r.ms / 1000)));
    const rss = Math.max(...runs.map((r) => r.rss)) / MiB;
    const sinkRss = Math.max(...runs.map((r) => r.sinkRss)) / MiB;
    speed[pair] = mbs;
    rows.push({ serializer, pair, mbs, senderRssMiB: rss, receiverRssMiB: sinkRss, runs });
    console.log(
      `${serializer.padEnd(11)} ${pair.padEnd(10)} ${mbs.toFixed(1).padStart(7)} ${
        rss.toFixed(0).padStart(13)
      } MiB ${sinkRss.toFixed(0).padStart(15)} MiB`,
    );
  }
  if (speed["deno-deno"] && speed["node-node"]) {
    console.log(
      `${serializer.padEnd(11)} Denolecular / Moleculer: ${
        (speed["deno-deno"] / speed["node-node"]).toFixed(2)
      }×`,
    );
  }
}
await Deno.mkdir(here("./.out/"), { recursive: true });
await Deno.writeTextFile(
  here("./.out/streams.json"),
  JSON.stringify({ deno: Deno.version.deno, size: SIZE, reps: REPS, rows }, null, 2),
);
