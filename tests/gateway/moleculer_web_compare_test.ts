/**
 * The same HTTP scenarios against moleculer-web 0.11 (on a Node.js Moleculer 0.15 node) and
 * against the Denolecular gateway (on a Deno node), both in front of the same services in one
 * NATS cluster: `nusers` on the Node node, `ditems`/`dmath` on the Deno node. Status codes,
 * content types, the headers the scenario is about and bodies must be the same; the one
 * deliberate difference (a clearer message for malformed JSON) is checked as such. Both serve
 * `_assets/` as static files and have the same `rateLimit` and `etag` routes.
 */

import assert from "node:assert/strict";
import { freePort, startNatsServer } from "../_helpers/nats_server.ts";
import { IGNORE, startDeno, waitFor } from "../interop/_shared.ts";
import { startWebNode } from "./_cluster.ts";
import { generateETag } from "../../src/gateway/etag.ts";
import { type Answer, ASSETS, ditems, dmath, http, jsonBody, sharedGateway } from "./_fixtures.ts";

interface Scenario {
  name: string;
  /** The status both gateways must answer with. */
  status: number;
  path: string;
  init?: RequestInit;
  /** Headers compared besides Content-Type. */
  headers?: string[];
  /** Compare only these body fields (for a deliberate message difference). */
  bodyFields?: string[];
  /**
   * Validation errors: Moleculer's validator writes the CALLER's node (`ctx.nodeID`) into each
   * item's `nodeID`, which is the gateway's node: `node-web` for moleculer-web, `deno-gw` here.
   */
  callerNodeInData?: boolean;
}

const CORS = [
  "access-control-allow-origin",
  "access-control-allow-credentials",
  "vary",
];
const PREFLIGHT = [
  ...CORS,
  "access-control-allow-methods",
  "access-control-allow-headers",
];

const SCENARIOS: Scenario[] = [
  { name: "REST list (remote Node action)", status: 200, path: "/api/nusers" },
  { name: "REST get with a path param", status: 200, path: "/api/nusers/2" },
  { name: "action's own 404", status: 404, path: "/api/nusers/9" },
  {
    name: "validation error 422 (Node action)",
    status: 422,
    path: "/api/nusers/abc",
    callerNodeInData: true,
  },
  {
    name: "validation error 422 (Deno action)",
    status: 422,
    path: "/api/ditems/abc",
    callerNodeInData: true,
  },
  {
    name: "POST JSON, $statusCode 201 + $location",
    status: 201,
    path: "/api/nusers",
    init: jsonBody({ name: "Zed" }),
    headers: ["location"],
  },
  {
    name: "POST urlencoded",
    status: 201,
    path: "/api/nusers",
    init: {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "name=Q%20R",
    },
    headers: ["location"],
  },
  {
    name: "REST update",
    status: 200,
    path: "/api/nusers/1",
    init: jsonBody({ name: "N" }, "PUT"),
  },
  {
    name: "REST patch",
    status: 200,
    path: "/api/nusers/1",
    init: jsonBody({ name: "P" }, "PATCH"),
  },
  {
    name: "REST remove with $statusCode 204",
    status: 204,
    path: "/api/nusers/1",
    init: { method: "DELETE" },
  },
  {
    name: "query parsing (arrays, nesting)",
    status: 200,
    path: "/api/nusers/echo?a=1&a=2&o[k]=v&t[]=x&s=a+b",
  },
  {
    name: "query + JSON body merged",
    status: 200,
    path: "/api/nusers/echo?q=1",
    init: jsonBody({ b: 2, nested: { c: [1, 2] } }),
  },
  {
    name: "text body is not merged into params",
    status: 200,
    path: "/api/nusers/echo",
    init: {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "just text",
    },
  },
  { name: "error's own code 418", status: 418, path: "/api/nusers/fail" },
  { name: "plain Error → 500", status: 500, path: "/api/nusers/crash" },
  {
    name: "callOptions timeout → 504 (remote)",
    status: 504,
    path: "/api/nusers/slow?ms=2000",
  },
  {
    name: "callOptions timeout → 504 (Deno action)",
    status: 504,
    path: "/api/ditems/slow?ms=2000",
  },
  {
    name: "alias to a missing action → 503",
    status: 503,
    path: "/api/missing",
  },
  { name: "$responseType text", status: 200, path: "/api/nusers/text" },
  {
    name: "$responseHeaders",
    status: 200,
    path: "/api/nusers/headers",
    headers: ["x-custom"],
  },
  {
    name: "redirect with $location",
    status: 302,
    path: "/api/nusers/redirect",
    init: { redirect: "manual" },
    headers: ["location"],
  },
  { name: "null result", status: 200, path: "/api/nusers/nothing" },
  { name: "string result is JSON", status: 200, path: "/api/nusers/str" },
  { name: "Buffer result is bytes", status: 200, path: "/api/nusers/bytes" },
  {
    name: "anonymous whoami → 401 NO_TOKEN",
    status: 401,
    path: "/api/nusers/whoami",
  },
  {
    name: "authenticated whoami, onBeforeCall meta",
    status: 200,
    path: "/api/nusers/whoami",
    init: { headers: { authorization: "Bearer 123", "x-agent": "tester" } },
  },
  {
    name: "bad token → 401 INVALID_TOKEN",
    status: 401,
    path: "/api/nusers/list",
    init: { headers: { authorization: "Bearer nope" } },
  },
  { name: "onAfterCall rewrites data", status: 200, path: "/api/nusers/wrap" },
  {
    name: "Deno action through a param alias",
    status: 200,
    path: "/api/ditems/7",
  },
  {
    name: "Deno action, POST with $location",
    status: 201,
    path: "/api/ditems",
    init: jsonBody({ name: "box" }),
    headers: ["location"],
  },
  { name: "function alias", status: 200, path: "/api/fn/hello?name=Ann" },
  { name: "unknown route → 404", status: 404, path: "/nothing/here" },
  {
    name: "restrict policy: unaliased action → 404",
    status: 404,
    path: "/api/nusers.list",
  },
  {
    name: "oversized JSON → 413",
    status: 413,
    path: "/api/nusers/echo",
    init: jsonBody({ big: "x".repeat(2048) }),
  },
  {
    name: "malformed JSON → 400",
    status: 400,
    path: "/api/nusers/echo",
    init: {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"a":}',
    },
    bodyFields: ["name", "code", "type"],
  },
  {
    name: "CORS allowed origin",
    status: 200,
    path: "/api/nusers/2",
    init: { headers: { origin: "http://good.example" } },
    headers: CORS,
  },
  {
    name: "CORS wildcard origin",
    status: 200,
    path: "/api/nusers/2",
    init: { headers: { origin: "http://a.trusted.example" } },
    headers: CORS,
  },
  {
    name: "CORS refused origin → 403",
    status: 403,
    path: "/api/nusers/2",
    init: { headers: { origin: "http://evil.example" } },
  },
  {
    name: "CORS preflight → 204",
    status: 204,
    path: "/api/nusers",
    init: {
      method: "OPTIONS",
      headers: {
        origin: "http://good.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    },
    headers: PREFLIGHT,
  },
  {
    name: "mapping all: Node action",
    status: 200,
    path: "/all/nusers/get?id=1",
  },
  {
    name: "mapping all: RegExp whitelist",
    status: 200,
    path: "/all/dmath/add?a=2&b=3",
  },
  {
    name: "mapping all: not whitelisted → 404",
    status: 404,
    path: "/all/ditems/slow?ms=1",
  },
  {
    name: "mapping all: public visibility → 404",
    status: 404,
    path: "/all/nusers/internal",
  },
  {
    name: "mapping all: unknown action → 404",
    status: 404,
    path: "/all/nope/nothing",
  },
  {
    name: "autoAliases: Node action's rest",
    status: 200,
    path: "/auto/nusers/2",
  },
  {
    name: "autoAliases: Deno action's rest",
    status: 200,
    path: "/auto/ditems/5",
  },
  {
    name: "autoAliases: rest path",
    status: 200,
    path: "/auto/nusers/echo/all?z=1",
  },
  { name: "route onError answers", status: 400, path: "/oops/fail" },
  ...rateLimitScenarios(),
  ...etagScenarios(),
  ...assetScenarios(),
];

function rateLimitScenarios(): Scenario[] {
  const headers = ["x-rate-limit-limit", "x-rate-limit-remaining"];
  const as = (client: string) => ({ headers: { "x-client": client } });
  return [
    {
      name: "rateLimit: 1st request",
      status: 200,
      path: "/limited/hello",
      init: as("c1"),
      headers,
    },
    {
      name: "rateLimit: 2nd request",
      status: 200,
      path: "/limited/hello",
      init: as("c1"),
      headers,
    },
    {
      name: "rateLimit: over the limit → 429",
      status: 429,
      path: "/limited/hello",
      init: as("c1"),
      headers,
    },
    {
      name: "rateLimit: another key",
      status: 200,
      path: "/limited/hello",
      init: as("c2"),
      headers,
    },
    {
      name: "rateLimit: no key, no limit",
      status: 200,
      path: "/limited/hello",
      headers,
    },
  ];
}

function etagScenarios(): Scenario[] {
  const users = JSON.stringify([{ id: 1, name: "Ann" }, {
    id: 2,
    name: "Bob",
  }]);
  const weak = generateETag(users, true);
  const strong = generateETag(users, "strong");
  const headers = ["etag"];
  return [
    {
      name: "etag: weak ETag of a JSON answer",
      status: 200,
      path: "/etag/users",
      headers,
    },
    {
      name: "etag: of a text answer",
      status: 200,
      path: "/etag/text",
      headers,
    },
    {
      name: "etag: If-None-Match → 304",
      status: 304,
      path: "/etag/users",
      init: { headers: { "if-none-match": weak } },
      headers,
    },
    {
      name: "etag: If-None-Match of another → 200",
      status: 200,
      path: "/etag/users",
      init: { headers: { "if-none-match": 'W/"1-nope"' } },
      headers,
    },
    {
      name: "etag: Cache-Control no-cache → 200",
      status: 200,
      path: "/etag/users",
      init: { headers: { "if-none-match": weak, "cache-control": "no-cache" } },
      headers,
    },
    { name: "etag: strong", status: 200, path: "/etag-strong/users", headers },
    {
      name: "etag: strong, If-None-Match weak form → 304",
      status: 304,
      path: "/etag-strong/users",
      init: { headers: { "if-none-match": `W/${strong}` } },
      headers,
    },
  ];
}

function assetScenarios(): Scenario[] {
  const headers = [
    "etag",
    "last-modified",
    "cache-control",
    "accept-ranges",
    "content-length",
    "content-range",
    "location",
  ];
  // Before any ETag is computed, here or by either server.
  wholeSecondMtimes(ASSETS);
  const css = Deno.statSync(`${ASSETS}/style.css`);
  const cssTag = `W/"${css.size.toString(16)}-${(css.mtime?.getTime() ?? 0).toString(16)}"`;
  return [
    { name: "assets: index.html at /", status: 200, path: "/", headers },
    { name: "assets: a file", status: 200, path: "/index.html", headers },
    { name: "assets: CSS", status: 200, path: "/style.css", headers },
    { name: "assets: JS", status: 200, path: "/app.js", headers },
    { name: "assets: JSON", status: 200, path: "/data.json", headers },
    {
      name: "assets: directory → 301 with /",
      status: 301,
      path: "/sub?x=1",
      init: { redirect: "manual" },
      headers,
    },
    { name: "assets: directory index", status: 200, path: "/sub/", headers },
    {
      name: "assets: HEAD",
      status: 200,
      path: "/app.js",
      init: { method: "HEAD" },
      headers,
    },
    {
      name: "assets: byte range → 206",
      status: 206,
      path: "/words.txt",
      init: { headers: { range: "bytes=6-10" } },
      headers,
    },
    {
      name: "assets: If-None-Match → 304",
      status: 304,
      path: "/style.css",
      init: { headers: { "if-none-match": cssTag } },
      headers,
    },
    { name: "assets: missing file → 404", status: 404, path: "/nope.txt" },
    { name: "assets: dotfile → 404", status: 404, path: "/.secret" },
    {
      name: "assets: encoded traversal → 404",
      status: 404,
      path: "/..%2f..%2fdeno.json",
    },
    {
      name: "assets: encoded traversal in a dir → 404",
      status: 404,
      path: "/sub/..%2f..%2f_fixtures.ts",
    },
    { name: "assets: NUL byte → 404", status: 404, path: "/index.html%00" },
    { name: "assets: bad escape → 404", status: 404, path: "/%E0%A4%A" },
    {
      name: "assets: POST → 404",
      status: 404,
      path: "/index.html",
      init: { method: "POST", body: "x" },
    },
  ];
}

function comparable(a: Answer, s: Scenario) {
  let body: unknown = a.json ?? a.text;
  if (s.bodyFields && body && typeof body === "object") {
    body = Object.fromEntries(
      s.bodyFields.map((k) => [k, (body as Record<string, unknown>)[k]]),
    );
  }
  if (s.callerNodeInData && body && typeof body === "object") {
    const data = (body as { data?: Array<Record<string, unknown>> }).data ?? [];
    body = { ...body, data: data.map(({ nodeID: _caller, ...item }) => item) };
  }
  return {
    status: a.status,
    contentType: a.headers.get("content-type")?.replace(/\s+/g, "").toLowerCase() ?? null,
    headers: Object.fromEntries(
      (s.headers ?? []).map((h) => [h, a.headers.get(h)]),
    ),
    body,
  };
}

/**
 * Round the static files' modification times down to whole seconds. Both sides write the mtime
 * into the ETag in milliseconds, and Node and Deno round a sub-millisecond mtime (a fresh
 * checkout has nanoseconds) differently: with whole seconds they agree.
 */
function wholeSecondMtimes(dir: string): void {
  for (const entry of Deno.readDirSync(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) wholeSecondMtimes(path);
    else if (entry.isFile) {
      const { atime, mtime } = Deno.statSync(path);
      const whole = Math.floor((mtime?.getTime() ?? Date.now()) / 1000) * 1000;
      Deno.utimeSync(path, atime ?? new Date(), new Date(whole));
    }
  }
}

Deno.test({
  name: "gateway: the same HTTP scenarios give moleculer-web's answers",
  ignore: IGNORE,
  async fn() {
    await using nats = await startNatsServer();
    const webPort = freePort();
    await using node = await startWebNode({
      nodeID: "node-web",
      transporter: nats.url,
      webPort,
      assets: ASSETS,
    });
    const denoPort = freePort();
    await using deno = await startDeno({
      nodeID: "deno-gw",
      transporter: nats.url,
      services: [ditems, dmath, sharedGateway(denoPort)],
    });
    await deno.broker.waitForServices(["nusers", "ditems"], 10_000);
    const denoUrl = `http://127.0.0.1:${denoPort}`;
    const webUrl = node.webUrl as string;
    // Both gateways have seen the other node's services once their auto aliases answer.
    await waitFor(
      async () => {
        const [a, b, c, d] = await Promise.all([
          http(denoUrl, "/auto/nusers/2"),
          http(webUrl, "/auto/ditems/5"),
          http(denoUrl, "/auto/ditems/5"),
          http(webUrl, "/auto/nusers/2"),
        ]);
        return [a, b, c, d].every((x) => x.status === 200);
      },
      "both gateways' auto aliases",
      10_000,
    );

    const differences: string[] = [];
    for (const s of SCENARIOS) {
      const [web, ours] = [
        await http(webUrl, s.path, s.init),
        await http(denoUrl, s.path, s.init),
      ];
      const a = comparable(web, s);
      const b = comparable(ours, s);
      assert.equal(b.status, s.status, `${s.name}: ${ours.text}`);
      try {
        assert.deepEqual(b, a);
      } catch {
        differences.push(
          `${s.name}: ${s.init?.method ?? "GET"} ${s.path}\n  moleculer-web: ${
            JSON.stringify(a)
          }\n  denolecular:   ${JSON.stringify(b)}`,
        );
      }
      if (s.name.startsWith("malformed JSON")) {
        const msg = (ours.json as { message: string }).message;
        const theirs = (web.json as { message: string }).message;
        assert.ok(msg.startsWith("Invalid JSON in the request body: "), msg);
        assert.ok(
          msg.endsWith(theirs),
          `${msg} should carry the parser's own "${theirs}"`,
        );
      }
    }
    assert.equal(differences.length, 0, `\n${differences.join("\n")}`);
  },
});
