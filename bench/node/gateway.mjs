// A Moleculer 0.15 node for bench/gateway_compare.ts: role `gateway` (moleculer-web 0.11 on
// 127.0.0.1:port, `GET /api/echo` aliased to `echo.echo`, the `echo` service local unless
// `remote`) or `responder` (only `echo`). Options: JSON in argv[2]. Prints `ready`; stops when
// stdin closes.

import Module, { createRequire } from "node:module";
import { Moleculer, options as o, report, stdinClosed } from "./_moleculer.mjs";

const require = createRequire(import.meta.url);
// moleculer-web requires `moleculer`; the peers are installed as `moleculer-015`.
const moleculerPath = require.resolve("../../tests/node_modules/moleculer-015");
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return resolve.call(this, request === "moleculer" ? moleculerPath : request, ...rest);
};
const ApiGateway = require("../../tests/node_modules/moleculer-web");

const broker = new Moleculer.ServiceBroker({
  nodeID: o.nodeID,
  logger: false,
  ...(o.url ? { namespace: o.namespace, transporter: o.url } : {}),
});
if (o.role === "responder" || !o.remote) {
  broker.createService({
    name: "echo",
    actions: { echo: (ctx) => ({ echo: ctx.params }) },
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
