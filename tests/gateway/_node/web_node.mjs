// A real Moleculer 0.15 node for the gateway tests: the `nusers` fixture services and, with
// `web: true`, moleculer-web 0.11 in front of the cluster with the same routes the Deno
// gateway gets in tests/gateway/_fixtures.ts. Driven by tests/gateway/_cluster.ts.
//
// Options: JSON in argv[2]:
//   { nodeID, transporter, web?: boolean, port?: number, services?: boolean, assets?: string }
// stdout: one `{"type":"ready","port":N}` line once the broker has started; logs go to stderr.
// The process stops its broker and exits when stdin closes.

import Module, { createRequire } from "node:module";
import process from "node:process";

const require = createRequire(import.meta.url);

// moleculer-web requires `moleculer`; the peers are installed as `moleculer-015`.
const moleculerPath = require.resolve("moleculer-015");
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === "moleculer") return moleculerPath;
  return resolve.call(this, request, ...rest);
};

for (const m of ["log", "info", "debug", "trace"]) {
  console[m] = (...a) => console.error(...a);
}

const options = JSON.parse(process.argv[2] ?? "{}");
const { ServiceBroker, Errors } = require("moleculer-015");
const { MoleculerClientError } = Errors;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const users = [{ id: 1, name: "Ann" }, { id: 2, name: "Bob" }];

const nusers = {
  name: "nusers",
  actions: {
    list: { rest: "GET /", handler: () => users },
    get: {
      rest: "GET /:id",
      params: { id: { type: "number", convert: true } },
      handler(ctx) {
        const user = users.find((u) => u.id === ctx.params.id);
        if (!user) {
          throw new MoleculerClientError(
            "User not found",
            404,
            "USER_NOT_FOUND",
            {
              id: ctx.params.id,
            },
          );
        }
        return user;
      },
    },
    create: {
      rest: "POST /",
      params: { name: "string" },
      handler(ctx) {
        ctx.meta.$statusCode = 201;
        ctx.meta.$location = "/api/nusers/3";
        return { id: 3, name: ctx.params.name };
      },
    },
    update: { handler: (ctx) => ({ updated: ctx.params }) },
    patch: { handler: (ctx) => ({ patched: ctx.params }) },
    remove: {
      handler: (ctx) => {
        ctx.meta.$statusCode = 204;
        return null;
      },
    },
    echo: { rest: "GET /echo/all", handler: (ctx) => ctx.params },
    fail() {
      throw new MoleculerClientError("bad thing", 418, "TEAPOT", { x: 1 });
    },
    crash() {
      throw new Error("boom");
    },
    slow: {
      params: { ms: { type: "number", convert: true } },
      async handler(ctx) {
        await sleep(ctx.params.ms);
        return { waited: ctx.params.ms };
      },
    },
    text(ctx) {
      ctx.meta.$responseType = "text/plain; charset=utf-8";
      return "hello text";
    },
    headers(ctx) {
      ctx.meta.$responseHeaders = { "X-Custom": "yes" };
      ctx.meta.$statusMessage = "Fine";
      return { ok: true };
    },
    redirect(ctx) {
      ctx.meta.$statusCode = 302;
      ctx.meta.$location = "/elsewhere";
      return null;
    },
    nothing: () => null,
    str: () => "plain string",
    bytes: () => Buffer.from("raw-bytes"),
    whoami: {
      auth: "required",
      handler: (ctx) => ({ user: ctx.meta.user, agent: ctx.meta.agent }),
    },
    wrap: () => ({ wrapMe: true }),
    internal: { visibility: "public", handler: () => "internal" },
  },
};

// Uploads: `save` hashes the stream it gets (raw or one file of a form) and tells its params;
// `download` answers with a stream of `size` bytes of `fill`.
const nfiles = {
  name: "nfiles",
  actions: {
    async save(ctx) {
      const hash = require("node:crypto").createHash("sha256");
      let size = 0;
      for await (const chunk of ctx.stream) {
        size += chunk.length;
        hash.update(chunk);
      }
      const { $fieldname, $filename, $mimetype, $encoding, ...rest } = ctx.params;
      return {
        node: "node",
        size,
        sha256: hash.digest("hex"),
        file: { $fieldname, $filename, $mimetype, $encoding },
        rest,
      };
    },
    download(ctx) {
      const { Readable } = require("node:stream");
      const size = Number(ctx.params.size);
      const step = 65536;
      ctx.meta.$responseType = "application/x-test";
      return Readable.from((function* () {
        for (let at = 0; at < size; at += step) {
          yield Buffer.alloc(Math.min(step, size - at), Number(ctx.params.fill ?? 7));
        }
      })());
    },
  },
};

const brokerOptions = {
  nodeID: options.nodeID,
  transporter: options.transporter,
  logLevel: options.logLevel ?? "warn",
  heartbeatInterval: 1,
  heartbeatTimeout: 5,
};

const broker = new ServiceBroker(brokerOptions);
if (options.services !== false) broker.createService(nusers);
if (options.services !== false) broker.createService(nfiles);

if (options.web) {
  const ApiGateway = require("moleculer-web");
  const { UnAuthorizedError, ERR_NO_TOKEN } = ApiGateway.Errors;
  broker.createService({
    name: "api",
    mixins: [ApiGateway],
    settings: {
      port: options.port,
      ip: "127.0.0.1",
      logRequest: null,
      logResponse: null,
      logRouteRegistration: null,
      debounceTime: 100,
      assets: options.assets ? { folder: options.assets } : undefined,
      routes: [
        {
          path: "/api",
          aliases: {
            "REST nusers": "nusers",
            "GET nusers/fail": "nusers.fail",
            "GET nusers/crash": "nusers.crash",
            "GET nusers/slow": "nusers.slow",
            "GET nusers/text": "nusers.text",
            "GET nusers/headers": "nusers.headers",
            "GET nusers/redirect": "nusers.redirect",
            "GET nusers/nothing": "nusers.nothing",
            "GET nusers/str": "nusers.str",
            "GET nusers/bytes": "nusers.bytes",
            "GET nusers/echo": "nusers.echo",
            "POST nusers/echo": "nusers.echo",
            "GET nusers/whoami": "nusers.whoami",
            "GET nusers/wrap": "nusers.wrap",
            "GET ditems/:id": "ditems.get",
            "POST ditems": "ditems.create",
            "GET ditems/slow": "ditems.slow",
            "GET missing": "nothere.action",
            "GET fn/hello"(req, res) {
              res.setHeader("Content-Type", "text/plain");
              res.end(`fn ${req.$params.name ?? "anon"}`);
            },
          },
          bodyParsers: {
            json: { limit: "1kb" },
            urlencoded: { extended: true },
            text: true,
          },
          callOptions: { timeout: 500 },
          cors: {
            origin: ["http://good.example", "http://*.trusted.example"],
            credentials: true,
          },
          authentication: true,
          authorization: true,
          onBeforeCall(ctx, _route, req) {
            ctx.meta.agent = req.headers["x-agent"] ?? null;
          },
          onAfterCall(_ctx, _route, _req, _res, data) {
            return data && data.wrapMe ? { wrapped: data } : data;
          },
        },
        {
          path: "/all",
          mappingPolicy: "all",
          whitelist: ["nusers.*", "ditems.get", /^dmath\./],
        },
        { path: "/auto", autoAliases: true, whitelist: ["**"] },
        {
          path: "/limited",
          aliases: { "GET hello": "nusers.str" },
          rateLimit: {
            window: 60_000,
            limit: 2,
            headers: true,
            key: (req) => req.headers["x-client"],
          },
        },
        {
          path: "/etag",
          aliases: { "GET users": "nusers.list", "GET text": "nusers.text" },
          etag: true,
        },
        {
          path: "/etag-strong",
          aliases: { "GET users": "nusers.list" },
          etag: "strong",
        },
        {
          path: "/oops",
          aliases: { "GET fail": "nusers.fail" },
          onError(_req, res, err) {
            res.setHeader("Content-Type", "text/plain");
            res.writeHead(599 === err.code ? 500 : 400);
            res.end(`oops: ${err.message}`);
          },
        },
      ],
    },
    methods: {
      authenticate(_ctx, _route, req) {
        const auth = req.headers["authorization"];
        if (auth === "Bearer 123") return { id: 1, name: "Ann" };
        if (auth) throw new UnAuthorizedError();
        return null;
      },
      authorize(ctx, _route, req) {
        if (req.$action && req.$action.auth === "required" && !ctx.meta.user) {
          throw new UnAuthorizedError(ERR_NO_TOKEN);
        }
      },
    },
  });
}

await broker.start();
process.stdout.write(
  JSON.stringify({ type: "ready", port: options.port ?? null }) + "\n",
);

process.stdin.resume();
process.stdin.on("end", async () => {
  await broker.stop().catch(() => {});
  process.exit(0);
});
