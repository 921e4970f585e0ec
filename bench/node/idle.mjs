// A Moleculer 0.15.2 node with 10 services on NATS, for the idle-RSS and start-up rows of
// bench/compare.ts and for bench/idle_soak.ts. Prints {type: "ready", startMs} once started
// (startMs = broker creation to start() resolved, in-process), then idles until stdin closes.
// The mirror of bench/deno/idle.ts.
//
// Each stdin line `sample` is answered with one stdout line
// {type: "sample", gc, rss, heapUsed, heapTotal, external} (bytes, from process.memoryUsage()),
// taken right after a full GC when one is available (gc: true, needs --expose-gc). Other lines
// are ignored.

import process from "node:process";
import { performance } from "node:perf_hooks";
import { Moleculer, options as o, report, stdinLines } from "./_moleculer.mjs";

const t0 = performance.now();
const broker = new Moleculer.ServiceBroker({
  nodeID: o.nodeID,
  namespace: o.namespace,
  transporter: o.url,
  logger: false,
});
for (let i = 0; i < 10; i++) {
  broker.createService({
    name: `svc${i}`,
    actions: {
      add: {
        params: { a: "number", b: "number" },
        handler: (ctx) => ctx.params.a + ctx.params.b,
      },
      echo: (ctx) => ctx.params,
    },
    events: { [`svc${i}.changed`]: () => {} },
  });
}
await broker.start();
report({ type: "ready", startMs: performance.now() - t0 });

// Only defined under --expose-gc.
const gc = globalThis.gc;
for await (const line of stdinLines()) {
  if (line.trim() !== "sample") continue;
  // Twice: memory held by weak references and finalizers is only reclaimed by a later cycle.
  gc?.();
  gc?.();
  const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
  report({ type: "sample", gc: gc !== undefined, rss, heapUsed, heapTotal, external });
}
await broker.stop();
process.exit(0);
