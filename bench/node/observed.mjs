// A Moleculer 0.15.2 node for bench/observability.ts in one observability mode: role `local`,
// `responder` or `caller`. The mirror of bench/deno/observed.ts.

import process from "node:process";
import { Moleculer, options as o, report, stdinLines } from "./_moleculer.mjs";
import { latency, serve, throughput } from "../_shared/measure.mjs";
import { cpuSoFar, MODES, withCpu } from "../_shared/observability.mjs";

const broker = new Moleculer.ServiceBroker({
  nodeID: `node-${o.role}-${o.mode}`,
  namespace: o.ns,
  logger: false,
  ...(o.role === "local" ? {} : { transporter: o.url }),
  ...MODES[o.mode],
});
const params = { a: 1, b: 2 };
if (o.role !== "caller") {
  broker.createService({ name: "math", actions: { add: (ctx) => ctx.params.a + ctx.params.b } });
}
await broker.start();
if (o.role === "responder") {
  report({ type: "ready" });
  await serve(stdinLines(), { cpu: cpuSoFar }, report);
} else {
  if (o.role === "caller") await broker.waitForServices("math", 10_000);
  const call = () => broker.call("math.add", params);
  if ((await call()) !== 3) throw new Error("math.add is broken");
  report({ type: "ready" });
  await serve(stdinLines(), {
    local: (ms) => withCpu(() => throughput(call, ms)),
    conc32: (ms) => withCpu(() => latency(call, 32, ms)),
  }, report);
}
await broker.stop();
process.exit(0);
