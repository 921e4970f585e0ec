/**
 * One Denolecular node of bench/streams.ts: `sink` serves `sink.drain` (reads `ctx.stream` whole
 * and answers its byte count and its peak RSS), `send` calls it with a stream of `size` bytes
 * `reps` times and prints one JSON line per run (`{ type: "run", ms, bytes, rss, sinkRss }`).
 *
 * Options: JSON in `Deno.args[0]`: `{ role, nodeID, nats, namespace, serializer, size, reps }`.
 *
 * @module
 */

import { ServiceBroker } from "../../mod.ts";

const o = JSON.parse(Deno.args[0] ?? "{}");
const CHUNK = 1024 * 1024;
const report = (line: Record<string, unknown>) => console.log(JSON.stringify(line));

/** The highest RSS seen while `run` runs, sampled every 50 ms. */
async function peakRss<T>(run: () => Promise<T>): Promise<{ value: T; rss: number }> {
  let rss = Deno.memoryUsage().rss;
  const timer = setInterval(() => rss = Math.max(rss, Deno.memoryUsage().rss), 50);
  try {
    const value = await run();
    return { value, rss: Math.max(rss, Deno.memoryUsage().rss) };
  } finally {
    clearInterval(timer);
  }
}

/** `size` bytes in 1 MiB chunks, read on demand (as from a file). */
function source(size: number): ReadableStream<Uint8Array> {
  const block = new Uint8Array(CHUNK).map((_, i) => i * 31);
  let left = size;
  return new ReadableStream({
    pull(c) {
      if (left <= 0) return c.close();
      const n = Math.min(left, CHUNK);
      left -= n;
      c.enqueue(n === CHUNK ? block : block.subarray(0, n));
    },
  }, { highWaterMark: 0 });
}

const broker = new ServiceBroker({
  nodeID: o.nodeID,
  namespace: o.namespace,
  transporter: o.nats,
  serializer: o.serializer,
  // A long JSON stream keeps a Moleculer sender too busy for its heartbeats: both stacks get time.
  heartbeatTimeout: 120,
  logger: false,
});
if (o.role === "sink") {
  broker.createService({
    name: "sink",
    actions: {
      async drain(ctx) {
        const { value, rss } = await peakRss(async () => {
          let bytes = 0;
          for await (const c of ctx.stream!) bytes += c.byteLength;
          return bytes;
        });
        return { bytes: value, rss };
      },
    },
  });
}
await broker.start();
if (o.role === "sink") {
  report({ type: "ready" });
  // Serve until the orchestrator closes stdin.
  for await (const _ of Deno.stdin.readable) { /* ignore */ }
} else {
  await broker.waitForServices("sink", 10_000);
  for (let i = 0; i < o.reps; i++) {
    const t0 = performance.now();
    const { value, rss } = await peakRss(() =>
      broker.call<{ bytes: number; rss: number }>("sink.drain", {}, {
        stream: source(o.size),
        timeout: 0,
      })
    );
    const ms = performance.now() - t0;
    if (value.bytes !== o.size) throw new Error(`the sink read ${value.bytes} of ${o.size} bytes`);
    report({ type: "run", ms, bytes: value.bytes, rss, sinkRss: value.rss });
  }
}
await broker.stop();
