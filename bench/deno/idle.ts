/**
 * A Denolecular node with 10 services on NATS, for the idle-RSS and start-up rows of
 * bench/compare.ts and for bench/idle_soak.ts. Prints `{type: "ready", startMs}` once started
 * (startMs = broker creation to `start()` resolved, in-process), then idles until stdin closes.
 *
 * bench/many_nodes.ts sets `services` (how many), `prefix` (their names, distinct per node) and
 * `expectServices`: the node then polls its registry every `POLL_MS` and prints
 * `{type: "complete", at, nodes, services}` (`at`: epoch ms) once it sees that many services
 * (internal `$` ones not counted) on its available nodes.
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
  services?: number;
  prefix?: string;
  expectServices?: number;
}>();
/** How often a node of bench/many_nodes.ts counts what its registry holds. */
const POLL_MS = 20;
const t0 = performance.now();
const broker = new ServiceBroker({
  nodeID: o.nodeID,
  namespace: o.namespace,
  logger: false,
  transporter: natsTransporter(o.url, o.transport ?? "node"),
});
const prefix = o.prefix ?? "svc";
for (let i = 0; i < (o.services ?? 10); i++) {
  broker.createService({
    name: `${prefix}${i}`,
    actions: {
      add: {
        params: { a: "number", b: "number" },
        handler: (ctx: Context<{ a: number; b: number }>) => ctx.params.a + ctx.params.b,
      },
      echo: (ctx: Context) => ctx.params,
    },
    events: { [`${prefix}${i}.changed`]: () => {} },
  });
}
await broker.start();
report({ type: "ready", startMs: performance.now() - t0 });
if (o.expectServices !== undefined) watchRegistry(o.expectServices);

/** Print `complete` once the registry holds `expected` services; a count costs ~1 µs a node. */
function watchRegistry(expected: number): void {
  const timer = setInterval(() => {
    let nodes = 0;
    let services = 0;
    for (const node of broker.registry.nodes.values()) {
      if (!node.available) continue;
      nodes++;
      for (const s of node.services) if (!s.name.startsWith("$")) services++;
    }
    if (services < expected) return;
    clearInterval(timer);
    report({ type: "complete", at: performance.timeOrigin + performance.now(), nodes, services });
  }, POLL_MS);
}

await answerSamples();
await broker.stop();
Deno.exit(0);
