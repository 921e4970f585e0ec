/**
 * The gateway's own cost per request, without a socket: `service.fetch(new Request(...))` for
 * `GET /api/echo` to a local action, next to calling the action directly.
 *
 * ```sh
 * deno bench -A bench/gateway_bench.ts
 * ```
 *
 * @module
 */

import { type Context, ServiceBroker } from "../mod.ts";
import { ApiGateway, type ApiGatewayService } from "../src/gateway/mod.ts";

const broker = new ServiceBroker({ nodeID: "bench-gw", logger: false });
broker.createService({
  name: "echo",
  actions: { echo: (ctx: Context<Record<string, unknown>>) => ({ echo: ctx.params }) },
});
const api = broker.createService({
  name: "api",
  mixins: [ApiGateway],
  settings: {
    server: false,
    logRequest: null,
    logResponse: null,
    logRouteRegistration: null,
    routes: [
      { path: "/api", aliases: { "GET echo": "echo.echo", "POST echo": "echo.echo" } },
    ],
  },
}) as ApiGatewayService;
await broker.start();

Deno.bench("broker.call echo.echo (baseline)", { group: "gateway", baseline: true }, async () => {
  await broker.call("echo.echo", { name: "bench" });
});

Deno.bench("gateway GET /api/echo?name=bench", { group: "gateway" }, async () => {
  const res = await api.fetch(new Request("http://127.0.0.1/api/echo?name=bench"));
  await res.text();
});

Deno.bench("gateway POST /api/echo (JSON body)", { group: "gateway" }, async () => {
  const res = await api.fetch(
    new Request("http://127.0.0.1/api/echo", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"name":"bench","n":[1,2,3]}',
    }),
  );
  await res.text();
});

globalThis.addEventListener("unload", () => {
  broker.stop();
});
