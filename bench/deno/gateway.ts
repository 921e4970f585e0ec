/**
 * A Denolecular node for bench/gateway_compare.ts: role `gateway` (the API gateway on
 * `127.0.0.1:port`, `GET /api/echo` aliased to `echo.echo`, the `echo` service local unless
 * `remote`) or `responder` (only the `echo` service, for the remote case). Options: JSON in the
 * first argument. Prints `ready`; stops when stdin closes.
 *
 * @module
 */

import { type Context, ServiceBroker } from "../../mod.ts";
import { ApiGateway } from "../../src/gateway/mod.ts";
import { natsTransporter, options, report, stdinClosed } from "./_transport.ts";

const o = options<{
  role: "gateway" | "responder";
  nodeID: string;
  port: number;
  remote: boolean;
  url?: string;
  namespace?: string;
}>();

const broker = new ServiceBroker({
  nodeID: o.nodeID,
  logger: false,
  ...(o.url ? { namespace: o.namespace, transporter: natsTransporter(o.url, "wire") } : {}),
});
if (o.role === "responder" || !o.remote) {
  broker.createService({
    name: "echo",
    actions: { echo: (ctx: Context<Record<string, unknown>>) => ({ echo: ctx.params }) },
  });
}
if (o.role === "gateway") {
  broker.createService({
    name: "api",
    mixins: [ApiGateway],
    settings: {
      port: o.port,
      ip: "127.0.0.1",
      logRequest: null,
      logResponse: null,
      logRouteRegistration: null,
      routes: [{ path: "/api", aliases: { "GET echo": "echo.echo" } }],
    },
  });
}
await broker.start();
if (o.role === "gateway" && o.remote) await broker.waitForServices("echo", 10_000);
report({ type: "ready" });
await stdinClosed();
await broker.stop();
