/**
 * `rateLimit`, `etag` and `assets` on one Deno node over real HTTP, beyond what the
 * moleculer-web comparison covers: the window restarting, custom keys and stores, route over
 * gateway settings, ETag functions and action-set ETags, large files streamed from disk,
 * ranges past the end, CORS on files, the serve options, and the settings errors.
 */

import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { type Context, ServiceBroker, type ServiceSchema } from "../../mod.ts";
import {
  ApiGateway,
  type ApiGatewayService,
  GatewaySettingsError,
  type RateLimitOptions,
  type RateLimitStore,
  type RouteSettings,
} from "../../src/gateway/mod.ts";
import { scoped } from "../_helpers/core.ts";
import { ASSETS, baseUrl, http } from "./_fixtures.ts";

type Rec = Record<string, unknown>;

const echo: ServiceSchema = {
  name: "echo",
  actions: {
    hi: () => ({ hi: true }),
    tagged(ctx: Context) {
      ctx.meta.$responseHeaders = { ETag: '"mine"' };
      return { tagged: true };
    },
    stream: () =>
      new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new TextEncoder().encode("s"));
          c.close();
        },
      }),
  },
};

async function gateway(routes: RouteSettings[], extra: Rec = {}) {
  const broker = scoped({ nodeID: "gw-features" });
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
      routes,
      ...extra,
    },
  }) as ApiGatewayService;
  await broker.start();
  return { broker, url: baseUrl(api) };
}

Deno.test("rateLimit: the window restarts every counter; the key function picks the client", async () => {
  const { broker, url } = await gateway([{
    path: "/api",
    aliases: { "GET hi": "echo.hi" },
    rateLimit: {
      window: 400,
      limit: 1,
      headers: true,
      key: (req) => req.headers["x-user"],
    },
  }]);
  await using _b = broker;
  const as = (user: string) => ({ headers: { "x-user": user } });
  const first = await http(url, "/api/hi", as("u1"));
  assert.equal(first.status, 200);
  const reset = Number(first.headers.get("x-rate-limit-reset"));
  assert.ok(reset > Date.now() && reset <= Date.now() + 400, `reset ${reset}`);
  const second = await http(url, "/api/hi", as("u1"));
  assert.deepEqual([second.status, second.json], [429, {
    name: "RateLimitExceeded",
    message: "Rate limit exceeded",
    code: 429,
  }]);
  assert.equal(second.headers.get("x-rate-limit-remaining"), "0");
  assert.equal((await http(url, "/api/hi", as("u2"))).status, 200);
  await new Promise((r) => setTimeout(r, Math.max(0, reset - Date.now()) + 50));
  assert.equal((await http(url, "/api/hi", as("u1"))).status, 200);
});

Deno.test("rateLimit: the gateway's applies to routes without one, a route's own wins; a custom store", async () => {
  const seen: string[] = [];
  class CountingStore implements RateLimitStore {
    resetTime = 42;
    #hits = new Map<string, number>();
    constructor(readonly window: number, readonly opts: RateLimitOptions) {}
    inc(key: string): Promise<number> {
      seen.push(key);
      const n = (this.#hits.get(key) ?? 0) + 1;
      this.#hits.set(key, n);
      return Promise.resolve(n);
    }
    reset() {
      this.#hits.clear();
    }
  }
  const { broker, url } = await gateway(
    [
      { path: "/a", aliases: { "GET hi": "echo.hi" } },
      {
        path: "/b",
        aliases: { "GET hi": "echo.hi" },
        rateLimit: { limit: 5, headers: true, StoreFactory: CountingStore },
      },
    ],
    { rateLimit: { limit: 1 } },
  );
  await using _b = broker;
  // The default key is the client's address; no headers unless asked.
  const a1 = await http(url, "/a/hi");
  assert.equal(a1.status, 200);
  assert.equal(a1.headers.get("x-rate-limit-limit"), null);
  assert.equal((await http(url, "/a/hi")).status, 429);
  const forwarded = await http(url, "/a/hi", {
    headers: { "x-forwarded-for": "10.0.0.9" },
  });
  assert.equal(
    forwarded.status,
    200,
    "X-Forwarded-For is the key when present",
  );
  const b = await http(url, "/b/hi");
  assert.equal(b.status, 200);
  assert.deepEqual(
    [
      b.headers.get("x-rate-limit-limit"),
      b.headers.get("x-rate-limit-remaining"),
    ],
    ["5", "4"],
  );
  assert.equal(b.headers.get("x-rate-limit-reset"), "42");
  assert.deepEqual(seen, ["127.0.0.1"]);
});

Deno.test("etag: a function of the body, an ETag set by the action, none for streams", async () => {
  const { broker, url } = await gateway([
    {
      path: "/fn",
      aliases: { "GET hi": "echo.hi" },
      etag: (body) => `"len-${body.length}"`,
    },
    {
      path: "/on",
      aliases: { "GET tagged": "echo.tagged", "GET stream": "echo.stream" },
      etag: true,
    },
    {
      path: "/off",
      aliases: { "GET tagged": "echo.tagged", "GET hi": "echo.hi" },
    },
  ]);
  await using _b = broker;
  const fn = await http(url, "/fn/hi");
  assert.equal(fn.headers.get("etag"), `"len-${'{"hi":true}'.length}"`);
  const again = await http(url, "/fn/hi", {
    headers: { "if-none-match": fn.headers.get("etag")! },
  });
  assert.deepEqual([again.status, again.text], [304, ""]);
  assert.equal((await http(url, "/on/tagged")).headers.get("etag"), '"mine"');
  assert.equal((await http(url, "/on/stream")).headers.get("etag"), null);
  assert.equal((await http(url, "/off/hi")).headers.get("etag"), null);
  // Freshness holds for the action's own ETag even with etag off, as in moleculer-web.
  const fresh = await http(url, "/off/tagged", {
    headers: { "if-none-match": '"mine"' },
  });
  assert.equal(fresh.status, 304);
});

Deno.test("etag: the value is the etag package's", () => {
  const require = createRequire(new URL("../package.json", import.meta.url));
  const etag = require("etag") as (
    body: string,
    opts?: { weak: boolean },
  ) => string;
  return import("../../src/gateway/etag.ts").then(({ generateETag }) => {
    for (const body of ["", "a", '{"x":"ünïcødé"}', "x".repeat(10_000)]) {
      assert.equal(generateETag(body, true), etag(body, { weak: true }));
      assert.equal(generateETag(body, "weak"), etag(body, { weak: true }));
      assert.equal(generateETag(body, "strong"), etag(body));
      assert.equal(
        generateETag(new TextEncoder().encode(body), "strong"),
        etag(body),
      );
    }
  });
});

Deno.test("assets: a large file is streamed whole; ranges past the end get 416; routes come first", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gw-assets-" });
  try {
    const big = new Uint8Array(8 * 1024 * 1024 + 3);
    for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
    await Deno.writeFile(`${dir}/big.bin`, big);
    await Deno.writeTextFile(`${dir}/page.html`, "<p>page</p>");
    await Deno.writeTextFile(`${dir}/hi`, "file, not the route");
    const { broker, url } = await gateway([{
      path: "/",
      aliases: { "GET hi": "echo.hi" },
    }], {
      assets: {
        folder: dir,
        options: { extensions: ["html"], maxAge: 60_000, immutable: true },
      },
      cors: { origin: "*" },
    });
    await using _b = broker;
    const res = await fetch(`${url}/big.bin`);
    assert.equal(res.headers.get("content-type"), "application/octet-stream");
    assert.equal(res.headers.get("content-length"), String(big.length));
    assert.equal(
      res.headers.get("cache-control"),
      "public, max-age=60, immutable",
    );
    let received = 0;
    let chunks = 0;
    for await (const chunk of res.body!) {
      for (let i = 0; i < chunk.length; i++) {
        assert.equal(chunk[i], big[received + i]);
      }
      received += chunk.length;
      chunks++;
    }
    assert.equal(received, big.length);
    assert.ok(chunks > 1, "the file arrives in chunks, as read from disk");
    const tail = await http(url, "/big.bin", {
      headers: { range: "bytes=-3" },
    });
    assert.equal(tail.status, 206);
    assert.equal(
      tail.headers.get("content-range"),
      `bytes ${big.length - 3}-${big.length - 1}/${big.length}`,
    );
    const past = await http(url, "/big.bin", {
      headers: { range: `bytes=${big.length}-` },
    });
    assert.equal(past.status, 416);
    assert.equal(past.headers.get("content-range"), `bytes */${big.length}`);
    // An aborted download closes the file.
    const aborted = await fetch(`${url}/big.bin`);
    const reader = aborted.body!.getReader();
    await reader.read();
    await reader.cancel();
    const page = await http(url, "/page", {
      headers: { origin: "http://x.example" },
    });
    assert.deepEqual([page.status, page.text], [200, "<p>page</p>"]);
    assert.equal(page.headers.get("access-control-allow-origin"), "*");
    assert.deepEqual(
      (await http(url, "/hi")).json,
      { hi: true },
      "a route answers before files",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("assets: serve options — no index, dotfiles allowed, no redirect, no caching headers", async () => {
  const { broker, url } = await gateway([{
    path: "/api",
    aliases: { "GET hi": "echo.hi" },
  }], {
    assets: {
      folder: ASSETS,
      options: {
        index: false,
        dotfiles: "allow",
        redirect: false,
        etag: false,
        lastModified: false,
        cacheControl: false,
        acceptRanges: false,
        setHeaders: (headers: Headers, path: string) => {
          headers.set("X-File", path.slice(path.lastIndexOf("/") + 1));
        },
      },
    },
  });
  await using _b = broker;
  assert.equal((await http(url, "/")).status, 404);
  assert.equal((await http(url, "/sub", { redirect: "manual" })).status, 404);
  const secret = await http(url, "/.secret");
  assert.deepEqual([secret.status, secret.text], [200, "secret\n"]);
  assert.equal(secret.headers.get("x-file"), ".secret");
  for (const h of ["etag", "last-modified", "cache-control", "accept-ranges"]) {
    assert.equal(secret.headers.get(h), null, h);
  }
  const whole = await http(url, "/words.txt", {
    headers: { range: "bytes=0-1" },
  });
  assert.equal(whole.status, 200, "ranges are off");
});

Deno.test("settings errors name rateLimit, etag, assets and dashboard", async () => {
  const cases: Array<[Rec, RegExp]> = [
    [
      { rateLimit: { limit: 0 } },
      /settings\.rateLimit\.limit must be a number > 0/,
    ],
    [
      { rateLimit: { key: "ip" } },
      /settings\.rateLimit\.key must be a function/,
    ],
    [
      { routes: [{ path: "/a", rateLimit: { window: -1 } }] },
      /routes\[0\]\.rateLimit\.window/,
    ],
    [
      { etag: "sometimes" },
      /settings\.etag must be true, false, "weak", "strong" or a function/,
    ],
    [{ routes: [{ etag: 1 }] }, /routes\[0\]\.etag/],
    [{ assets: { dir: "./public" } }, /settings\.assets must be \{ folder/],
    [
      { assets: { folder: "x", options: { dotfiles: "hide" } } },
      /assets\.options\.dotfiles/,
    ],
    [
      { dashboard: "dash" },
      /settings\.dashboard must be a path like "\/dashboard"/,
    ],
    [
      { dashboard: { console: "yes" } },
      /settings\.dashboard\.console must be true or false/,
    ],
    [
      { dashboard: { interval: 10 } },
      /settings\.dashboard\.interval must be ms ≥ 100/,
    ],
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
