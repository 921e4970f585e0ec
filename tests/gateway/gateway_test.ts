/**
 * The gateway on one Deno node, over real HTTP (`fetch` against its `Deno.serve` server, and
 * `service.fetch` mounted in another server): every setting the gateway reads — aliases (plain,
 * REST, function, typed), mappingPolicy, whitelist, autoAliases and their updates, body
 * parsers, query parsing, hooks, CORS, callOptions, rootCallOptions, the `ctx.meta`
 * conventions — class style, route management and settings errors.
 */

import assert from "node:assert/strict";
import {
  type Context,
  MoleculerClientError,
  Service,
  ServiceBroker,
  type ServiceSchema,
} from "../../mod.ts";
import {
  ApiGateway,
  type ApiGatewayService,
  GatewaySettingsError,
  type RouteSettings,
} from "../../src/gateway/mod.ts";
import { scoped } from "../_helpers/core.ts";
import { waitFor } from "../interop/_shared.ts";
import { baseUrl, http, jsonBody } from "./_fixtures.ts";

type Rec = Record<string, unknown>;

const quiet = {
  logRequest: null,
  logResponse: null,
  logRouteRegistration: null,
} as const;

const posts: ServiceSchema = {
  name: "posts",
  actions: {
    list: (ctx: Context<Rec>) => ({ list: true, params: ctx.params }),
    get: (ctx: Context<Rec>) => ({ get: ctx.params.id }),
    create: (ctx: Context<Rec>) => ({ create: ctx.params }),
    update: (ctx: Context<Rec>) => ({ update: ctx.params }),
    patch: (ctx: Context<Rec>) => ({ patch: ctx.params }),
    remove: (ctx: Context<Rec>) => ({ remove: ctx.params.id }),
    echo: (ctx: Context<Rec>) => ({ params: ctx.params, meta: ctx.meta }),
    getAll: () => "camel",
    secret: { visibility: "public", handler: () => "hidden" },
    slow: async (ctx: Context<{ ms: number }>) => {
      await new Promise((r) => setTimeout(r, Number(ctx.params.ms)));
      return "late";
    },
    status(ctx: Context) {
      ctx.meta.$statusCode = 202;
      ctx.meta.$statusMessage = "Queued";
      ctx.meta.$responseHeaders = {
        "X-Queue": "7",
        "Content-Type": "text/csv",
      };
      return "a,b";
    },
    typed: {
      responseType: "text/html",
      responseHeaders: { "X-From-Schema": "1" },
      handler: () => "<b>hi</b>",
    },
    bytes: () => new TextEncoder().encode("bin"),
    stream: () =>
      new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new TextEncoder().encode("chunk1,"));
          c.enqueue(new TextEncoder().encode("chunk2"));
          c.close();
        },
      }),
    clientError: () => {
      throw new MoleculerClientError("no", 400, "NOPE");
    },
  },
};

async function gateway(
  routes: RouteSettings[],
  extra: Rec = {},
  services: Rec[] = [posts],
): Promise<
  {
    broker: ServiceBroker & AsyncDisposable;
    api: ApiGatewayService;
    url: string;
  }
> {
  const broker = scoped({ nodeID: "gw-test" });
  for (const s of services) broker.createService(s as never);
  const api = broker.createService({
    name: "api",
    mixins: [ApiGateway],
    settings: {
      port: 0,
      ip: "127.0.0.1",
      ...quiet,
      debounceTime: 20,
      routes,
      ...extra,
    },
    ...(extra.$schema as Rec ?? {}),
  }) as ApiGatewayService;
  await broker.start();
  return { broker, api, url: baseUrl(api) };
}

Deno.test("aliases: method aliases, REST aliases, path params, any-method aliases", async () => {
  const { broker, url } = await gateway([{
    path: "/api",
    aliases: {
      "GET posts/:id/raw": "posts.get",
      "REST posts": "posts",
      "REST limited": { action: "posts", only: ["list", "get"] },
      "echo/:a/:b": "posts.echo",
    },
  }]);
  await using _b = broker;
  assert.deepEqual((await http(url, "/api/posts?x=1")).json, {
    list: true,
    params: { x: "1" },
  });
  assert.deepEqual((await http(url, "/api/posts/5")).json, { get: "5" });
  assert.deepEqual((await http(url, "/api/posts/5/raw")).json, { get: "5" });
  assert.deepEqual((await http(url, "/api/posts", jsonBody({ t: 1 }))).json, {
    create: { t: 1 },
  });
  assert.deepEqual(
    (await http(url, "/api/posts/5", jsonBody({ t: 2 }, "PUT"))).json,
    {
      update: { t: 2, id: "5" },
    },
  );
  assert.deepEqual(
    (await http(url, "/api/posts/5", jsonBody({ t: 3 }, "PATCH"))).json,
    {
      patch: { t: 3, id: "5" },
    },
  );
  assert.deepEqual(
    (await http(url, "/api/posts/5", { method: "DELETE" })).json,
    { remove: "5" },
  );
  assert.equal((await http(url, "/api/limited/5")).status, 200);
  assert.equal((await http(url, "/api/limited", jsonBody({}))).status, 404);
  // Case-insensitive, trailing slash allowed, percent-decoded params, any method.
  const echo = await http(url, "/API/echo/x%20y/2/", { method: "PUT" });
  assert.deepEqual((echo.json as Rec).params, { a: "x y", b: "2" });
  assert.equal((await http(url, "/api/echo/%E0%A4%A/1")).status, 400);
});

Deno.test("function aliases: res.end, a returned value, a Response, and one before an action", async () => {
  const { broker, url } = await gateway([{
    path: "/fn",
    aliases: {
      "GET end"(_req, res) {
        res.writeHead(203, { "Content-Type": "text/plain", "X-Fn": "1" });
        res.end("ended");
      },
      "GET value": async (req) => {
        await Promise.resolve();
        return { value: req.query.v };
      },
      "GET response": () => new Response("own", { status: 207 }),
      "GET both": [(req) => {
        req.$params.added = "by-fn";
      }, "posts.echo"],
      "GET nothing": () => undefined,
    },
  }]);
  await using _b = broker;
  const end = await http(url, "/fn/end");
  assert.deepEqual([end.status, end.text, end.headers.get("x-fn")], [
    203,
    "ended",
    "1",
  ]);
  assert.deepEqual((await http(url, "/fn/value?v=3")).json, { value: "3" });
  const own = await http(url, "/fn/response");
  assert.deepEqual([own.status, own.text], [207, "own"]);
  assert.equal(
    ((await http(url, "/fn/both")).json as { params: Rec }).params.added,
    "by-fn",
  );
  const none = await http(url, "/fn/nothing");
  assert.equal(none.status, 500);
  assert.equal((none.json as Rec).type, "NO_ALIAS_HANDLER");
});

Deno.test("mappingPolicy: restrict by default with aliases, all without; camelCaseNames; ~ for $", async () => {
  const { broker, url } = await gateway([
    { path: "/r", aliases: { "GET a": "posts.list" } },
    { path: "/open", camelCaseNames: true },
    { path: "/strict", mappingPolicy: "restrict" },
  ]);
  await using _b = broker;
  assert.equal((await http(url, "/r/a")).status, 200);
  assert.equal((await http(url, "/r/posts/list")).status, 404);
  assert.deepEqual((await http(url, "/open/posts/list")).json, {
    list: true,
    params: {},
  });
  assert.equal((await http(url, "/open/posts/get-all")).json, "camel");
  assert.equal((await http(url, "/strict/posts/list")).status, 404);
  const nodes = await http(url, "/open/~node/list");
  assert.equal(nodes.status, 200);
  assert.equal(((nodes.json as Rec[])[0] as Rec).id, "gw-test");
  // Only published actions: `public` is callable from other nodes, not from HTTP.
  assert.equal((await http(url, "/open/posts/secret")).status, 404);
});

Deno.test("whitelist: exact names, globs and RegExps; blacklist", async () => {
  const { broker, url } = await gateway([
    { path: "/w1", whitelist: ["posts.list"] },
    { path: "/w2", whitelist: ["posts.*"], blacklist: [/\.slow$/] },
    { path: "/w3", whitelist: [/^posts\.(get|list)$/] },
  ]);
  await using _b = broker;
  assert.equal((await http(url, "/w1/posts/list")).status, 200);
  const refused = await http(url, "/w1/posts/get");
  assert.equal(refused.status, 404);
  assert.equal((refused.json as Rec).name, "ServiceNotFoundError");
  assert.equal((await http(url, "/w2/posts/echo")).status, 200);
  assert.equal((await http(url, "/w2/posts/slow?ms=1")).status, 404);
  assert.equal((await http(url, "/w3/posts/get?id=1")).status, 200);
  assert.equal((await http(url, "/w3/posts/echo")).status, 404);
});

Deno.test("autoAliases follow services as they come and go; listAliases shows them", async () => {
  const { broker, url } = await gateway([{ path: "/auto", autoAliases: true }]);
  await using _b = broker;
  assert.equal((await http(url, "/auto/late/hello")).status, 404);
  const late = await broker.register({
    name: "late",
    settings: { rest: "later" },
    actions: {
      hello: { rest: "GET /hello", handler: () => "hi" },
      multi: {
        rest: ["GET /m1", { method: "POST", path: "/m2" }],
        handler: () => "m",
      },
      byName: { rest: { method: "GET" }, handler: () => "by name" },
      hidden: {
        rest: "GET /hidden",
        visibility: "public",
        handler: () => "no",
      },
    },
  });
  await waitFor(
    async () => (await http(url, "/auto/later/hello")).status === 200,
    "auto alias",
  );
  assert.equal((await http(url, "/auto/later/hello")).json, "hi");
  assert.equal((await http(url, "/auto/later/m1")).json, "m");
  assert.equal(
    (await http(url, "/auto/later/m2", { method: "POST" })).json,
    "m",
  );
  assert.equal((await http(url, "/auto/later/m2")).status, 404);
  assert.equal((await http(url, "/auto/later/byName")).json, "by name");
  assert.equal((await http(url, "/auto/later/hidden")).status, 404);
  const aliases = (await http(url, "/auto/api/list-aliases")).json as Rec[];
  assert.ok(
    aliases.some((a) => a.fullPath === "/auto/later/hello" && a.actionName === "late.hello"),
  );
  await broker.destroyService(late);
  await waitFor(
    async () => (await http(url, "/auto/later/hello")).status === 404,
    "alias gone",
  );
});

Deno.test("bodyParsers: json, urlencoded (plain and extended), text; limits; off", async () => {
  const { broker, url } = await gateway([
    {
      path: "/b",
      aliases: { "POST echo": "posts.echo" },
      bodyParsers: {
        json: { limit: 64 },
        urlencoded: { extended: true },
        text: { limit: "1kb" },
      },
      mergeParams: false,
    },
    {
      path: "/flat",
      aliases: { "POST echo": "posts.echo" },
      bodyParsers: { urlencoded: true },
    },
    {
      path: "/none",
      aliases: { "POST echo": "posts.echo" },
      bodyParsers: false,
    },
  ]);
  await using _b = broker;
  const j = await http(url, "/b/echo?q=1", jsonBody({ a: [1, 2] }));
  assert.deepEqual((j.json as { params: Rec }).params, {
    body: { a: [1, 2] },
    query: { q: "1" },
    params: {},
  });
  const form = {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
  };
  const u = await http(url, "/b/echo", {
    ...form,
    body: "user[name]=A+B&tags=x&tags=y",
  });
  assert.deepEqual((u.json as { params: { body: Rec } }).params.body, {
    user: { name: "A B" },
    tags: ["x", "y"],
  });
  const flat = await http(url, "/flat/echo", { ...form, body: "user[name]=A" });
  assert.deepEqual((flat.json as { params: Rec }).params, {
    "user[name]": "A",
  });
  const t = await http(url, "/b/echo", {
    method: "POST",
    headers: { "content-type": "text/plain; charset=utf-8" },
    body: "héllo",
  });
  assert.equal((t.json as { params: { body: string } }).params.body, "héllo");
  const big = await http(url, "/b/echo", jsonBody({ s: "x".repeat(100) }));
  assert.deepEqual([big.status, (big.json as Rec).type], [
    413,
    "entity.too.large",
  ]);
  const none = await http(url, "/none/echo", jsonBody({ a: 1 }));
  assert.deepEqual((none.json as { params: Rec }).params, {});
  // A content type no parser reads leaves the body alone.
  const other = await http(url, "/b/echo", {
    method: "POST",
    headers: { "content-type": "application/xml" },
    body: "<a/>",
  });
  assert.deepEqual((other.json as { params: Rec }).params.body, undefined);
});

Deno.test("authentication and authorization: true, a method name, a function", async () => {
  const { broker, url } = await gateway(
    [
      {
        path: "/a",
        aliases: { "GET me": "posts.echo" },
        authentication: true,
        authorization: "mustBeAdmin",
      },
      {
        path: "/f",
        aliases: { "GET me": "posts.echo" },
        authentication: (_c, _r, req) => req.headers["x-user"],
      },
    ],
    {
      $schema: {
        methods: {
          authenticate(_ctx: Context, _route: unknown, req: { headers: Rec }) {
            return req.headers["x-user"] ? { name: req.headers["x-user"] } : null;
          },
          mustBeAdmin(ctx: Context) {
            if ((ctx.meta.user as Rec | null)?.name !== "admin") {
              throw new MoleculerClientError("Only admins", 403, "NOT_ADMIN");
            }
          },
        },
      },
    },
  );
  await using _b = broker;
  const ok = await http(url, "/a/me", { headers: { "x-user": "admin" } });
  assert.deepEqual((ok.json as { meta: Rec }).meta.user, { name: "admin" });
  const no = await http(url, "/a/me", { headers: { "x-user": "bob" } });
  assert.deepEqual([no.status, (no.json as Rec).type], [403, "NOT_ADMIN"]);
  assert.equal(
    ((await http(url, "/f/me", { headers: { "x-user": "fn" } })).json as {
      meta: Rec;
    }).meta.user,
    "fn",
  );
  assert.equal(
    ((await http(url, "/f/me")).json as { meta: Rec }).meta.user,
    null,
  );
  await assert.rejects(
    async () => {
      const b = new ServiceBroker({ logger: false });
      try {
        await b.register({
          name: "api2",
          mixins: [ApiGateway],
          settings: { server: false, routes: [{ authentication: true }] },
        });
      } finally {
        await b.stop();
      }
    },
    (err: Error) => err instanceof GatewaySettingsError && /authenticate/.test(err.message),
  );
});

Deno.test("hooks: onBeforeCall, onAfterCall, route and global onError", async () => {
  const { broker, url } = await gateway(
    [
      {
        path: "/h",
        aliases: { "GET echo": "posts.echo", "GET bad": "posts.clientError" },
        onBeforeCall(ctx, route, req, res, alias) {
          ctx.meta.route = route.path;
          ctx.meta.alias = alias.action;
          res.setHeader("X-Before", req.method);
        },
        onAfterCall(ctx, _route, _req, res, data) {
          res.setHeader("X-After", String(ctx.meta.route));
          return { after: data };
        },
        onError(_req, _res, err) {
          return Response.json({ custom: err.message }, { status: 499 });
        },
      },
      { path: "/g", aliases: { "GET bad": "posts.clientError" } },
    ],
    {
      onError(
        _req: unknown,
        res: { writeHead(s: number): void; end(b: string): void },
        err: Error,
      ) {
        res.writeHead(418);
        res.end(`global: ${err.message}`);
      },
    },
  );
  await using _b = broker;
  const ok = await http(url, "/h/echo");
  assert.equal(ok.headers.get("x-before"), "GET");
  assert.equal(ok.headers.get("x-after"), "/h");
  assert.deepEqual((ok.json as { after: { meta: Rec } }).after.meta, {
    route: "/h",
    alias: "posts.echo",
  });
  const routeErr = await http(url, "/h/bad");
  assert.deepEqual([routeErr.status, routeErr.json], [499, { custom: "no" }]);
  const globalErr = await http(url, "/g/bad");
  assert.deepEqual([globalErr.status, globalErr.text], [418, "global: no"]);
  const notFound = await http(url, "/nowhere");
  assert.deepEqual([notFound.status, notFound.text], [
    418,
    "global: Not found",
  ]);
});

Deno.test("ctx.meta conventions, action responseType/responseHeaders, bytes, streams, HEAD", async () => {
  const { broker, api, url } = await gateway([{
    path: "/m",
    mappingPolicy: "all",
  }]);
  await using _b = broker;
  const status = await fetch(`${url}/m/posts/status`);
  assert.equal(status.status, 202);
  // HTTP/1.1 on Deno.serve always sends the standard reason phrase; the Response carries ours.
  assert.equal(status.statusText, "Accepted");
  assert.equal(
    (await api.fetch(new Request("http://x/m/posts/status"))).statusText,
    "Queued",
  );
  assert.equal(status.headers.get("x-queue"), "7");
  assert.equal(status.headers.get("content-type"), "text/csv");
  assert.equal(await status.text(), "a,b");
  const typed = await http(url, "/m/posts/typed");
  assert.deepEqual([
    typed.headers.get("content-type"),
    typed.headers.get("x-from-schema"),
    typed.text,
  ], [
    "text/html",
    "1",
    "<b>hi</b>",
  ]);
  const bytes = await http(url, "/m/posts/bytes");
  assert.deepEqual([bytes.headers.get("content-type"), bytes.text], [
    "application/octet-stream",
    "bin",
  ]);
  const stream = await http(url, "/m/posts/stream");
  assert.equal(stream.text, "chunk1,chunk2");
  const head = await fetch(`${url}/m/posts/list`, { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), "");
  assert.ok(head.headers.get("x-request-id"));
});

Deno.test("callOptions and rootCallOptions: timeouts give 504, requestID and meta propagate", async () => {
  const { broker, url } = await gateway(
    [{ path: "/t", mappingPolicy: "all", callOptions: { timeout: 100 } }],
    { rootCallOptions: { meta: { tenant: "acme" } } },
  );
  await using _b = broker;
  const slow = await http(url, "/t/posts/slow?ms=1000");
  assert.deepEqual([slow.status, (slow.json as Rec).name], [
    504,
    "RequestTimeoutError",
  ]);
  assert.equal((await http(url, "/t/posts/slow?ms=1")).json, "late");
  const echo = await http(url, "/t/posts/echo", {
    headers: { "x-request-id": "req-42" },
  });
  assert.equal(echo.headers.get("x-request-id"), "req-42");
  assert.equal((echo.json as { meta: Rec }).meta.tenant, "acme");
});

Deno.test("CORS: global settings, preflight on unrouted paths, exposed headers, max age", async () => {
  const { broker, url } = await gateway(
    [{
      path: "/c",
      mappingPolicy: "all",
      cors: { exposedHeaders: ["X-A", "X-B"], maxAge: 600 },
    }],
    { cors: { origin: "*", methods: "GET, POST" } },
  );
  await using _b = broker;
  const simple = await http(url, "/c/posts/list", {
    headers: { origin: "http://x.example" },
  });
  assert.equal(simple.headers.get("access-control-allow-origin"), "*");
  assert.equal(simple.headers.get("access-control-expose-headers"), "X-A, X-B");
  const pre = await http(url, "/c/posts/list", {
    method: "OPTIONS",
    headers: {
      origin: "http://x.example",
      "access-control-request-method": "GET",
    },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get("access-control-allow-methods"), "GET, POST");
  assert.equal(pre.headers.get("access-control-max-age"), "600");
  const unrouted = await http(url, "/elsewhere", {
    method: "OPTIONS",
    headers: {
      origin: "http://x.example",
      "access-control-request-method": "GET",
    },
  });
  assert.equal(unrouted.status, 204);
  // No Origin header: a same-origin request gets no CORS headers.
  assert.equal(
    (await http(url, "/c/posts/list")).headers.get(
      "access-control-allow-origin",
    ),
    null,
  );
});

Deno.test("upload aliases: an action that ignores its stream answers at once; a form without files is 400", async () => {
  const { broker, url } = await gateway([{
    path: "/up",
    aliases: {
      "POST upload": "multipart:posts.create",
      "PUT raw": "stream:posts.create",
    },
  }]);
  await using _b = broker;
  let pulled = 0;
  // An upload that never ends: an action that does not read it must not wait for it.
  const endless = new ReadableStream<Uint8Array>({
    pull(c) {
      pulled++;
      c.enqueue(new Uint8Array(1024));
      return new Promise((r) => setTimeout(r, 20));
    },
  });
  const started = performance.now();
  const res = await fetch(`${url}/up/raw`, { method: "PUT", body: endless });
  await res.body?.cancel();
  assert.equal(res.status, 200);
  assert.ok(performance.now() - started < 2000);
  assert.ok(pulled < 100);
  await endless.cancel().catch(() => {});
  const multi = await http(url, "/up/upload", {
    method: "POST",
    headers: { "content-type": "multipart/form-data; boundary=x" },
    body: "--x\r\n\r\n\r\n--x--",
  });
  assert.deepEqual(
    [multi.status, (multi.json as { message: string }).message],
    [
      400,
      "File missing in the request",
    ],
  );
  const malformed = await http(url, "/up/upload", {
    method: "POST",
    headers: { "content-type": "multipart/form-data" },
    body: "no boundary",
  });
  assert.deepEqual([
    malformed.status,
    (malformed.json as { type: string }).type,
  ], [
    400,
    "MALFORMED_MULTIPART",
  ]);
});

Deno.test("service.fetch mounts in any Deno.serve server (server: false), with class style", async () => {
  class Api extends Service {
    constructor() {
      super({
        name: "api",
        mixins: [ApiGateway],
        settings: {
          ...quiet,
          server: false,
          path: "/v1",
          routes: [{ path: "/p", mappingPolicy: "all" }],
        },
      });
    }
  }
  const broker = scoped({ nodeID: "mount" });
  await using _b = broker;
  broker.createService(posts);
  const api = await broker.register(new Api()) as ApiGatewayService;
  await broker.start();
  assert.equal(api.server, null);
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    (req, info) => {
      const path = new URL(req.url).pathname;
      return path.startsWith("/v1/") ? api.fetch(req, info) : new Response("mine");
    },
  );
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    assert.equal((await http(base, "/other")).text, "mine");
    assert.deepEqual((await http(base, "/v1/p/posts/get?id=3")).json, {
      get: "3",
    });
    // Direct, without any server.
    const direct = await api.fetch(new Request("http://x/v1/p/posts/get?id=4"));
    assert.deepEqual(await direct.json(), { get: "4" });
  } finally {
    await server.shutdown();
  }
});

Deno.test("routes: addRoute/removeRoute at run time, most specific route first", async () => {
  const { broker, api, url } = await gateway([{
    path: "/x",
    mappingPolicy: "all",
  }]);
  await using _b = broker;
  api.addRoute({ path: "/x/deep", aliases: { "GET it": "posts.list" } });
  assert.equal((await http(url, "/x/deep/it")).status, 200);
  assert.ok(api.removeRoute("/x/deep"));
  assert.equal((await http(url, "/x/deep/it")).status, 404);
  api.addRoute({
    name: "named",
    path: "/n",
    aliases: { "GET a": "posts.list" },
  });
  assert.ok(api.removeRouteByName("named"));
  assert.equal(api.removeRouteByName("named"), false);
});

Deno.test("bad settings fail the service's creation, naming the setting", async () => {
  const cases: Array<[Rec, RegExp]> = [
    [{ port: -1 }, /settings\.port/],
    [{ routes: {} }, /settings\.routes must be an array/],
    [{ routes: [{ mappingPolicy: "some" }] }, /routes\[0\]\.mappingPolicy/],
    [{ routes: [{ whitelist: "posts.*" }] }, /routes\[0\]\.whitelist/],
    [
      { routes: [{ bodyParsers: { json: { limit: "lots" } } }] },
      /routes\[0\]\.bodyParsers\.json\.limit/,
    ],
    [
      { routes: [{ bodyParsers: { raw: true } }] },
      /bodyParsers\.raw.*json, urlencoded or text/,
    ],
    [
      { routes: [{ aliases: { "GET :": "a.b" } }] },
      /aliases\["GET :"\].*without a name/,
    ],
    [{ logRequest: "loud" }, /settings\.logRequest/],
  ];
  for (const [settings, message] of cases) {
    const broker = new ServiceBroker({ logger: false });
    await assert.rejects(
      broker.register({
        name: "api",
        mixins: [ApiGateway],
        settings: { server: false, ...settings },
      }),
      (err: Error) => err instanceof GatewaySettingsError && message.test(err.message),
      JSON.stringify(settings),
    );
    await broker.stop();
  }
});

Deno.test("a taken port fails the start with the port's name", async () => {
  const blocker = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (blocker.addr as Deno.NetAddr).port;
  const broker = scoped();
  await using _b = broker;
  broker.createService({
    name: "api",
    mixins: [ApiGateway],
    settings: { ...quiet, port, ip: "127.0.0.1" },
  });
  try {
    await assert.rejects(
      broker.start(),
      new RegExp(`port ${port} .* already in use`),
    );
  } finally {
    blocker.close();
  }
});
