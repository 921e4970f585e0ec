/**
 * A Denolecular node in its own process for the OpenTelemetry test, run with Deno's built-in
 * OpenTelemetry on (`OTEL_DENO=true`). Options: JSON in argv[0] — `{ nodeID, nats, role }`.
 * `back` serves `back.run`, prints `ready` and stops when stdin closes; `front` serves
 * `front.run` (which calls `back.run`), calls it once, prints the result and stops when stdin
 * closes. Both trace
 * and count through the OpenTelemetry exporter and reporter.
 *
 * @module
 */

import { type Context, ServiceBroker } from "../../mod.ts";

interface NodeOptions {
  readonly nodeID: string;
  readonly nats: string;
  readonly role: "front" | "back";
}
const { nodeID, nats, role } = JSON.parse(Deno.args[0]!) as NodeOptions;
const broker = new ServiceBroker({
  nodeID,
  transporter: nats,
  logLevel: "warn",
  tracing: { enabled: true, exporter: "OpenTelemetry" },
  metrics: {
    enabled: true,
    collectProcessMetrics: false,
    reporter: "OpenTelemetry",
  },
  transit: { discoverWaitTime: 100 },
});
if (role === "back") {
  broker.createService({
    name: "back",
    actions: {
      run: (ctx: Context) => ({ traceparent: ctx.headers.traceparent ?? null }),
    },
  });
  await broker.start();
  console.log("ready");
  for await (
    const _ of Deno.stdin.readable
  ) { /* until the parent closes stdin */ }
} else {
  broker.createService({
    name: "front",
    actions: { run: (ctx: Context) => ctx.call("back.run") },
  });
  await broker.start();
  await broker.waitForServices("back", 10_000);
  console.log(JSON.stringify(await broker.call("front.run")));
  // Deno exports metrics on an interval: stay up until the test has seen them.
  for await (const _ of Deno.stdin.readable) { /* until the parent closes stdin */ }
}
await broker.stop();
