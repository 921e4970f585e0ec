/**
 * A Denolecular node with 10 services on NATS, for the idle-RSS and start-up rows of
 * bench/compare.ts and for bench/idle_soak.ts. Prints `{type: "ready", startMs}` once started
 * (startMs = broker creation to `start()` resolved, in-process), then idles until stdin closes.
 *
 * Each stdin line `sample` is answered with the node's memory after a full GC
 * (`answerSamples` in ./_transport.ts).
 *
 * @module
 */

import { type Context, ServiceBroker } from "../../mod.ts";
import {
  answerSamples,
  natsTransporter,
  options,
  report,
  type TransportKind,
} from "./_transport.ts";

const o = options<{
  nodeID: string;
  url: string;
  namespace: string;
  transport: TransportKind;
}>();
const t0 = performance.now();
const broker = new ServiceBroker({
  nodeID: o.nodeID,
  namespace: o.namespace,
  logger: false,
  transporter: natsTransporter(o.url, o.transport ?? "node"),
});
for (let i = 0; i < 10; i++) {
  broker.createService({
    name: `svc${i}`,
    actions: {
      add: {
        params: { a: "number", b: "number" },
        handler: (ctx: Context<{ a: number; b: number }>) => ctx.params.a + ctx.params.b,
      },
      echo: (ctx: Context) => ctx.params,
    },
    events: { [`svc${i}.changed`]: () => {} },
  });
}
await broker.start();
report({ type: "ready", startMs: performance.now() - t0 });

await answerSamples();
await broker.stop();
Deno.exit(0);
