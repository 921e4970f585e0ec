/**
 * Local call throughput of Denolecular for bench/compare.ts: `math.add` with `{a: 1, b: 2}` on a
 * local-only broker, awaited back to back. Prints `ready`, then runs `local` on command.
 *
 * @module
 */

import { type Context, ServiceBroker } from "../../mod.ts";
// @ts-types="../_shared/measure.d.mts"
import { serve, throughput } from "../_shared/measure.mjs";
import { report, stdinLines } from "./_transport.ts";

const broker = new ServiceBroker({ nodeID: "deno-local", logger: false });
broker.createService({
  name: "math",
  actions: { add: (ctx: Context<{ a: number; b: number }>) => ctx.params.a + ctx.params.b },
});
await broker.start();
const params = { a: 1, b: 2 };
if ((await broker.call("math.add", params)) !== 3) throw new Error("math.add is broken");
report({ type: "ready" });
await serve(stdinLines(), {
  local: (ms) => throughput(() => broker.call("math.add", params), ms),
}, report);
await broker.stop();
Deno.exit(0);
