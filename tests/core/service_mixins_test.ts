import assert from "node:assert/strict";
import { type Context, Service, ServiceNotFoundError, type ServiceSchema } from "../../mod.ts";
import { applyMixins, defaultsDeep, mergeSchemas } from "../../src/core/service_mixins.ts";
import { scoped } from "../_helpers/core.ts";
import { nodeBinary, requirePeers } from "../_helpers/moleculer_peer.ts";

const fn = (tag: string) => Object.assign((): void => {}, { tag });

Deno.test("defaultsDeep(): lodash's rules: nested objects merge, arrays by index, null kept", () => {
  const out = defaultsDeep(
    { a: 1, nested: { x: 1, deep: { p: 1 } }, list: [1], none: null },
    { a: 0, b: 2, nested: { y: 2, deep: { q: 2 } }, list: [9, 8], none: 3 },
  );
  assert.deepEqual(out, {
    a: 1,
    b: 2,
    nested: { x: 1, y: 2, deep: { p: 1, q: 2 } },
    list: [1, 8],
    none: null,
  });
});

/** Schemas in the `{ $fn: "tag" }` notation of `tests/compat/_moleculer_merge.mjs`. */
type Notated = Record<string, unknown>;

function revive(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(revive);
  if (value && typeof value === "object") {
    const v = value as Record<string, unknown>;
    if (typeof v.$fn === "string") return fn(v.$fn);
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revive(x)]));
  }
  return value;
}

function dump(value: unknown): unknown {
  if (typeof value === "function") return { $fn: (value as { tag?: string }).tag ?? value.name };
  if (Array.isArray(value)) return value.map(dump);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, x]) => [k, dump(x)]));
  }
  return value;
}

/** Merge the schemas with Moleculer 0.15's own `Service.applyMixins`, in Node. */
async function moleculerMerge(schemas: Notated[]): Promise<unknown[]> {
  requirePeers();
  const child = new Deno.Command(nodeBinary(), {
    args: [new URL("../compat/_moleculer_merge.mjs", import.meta.url).pathname],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(schemas)));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  if (code !== 0) throw new Error(new TextDecoder().decode(stderr));
  return JSON.parse(new TextDecoder().decode(stdout));
}

const f = (tag: string) => ({ $fn: tag });

/** One schema per merge rule of Moleculer's docs (0.15, "Services" → "Merge algorithm"). */
const MERGE_CASES: Notated[] = [
  // name, version: overwritten; unknown keys: the service wins
  {
    name: "s",
    version: 2,
    custom: "own",
    mixins: [{ name: "m", version: 1, custom: "mixin", other: true }],
  },
  // settings, metadata: defaultsDeep; $secureSettings united
  {
    name: "s",
    settings: { a: 1, db: { host: "own" }, $secureSettings: ["token"], list: [1] },
    metadata: { m: { x: 1 } },
    mixins: [{
      name: "m",
      settings: { b: 2, db: { host: "mixin", port: 1 }, $secureSettings: ["db"], list: [7, 8] },
      metadata: { m: { y: 2 } },
    }],
  },
  // actions: deep merge, false removes, action hooks concatenate
  {
    name: "s",
    actions: {
      a: f("own.a"),
      b: { params: { x: "number" }, hooks: { before: f("own.b.before"), after: f("own.b.after") } },
      gone: false,
      only: { handler: f("own.only"), cache: true },
    },
    mixins: [{
      name: "m",
      actions: {
        a: { handler: f("m.a"), visibility: "public", params: { id: "string" } },
        b: {
          handler: f("m.b"),
          timeout: 5,
          params: { y: "string" },
          hooks: { before: f("m.b.before"), after: [f("m.b.after")], error: f("m.b.error") },
        },
        gone: f("m.gone"),
        kept: f("m.kept"),
      },
    }],
  },
  // events: both handlers kept, the mixin's first
  {
    name: "s",
    events: { "x.a": f("own.x.a"), "x.b": { group: "g2", handler: f("own.x.b") } },
    mixins: [{
      name: "m",
      events: {
        "x.a": f("m.x.a"),
        "x.b": { group: "g1", params: { id: "number" }, handler: f("m.x.b") },
        "x.c": f("m.x.c"),
      },
    }],
  },
  // methods: overwritten; lifecycle handlers (merged too): concatenated, mixins first
  {
    name: "s",
    methods: { a: f("own.a") },
    merged: f("own.merged"),
    created: f("own.created"),
    started: [f("own.started")],
    stopped: f("own.stopped"),
    mixins: [{
      name: "m",
      methods: { a: f("m.a"), b: f("m.b") },
      merged: f("m.merged"),
      created: f("m.created"),
      started: f("m.started"),
    }],
  },
  // hooks: before mixin-first, after/error service-first
  {
    name: "s",
    hooks: {
      before: { "*": f("own.before") },
      after: { "*": f("own.after") },
      error: { a: f("own.err") },
    },
    mixins: [{
      name: "m",
      hooks: { before: { "*": f("m.before") }, after: { "*": f("m.after"), b: f("m.after.b") } },
    }],
  },
  // dependencies: united without duplicates
  {
    name: "s",
    dependencies: ["a", { name: "b", version: 2 }],
    mixins: [{ name: "m", dependencies: ["a", "c", { name: "b", version: 2 }] }],
  },
  // several and nested mixins: earlier mixins win, the last mixin's lifecycle runs first
  {
    name: "s",
    created: f("own"),
    mixins: [
      {
        name: "first",
        settings: { who: "first", a: 1 },
        created: f("first"),
        mixins: { name: "deep", actions: { d: f("deep.d") }, created: f("deep") },
      },
      { name: "second", settings: { who: "second", b: 2 }, created: f("second") },
    ],
  },
];

Deno.test("applyMixins() gives the schema Moleculer 0.15's own mergeSchemas gives", async () => {
  const expected = await moleculerMerge(MERGE_CASES);
  MERGE_CASES.forEach((notated, i) => {
    const ours = dump(applyMixins(revive(notated) as ServiceSchema));
    assert.deepEqual(ours, expected[i], `case ${i}: ${JSON.stringify(notated).slice(0, 60)}`);
  });
});

Deno.test("mergeSchemas() does not change its inputs", () => {
  const mixin: ServiceSchema = {
    name: "m",
    settings: { a: { b: 1 }, $secureSettings: ["a"] },
    actions: { x: { handler: fn("x"), hooks: { before: fn("b") } } },
    created: fn("c"),
  };
  const service: ServiceSchema = {
    name: "s",
    settings: { a: { c: 2 }, $secureSettings: ["z"] },
    actions: { x: { hooks: { before: fn("own") } } },
  };
  const before = JSON.stringify(dump([mixin, service]));
  mergeSchemas(mixin, service);
  assert.equal(JSON.stringify(dump([mixin, service])), before);
});

Deno.test("a service's mergeSchema<Key> method merges its custom schema key", () => {
  // Moleculer looks up `mergeSchema` + the capitalised key on the service for unknown keys.
  class TaggedService extends Service {
    mergeSchemaTags(src: unknown, target: unknown) {
      return [...(target as string[] ?? []), ...(src as string[])];
    }
  }
  const svc = new TaggedService({
    name: "tagged",
    tags: ["own"],
    mixins: [{ name: "a", tags: ["a"] }, { name: "b", tags: ["b"] }],
  });
  assert.deepEqual(svc.schema.tags, ["b", "a", "own"]);
  const plain = new Service({ name: "plain", tags: ["own"], mixins: [{ name: "a", tags: ["a"] }] });
  assert.deepEqual(plain.schema.tags, ["own"], "without one, the service's value wins");
});

Deno.test("merged() runs with the merged schema and may change it (moleculer-db's pattern)", () => {
  const seen: unknown[] = [];
  const svc = new Service({
    name: "posts",
    mixins: [{
      name: "db",
      settings: { fields: ["_id"] },
      merged(this: Service, schema: ServiceSchema) {
        seen.push(this instanceof Service, structuredClone(schema.settings));
        schema.actions = { ...schema.actions, count: () => 0 };
      },
    }],
    settings: { fields: ["_id", "title"] },
  });
  assert.deepEqual(seen, [true, { fields: ["_id", "title"] }]);
  assert.equal(typeof (svc.schema.actions as Record<string, unknown>).count, "function");
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
      // Moleculer stops in reverse: the service's own handler first.
      "own.stopped",
      "mixin.stopped",
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
