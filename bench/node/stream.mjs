// One Moleculer 0.15 node of bench/streams.ts, the same roles as bench/deno/stream_node.ts: `sink`
// serves `sink.drain` (reads ctx.stream whole, answers its byte count and peak RSS), `send` calls
// it with a stream of `size` bytes `reps` times and prints `{ type: "run", ms, bytes, rss, sinkRss }`.

import { Readable } from "node:stream";
import { Moleculer, options as o, report, stdinClosed } from "./_moleculer.mjs";

const CHUNK = 1024 * 1024;

async function peakRss(run) {
  let rss = process.memoryUsage.rss();
  const timer = setInterval(() => (rss = Math.max(rss, process.memoryUsage.rss())), 50);
  try {
    const value = await run();
    return { value, rss: Math.max(rss, process.memoryUsage.rss()) };
  } finally {
    clearInterval(timer);
  }
}

// `size` bytes in 1 MiB chunks, read on demand (as from a file).
function source(size) {
  const block = Buffer.alloc(CHUNK).map((_, i) => i * 31);
  let left = size;
  return new Readable({
    highWaterMark: CHUNK,
    read() {
      if (left <= 0) return void this.push(null);
      const n = Math.min(left, CHUNK);
      left -= n;
      this.push(n === CHUNK ? block : block.subarray(0, n));
    },
  });
}

const broker = new Moleculer.ServiceBroker({
  nodeID: o.nodeID,
  namespace: o.namespace,
  transporter: o.nats,
  serializer: o.serializer,
  // A long JSON stream keeps the sender too busy for its heartbeats (10 s apart, 30 s allowed).
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
          for await (const c of ctx.stream) bytes += c.length;
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
  await stdinClosed();
} else {
  await broker.waitForServices("sink", 10_000);
  for (let i = 0; i < o.reps; i++) {
    const t0 = performance.now();
    const { value, rss } = await peakRss(() =>
      broker.call("sink.drain", {}, { stream: source(o.size), timeout: 0 })
    );
    const ms = performance.now() - t0;
    if (value.bytes !== o.size) throw new Error(`the sink read ${value.bytes} of ${o.size} bytes`);
    report({ type: "run", ms, bytes: value.bytes, rss, sinkRss: value.rss });
  }
}
await broker.stop();
process.exit(0);
