/**
 * The cluster dashboard over real HTTP on one Deno node: off by default, the page and its
 * config, the snapshot (nodes, services, actions, events, "metrics are off"), live updates by
 * SSE (and their end when the gateway stops), the console — off unless asked, and guarded by
 * its route's whitelist, visibility and authorization — and the request figures read from
 * Moleculer's own metrics output.
 */

import assert from "node:assert/strict";
import { type Context, ServiceBroker, type ServiceSchema } from "../../mod.ts";
import {
  ApiGateway,
  type ApiGatewayService,
  type DashboardOptions,
  type Snapshot,
  UnAuthorizedError,
} from "../../src/gateway/mod.ts";
import { actionRates } from "../../src/gateway/dashboard/snapshot.ts";
import { nodeBinary, requirePeers } from "../_helpers/moleculer_peer.ts";
import { IGNORE } from "../interop/_shared.ts";
import { baseUrl, http, jsonBody } from "./_fixtures.ts";

type Rec = Record<string, unknown>;

const math: ServiceSchema = {
  name: "math",
  actions: {
    add: {
      params: { a: "number", b: "number" },
      handler: (ctx: Context<{ a: number; b: number }>) => ctx.params.a + ctx.params.b,
    },
    hidden: { visibility: "public", handler: () => "hidden" },
    admin: { handler: () => "admin" },
  },
  events: { "user.created"() {} },
};

async function start(
  dashboard: boolean | string | DashboardOptions | undefined,
  path?: string,
) {
  const broker = new ServiceBroker({ nodeID: "gw-dash", logger: false });
  broker.createService(math);
  const api = broker.createService({
    name: "api",
    mixins: [ApiGateway],
    settings: {
      port: 0,
      ip: "127.0.0.1",
      logRequest: null,
      logResponse: null,
      logRouteRegistration: null,
      ...(path ? { path } : {}),
      routes: [{ path: "/api", aliases: { "GET add": "math.add" } }],
      dashboard,
    },
    methods: {
      authorize(
        ctx: Context,
        _route: unknown,
        req: { headers: Rec; $action?: Rec },
      ) {
        if (req.headers["authorization"] !== "Bearer admin") {
          throw new UnAuthorizedError();
        }
        ctx.meta.checked = req.$action?.name ?? null;
      },
    },
  }) as ApiGatewayService;
  await broker.start();
  return {
    broker,
    url: baseUrl(api),
    [Symbol.asyncDispose]: () => broker.stop(),
  };
}

const call = (action: string, params: unknown, headers: Rec = {}) => {
  const init = jsonBody({ action, params });
  return {
    ...init,
    headers: { ...init.headers as Rec, ...headers } as HeadersInit,
  };
};

Deno.test("dashboard: off unless enabled", async () => {
  await using gw = await start(undefined);
  assert.equal((await http(gw.url, "/dashboard")).status, 404);
});

Deno.test("dashboard: the page, the snapshot, metrics off, and no console by default", async () => {
  await using gw = await start(true, "/root");
  const page = await http(gw.url, "/root/dashboard");
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
  assert.match(
    page.text,
    /const CONFIG = \{"base":"\/root\/dashboard","console":false\}/,
  );
  assert.equal((await http(gw.url, "/root/dashboard/")).status, 200);
  const snap = (await http(gw.url, "/root/dashboard/api/snapshot"))
    .json as Snapshot;
  assert.equal(snap.nodeID, "gw-dash");
  assert.equal(snap.console, false);
  assert.equal(
    snap.metrics,
    null,
    "the broker has no metrics: the page says they are off",
  );
  assert.equal(snap.nodes.length, 1);
  const node = snap.nodes[0]!;
  assert.deepEqual(
    [node.id, node.available, node.local, node.type, node.langVersion],
    ["gw-dash", true, true, "deno", Deno.version.deno],
  );
  assert.ok(node.version, "the node's version");
  assert.equal(node.services, 2, "math and api");
  const svc = snap.services.find((s) => s.fullName === "math")!;
  assert.deepEqual(svc.nodes, ["gw-dash"]);
  assert.deepEqual(svc.actions.map((a) => a.name), [
    "math.add",
    "math.admin",
    "math.hidden",
  ]);
  assert.deepEqual(svc.actions[0]!.params, { a: "number", b: "number" });
  assert.deepEqual(svc.events, ["user.created"]);
  const off = await http(
    gw.url,
    "/root/dashboard/api/call",
    call("math.add", { a: 1, b: 2 }),
  );
  assert.equal(off.status, 404, "the console is off");
});

Deno.test("dashboard: the console calls through the route's whitelist, visibility and authorization", async () => {
  await using gw = await start({
    path: "/ops",
    console: true,
    authorization: true,
    whitelist: ["math.add", "math.hidden"],
  });
  const url = `${gw.url}/ops/api/call`;
  const post = (body: unknown, auth = true) =>
    http(url, "", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(auth ? { authorization: "Bearer admin" } : {}),
      },
      body: JSON.stringify(body),
    });
  const denied = await post(
    { action: "math.add", params: { a: 1, b: 2 } },
    false,
  );
  assert.deepEqual([denied.status, (denied.json as Rec).name], [
    401,
    "UnAuthorizedError",
  ]);
  assert.equal(
    (await http(gw.url, "/ops")).status,
    401,
    "the page is guarded too",
  );
  const ok = await post({ action: "math.add", params: { a: 1, b: 2 } });
  assert.deepEqual([ok.status, ok.json], [200, 3]);
  assert.match(ok.headers.get("server-timing") ?? "", /^call;dur=\d+(\.\d+)?$/);
  const invalid = await post({ action: "math.add", params: { a: "x", b: 2 } });
  assert.deepEqual([invalid.status, (invalid.json as Rec).name], [
    422,
    "ValidationError",
  ]);
  assert.equal(
    (await post({ action: "math.admin", params: {} })).status,
    404,
    "whitelist",
  );
  assert.equal(
    (await post({ action: "math.hidden", params: {} })).status,
    404,
    "visibility",
  );
  assert.equal((await post({ action: "no.such", params: {} })).status, 404);
  const bad = await post({ params: {} });
  assert.deepEqual([bad.status, (bad.json as Rec).type], [
    400,
    "INVALID_CONSOLE_CALL",
  ]);
  const page = await http(gw.url, "/ops", {
    headers: { authorization: "Bearer admin" },
  });
  assert.match(page.text, /"console":true/);
});

async function nextEvent(
  reader: ReadableStreamDefaultReader<string>,
): Promise<Snapshot> {
  let buf = "";
  while (true) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the stream ended before a snapshot event");
    buf += value;
    const m = /event: snapshot\ndata: (.*)\n\n/.exec(buf);
    if (m) return JSON.parse(m[1]!) as Snapshot;
  }
}

Deno.test("dashboard: live updates by SSE follow the services; stopping the gateway ends them", async () => {
  const gw = await start({ interval: 100 });
  const res = await fetch(`${gw.url}/dashboard/api/events`);
  assert.equal(
    res.headers.get("content-type"),
    "text/event-stream; charset=utf-8",
  );
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const first = await nextEvent(reader);
  assert.ok(!first.services.some((s) => s.fullName === "late"));
  await gw.broker.createService({ name: "late", actions: { x: () => 1 } });
  let seen = false;
  for (let i = 0; i < 20 && !seen; i++) {
    seen = (await nextEvent(reader)).services.some((s) => s.fullName === "late");
  }
  assert.ok(seen, "a new service shows up in a later event");
  await gw.broker.stop();
  let ended = false;
  while (!ended) ended = (await reader.read()).done;
  assert.ok(ended);
});

Deno.test({
  name: "dashboard: request rates and latencies from a real Moleculer broker's metrics.list()",
  ignore: IGNORE,
  async fn() {
    requirePeers();
    const script = `
      const { ServiceBroker } = require("moleculer-015");
      (async () => {
        const b = new ServiceBroker({ logger: false, metrics: { enabled: true } });
        b.createService({ name: "m", actions: { ok: () => 1, bad: () => { throw new Error("x"); } } });
        await b.start();
        for (let i = 0; i < 5; i++) await b.call("m.ok");
        await b.call("m.bad").catch(() => {});
        process.stdout.write(JSON.stringify(b.metrics.list({ includes: "moleculer.request.**" })));
        await b.stop();
      })();`;
    const out = await new Deno.Command(nodeBinary(), {
      args: ["-e", script],
      cwd: decodeURIComponent(new URL("../", import.meta.url).pathname),
      stdout: "piped",
      stderr: "inherit",
    }).output();
    assert.equal(out.code, 0);
    const rates = actionRates(JSON.parse(new TextDecoder().decode(out.stdout)));
    const ok = rates.find((r) => r.action === "m.ok")!;
    const bad = rates.find((r) => r.action === "m.bad")!;
    assert.deepEqual([ok.total, ok.errors, bad.total, bad.errors], [
      5,
      0,
      1,
      1,
    ]);
    assert.equal(rates[0]!.action, "m.ok", "busiest first");
    for (const r of [ok, bad]) {
      assert.equal(typeof r.rate, "number");
      assert.ok(
        r.p50 !== null && r.p99 !== null && r.p50 <= r.p99,
        JSON.stringify(r),
      );
      assert.ok(r.mean !== null && r.mean > 0);
    }
  },
});
