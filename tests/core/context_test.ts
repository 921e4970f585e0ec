import assert from "node:assert/strict";
import {
  Context,
  MaxCallLevelError,
  RequestSkippedError,
  RequestTimeoutError,
  ServiceBroker,
} from "../../mod.ts";
import { clusterOptions, collector, memoryBus, scoped, startCluster } from "../_helpers/core.ts";

Deno.test("new Context() has Moleculer's defaults", () => {
  const broker = new ServiceBroker({ nodeID: "ctx-node", logger: false });
  const ctx = new Context(broker);
  assert.equal(typeof ctx.id, "string");
  assert.ok(ctx.id.length > 8);
  assert.equal(ctx.broker, broker);
  assert.equal(ctx.nodeID, "ctx-node");
  assert.deepEqual(ctx.params, {});
  assert.deepEqual(ctx.meta, {});
  assert.deepEqual(ctx.headers, {});
  assert.deepEqual(ctx.responseHeaders, {});
  assert.deepEqual(ctx.locals, {});
  assert.equal(ctx.level, 1);
  assert.equal(ctx.parentID, null);
  assert.equal(ctx.requestID, ctx.id, "a root context is its own request");
  assert.equal(ctx.caller, null);
  assert.equal(ctx.timeout, null);
  assert.equal(ctx.service, null);
  assert.equal(ctx.action, null);
  assert.equal(ctx.event, null);
  assert.equal(ctx.eventName, null);
  assert.equal(ctx.eventType, null);
  assert.equal(ctx.eventGroups, null);
  assert.equal(ctx.remainingTime(), null);
  assert.notEqual(new Context(broker).id, ctx.id);
});

Deno.test("new Context() keeps the given fields", () => {
  const broker = new ServiceBroker({ nodeID: "n", logger: false });
  const ctx = new Context(broker, {
    id: "c1",
    nodeID: "other",
    params: { a: 1 },
    meta: { m: 1 },
    headers: { h: 1 },
    level: 3,
    parentID: "p1",
    requestID: "r1",
    caller: "v2.caller",
    timeout: 100,
    eventName: "x.y",
    eventType: "emit",
    eventGroups: ["g"],
  });
  assert.equal(ctx.id, "c1");
  assert.equal(ctx.nodeID, "other");
  assert.deepEqual(ctx.params, { a: 1 });
  assert.deepEqual(ctx.meta, { m: 1 });
  assert.deepEqual(ctx.headers, { h: 1 });
  assert.equal(ctx.level, 3);
  assert.equal(ctx.parentID, "p1");
  assert.equal(ctx.requestID, "r1");
  assert.equal(ctx.caller, "v2.caller");
  assert.equal(ctx.timeout, 100);
  const left = ctx.remainingTime()!;
  assert.ok(left > 0 && left <= 100);
  assert.equal(ctx.eventName, "x.y");
  assert.equal(ctx.eventType, "emit");
  assert.deepEqual(ctx.eventGroups, ["g"]);
});

Deno.test("an action context names its service, action and node", async () => {
  await using broker = scoped({ nodeID: "n1" });
  let seen: Context | undefined;
  broker.createService({
    name: "greeter",
    version: 2,
    actions: {
      hello: {
        timeout: 300,
        handler(ctx: Context) {
          seen = ctx;
          ctx.locals.scratch = 1;
        },
      },
    },
  });
  await broker.start();
  await broker.call("v2.greeter.hello", { name: "x" });
  assert.ok(seen);
  assert.equal(seen.service?.fullName, "v2.greeter");
  assert.equal(seen.action?.name, "v2.greeter.hello");
  assert.equal(seen.action?.rawName, "hello");
  assert.equal(seen.action?.timeout, 300);
  assert.equal(seen.timeout, 300);
  assert.equal(seen.nodeID, "n1");
  assert.deepEqual(seen.params, { name: "x" });
  assert.deepEqual(seen.locals, { scratch: 1 });
  assert.equal(seen.eventName, null);
});

Deno.test("ctx.call() propagates lineage and merges meta back into the caller", async () => {
  await using broker = scoped({ nodeID: "n1" });
  const seen: Record<string, Context> = {};
  broker.createService({
    name: "leaf",
    actions: {
      get(ctx: Context) {
        seen.leaf = ctx;
        const received = { ...ctx.meta };
        ctx.meta.fromLeaf = true;
        return { meta: received };
      },
    },
  });
  broker.createService({
    name: "mid",
    actions: {
      async run(ctx: Context) {
        seen.mid = ctx;
        const res = await ctx.call<{ meta: unknown }>("leaf.get", { q: 1 }, {
          meta: { added: 1 },
        });
        return { leafSaw: res.meta, after: { ...ctx.meta } };
      },
    },
  });
  await broker.start();
  const meta: Record<string, unknown> = { user: "u" };
  const res = await broker.call<{ leafSaw: unknown; after: unknown }>(
    "mid.run",
    {},
    { meta },
  );
  assert.deepEqual(res.leafSaw, { user: "u", added: 1 });
  assert.deepEqual(res.after, { user: "u", added: 1, fromLeaf: true });
  assert.deepEqual(meta, { user: "u", added: 1, fromLeaf: true });
  const { mid, leaf } = seen;
  assert.ok(mid && leaf);
  assert.equal(leaf.level, mid.level + 1);
  assert.equal(leaf.parentID, mid.id);
  assert.equal(leaf.requestID, mid.requestID);
  assert.equal(leaf.requestID, mid.id);
  assert.equal(leaf.caller, "mid");
  assert.notEqual(leaf.id, mid.id);
  assert.notEqual(leaf.meta, mid.meta, "the child gets its own meta object");
});

Deno.test("ctx.call() merges the callee's meta back also when it fails", async () => {
  await using broker = scoped();
  broker.createService({
    name: "leaf",
    actions: {
      fail(ctx: Context) {
        ctx.meta.reason = "bad input";
        throw new Error("failed");
      },
      async failLater(ctx: Context) {
        await Promise.resolve();
        ctx.meta.late = true;
        throw new Error("failed later");
      },
    },
  });
  broker.createService({
    name: "mid",
    actions: {
      async run(ctx: Context) {
        await ctx.call("leaf.fail").catch(() => {});
        await ctx.call("leaf.failLater").catch(() => {});
        return { ...ctx.meta };
      },
    },
  });
  await broker.start();
  assert.deepEqual(await broker.call("mid.run"), {
    reason: "bad input",
    late: true,
  });
});

Deno.test("ctx.call() gives the child at most the parent's remaining time", async () => {
  await using broker = scoped();
  const timeouts: Array<number | null> = [];
  broker.createService({
    name: "leaf",
    actions: {
      get: (ctx: Context) => timeouts.push(ctx.timeout),
      long: {
        timeout: 5000,
        handler: (ctx: Context) => timeouts.push(ctx.timeout),
      },
    },
  });
  broker.createService({
    name: "mid",
    actions: {
      async run(ctx: Context) {
        await ctx.call("leaf.get");
        await ctx.call("leaf.long");
        await ctx.call("leaf.get", {}, { timeout: 10 });
      },
    },
  });
  await broker.start();
  await broker.call("mid.run", {}, { timeout: 100 });
  assert.equal(timeouts.length, 3);
  const [inherited, capped, own] = timeouts as number[];
  assert.ok(inherited! > 0 && inherited! <= 100, `inherited ${inherited}`);
  assert.ok(
    capped! > 0 && capped! <= 100,
    `an action timeout cannot extend it: ${capped}`,
  );
  assert.equal(own, 10, "a shorter timeout of the child call wins");
  // without a parent timeout the child has none either
  timeouts.length = 0;
  await broker.call("mid.run");
  assert.deepEqual(timeouts.slice(0, 1), [null]);
});

Deno.test("ctx.call() from an exhausted context rejects with RequestSkippedError", async () => {
  await using broker = scoped({ nodeID: "n1" });
  let called = false;
  broker.createService({
    name: "leaf",
    actions: { get: () => (called = true) },
  });
  await broker.start();
  const ctx = new Context(broker, { timeout: 50 });
  ctx.startTime = Date.now() - 60;
  const err = await ctx.call("leaf.get").catch((e) => e);
  assert.ok(err instanceof RequestSkippedError, String(err));
  assert.equal(err.code, 514);
  assert.equal(err.type, "REQUEST_SKIPPED");
  assert.deepEqual(err.data, { action: "leaf.get", nodeID: "n1" });
  assert.equal(called, false);
});

Deno.test("a child call times out with the parent's remaining time", async () => {
  await using broker = scoped();
  let release!: () => void;
  const hold = new Promise<void>((r) => release = r);
  broker.createService({ name: "leaf", actions: { slow: () => hold } });
  const ctx = new Context(broker, { timeout: 40 });
  ctx.startTime = Date.now() - 30; // 10 ms left
  await broker.start();
  try {
    const t0 = Date.now();
    await assert.rejects(ctx.call("leaf.slow"), RequestTimeoutError);
    assert.ok(Date.now() - t0 < 1000);
  } finally {
    release();
  }
});

Deno.test("maxCallLevel: a call past it rejects with MaxCallLevelError", async () => {
  await using broker = scoped({ nodeID: "deep", maxCallLevel: 3 });
  const levels: number[] = [];
  broker.createService({
    name: "rec",
    actions: {
      async down(ctx: Context) {
        levels.push(ctx.level);
        return await ctx.call("rec.down");
      },
    },
  });
  await broker.start();
  const err = await broker.call("rec.down").catch((e) => e);
  assert.ok(err instanceof MaxCallLevelError, String(err));
  assert.equal(err.code, 500);
  assert.equal(err.type, "MAX_CALL_LEVEL");
  assert.deepEqual(err.data, { nodeID: "deep", level: 4 });
  assert.deepEqual(levels, [1, 2, 3]);
});

Deno.test("ctx.emit() and ctx.broadcast() carry meta and lineage to event handlers", async () => {
  await using broker = scoped({ nodeID: "n1" });
  const events = collector<Context>(2);
  let parent: Context | undefined;
  broker.createService({
    name: "listener",
    events: { "thing.*": (ctx: Context) => events.push(ctx) },
  });
  broker.createService({
    name: "src",
    actions: {
      async go(ctx: Context) {
        parent = ctx;
        await ctx.emit("thing.emitted", { a: 1 });
        await ctx.broadcast("thing.broadcast", { b: 2 }, {
          meta: { extra: true },
        });
      },
    },
  });
  await broker.start();
  await broker.call("src.go", {}, { meta: { user: "u" } });
  const [e, b] = await events.done;
  assert.ok(parent && e && b);
  assert.deepEqual(e.meta, { user: "u" });
  assert.deepEqual(b.meta, { user: "u", extra: true });
  for (const c of [e, b]) {
    assert.equal(c.level, 2);
    assert.equal(c.parentID, parent.id);
    assert.equal(c.requestID, parent.requestID);
    assert.equal(c.caller, "src");
    assert.equal(c.service?.name, "listener");
  }
  assert.equal(e.eventType, "emit");
  assert.equal(b.eventType, "broadcast");
  assert.deepEqual(e.params, { a: 1 });
  assert.equal(e.eventName, "thing.emitted");
});

Deno.test("ctx.call() across nodes: lineage travels, meta comes back", async () => {
  const bus = memoryBus();
  const a = new ServiceBroker(clusterOptions("a", bus));
  const b = new ServiceBroker(clusterOptions("b", bus));
  let leaf: Context | undefined;
  let mid: Context | undefined;
  b.createService({
    name: "leaf",
    actions: {
      get(ctx: Context) {
        leaf = ctx;
        ctx.meta.fromB = "yes";
        return ctx.headers;
      },
      fail(ctx: Context) {
        ctx.meta.failedOnB = true;
        throw new Error("remote boom");
      },
    },
  });
  a.createService({
    name: "mid",
    actions: {
      async run(ctx: Context) {
        mid = ctx;
        const headers = await ctx.call("leaf.get", {}, { headers: { h: 1 } });
        await ctx.call("leaf.fail").catch(() => {});
        return { headers, meta: { ...ctx.meta } };
      },
    },
  });
  try {
    await startCluster([a, b], ["leaf", "mid"]);
    const res = await a.call<{ headers: unknown; meta: unknown }>(
      "mid.run",
      {},
      {
        meta: { user: 1 },
        timeout: 2000,
      },
    );
    assert.deepEqual(res.headers, { h: 1 });
    assert.deepEqual(res.meta, { user: 1, fromB: "yes", failedOnB: true });
    assert.ok(leaf && mid);
    assert.equal(
      leaf.nodeID,
      "a",
      "a remote request's nodeID is the caller's node",
    );
    assert.equal(leaf.level, 2);
    assert.equal(leaf.parentID, mid.id);
    assert.equal(leaf.requestID, mid.requestID);
    assert.equal(leaf.caller, "mid");
    assert.ok(leaf.timeout! > 0 && leaf.timeout! <= 2000);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});
