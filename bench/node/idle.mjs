// A Moleculer 0.15.2 node with 10 services on NATS, for the idle-RSS and start-up rows of
// bench/compare.ts and for bench/idle_soak.ts. Prints {type: "ready", startMs} once started
// (startMs = broker creation to start() resolved, in-process), then idles until stdin closes.
// The mirror of bench/deno/idle.ts.
//
// bench/many_nodes.ts sets `services` (how many), `prefix` (their names, distinct per node) and
// `expectServices`: the node then polls its registry every POLL_MS and prints
// {type: "complete", at, nodes, services} (at: epoch ms) once it sees that many services
// (internal `$` ones not counted) on its available nodes.
//
// Each stdin line `sample` is answered with one stdout line
// {type: "sample", gc, rss, heapUsed, heapTotal, external} (bytes, from process.memoryUsage()),
// taken right after a full GC when one is available (gc: true, needs --expose-gc). Other lines
// are ignored.

import process from "node:process";
import { performance } from "node:perf_hooks";
import { Moleculer, options as o, report, stdinLines } from "./_moleculer.mjs";

// How often a node of bench/many_nodes.ts counts what its registry holds.
const POLL_MS = 20;

const t0 = performance.now();
const broker = new Moleculer.ServiceBroker({
  nodeID: o.nodeID,
  namespace: o.namespace,
  transporter: o.url,
  logger: false,
});
const prefix = o.prefix ?? "svc";
for (let i = 0; i < (o.services ?? 10); i++) {
  broker.createService({
    name: `${prefix}${i}`,
    actions: {
      add: {
        params: { a: "number", b: "number" },
        handler: (ctx) => ctx.params.a + ctx.params.b,
      },
      echo: (ctx) => ctx.params,
    },
    events: { [`${prefix}${i}.changed`]: () => {} },
  });
}
await broker.start();
report({ type: "ready", startMs: performance.now() - t0 });
if (o.expectServices !== undefined) watchRegistry(o.expectServices);

// Print `complete` once the registry holds `expected` services.
function watchRegistry(expected) {
  const timer = setInterval(() => {
    let services = 0;
    for (const s of broker.registry.services.services) {
      if (s.node.available && !s.name.startsWith("$")) services++;
    }
    if (services < expected) return;
    clearInterval(timer);
    const nodes = broker.registry.nodes.onlineCount();
    report({ type: "complete", at: performance.timeOrigin + performance.now(), nodes, services });
  }, POLL_MS);
}

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
