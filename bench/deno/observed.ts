/**
 * A Denolecular node for bench/observability.ts in one observability mode (`off`, `tracing`,
 * `metrics`, `both`): role `local` (local calls), `responder` (serves `math.add` over NATS) or
 * `caller` (32 calls in flight to the responder). Options: JSON in the first argument; `root`
 * runs the library of another checkout (`--baseline`) under this same driver.
 *
 * @module
 */

import type { Context } from "../../mod.ts";
// @ts-types="../_shared/measure.d.mts"
import { latency, serve, throughput } from "../_shared/measure.mjs";
// @ts-types="../_shared/observability.d.mts"
import { cpuSoFar, MODES, withCpu } from "../_shared/observability.mjs";
import { options } from "./_transport.ts";

const o = options<
  { role: "local" | "responder" | "caller"; mode: string; url: string; ns: string; root?: string }
>();
// Another checkout's library comes with its own transport helpers: one tree per process.
const root = o.root ? `file://${o.root.replace(/\/?$/, "/")}` : null;
const lib: typeof import("../../mod.ts") = await import(
  root ? new URL("mod.ts", root).href : "../../mod.ts"
);
const transport: typeof import("./_transport.ts") = await import(
  root ? new URL("bench/deno/_transport.ts", root).href : "./_transport.ts"
);
const { ServiceBroker } = lib;
const { report, stdinLines } = transport;
const broker = new ServiceBroker({
  nodeID: `deno-${o.role}-${o.mode}`,
  namespace: o.ns,
  logger: false,
  // The URL: each checkout's own default NATS client (`--baseline` runs an older one).
  ...(o.role === "local" ? {} : { transporter: o.url }),
  ...MODES[o.mode],
});
const params = { a: 1, b: 2 };
if (o.role !== "caller") {
  broker.createService({
    name: "math",
    actions: { add: (ctx: Context<{ a: number; b: number }>) => ctx.params.a + ctx.params.b },
  });
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
Deno.exit(0);
