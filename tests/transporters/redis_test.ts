/**
 * Redis-specific behaviour of RedisTransporter: how it is named and configured, a server that
 * cannot be reached, Moleculer's channel names on the wire, and a restart of a private
 * redis-server under load.
 */

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { BrokerDisconnectedError, BrokerOptionsError } from "../../src/errors.ts";
import { resolveTransporter } from "../../src/transporters/resolve.ts";
import { RedisTransporter } from "../../src/transporters/redis/redis.ts";
import { freePort } from "../_helpers/nats_server.ts";
import { startRedisServer } from "../_helpers/servers.ts";
import { outage, slowMath } from "../reliability/_outage.ts";
import { startNode } from "../reliability/_util.ts";
import { bytes, RecordingHost, within } from "./_util.ts";

Deno.test("Redis resolves from Moleculer's URLs, name and { type, options }", () => {
  for (
    const opt of [
      "redis://127.0.0.1:6379",
      "rediss://r.example:6380/2",
      "Redis",
    ]
  ) {
    assert.ok(resolveTransporter(opt) instanceof RedisTransporter, opt);
  }
  const t = resolveTransporter({
    type: "Redis",
    options: { host: "r1", port: 7000, db: 3 },
  });
  assert.ok(t instanceof RedisTransporter);
  assert.equal(t.url, "redis://r1:7000/3");
  assert.equal(t.hasBuiltInBalancer, false);
  assert.equal(
    new RedisTransporter("redis://u:s3cret@r2:6390").url,
    "redis://r2:6390",
  );
  const cluster = resolveTransporter({
    type: "redis",
    options: {
      cluster: {
        nodes: [{ host: "c1", port: 7000 }, { host: "c2", port: 7001 }],
      },
    },
  }) as RedisTransporter;
  assert.equal(cluster.url, "redis-cluster://c1:7000,c2:7001");
});

Deno.test("Redis refuses bad options by name, without echoing a password", () => {
  assert.throws(
    () => new RedisTransporter("redis://u:topsecret@bad host"),
    (e: unknown) =>
      e instanceof BrokerOptionsError && e.message.includes("***") &&
      !e.message.includes("topsecret"),
  );
  assert.throws(
    () => new RedisTransporter("redis://h/notanumber"),
    /database number/,
  );
  assert.throws(
    () => new RedisTransporter({ cluster: { nodes: [] } }),
    /cluster\.nodes/,
  );
  assert.throws(
    () => new RedisTransporter({ port: "6379" as unknown as number }),
    /'port'/,
  );
  assert.throws(
    () => resolveTransporter({ type: "Redis", options: 42 }),
    /object or a URL/,
  );
});

Deno.test("Redis: an unreachable server rejects connect() with BrokerDisconnectedError", async () => {
  const port = freePort();
  const t = new RedisTransporter(`redis://127.0.0.1:${port}`);
  const err = await within(
    t.connect(new RecordingHost("n")).then(() => null, (e) => e),
    5_000,
    "connect() to fail",
  );
  assert.ok(err instanceof BrokerDisconnectedError, String(err));
  assert.match(
    err.message,
    new RegExp(`redis://127\\.0\\.0\\.1:${port}.*ECONNREFUSED`),
  );
  assert.equal(t.connected, false);
  await t.disconnect();
});

Deno.test("Redis: Moleculer's channels on the wire, namespaces included", async () => {
  await using server = await startRedisServer();
  const spy = new Redis(server.url);
  const seen: string[] = [];
  try {
    await spy.psubscribe("MOL*");
    spy.on(
      "pmessage",
      (_p: string, channel: string, text: string) => seen.push(`${channel} ${text}`),
    );
    const t = new RedisTransporter(server.url);
    await t.connect(new RecordingHost("n1", "dev"));
    await t.publish("INFO", undefined, bytes("a"));
    await t.publish("REQ", "n2", bytes("b"));
    await t.disconnect();
    const u = new RedisTransporter({ port: server.port });
    await u.connect(new RecordingHost("n1"));
    await u.publish("HEARTBEAT", undefined, bytes("c"));
    await u.disconnect();
    const deadline = Date.now() + 3_000;
    while (seen.length < 3 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.deepEqual(seen, [
      "MOL-dev.INFO a",
      "MOL-dev.REQ.n2 b",
      "MOL.HEARTBEAT c",
    ]);
  } finally {
    spy.disconnect();
  }
});

Deno.test("Redis: a lost server is reported, channels come back before onReconnect", async () => {
  await using server = await startRedisServer();
  const t = new RedisTransporter(server.url);
  const host = new RecordingHost("n1");
  const other = new RedisTransporter(server.url);
  try {
    await t.connect(host);
    await t.subscribe("EVENT", "n1");
    await server.kill();
    await host.until("disconnect");
    assert.equal(t.connected, false);
    await assert.rejects(
      t.publish("EVENT", "n1", bytes("lost")),
      BrokerDisconnectedError,
    );
    await server.restart();
    await host.until("reconnect");
    await other.connect(new RecordingHost("n2"));
    await other.publish("EVENT", "n1", bytes("after"));
    await host.waitFor(1);
    assert.deepEqual(host.lines, ["EVENT after"]);
  } finally {
    await other.disconnect();
    await t.disconnect();
  }
});

Deno.test("Redis outage: Deno caller → Deno responder, kill + restart after 3 s", async () => {
  await using server = await startRedisServer();
  await using _responder = await startNode(
    server.url,
    "deno-resp",
    [slowMath],
    {
      heartbeatTimeout: 5,
    },
  );
  await using caller = await startNode(server.url, "caller", [], {
    heartbeatTimeout: 5,
  });
  await caller.broker.waitForServices("nodemath", 3000, 10);
  await outage(server, caller, "deno-resp");
});
