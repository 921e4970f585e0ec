/**
 * The Redis cacher beyond the conformance suite: one cache shared by a Moleculer node and a
 * Deno node, Moleculer's keys and Redlock's locks on the wire, `cache.lock` across two
 * brokers, `missingResponse`, `getWithTTL`, and a server that goes away.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { type Context, ServiceBroker, type ServiceSchema } from "../../mod.ts";
import { RedisCacher } from "../../src/cachers/redis.ts";
import { resolveCacher } from "../../src/cachers/resolve.ts";
import { startMoleculerPeer } from "../_helpers/moleculer_peer.ts";
import { startRedisServer } from "../_helpers/servers.ts";
import { interopTest } from "../interop/_shared.ts";

const REDIS = Deno.env.get("REDIS_URL") ?? "redis://127.0.0.1:6379";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const unique = () => `rc-${crypto.randomUUID().slice(0, 8)}`;

/** A broker with no transporter around a Redis cacher, stopped when disposed. */
async function brokerWith(
  cacher: unknown,
  services: ServiceSchema[] = [],
  namespace = "",
): Promise<ServiceBroker & AsyncDisposable> {
  const broker = new ServiceBroker({ cacher: cacher as never, namespace, logLevel: "error" });
  for (const s of services) broker.createService(s);
  await broker.start();
  return Object.assign(broker, { [Symbol.asyncDispose]: () => broker.stop() });
}

async function cleanup(prefix: string): Promise<void> {
  const r = new Redis(REDIS);
  try {
    const keys = await r.keys(`${prefix}*`);
    if (keys.length > 0) await r.del(...keys);
  } finally {
    r.disconnect();
  }
}

interopTest("a Moleculer node and a Deno node share one Redis cache", async (_t, v) => {
  const namespace = unique();
  const by = (ctx: Context<{ id: number }>) => ({ id: ctx.params.id, by: "deno-c" });
  const cachetest: ServiceSchema = {
    name: "cachetest",
    actions: { get: { cache: { keys: ["id"] }, handler: by } },
  };
  try {
    await using peer = await startMoleculerPeer({
      version: v.version,
      nodeID: "node-c",
      transporter: REDIS,
      namespace,
      services: ["cachetest"],
      brokerOptions: { cacher: REDIS },
    });
    await using deno = await brokerWith(REDIS, [cachetest], namespace);
    // Cached by Deno, served to Node from the cache.
    assert.deepEqual(await deno.call("cachetest.get", { id: 1 }), { id: 1, by: "deno-c" });
    await sleep(50); // the entry is stored after the answer, as in Moleculer
    assert.deepEqual((await peer.call("cachetest.get", { id: 1 })).data, { id: 1, by: "deno-c" });
    // Cached by Node, served to Deno from the cache.
    assert.deepEqual((await peer.call("cachetest.get", { id: 2 })).data, { id: 2, by: "node-c" });
    await sleep(50);
    assert.deepEqual(await deno.call("cachetest.get", { id: 2 }), { id: 2, by: "node-c" });
    // Moleculer's key and value format.
    const raw = new Redis(REDIS);
    try {
      assert.equal(
        await raw.get(`MOL-${namespace}-cachetest.get:2`),
        JSON.stringify({ id: 2, by: "node-c" }),
      );
    } finally {
      raw.disconnect();
    }
  } finally {
    await cleanup(`MOL-${namespace}-`);
  }
});

Deno.test("Redis cacher: a lock is Redlock's, so any holder delays the others", async () => {
  const prefix = unique();
  const a = resolveCacher({ type: "Redis", options: { redis: REDIS, prefix } }) as RedisCacher;
  const b = new RedisCacher({ redis: REDIS, prefix, redlock: { retryDelay: 20, retryJitter: 10 } });
  await using broker = await brokerWith(false);
  a.init(broker);
  b.init(broker);
  const raw = new Redis(REDIS);
  try {
    // A holds the lock: B waits for its release.
    const unlockA = await a.lock("users.get:1", 5_000);
    assert.equal((await raw.get(`${prefix}-users.get:1-lock`))?.length, 32, "a random token");
    assert.ok(await raw.pttl(`${prefix}-users.get:1-lock`) > 4_000, "SET … PX ttl");
    const t0 = performance.now();
    const waited = b.lock("users.get:1").then(() => performance.now() - t0);
    await sleep(150);
    await unlockA();
    const ms = await waited;
    assert.ok(ms >= 140, `B waited ${ms} ms`);
    // A lock as Redlock writes it (from any Moleculer node): tryLock fails, lock waits for it.
    await raw.del(`${prefix}-x-lock`);
    await raw.set(`${prefix}-x-lock`, "node-token", "PX", 200, "NX");
    await assert.rejects(b.tryLock("x"), /CACHE_LOCK_FAILED|attempts to lock/);
    const t1 = performance.now();
    const unlockB = await b.lock("x", 1_000);
    assert.ok(performance.now() - t1 >= 100, "waited for the expiry of the other holder's lock");
    // Releasing checks the token: B's release leaves a lock another holder took since alone.
    await raw.set(`${prefix}-x-lock`, "someone-else", "PX", 1_000);
    await unlockB();
    assert.equal(await raw.get(`${prefix}-x-lock`), "someone-else");
  } finally {
    raw.disconnect();
    await a.close();
    await b.close();
    await cleanup(`${prefix}-`);
  }
});

Deno.test("Redis cacher: cache.lock runs the handler once for concurrent misses on two brokers", async () => {
  const prefix = unique();
  let runs = 0;
  const slow: ServiceSchema = {
    name: "slow",
    actions: {
      get: {
        cache: { keys: ["id"], lock: { ttl: 5_000 } },
        handler: async (ctx: Context<{ id: number }>) => {
          runs++;
          await sleep(150);
          return { id: ctx.params.id, run: runs };
        },
      },
    },
  };
  const options = { type: "Redis", options: { redis: REDIS, prefix, redlock: { retryDelay: 20 } } };
  try {
    await using one = await brokerWith(options, [slow]);
    await using two = await brokerWith(options, [slow]);
    const results = await Promise.all([
      one.call("slow.get", { id: 7 }),
      two.call("slow.get", { id: 7 }),
      one.call("slow.get", { id: 7 }),
      two.call("slow.get", { id: 7 }),
    ]);
    assert.equal(runs, 1, "one handler run for four calls");
    for (const r of results) assert.deepEqual(r, { id: 7, run: 1 });
  } finally {
    await cleanup(`${prefix}-`);
  }
});

Deno.test("Redis cacher: missingResponse, getWithTTL, ttl as EX / PX", async () => {
  const prefix = unique();
  const c = new RedisCacher({ redis: REDIS, prefix, missingResponse: null, ttl: 30 });
  await using broker = await brokerWith(false);
  c.init(broker);
  try {
    assert.equal(await c.get("nope"), null);
    await c.set("a", { x: 1 });
    const { data, ttl } = await c.getWithTTL("a");
    assert.deepEqual(data, { x: 1 });
    assert.ok(ttl !== null && ttl > 25 && ttl <= 30, `ttl ${ttl}`);
    await c.set("b", 1, 0.2);
    assert.equal(await c.get("b"), 1);
    await sleep(300);
    assert.equal(await c.get("b"), null);
    assert.deepEqual(await c.getWithTTL("nope"), { data: null, ttl: -2 });
  } finally {
    await c.close();
    await cleanup(`${prefix}-`);
  }
});

Deno.test("Redis cacher: with the server gone, calls go to the handler, and caching resumes", async () => {
  await using server = await startRedisServer();
  let runs = 0;
  const svc: ServiceSchema = {
    name: "svc",
    actions: { get: { cache: true, handler: () => ++runs } },
  };
  await using broker = await brokerWith({ type: "Redis", options: { redis: server.url } }, [svc]);
  assert.equal(await broker.call("svc.get"), 1);
  await sleep(50);
  assert.equal(await broker.call("svc.get"), 1, "cached");
  await server.kill();
  await sleep(100);
  const t0 = performance.now();
  assert.equal(await broker.call("svc.get"), 2, "the handler answers");
  assert.ok(performance.now() - t0 < 100, "without waiting for Redis");
  await server.restart();
  const deadline = Date.now() + 5_000;
  while ((broker.cacher as RedisCacher).connected === false && Date.now() < deadline) {
    await sleep(20);
  }
  assert.equal((broker.cacher as RedisCacher).connected, true, "reconnected within 5 s");
  assert.equal(await broker.call("svc.get"), 3, "the restarted server is empty");
  await sleep(50);
  assert.equal(await broker.call("svc.get"), 3, "cached again");
});
