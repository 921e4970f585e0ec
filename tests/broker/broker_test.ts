import assert from "node:assert/strict";
import * as os from "node:os";
import {
  Broker,
  BrokerOptionsError,
  type Context,
  Middleware,
  MoleculerError,
  RequestTimeoutError,
  type Service,
  ServiceBroker,
  ServiceNotFoundError,
  ServiceSchemaError,
} from "../../mod.ts";
import {
  captureLogs,
  clusterOptions,
  collector,
  deferred,
  memoryBus,
  scoped,
  startCluster,
} from "../_helpers/core.ts";

// ------------------------------------------------------------------ construction

Deno.test("new ServiceBroker('my-node') is a shorthand for { nodeID }", () => {
  const broker = new ServiceBroker("my-node");
  assert.equal(broker.nodeID, "my-node");
  assert.equal(broker.options.nodeID, "my-node");
  assert.equal(broker.started, false);
});

Deno.test("the default nodeID is <hostname>-<pid>", () => {
  const broker = new ServiceBroker({ logger: false });
  assert.equal(broker.nodeID, `${os.hostname().toLowerCase()}-${Deno.pid}`);
});

Deno.test("new ServiceBroker() rejects bad options with BrokerOptionsError naming them", () => {
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ nodeId: "x" }, "nodeId"],
    [{ nodeID: "has space" }, "nodeID"],
    [{ nodeID: "a.b" }, "nodeID"],
    [{ requestTimeout: -1 }, "requestTimeout"],
    [{ protocolVersion: "6" }, "protocolVersion"],
  ];
  for (const [options, option] of cases) {
    assert.throws(
      () => new ServiceBroker({ logger: false, ...options }),
      (err: unknown) =>
        err instanceof BrokerOptionsError &&
        err.message.includes(`'${option}'`),
      option,
    );
  }
});

Deno.test("Broker is an alias of ServiceBroker", () => {
  assert.equal(Broker, ServiceBroker);
  assert.ok(
    new Broker({ nodeID: "alias", logger: false }) instanceof ServiceBroker,
  );
});

Deno.test("each broker gets a fresh instanceID", () => {
  const a = new ServiceBroker({ nodeID: "a", logger: false });
  const b = new ServiceBroker({ nodeID: "a", logger: false });
  assert.notEqual(a.instanceID, b.instanceID);
  assert.match(a.instanceID, /^[0-9a-f-]{36}$/);
});

// ------------------------------------------------------------------ services

Deno.test("register() / createService() / getLocalService() / destroyService()", async () => {
  await using broker = scoped({ nodeID: "svc" });
  const stopped: string[] = [];
  const math = await broker.register({
    name: "math",
    actions: {
      add: (ctx: Context<{ a: number; b: number }>) => ctx.params.a + ctx.params.b,
    },
    stopped() {
      stopped.push("math");
    },
  });
  const posts = broker.createService({
    name: "posts",
    version: 2,
    actions: { list: () => ["p1"] },
  });
  assert.equal(math.fullName, "math");
  assert.equal(posts.fullName, "v2.posts");
  assert.equal(broker.getLocalService("math"), math);
  assert.equal(broker.getLocalService("v2.posts"), posts);
  assert.equal(broker.getLocalService({ name: "posts", version: 2 }), posts);
  assert.equal(broker.getLocalService("posts"), undefined);
  assert.deepEqual(broker.services.map((s) => s.fullName).sort(), [
    "$node",
    "math",
    "v2.posts",
  ]);

  await broker.start();
  assert.equal(await broker.call("math.add", { a: 1, b: 2 }), 3);
  assert.deepEqual(await broker.call("v2.posts.list"), ["p1"]);

  await broker.destroyService("math");
  assert.deepEqual(stopped, ["math"]);
  assert.equal(broker.getLocalService("math"), undefined);
  await assert.rejects(
    broker.call("math.add", { a: 1, b: 2 }),
    ServiceNotFoundError,
  );
  await broker.destroyService(posts);
  await assert.rejects(broker.call("v2.posts.list"), ServiceNotFoundError);
  await assert.rejects(broker.destroyService("nope"), ServiceNotFoundError);
});

Deno.test("registering a second service with the same full name fails", async () => {
  await using broker = scoped();
  await broker.register({ name: "dup" });
  await assert.rejects(broker.register({ name: "dup" }), ServiceSchemaError);
  assert.throws(
    () => broker.createService({ name: "dup" }),
    ServiceSchemaError,
  );
  await broker.register({ name: "dup", version: 1 });
});

Deno.test("a service registered after start() is started and callable", async () => {
  await using broker = scoped();
  await broker.start();
  const started: string[] = [];
  await broker.register({
    name: "late",
    started() {
      started.push("late");
    },
    actions: { ping: () => "pong" },
  });
  assert.deepEqual(started, ["late"]);
  assert.equal(await broker.call("late.ping"), "pong");
  // createService() after start: started in the background
  broker.createService({ name: "later", actions: { ping: () => "pong2" } });
  await broker.waitForServices("later", 1000, 1);
  assert.equal(await broker.call("later.ping"), "pong2");
});

Deno.test("a private action is not callable through the broker, but this.actions works", async () => {
  await using broker = scoped();
  await broker.register({
    name: "vault",
    actions: {
      secret: { visibility: "private", handler: () => 42 },
      open(this: Service) {
        return this.actions.secret!();
      },
    },
  });
  await broker.start();
  await assert.rejects(broker.call("vault.secret"), ServiceNotFoundError);
  assert.equal(await broker.call("vault.open"), 42);
});

Deno.test("a protected action is callable locally", async () => {
  await using broker = scoped();
  await broker.register({
    name: "guard",
    actions: { inner: { visibility: "protected", handler: () => "in" } },
  });
  await broker.start();
  assert.equal(await broker.call("guard.inner"), "in");
});

// ------------------------------------------------------------------ lifecycle

Deno.test("start() and stop() are idempotent: the same promise each time", async () => {
  const broker = new ServiceBroker({ logger: false });
  const s1 = broker.start();
  const s2 = broker.start();
  assert.equal(s1, s2);
  await s1;
  assert.equal(broker.started, true);
  const t1 = broker.stop();
  assert.equal(broker.stop(), t1);
  await t1;
  assert.equal(broker.started, false);
  assert.equal(broker.stop(), t1);
  await assert.rejects(broker.start(), MoleculerError);
});

Deno.test("stop() before start() works and the broker cannot start afterwards", async () => {
  const broker = new ServiceBroker({ logger: false });
  await broker.stop();
  await assert.rejects(broker.start(), /cannot start again/);
});

Deno.test("lifecycle order: service, middleware hooks, $broker events", async () => {
  const order: string[] = [];
  const mine = (s: Service) => s.name === "svc";
  class First extends Middleware {
    brokerCreated() {
      order.push("mw1.brokerCreated");
    }
    serviceCreated(s: Service) {
      if (mine(s)) order.push("mw1.serviceCreated");
    }
    serviceStarted(s: Service) {
      if (mine(s)) order.push("mw1.serviceStarted");
    }
    async brokerStarted() {
      await Promise.resolve();
      order.push("mw1.brokerStarted");
    }
    serviceStopped(s: Service) {
      if (mine(s)) order.push("mw1.serviceStopped");
    }
    brokerStopped() {
      order.push("mw1.brokerStopped");
    }
  }
  const second = {
    name: "second",
    // Moleculer's names for the broker hooks
    created: () => order.push("mw2.created"),
    serviceCreated: (s: Service) => mine(s) && order.push("mw2.serviceCreated"),
    serviceStarted: (s: Service) => mine(s) && order.push("mw2.serviceStarted"),
    started: () => order.push("mw2.started"),
    serviceStopped: async (s: Service) => {
      await Promise.resolve();
      if (mine(s)) order.push("mw2.serviceStopped");
    },
    stopped: () => order.push("mw2.stopped"),
  };
  const broker = new ServiceBroker({
    logger: false,
    middlewares: [new First(), second],
  });
  broker.createService({
    name: "svc",
    async created() {
      // an async `created` must still finish before `started`
      await new Promise((r) => setTimeout(r, 5));
      order.push("svc.created");
    },
    async started() {
      await Promise.resolve();
      order.push("svc.started");
    },
    stopped() {
      order.push("svc.stopped");
    },
    events: {
      "$broker.started": () => order.push("$broker.started"),
      "$broker.stopped": () => order.push("$broker.stopped"),
    },
  });
  await broker.start();
  order.push("start() resolved");
  await broker.stop();
  order.push("stop() resolved");
  assert.deepEqual(order, [
    "mw1.brokerCreated",
    "mw2.created",
    "svc.created",
    "mw1.serviceCreated",
    "mw2.serviceCreated",
    "svc.started",
    "mw1.serviceStarted",
    "mw2.serviceStarted",
    "mw1.brokerStarted",
    "mw2.started",
    "$broker.started",
    "start() resolved",
    "$broker.stopped",
    "svc.stopped",
    // stop hooks run last-registered first, as in Moleculer
    "mw2.serviceStopped",
    "mw1.serviceStopped",
    "mw2.stopped",
    "mw1.brokerStopped",
    "stop() resolved",
  ]);
});

Deno.test("register() waits for an async created() and started() of a late service", async () => {
  await using broker = scoped();
  await broker.start();
  const order: string[] = [];
  await broker.register({
    name: "slow",
    async created() {
      await new Promise((r) => setTimeout(r, 2));
      order.push("created");
    },
    async started() {
      await new Promise((r) => setTimeout(r, 2));
      order.push("started");
    },
  });
  order.push("registered");
  assert.deepEqual(order, ["created", "started", "registered"]);
});

Deno.test("register() fails and forgets the service when created() throws", async () => {
  await using broker = scoped();
  await assert.rejects(
    broker.register({
      name: "broken",
      created() {
        throw new Error("no db");
      },
    }),
    /no db/,
  );
  assert.equal(broker.getLocalService("broken"), undefined);
  await broker.start();
});

Deno.test("start() fails when a service's started() throws", async () => {
  const broker = new ServiceBroker({ logger: false });
  broker.createService({
    name: "bad",
    started() {
      throw new Error("cannot start");
    },
  });
  await assert.rejects(broker.start(), /cannot start/);
  await broker.stop();
});

// ------------------------------------------------------------------ calls

Deno.test("call() resolves with the handler's value, sync or async", async () => {
  await using broker = scoped();
  broker.createService({
    name: "m",
    actions: {
      sync: () => 1,
      async: async () => {
        await Promise.resolve();
        return 2;
      },
      nothing: () => {},
    },
  });
  await broker.start();
  assert.equal(await broker.call("m.sync"), 1);
  assert.equal(await broker.call("m.async"), 2);
  assert.equal(await broker.call("m.nothing"), undefined);
});

Deno.test("call() of an unknown action rejects with ServiceNotFoundError", async () => {
  await using broker = scoped({ nodeID: "nf" });
  await broker.start();
  const err = await broker.call("no.such").catch((e) => e);
  assert.ok(err instanceof ServiceNotFoundError);
  assert.equal(err.code, 404);
  assert.equal(err.type, "SERVICE_NOT_FOUND");
  assert.deepEqual(err.data, { action: "no.such" });
  assert.match(err.message, /no\.such/);
  const err2 = await broker.call("$node.list", {}, { nodeID: "other" }).catch((
    e,
  ) => e);
  assert.ok(err2 instanceof ServiceNotFoundError);
  assert.equal((err2.data as Record<string, unknown>).nodeID, "other");
});

Deno.test("call() with { timeout } rejects with RequestTimeoutError", async () => {
  await using broker = scoped({ nodeID: "to" });
  const release = deferred();
  broker.createService({
    name: "slow",
    actions: { run: () => release.promise.then(() => "late") },
  });
  await broker.start();
  try {
    const err = await broker.call("slow.run", {}, { timeout: 10 }).catch((e) => e);
    assert.ok(err instanceof RequestTimeoutError, String(err));
    assert.equal(err.code, 504);
    assert.deepEqual(err.data, { action: "slow.run", nodeID: "to" });
  } finally {
    release.resolve();
  }
  // a fast call with a timeout leaves no timer behind
  release.resolve();
  assert.equal(await broker.call("slow.run", {}, { timeout: 1000 }), "late");
});

Deno.test("call() uses the action's timeout, then requestTimeout", async () => {
  await using broker = scoped({ requestTimeout: 15 });
  const seen: Array<number | null> = [];
  broker.createService({
    name: "t",
    actions: {
      own: { timeout: 500, handler: (ctx: Context) => seen.push(ctx.timeout) },
      dflt: (ctx: Context) => seen.push(ctx.timeout),
    },
  });
  await broker.start();
  await broker.call("t.own");
  await broker.call("t.dflt");
  await broker.call("t.dflt", {}, { timeout: 0 });
  await broker.call("t.own", {}, { timeout: 50 });
  assert.deepEqual(seen, [500, 15, null, 50]);
});

Deno.test("call() passes meta and headers, and merges callee meta back into opts.meta", async () => {
  await using broker = scoped();
  broker.createService({
    name: "m",
    actions: {
      echo(ctx: Context) {
        ctx.meta.seen = true;
        return { meta: { ...ctx.meta }, headers: ctx.headers };
      },
      fail(ctx: Context) {
        ctx.meta.failedAt = "m.fail";
        throw new Error("boom");
      },
    },
  });
  await broker.start();
  const meta: Record<string, unknown> = { user: 7 };
  const res = await broker.call<{ meta: unknown; headers: unknown }>(
    "m.echo",
    {},
    {
      meta,
      headers: { "x-trace": "t1" },
    },
  );
  assert.deepEqual(res.meta, { user: 7, seen: true });
  assert.deepEqual(res.headers, { "x-trace": "t1" });
  assert.deepEqual(meta, { user: 7, seen: true });
  const meta2: Record<string, unknown> = {};
  await assert.rejects(broker.call("m.fail", {}, { meta: meta2 }), /boom/);
  assert.deepEqual(meta2, { failedAt: "m.fail" });
});

Deno.test("call() with { parentCtx } chains level, parentID, requestID, caller and meta", async () => {
  await using broker = scoped({ nodeID: "p" });
  let child: Context | undefined;
  let parent: Context | undefined;
  broker.createService({
    name: "inner",
    actions: {
      get(ctx: Context) {
        child = ctx;
        ctx.meta.fromChild = 1;
        return "ok";
      },
    },
  });
  broker.createService({
    name: "outer",
    actions: {
      async run(ctx: Context) {
        parent = ctx;
        return await broker.call("inner.get", { x: 1 }, {
          parentCtx: ctx,
          meta: { extra: 2 },
        });
      },
    },
  });
  await broker.start();
  assert.equal(
    await broker.call("outer.run", {}, { meta: { root: true } }),
    "ok",
  );
  assert.ok(parent && child);
  assert.equal(parent.level, 1);
  assert.equal(parent.parentID, null);
  assert.equal(parent.requestID, parent.id);
  assert.equal(child.level, 2);
  assert.equal(child.parentID, parent.id);
  assert.equal(child.requestID, parent.id);
  assert.equal(child.caller, "outer");
  assert.deepEqual(child.params, { x: 1 });
  assert.deepEqual(parent.meta, { root: true, extra: 2, fromChild: 1 });
});

Deno.test("call() keeps the class of a local error", async () => {
  class CustomError extends Error {}
  await using broker = scoped();
  broker.createService({
    name: "e",
    actions: {
      custom: () => {
        throw new CustomError("mine");
      },
      async asyncErr() {
        await Promise.resolve();
        throw new MoleculerError("server", 503, "X_DOWN", { a: 1 });
      },
      notFound: () => {
        throw new ServiceNotFoundError({ action: "x" });
      },
    },
  });
  await broker.start();
  await assert.rejects(
    broker.call("e.custom"),
    (err) => err instanceof CustomError,
  );
  await assert.rejects(broker.call("e.asyncErr"), (err: unknown) => {
    assert.ok(err instanceof MoleculerError);
    assert.equal(err.code, 503);
    assert.equal(err.type, "X_DOWN");
    return true;
  });
  await assert.rejects(broker.call("e.notFound"), ServiceNotFoundError);
});

// ------------------------------------------------------------------ events

function eventBroker(log: string[]) {
  const broker = scoped({ nodeID: "ev" });
  const rec = (tag: string) => (ctx: Context) => {
    log.push(`${tag}:${ctx.eventName}:${JSON.stringify(ctx.params)}`);
  };
  broker.createService({ name: "a", events: { "user.created": rec("a") } });
  // a second subscription of service `b`, in group `a`, under a wildcard name
  broker.createService({
    name: "b",
    events: {
      "user.created": rec("b"),
      "user.*": { group: "a", handler: rec("b*") },
    },
  });
  return broker;
}

Deno.test("emit() delivers to one handler per group", async () => {
  const log: string[] = [];
  await using broker = eventBroker(log);
  await broker.start();
  await broker.emit("user.created", { id: 1 });
  // one delivery per subscription list (name × group), as in Moleculer: `user.created`
  // in groups a and b, and `user.*` in group a
  assert.equal(log.length, 3);
  assert.ok(log.includes('b:user.created:{"id":1}'));
  log.length = 0;
  for (let i = 0; i < 4; i++) await broker.emit("user.created", i);
  assert.equal(log.filter((l) => l.startsWith("b:")).length, 4);
  assert.equal(log.filter((l) => l.startsWith("a:")).length, 4);
  assert.equal(log.filter((l) => l.startsWith("b*:")).length, 4);
});

Deno.test({
  name: "two local services in one event group: emit balances, broadcast reaches both",
  fn: async () => {
    await using broker = scoped();
    const log: string[] = [];
    broker.createService({ name: "a", events: { "e.x": () => log.push("a") } });
    broker.createService({
      name: "a2",
      events: { "e.x": { group: "a", handler: () => log.push("a2") } },
    });
    await broker.start();
    for (let i = 0; i < 4; i++) await broker.emit("e.x");
    assert.deepEqual(log.sort(), ["a", "a", "a2", "a2"]);
    log.length = 0;
    await broker.broadcast("e.x");
    assert.deepEqual(log.sort(), ["a", "a2"]);
  },
});

Deno.test("emit() with { groups } reaches only those groups", async () => {
  const log: string[] = [];
  await using broker = eventBroker(log);
  await broker.start();
  await broker.emit("user.created", 1, { groups: "b" });
  assert.deepEqual(log, ["b:user.created:1"]);
  log.length = 0;
  await broker.emit("user.created", 2, { groups: ["a", "b"] });
  assert.deepEqual(log.sort(), [
    "a:user.created:2",
    "b*:user.created:2",
    "b:user.created:2",
  ]);
  log.length = 0;
  await broker.emit("user.created", 3, { groups: ["nobody"] });
  assert.deepEqual(log, []);
});

Deno.test("emit() of an event nobody listens to resolves quietly", async () => {
  await using broker = scoped();
  await broker.start();
  await broker.emit("nobody.listens", {});
  await broker.broadcast("nobody.listens", {});
  await broker.broadcastLocal("nobody.listens", {});
});

Deno.test("broadcast() and broadcastLocal() reach every handler, filtered by groups", async () => {
  const log: string[] = [];
  await using broker = eventBroker(log);
  await broker.start();
  await broker.broadcast("user.created", "x");
  assert.deepEqual(log.sort(), [
    'a:user.created:"x"',
    'b*:user.created:"x"',
    'b:user.created:"x"',
  ]);
  log.length = 0;
  await broker.broadcast("user.created", "y", { groups: ["a"] });
  assert.deepEqual(log.sort(), ['a:user.created:"y"', 'b*:user.created:"y"']);
  log.length = 0;
  await broker.broadcastLocal("user.created", "z");
  assert.equal(log.length, 3);
  log.length = 0;
  await broker.broadcastLocal("user.created", "w", { groups: "b" });
  assert.deepEqual(log, ['b:user.created:"w"']);
});

Deno.test("event contexts carry meta, eventName, eventType and eventGroups", async () => {
  await using broker = scoped({ nodeID: "evc" });
  const seen = collector<Context>(3);
  broker.createService({
    name: "l",
    events: {
      "order.*": { group: "g1", handler: (ctx: Context) => seen.push(ctx) },
    },
  });
  await broker.start();
  await broker.emit("order.paid", { n: 1 }, { meta: { user: 1 } });
  await broker.broadcast("order.sent", { n: 2 }, {
    meta: { user: 2 },
    groups: ["g1"],
  });
  await broker.broadcastLocal("order.lost", { n: 3 }, { meta: { user: 3 } });
  const [e, b, l] = await seen.done;
  assert.deepEqual(
    [e, b, l].map((
      c,
    ) => [c!.eventName, c!.eventType, c!.eventGroups, c!.meta, c!.params]),
    [
      ["order.paid", "emit", ["g1"], { user: 1 }, { n: 1 }],
      ["order.sent", "broadcast", ["g1"], { user: 2 }, { n: 2 }],
      ["order.lost", "broadcastLocal", null, { user: 3 }, { n: 3 }],
    ],
  );
  assert.equal(e!.event?.name, "order.*");
  assert.equal(e!.event?.group, "g1");
  assert.equal(e!.service?.name, "l");
  assert.equal(e!.nodeID, "evc");
  assert.equal(e!.level, 1);
});

Deno.test("wildcard subscriptions: *, ** and ? follow Moleculer's rules", async () => {
  await using broker = scoped();
  const got: Record<string, string[]> = {
    one: [],
    all: [],
    deep: [],
    q: [],
    root: [],
  };
  const on = (k: string) => (ctx: Context) => {
    if (!ctx.eventName!.startsWith("$")) got[k]!.push(ctx.eventName!);
  };
  broker.createService({
    name: "w",
    events: {
      "user.*": { group: "one", handler: on("one") },
      "**": { group: "all", handler: on("all") },
      "user.**": { group: "deep", handler: on("deep") },
      "user.?pdated": { group: "q", handler: on("q") },
      "*": { group: "root", handler: on("root") },
    },
  });
  await broker.start();
  for (
    const name of [
      "user.created",
      "user.updated",
      "user.a.b",
      "userx",
      "order.paid",
    ]
  ) {
    await broker.emit(name);
  }
  assert.deepEqual(got, {
    one: ["user.created", "user.updated"],
    all: ["user.created", "user.updated", "user.a.b", "userx", "order.paid"],
    deep: ["user.created", "user.updated", "user.a.b"],
    q: ["user.updated"],
    root: ["userx"],
  });
});

Deno.test("an event handler's error is logged, not thrown to the emitter", async () => {
  const logs = captureLogs();
  await using broker = scoped({ logger: logs.sink });
  broker.createService({
    name: "bad",
    events: {
      "x.sync": () => {
        throw new Error("sync fail");
      },
      "x.async": async () => {
        await Promise.resolve();
        throw new Error("async fail");
      },
    },
  });
  await broker.start();
  await broker.emit("x.sync");
  await broker.broadcast("x.async");
  const errors = logs.entries.filter((e) => e.level === "error").map((e) => e.message);
  assert.equal(errors.length, 2);
  assert.ok(errors.every((m) => m.includes("'bad'")));
});

Deno.test("emit() and broadcast() across nodes: one event per group, all nodes", async () => {
  const bus = memoryBus();
  const a = new ServiceBroker(clusterOptions("a", bus));
  const b = new ServiceBroker(clusterOptions("b", bus));
  const c = new ServiceBroker(clusterOptions("c", bus));
  const got: string[] = [];
  const all = collector<string>(4);
  for (const node of [b, c]) {
    node.createService({
      name: "listener",
      events: {
        "job.*"(ctx: Context) {
          const tag = `${node.nodeID}:${ctx.eventType}:${ctx.eventName}:${ctx.meta.m}`;
          got.push(tag);
          all.push(tag);
        },
      },
    });
  }
  try {
    await startCluster([a, b, c], ["listener"]);
    await a.emit("job.done", 1, { meta: { m: 1 } });
    await a.emit("job.done", 2, { meta: { m: 2 } });
    await a.broadcast("job.new", 3, { meta: { m: 3 } });
    // the two emits went to one node each (round-robin), the broadcast to both
    await all.done;
    assert.equal(got.length, 4);
    assert.deepEqual(
      got.filter((g) => g.includes(":emit:")).map((g) => g.split(":")[0])
        .sort(),
      ["b", "c"],
    );
    assert.deepEqual(got.filter((g) => g.includes(":broadcast:")).sort(), [
      "b:broadcast:job.new:3",
      "c:broadcast:job.new:3",
    ]);
  } finally {
    await Promise.all([a.stop(), b.stop(), c.stop()]);
  }
});

// ------------------------------------------------------------------ waiting

Deno.test("waitForServices() resolves once the services are there", async () => {
  await using broker = scoped();
  await broker.start();
  const waiting = broker.waitForServices(
    ["late", { name: "v", version: 2 }],
    2000,
    1,
  );
  broker.createService({ name: "late" });
  broker.createService({ name: "v", version: 2 });
  await waiting;
  await broker.waitForServices("$node");
});

Deno.test("waitForServices() times out with an error naming the missing services", async () => {
  await using broker = scoped();
  broker.createService({ name: "here" });
  await broker.start();
  const t0 = Date.now();
  const err = await broker.waitForServices(["here", "missing"], 30, 1000).catch(
    (e) => e,
  );
  const elapsed = Date.now() - t0;
  assert.ok(err instanceof MoleculerError);
  assert.equal(err.type, "WAITFOR_SERVICES");
  assert.match(err.message, /missing/);
  assert.doesNotMatch(err.message, /here/);
  assert.deepEqual((err.data as Record<string, unknown>).missing, ["missing"]);
  // the timeout is honoured even when the poll interval is longer
  assert.ok(elapsed < 500, `took ${elapsed} ms`);
});

Deno.test("a service waits for its dependencies before started()", async () => {
  await using broker = scoped();
  const order: string[] = [];
  broker.createService({
    name: "api",
    dependencies: ["db"],
    started() {
      order.push("api");
    },
  });
  broker.createService({
    name: "db",
    async started() {
      await new Promise((r) => setTimeout(r, 5));
      order.push("db");
    },
  });
  await broker.start();
  assert.deepEqual(order, ["db", "api"]);
});

Deno.test("waitForShutdown() stops the broker gracefully on SIGTERM", {
  ignore: Deno.build.os === "windows",
}, async () => {
  const mod = new URL("../../mod.ts", import.meta.url).href;
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      script,
      `import { ServiceBroker } from ${JSON.stringify(mod)};
const broker = new ServiceBroker({
  nodeID: "sig",
  logger: false,
  middlewares: [{ brokerStopped: () => console.log("hook:brokerStopped") }],
});
broker.createService({ name: "s", stopped: () => console.log("service:stopped") });
await broker.start();
const done = broker.waitForShutdown();
console.log("ready");
await done;
console.log("bye");
`,
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--no-check",
        "--config",
        new URL("../../deno.json", import.meta.url).pathname,
        script,
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const lines: string[] = [];
    const reader = child.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    let buffer = "";
    let signalled = false;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      const parts = buffer.split("\n");
      buffer = parts.pop()!;
      lines.push(...parts);
      if (!signalled && lines.includes("ready")) {
        signalled = true;
        child.kill("SIGTERM");
      }
    }
    const stderr = await new Response(child.stderr).text();
    const status = await child.status;
    assert.equal(status.code, 0, stderr);
    assert.equal(status.signal, null);
    assert.deepEqual(lines, [
      "ready",
      "service:stopped",
      "hook:brokerStopped",
      "bye",
    ]);
  } finally {
    await Deno.remove(script);
  }
});
