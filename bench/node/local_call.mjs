// Local call throughput of Moleculer 0.15.2 for bench/compare.ts: `math.add` with {a: 1, b: 2} on
// a local-only broker (Moleculer's defaults), awaited back to back. Prints `ready`, then runs
// `local` on command. The mirror of bench/deno/local_call.ts.

import process from "node:process";
import { Moleculer, report, stdinLines } from "./_moleculer.mjs";
import { serve, throughput } from "../_shared/measure.mjs";

const broker = new Moleculer.ServiceBroker({ nodeID: "node-local", logger: false });
broker.createService({
  name: "math",
  actions: { add: (ctx) => ctx.params.a + ctx.params.b },
});
await broker.start();
const params = { a: 1, b: 2 };
if ((await broker.call("math.add", params)) !== 3) throw new Error("math.add is broken");
report({ type: "ready" });
await serve(stdinLines(), {
  local: (ms) => throughput(() => broker.call("math.add", params), ms),
}, report);
await broker.stop();
process.exit(0);
