/**
 * Run by bad_input_test.ts with `--v8-flags=--expose-gc`: a gateway takes thousands of bad
 * requests (malformed JSON, oversized bodies, unknown routes, unknown actions, aborted
 * uploads); prints the heap in use after a warm-up round and after the flood, both after a GC.
 *
 * @module
 */

import { type Context, ServiceBroker } from "../../mod.ts";
import { ApiGateway, type ApiGatewayService } from "../../src/gateway/mod.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --v8-flags=--expose-gc");

const broker = new ServiceBroker({ nodeID: "flood", logger: false });
broker.createService({
  name: "echo",
  actions: { say: (ctx: Context) => ctx.params },
});
const api = broker.createService({
  name: "api",
  mixins: [ApiGateway],
  settings: {
    port: 0,
    ip: "127.0.0.1",
    logRequest: null,
    logResponse: null,
    logRouteRegistration: null,
    routes: [{
      path: "/api",
      mappingPolicy: "all",
      bodyParsers: { json: { limit: "4kb" } },
    }],
  },
}) as ApiGatewayService;
await broker.start();
const url = api.server!.url;
const json = { "content-type": "application/json" };

async function round(n: number): Promise<void> {
  for (let i = 0; i < n; i += 10) {
    await Promise.all([
      fetch(`${url}/api/echo/say`, {
        method: "POST",
        headers: json,
        body: '{"a":',
      }),
      fetch(`${url}/api/echo/say`, {
        method: "POST",
        headers: json,
        body: "x".repeat(8192),
      }),
      fetch(`${url}/nowhere/${i}`),
      fetch(`${url}/api/ghost${i}/action`),
      fetch(`${url}/api/echo/say?${"k=v&".repeat(200)}`),
      fetch(`${url}/api/echo/say`, {
        method: "POST",
        headers: json,
        body: '"str"',
      }),
      fetch(`${url}/api/echo/say`, { headers: { "x-request-id": `r${i}` } }),
      fetch(`${url}/api/echo/say`, { method: "OPTIONS" }),
      fetch(`${url}/api/%E0%A4%A`),
      fetch(`${url}/api/echo/say?ok=${i}`),
    ].map((p) => p.then((r) => r.arrayBuffer())));
  }
}

function heap(): number {
  for (let i = 0; i < 3; i++) gc!();
  return Deno.memoryUsage().heapUsed;
}

await round(1000);
const before = heap();
await round(6000);
const after = heap();
await broker.stop();
console.log(JSON.stringify({ before, after }));
