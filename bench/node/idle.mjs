// A Moleculer 0.15.2 node with 10 services on NATS, for the idle-RSS and start-up rows of
// bench/compare.ts. Prints {type: "ready", startMs} once started (startMs = broker creation to
// start() resolved, in-process), then idles until stdin closes. The mirror of bench/deno/idle.ts.

import process from "node:process";
import { performance } from "node:perf_hooks";
import { Moleculer, options as o, report, stdinClosed } from "./_moleculer.mjs";

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
await stdinClosed();
await broker.stop();
process.exit(0);
