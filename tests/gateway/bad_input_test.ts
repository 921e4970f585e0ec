/**
 * Bad input never crashes the gateway's node, never hangs a request and leaves nothing behind:
 * malformed and non-strict JSON, oversized bodies (declared and chunked), unknown and odd
 * paths, header floods, slowloris connections, slow and aborted bodies, hostile query strings.
 * A `curl` smoke test checks the gateway with a client that is not Deno's.
 */

import assert from "node:assert/strict";
import type { Context, ServiceSchema } from "../../mod.ts";
import { ApiGateway, type ApiGatewayService } from "../../src/gateway/mod.ts";
import { scoped } from "../_helpers/core.ts";
import { baseUrl, http, jsonBody } from "./_fixtures.ts";

type Rec = Record<string, unknown>;

const echo: ServiceSchema = {
  name: "echo",
  actions: { say: (ctx: Context<Rec>) => ctx.params },
};

async function start(extra: Rec = {}) {
  const broker = scoped({ nodeID: "bad-input" });
  broker.createService(echo);
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
        aliases: { "POST say": "echo.say", "GET say": "echo.say" },
        bodyParsers: { json: { limit: "16kb" }, urlencoded: true },
      }],
      ...extra,
    },
  }) as ApiGatewayService;
  await broker.start();
  return { broker, url: baseUrl(api), port: api.server!.port };
}

/** Send raw bytes on a TCP connection and read what comes back until it closes or `ms` pass. */
async function raw(
  port: number,
  bytes: Uint8Array,
  ms = 3000,
): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const out: Uint8Array[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await conn.write(bytes).catch(() => 0);
    const read = (async () => {
      const buf = new Uint8Array(65536);
      while (true) {
        const n = await conn.read(buf).catch(() => null);
        if (n === null) return;
        out.push(buf.slice(0, n));
        const text = new TextDecoder().decode(out.at(-1));
        // One answer is enough: the status line and headers (and a short body) have arrived.
        if (/\r\n\r\n/.test(text)) return;
      }
    })();
    await Promise.race([read, new Promise((r) => timer = setTimeout(r, ms))]);
  } finally {
    clearTimeout(timer);
    conn.close();
  }
  return new TextDecoder().decode(new Uint8Array(out.flatMap((c) => [...c])));
}

const enc = (s: string) => new TextEncoder().encode(s);

Deno.test("malformed JSON answers 400 saying what is wrong; the node keeps serving", async () => {
  const { broker, url } = await start();
  await using _b = broker;
  const post = (body: string) =>
    http(url, "/api/say", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
  for (const body of ['{"a":}', '{"a":1', "[1,2", '{"a":"\\x"}']) {
    const res = await post(body);
    assert.equal(res.status, 400, body);
    const err = res.json as Rec;
    assert.equal(err.type, "entity.parse.failed");
    assert.match(String(err.message), /^Invalid JSON in the request body: /);
  }
  const strict = await post('"just a string"');
  assert.equal(strict.status, 400);
  assert.match(
    String((strict.json as Rec).message),
    /must be an object or an array/,
  );
  assert.deepEqual((await post("")).json, {});
  assert.deepEqual((await http(url, "/api/say", jsonBody({ ok: 1 }))).json, {
    ok: 1,
  });
});

Deno.test("oversized bodies answer 413 without reading the rest, declared or chunked", async () => {
  const { broker, url } = await start();
  await using _b = broker;
  const declared = await http(
    url,
    "/api/say",
    jsonBody({ s: "x".repeat(64 * 1024) }),
  );
  assert.deepEqual([declared.status, (declared.json as Rec).type], [
    413,
    "entity.too.large",
  ]);
  // Chunked, no Content-Length, 32 MiB offered: refused after 16 kB, long before the end.
  let sent = 0;
  const chunk = enc("[" + "1,".repeat(8191));
  const endless = new ReadableStream<Uint8Array>({
    pull(c) {
      if (sent > 32 * 1024 * 1024) return c.close();
      sent += chunk.byteLength;
      c.enqueue(chunk);
    },
  });
  const res = await fetch(`${url}/api/say`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: endless,
  });
  assert.equal(res.status, 413);
  await res.body?.cancel();
  assert.ok(sent < 4 * 1024 * 1024, `read ${sent} bytes before refusing`);
  assert.equal((await http(url, "/api/say?x=1")).status, 200);
});

Deno.test("unknown and odd paths answer 404 or 400, never 500", async () => {
  const { broker, url, port } = await start();
  await using _b = broker;
  for (
    const path of [
      "/",
      "/nothing",
      "/api/nope",
      "/api/say/extra",
      "//api//say",
      "/api/%zz",
    ]
  ) {
    const res = await http(url, path);
    assert.equal(res.status, 404, path);
    assert.equal((res.json as Rec).name, "NotFoundError", path);
  }
  const long = await http(url, "/api/" + "a".repeat(16 * 1024));
  assert.equal(long.status, 404);
  // A request line that is not HTTP: the HTTP layer answers 400 or closes, the node stays up.
  const garbage = await raw(port, enc("\x00\x01NOT HTTP AT ALL\r\n\r\n"));
  assert.ok(garbage === "" || /^HTTP\/1\.1 4\d\d/.test(garbage), garbage);
  assert.equal((await http(url, "/api/say?ok=1")).status, 200);
});

Deno.test("header floods are refused by the HTTP layer; the node keeps serving", async () => {
  const { broker, url, port } = await start();
  await using _b = broker;
  const many = Array.from({ length: 2000 }, (_, i) => `X-H${i}: ${i}\r\n`).join(
    "",
  );
  const flood = await raw(
    port,
    enc(`GET /api/say HTTP/1.1\r\nHost: x\r\n${many}\r\n`),
  );
  assert.ok(
    flood === "" || /^HTTP\/1\.1 (431|400)/.test(flood),
    flood.slice(0, 80),
  );
  const huge = await raw(
    port,
    enc(
      `GET /api/say HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(1 << 20)}\r\n\r\n`,
    ),
  );
  assert.ok(
    huge === "" || /^HTTP\/1\.1 (431|400)/.test(huge),
    huge.slice(0, 80),
  );
  assert.deepEqual((await http(url, "/api/say?after=flood")).json, {
    after: "flood",
  });
});

Deno.test("slow clients: slowloris connections do not block others; a slow body gets 408", async () => {
  const { broker, url, port } = await start({ requestTimeout: 300 });
  await using _b = broker;
  const loris: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 20; i++) {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      await c.write(enc("GET /api/say HTTP/1.1\r\nHost: x\r\nX-Slow: "));
      loris.push(c);
    }
    const t0 = performance.now();
    assert.equal((await http(url, "/api/say?fast=1")).status, 200);
    assert.ok(
      performance.now() - t0 < 1000,
      "a normal request waits for no slow client",
    );
    // A body that trickles: the gateway gives up after requestTimeout.
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      await conn.write(enc(
        "POST /api/say HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
          "Content-Length: 100\r\n\r\n{",
      ));
      const buf = new Uint8Array(4096);
      const t1 = performance.now();
      const n = await conn.read(buf);
      const answer = new TextDecoder().decode(buf.subarray(0, n ?? 0));
      assert.match(answer, /^HTTP\/1\.1 408/);
      assert.match(answer, /requestTimeout/);
      assert.ok(performance.now() - t1 < 2000);
    } finally {
      conn.close();
    }
  } finally {
    for (const c of loris) c.close();
  }
});

Deno.test("a client that aborts its upload leaves the node serving", async () => {
  const { broker, url } = await start();
  await using _b = broker;
  for (let i = 0; i < 5; i++) {
    const ac = new AbortController();
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(enc('{"a":'));
        setTimeout(() => ac.abort(), 20);
      },
    });
    await fetch(`${url}/api/say`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      signal: ac.signal,
    }).then((r) => r.body?.cancel(), () => {});
  }
  assert.equal((await http(url, "/api/say?alive=1")).status, 200);
});

Deno.test("hostile query strings: parameter limit, no prototype pollution", async () => {
  const { broker, url } = await start();
  await using _b = broker;
  const many = Array.from({ length: 5000 }, (_, i) => `p${i}=${i}`).join("&");
  const res = await http(url, `/api/say?${many}`);
  assert.equal(Object.keys(res.json as Rec).length, 1000);
  const polluted = await http(
    url,
    "/api/say?__proto__[admin]=1&constructor[prototype][x]=1&a[b]=c",
  );
  assert.deepEqual(polluted.json, { a: { b: "c" } });
  assert.equal(({} as Rec).admin, undefined);
  const deep = await http(url, "/api/say?a[b][c][d][e][f][g][h]=1");
  assert.equal(deep.status, 200);
});

Deno.test("curl smoke test: GET, POST JSON, 404", async () => {
  const { broker, url } = await start();
  await using _b = broker;
  const curl = async (...args: string[]) => {
    let out: Deno.CommandOutput;
    try {
      out = await new Deno.Command("curl", {
        args: ["-s", "-w", "\n%{http_code}", ...args],
      })
        .output();
    } catch (err) {
      throw new Error(
        `curl is not installed: run \`apt-get install -y curl\` (${err})`,
      );
    }
    const text = new TextDecoder().decode(out.stdout);
    const nl = text.lastIndexOf("\n");
    return { body: text.slice(0, nl), status: Number(text.slice(nl + 1)) };
  };
  const get = await curl(`${url}/api/say?name=curl`);
  assert.deepEqual([get.status, JSON.parse(get.body)], [200, { name: "curl" }]);
  const post = await curl(
    "-H",
    "Content-Type: application/json",
    "-d",
    '{"n":[1,2]}',
    `${url}/api/say`,
  );
  assert.deepEqual([post.status, JSON.parse(post.body)], [200, { n: [1, 2] }]);
  const missing = await curl(`${url}/missing`);
  assert.equal(missing.status, 404);
  assert.equal(JSON.parse(missing.body).type, "NOT_FOUND");
});

Deno.test("thousands of bad requests leave the heap where it was", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      // tests/package.json is nearer to the script than deno.json: name the config.
      "--config",
      new URL("../../deno.json", import.meta.url).pathname,
      "--v8-flags=--expose-gc",
      new URL("./_flood.ts", import.meta.url).pathname,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, stderr);
  const { before, after } = JSON.parse(
    new TextDecoder().decode(out.stdout).trim().split("\n").pop()!,
  );
  const grown = (after - before) / 1024 / 1024;
  assert.ok(
    grown < 4,
    `heap grew by ${grown.toFixed(2)} MiB over 6000 bad requests`,
  );
});
