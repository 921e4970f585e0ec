/**
 * The control for bench/idle_soak.ts: the Deno runtime and the NATS client with no broker. It
 * connects the same `NatsTransporter` as the Denolecular idle node, listens to the soak cluster's
 * heartbeats and publishes a heartbeat-sized packet every 10 s on a subject of its own (a HEARTBEAT
 * targeted at itself, which no node subscribes to), so memory it gains while idle belongs to the
 * runtime and the client, not to the framework. Same stdin
 * protocol as bench/deno/idle.ts (`ready`, then `sample` answered after a full GC).
 *
 * @module
 */

import { answerSamples, natsTransporter, options, report } from "./_transport.ts";

const o = options<{ url: string; namespace: string; nodeID: string }>();
const nats = natsTransporter(o.url, "wire");
let heard = 0;
await nats.connect({
  namespace: o.namespace,
  prefix: `MOL-${o.namespace}`,
  nodeID: o.nodeID,
  receive: () => heard++,
});
await nats.subscribe("HEARTBEAT");
const packet = new TextEncoder().encode(JSON.stringify({
  ver: "5",
  sender: o.nodeID,
  cpu: 0,
  padding: "x".repeat(200),
}));
const timer = setInterval(() => {
  nats.publish("HEARTBEAT", o.nodeID, packet).catch(() => {});
}, 10_000);
report({ type: "ready" });
await answerSamples();
clearInterval(timer);
await nats.disconnect();
console.error(`control: ${heard} heartbeats heard`);
Deno.exit(0);
