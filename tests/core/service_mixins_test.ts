import assert from "node:assert/strict";
import { type Context, type Service, ServiceNotFoundError, type ServiceSchema } from "../../mod.ts";
import { applyMixins, defaultsDeep, mergeSchemas } from "../../src/core/service_mixins.ts";
import { scoped } from "../_helpers/core.ts";

const fn = (tag: string) => Object.assign((): void => {}, { tag });

Deno.test("defaultsDeep(): primary wins, nested plain objects merge, arrays replace", () => {
  const out = defaultsDeep(
    { a: 1, nested: { x: 1, deep: { p: 1 } }, list: [1] },
    { a: 0, b: 2, nested: { y: 2, deep: { q: 2 } }, list: [9, 9] },
  );
  assert.deepEqual(out, {
    a: 1,
    b: 2,
    nested: { x: 1, y: 2, deep: { p: 1, q: 2 } },
    list: [1],
  });
});

Deno.test("mergeSchemas(): scalars and custom keys of the service win", () => {
  const out = mergeSchemas(
    { name: "svc", version: 2, custom: "own" },
    { name: "mixin", version: 1, custom: "mixin", other: true },
  );
  assert.equal(out.name, "svc");
  assert.equal(out.version, 2);
  assert.equal(out.custom, "own");
  assert.equal(out.other, true);
});

Deno.test("mergeSchemas(): settings and metadata are deep-merged", () => {
  const out = mergeSchemas(
    {
      name: "s",
      settings: { a: 1, db: { host: "own" } },
      metadata: { m: { x: 1 } },
    },
    {
      name: "m",
      settings: { b: 2, db: { host: "mixin", port: 1 } },
      metadata: { m: { y: 2 } },
    },
  );
  assert.deepEqual(out.settings, { a: 1, b: 2, db: { host: "own", port: 1 } });
  assert.deepEqual(out.metadata, { m: { x: 1, y: 2 } });
});

Deno.test("mergeSchemas(): actions merge per key, `false` removes one", () => {
  const own = fn("own");
  const theirs = fn("theirs");
  const out = mergeSchemas(
    {
      name: "s",
      actions: {
        a: own,
        b: { params: { x: "number" } },
        gone: false,
      },
    },
    {
      name: "m",
      actions: {
        a: { handler: theirs, visibility: "public" },
        b: { handler: theirs, timeout: 5 },
        gone: theirs,
        kept: theirs,
      },
    },
  );
  assert.deepEqual(out.actions, {
    a: { handler: own, visibility: "public" },
    b: { handler: theirs, timeout: 5, params: { x: "number" } },
    kept: theirs,
  });
});

Deno.test("mergeSchemas(): both event handlers are kept, the mixin's first", () => {
  const own = fn("own");
  const theirs = fn("theirs");
  const out = mergeSchemas(
    { name: "s", events: { "x.a": own, "x.b": { group: "g2", handler: own } } },
    {
      name: "m",
      events: {
        "x.a": theirs,
        "x.b": { group: "g1", handler: theirs },
        "x.c": theirs,
      },
    },
  );
  assert.deepEqual(out.events, {
    "x.a": { handler: [theirs, own] },
    "x.b": { group: "g2", handler: [theirs, own] },
    "x.c": theirs,
  });
});

Deno.test("mergeSchemas(): methods of the service override the mixin's", () => {
  const own = fn("own");
  const theirs = fn("theirs");
  const out = mergeSchemas(
    { name: "s", methods: { a: own } },
    { name: "m", methods: { a: theirs, b: theirs } },
  );
  assert.deepEqual(out.methods, { a: own, b: theirs });
});

Deno.test("mergeSchemas(): lifecycle handlers are concatenated, the mixin's first", () => {
  const own = fn("own");
  const theirs = fn("theirs");
  const out = mergeSchemas(
    { name: "s", created: own, started: [own], stopped: own },
    { name: "m", created: theirs, started: theirs },
  );
  assert.deepEqual(out.created, [theirs, own]);
  assert.deepEqual(out.started, [theirs, own]);
  assert.deepEqual(out.stopped, [own]);
});

Deno.test("mergeSchemas(): hooks concatenate, before mixin-first, after/error service-first", () => {
  const own = fn("own");
  const theirs = fn("theirs");
  const out = mergeSchemas(
    {
      name: "s",
      hooks: { before: { "*": own }, after: { "*": own }, error: { a: own } },
    },
    {
      name: "m",
      hooks: { before: { "*": theirs }, after: { "*": theirs, b: theirs } },
    },
  );
  assert.deepEqual(out.hooks, {
    before: { "*": [theirs, own] },
    after: { "*": [own, theirs], b: [theirs] },
    error: { a: [own] },
  });
});

Deno.test("mergeSchemas(): dependencies are united without duplicates", () => {
  const out = mergeSchemas(
    { name: "s", dependencies: ["a", { name: "b", version: 2 }] },
    { name: "m", dependencies: ["a", "c"] },
  );
  assert.deepEqual(out.dependencies, ["a", "c", { name: "b", version: 2 }]);
});

Deno.test("mergeSchemas() does not mutate its inputs", () => {
  const mixin: ServiceSchema = {
    name: "m",
    settings: { a: { b: 1 } },
    actions: { x: fn("x") },
    created: fn("c"),
  };
  const snapshot = structuredClone({
    ...mixin,
    actions: undefined,
    created: undefined,
  });
  const service: ServiceSchema = {
    name: "s",
    settings: { a: { c: 2 } },
    actions: { x: false },
  };
  mergeSchemas(service, mixin);
  assert.deepEqual(
    { ...mixin, actions: undefined, created: undefined },
    snapshot,
  );
  assert.equal(typeof (mixin.actions as Record<string, unknown>).x, "function");
  assert.deepEqual(service.settings, { a: { c: 2 } });
});

Deno.test("applyMixins(): earlier mixins win over later ones; lifecycle runs last mixin first", () => {
  const m1 = fn("m1");
  const m2 = fn("m2");
  const own = fn("own");
  const out = applyMixins({
    name: "s",
    mixins: [
      { name: "first", settings: { who: "first", a: 1 }, created: m1 },
      { name: "second", settings: { who: "second", b: 2 }, created: m2 },
    ],
    created: own,
  });
  assert.equal(out.name, "s");
  assert.deepEqual(out.settings, { who: "first", a: 1, b: 2 });
  // Moleculer: mixins are folded from the last to the first, so the last one's handlers run first
  assert.deepEqual(out.created, [m2, m1, own]);
  assert.equal("mixins" in out, false);
});

Deno.test("applyMixins(): nested mixins and a single mixin object", () => {
  const deep = fn("deep");
  const out = applyMixins({
    name: "s",
    mixins: {
      name: "mid",
      mixins: [{ name: "deep", actions: { d: deep } }],
      settings: { mid: 1 },
    },
  });
  assert.deepEqual(out.actions, { d: deep });
  assert.deepEqual(out.settings, { mid: 1 });
  assert.equal(applyMixins({ name: "plain" }).name, "plain");
});

Deno.test("a service with mixins behaves by Moleculer's rules", async () => {
  const log: string[] = [];
  const Logging: ServiceSchema = {
    name: "logging",
    settings: { level: "info", db: { host: "localhost", port: 5432 } },
    actions: {
      whoami(this: Service & { describe(): string }) {
        return this.describe();
      },
      removed: () => "should be gone",
      base: () => "from mixin",
    },
    events: {
      "user.created"(ctx: Context) {
        log.push(`mixin:${(ctx.params as { id: number }).id}`);
      },
    },
    methods: {
      describe() {
        return "mixin";
      },
    },
    created() {
      log.push("mixin.created");
    },
    async started() {
      await Promise.resolve();
      log.push("mixin.started");
    },
    stopped() {
      log.push("mixin.stopped");
    },
  };
  const broker = scoped();
  try {
    broker.createService({
      name: "users",
      mixins: [Logging],
      settings: { db: { host: "db.internal" } },
      actions: {
        removed: false,
        settings(this: Service) {
          return this.settings;
        },
      },
      events: {
        "user.created"(ctx: Context) {
          log.push(`own:${(ctx.params as { id: number }).id}`);
        },
      },
      methods: {
        describe() {
          return "own";
        },
      },
      created() {
        log.push("own.created");
      },
      started() {
        log.push("own.started");
      },
      stopped() {
        log.push("own.stopped");
      },
    });
    await broker.start();
    assert.deepEqual(await broker.call("users.settings"), {
      level: "info",
      db: { host: "db.internal", port: 5432 },
    });
    assert.equal(await broker.call("users.whoami"), "own", "methods override");
    assert.equal(await broker.call("users.base"), "from mixin");
    await assert.rejects(broker.call("users.removed"), ServiceNotFoundError);
    await broker.emit("user.created", { id: 5 });
    await broker.stop();
    assert.deepEqual(log, [
      "mixin.created",
      "own.created",
      "mixin.started",
      "own.started",
      "mixin:5",
      "own:5",
      "mixin.stopped",
      "own.stopped",
    ]);
  } finally {
    await broker.stop();
  }
});

Deno.test("mixin hooks merge into the service's hooks", async () => {
  const order: string[] = [];
  await using broker = scoped();
  broker.createService({
    name: "h",
    mixins: [{
      name: "m",
      hooks: {
        before: { "*": () => void order.push("mixin before") },
        after: {
          "*": (_c: Context, r: unknown) => (order.push("mixin after"), r),
        },
      },
    }],
    hooks: {
      before: { "*": () => void order.push("own before") },
      after: { "*": (_c: Context, r: unknown) => (order.push("own after"), r) },
    },
    actions: { go: () => void order.push("handler") },
  });
  await broker.start();
  await broker.call("h.go");
  assert.deepEqual(order, [
    "mixin before",
    "own before",
    "handler",
    "own after",
    "mixin after",
  ]);
});
