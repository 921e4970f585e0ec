import assert from "node:assert/strict";
import {
  action,
  type ActionSchema,
  BaseCacher,
  type Context,
  MemoryCacher,
  MemoryLRUCacher,
  MoleculerServerError,
  Service,
  type ServiceBroker,
  ServiceSchemaError,
} from "../../mod.ts";
import { captureLogs, clusterOptions, memoryBus, scoped, startCluster } from "../_helpers/core.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A `users` service whose actions count their runs. */
function usersService(runs: Record<string, number>) {
  const count = (name: string) => runs[name] = (runs[name] ?? 0) + 1;
  return {
    name: "users",
    actions: {
      get: {
        cache: { keys: ["id"] },
        handler: (ctx: Context<{ id: number }>) => {
          count("get");
          return { id: ctx.params.id, run: runs.get };
        },
      },
      find: {
        cache: true,
        handler: async (ctx: Context) => {
          count("find");
          await sleep(1);
          return { params: ctx.params, run: runs.find };
        },
      },
      plain: () => count("plain"),
    },
  };
}

/** A middleware recording `ctx.cachedResult` after every local call. */
function cachedFlags(flags: boolean[]) {
  return {
    localAction: (next: (ctx: Context) => unknown) => async (ctx: Context) => {
      const result = await next(ctx);
      flags.push(ctx.cachedResult);
      return result;
    },
  };
}

Deno.test("a cached action runs once per key; a hit sets ctx.cachedResult", async () => {
  const runs: Record<string, number> = {};
  const flags: boolean[] = [];
  await using broker = scoped({
    cacher: "Memory",
    middlewares: [cachedFlags(flags)],
  });
  broker.createService(usersService(runs));
  await broker.start();

  assert.deepEqual(await broker.call("users.get", { id: 1 }), {
    id: 1,
    run: 1,
  });
  assert.deepEqual(await broker.call("users.get", { id: 1 }), {
    id: 1,
    run: 1,
  });
  assert.deepEqual(await broker.call("users.get", { id: 2 }), {
    id: 2,
    run: 2,
  });
  // `keys: ["id"]`: other params are not part of the key.
  assert.deepEqual(await broker.call("users.get", { id: 1, extra: true }), {
    id: 1,
    run: 1,
  });
  assert.equal(runs.get, 2);
  assert.deepEqual(flags, [false, true, false, true]);

  // `cache: true`: every param is part of the key (async handlers too).
  await broker.call("users.find", { q: "a" });
  await broker.call("users.find", { q: "a" });
  await broker.call("users.find", { q: "a", page: 2 });
  assert.equal(runs.find, 2);

  // Actions without `cache` are not cached.
  await broker.call("users.plain");
  await broker.call("users.plain");
  assert.equal(runs.plain, 2);

  // Keys are Moleculer's: the action name, then the key values.
  assert.deepEqual(broker.cacher!.get("users.get:1"), { id: 1, run: 1 });
  assert.deepEqual(broker.cacher!.get('users.find:q|"a"'), {
    params: { q: "a" },
    run: 1,
  });
});

Deno.test("a new context starts with cachedResult false", async () => {
  await using broker = scoped({ cacher: true });
  let seen: boolean | undefined;
  broker.createService({
    name: "s",
    actions: {
      a: {
        cache: true,
        handler: (ctx: Context) => {
          seen = ctx.cachedResult;
          return 1;
        },
      },
    },
  });
  await broker.start();
  await broker.call("s.a");
  assert.equal(seen, false);
});

Deno.test("keys read params paths, #meta and @headers", async () => {
  let runs = 0;
  await using broker = scoped({ cacher: true });
  broker.createService({
    name: "posts",
    actions: {
      list: {
        cache: { keys: ["page", "#user.id", "@tenant"] },
        handler: (ctx: Context<{ page: number }>) => {
          runs++;
          return `${ctx.params.page}/${(ctx.meta.user as { id: number }).id}/${ctx.headers.tenant}`;
        },
      },
    },
  });
  await broker.start();
  const call = (page: number, user: number, tenant: string, other = 0) =>
    broker.call("posts.list", { page, other }, {
      meta: { user: { id: user } },
      headers: { tenant },
    });

  assert.equal(await call(1, 7, "acme"), "1/7/acme");
  assert.equal(
    await call(1, 7, "acme", 99),
    "1/7/acme",
    "other params do not count",
  );
  assert.equal(runs, 1);
  assert.equal(
    await call(1, 8, "acme"),
    "1/8/acme",
    "another meta value: another key",
  );
  assert.equal(
    await call(1, 7, "globex"),
    "1/7/globex",
    "another header: another key",
  );
  assert.equal(await call(2, 7, "acme"), "2/7/acme");
  assert.equal(runs, 4);
  assert.equal(broker.cacher!.get('posts.list:1|7|"acme"'), "1/7/acme");
});

Deno.test("ttl: the action's over the cacher's; 0 = no expiry; fractional seconds", async () => {
  const runs: Record<string, number> = {};
  const counted = (
    name: string,
    cache: NonNullable<ActionSchema["cache"]>,
  ) => ({
    cache,
    handler: () => runs[name] = (runs[name] ?? 0) + 1,
  });
  await using broker = scoped({
    cacher: { type: "Memory", options: { ttl: 0.05 } },
  });
  broker.createService({
    name: "t",
    actions: {
      cacherTtl: counted("cacherTtl", true),
      longer: counted("longer", { ttl: 30 }),
      never: counted("never", { ttl: 0 }),
    },
  });
  await broker.start();
  const callAll = async () => {
    for (const a of ["cacherTtl", "longer", "never"]) {
      await broker.call(`t.${a}`);
    }
  };
  await callAll();
  await callAll();
  assert.deepEqual(runs, { cacherTtl: 1, longer: 1, never: 1 });
  await sleep(80);
  await callAll();
  assert.deepEqual(runs, { cacherTtl: 2, longer: 1, never: 1 });

  await using lru = scoped({ cacher: "MemoryLRU" });
  let shortRuns = 0;
  lru.createService({
    name: "t",
    actions: { short: { cache: { ttl: 0.05 }, handler: () => ++shortRuns } },
  });
  await lru.start();
  assert.equal(await lru.call("t.short"), 1);
  assert.equal(await lru.call("t.short"), 1);
  await sleep(80);
  assert.equal(await lru.call("t.short"), 2, "expired: the handler ran again");
});

Deno.test("meta.$cache === false skips the cache for that call, reading and writing", async () => {
  const runs: Record<string, number> = {};
  const flags: boolean[] = [];
  await using broker = scoped({
    cacher: true,
    middlewares: [cachedFlags(flags)],
  });
  broker.createService(usersService(runs));
  await broker.start();
  const noCache = { meta: { $cache: false } };
  await broker.call("users.get", { id: 1 }, noCache);
  await broker.call("users.get", { id: 1 }, noCache);
  assert.equal(runs.get, 2);
  assert.equal(
    broker.cacher!.get("users.get:1"),
    undefined,
    "nothing was stored",
  );
  await broker.call("users.get", { id: 1 }); // stores
  assert.deepEqual(await broker.call("users.get", { id: 1 }, noCache), {
    id: 1,
    run: 4,
  });
  assert.deepEqual(await broker.call("users.get", { id: 1 }), {
    id: 1,
    run: 3,
  });
  assert.deepEqual(flags, [false, false, false, false, true]);
});

Deno.test("errors are never cached; undefined results are not either", async () => {
  let calls = 0;
  let undefRuns = 0;
  await using broker = scoped({ cacher: true });
  broker.createService({
    name: "flaky",
    actions: {
      sync: {
        cache: true,
        handler: () => {
          if (++calls === 1) {
            throw new MoleculerServerError("boom", 500, "BOOM");
          }
          return "ok";
        },
      },
      async: {
        cache: true,
        handler: async () => {
          await sleep(1);
          if (++calls === 3) {
            throw new MoleculerServerError("async boom", 500, "BOOM");
          }
          return "async ok";
        },
      },
      nothing: { cache: true, handler: () => void undefRuns++ },
    },
  });
  await broker.start();
  await assert.rejects(broker.call("flaky.sync"), /boom/);
  assert.equal(await broker.call("flaky.sync"), "ok");
  assert.equal(await broker.call("flaky.sync"), "ok");
  assert.equal(calls, 2);
  await assert.rejects(broker.call("flaky.async"), /async boom/);
  assert.equal(await broker.call("flaky.async"), "async ok");
  assert.equal(await broker.call("flaky.async"), "async ok");
  assert.equal(calls, 4);
  await broker.call("flaky.nothing");
  await broker.call("flaky.nothing");
  assert.equal(undefRuns, 2);
});

Deno.test("cache.enabled: false turns it off; a function decides per call with the service as this", async () => {
  const runs: Record<string, number> = {};
  const count = (name: string) => () => runs[name] = (runs[name] ?? 0) + 1;
  const thisSeen: unknown[] = [];
  await using broker = scoped({ cacher: true });
  const svc = broker.createService({
    name: "e",
    settings: { cacheable: true },
    actions: {
      off: { cache: { enabled: false }, handler: count("off") },
      maybe: {
        cache: {
          enabled(this: Service, ctx: Context<{ live?: boolean }>) {
            thisSeen.push(this);
            return !ctx.params.live;
          },
        },
        handler: count("maybe"),
      },
    },
  });
  await broker.start();
  await broker.call("e.off");
  await broker.call("e.off");
  await broker.call("e.maybe", {});
  await broker.call("e.maybe", {});
  await broker.call("e.maybe", { live: true });
  await broker.call("e.maybe", { live: true });
  assert.deepEqual(runs, { off: 2, maybe: 3 });
  assert.equal(thisSeen[0], svc);
});

Deno.test("clean() and del() on broker.cacher, also from a service's event handler", async () => {
  const runs: Record<string, number> = {};
  await using broker = scoped({ cacher: "MemoryLRU" });
  broker.createService(usersService(runs));
  broker.createService({
    name: "posts",
    actions: {
      get: {
        cache: { keys: ["id"] },
        handler: () => runs.posts = (runs.posts ?? 0) + 1,
      },
    },
  });
  // Moleculer's idiom: services clean caches when an entity changes.
  broker.createService({
    name: "invalidator",
    events: {
      "cache.clean.users"(this: Service) {
        return this.broker.cacher?.clean("users.**");
      },
    },
  });
  await broker.start();
  const warm = async () => {
    await broker.call("users.get", { id: 1 });
    await broker.call("users.get", { id: 2 });
    await broker.call("posts.get", { id: 1 });
  };
  await warm();
  await warm();
  assert.deepEqual(runs, { get: 2, posts: 1 });

  await broker.emit("cache.clean.users");
  await warm();
  assert.deepEqual(
    runs,
    { get: 4, posts: 1 },
    "users entries were cleaned, posts were not",
  );

  await broker.cacher!.del("users.get:1");
  await warm();
  assert.deepEqual(runs, { get: 5, posts: 1 });

  await broker.cacher!.clean(["users.get:*", "posts.*"]);
  await warm();
  assert.deepEqual(runs, { get: 7, posts: 2 });

  await broker.cacher!.clean();
  await warm();
  assert.deepEqual(runs, { get: 9, posts: 3 });
});

Deno.test("clone: true: a caller mutating a result does not change what the next one gets", async () => {
  for (const clone of [false, true]) {
    await using broker = scoped({
      cacher: { type: "Memory", options: { clone } },
    });
    broker.createService({
      name: "conf",
      actions: { get: { cache: true, handler: () => ({ items: ["a"] }) } },
    });
    await broker.start();
    const first = await broker.call<{ items: string[] }>("conf.get");
    first.items.push("mutated");
    const second = await broker.call<{ items: string[] }>("conf.get");
    if (clone) assert.deepEqual(second, { items: ["a"] });
    else {assert.deepEqual(
        second,
        { items: ["a", "mutated"] },
        "by reference, as in Moleculer",
      );}
  }
});

Deno.test("cacher: false (or absent) leaves calls uncached; broker.cacher is null", async () => {
  for (const cacher of [false, undefined, null]) {
    const runs: Record<string, number> = {};
    await using broker = scoped(cacher === undefined ? {} : { cacher });
    assert.equal(broker.cacher, null);
    broker.createService(usersService(runs));
    await broker.start();
    await broker.call("users.get", { id: 1 });
    await broker.call("users.get", { id: 1 });
    assert.equal(runs.get, 2);
  }
});

Deno.test("the option makes the right cacher", async () => {
  const make = async (cacher: unknown) => {
    await using broker = scoped({ cacher: cacher as never });
    return broker.cacher;
  };
  assert.ok(await make(true) instanceof MemoryCacher);
  const memory = await make("Memory");
  assert.ok(
    memory instanceof MemoryCacher && !(memory instanceof MemoryLRUCacher),
  );
  assert.ok(await make("memorylru") instanceof MemoryLRUCacher);
  const lru = await make({
    type: "MemoryLRU",
    options: { max: 5, ttl: 2 },
  }) as MemoryLRUCacher;
  assert.equal(lru.max, 5);
  assert.equal(lru.ttl, 2);
  const own = new MemoryLRUCacher({ max: 3 });
  assert.equal(await make(own), own);
});

Deno.test("a remote call is cached on the node that serves the action", async () => {
  const runs: Record<string, number> = {};
  const bus = memoryBus();
  await using server = scoped(clusterOptions("server", bus, { cacher: true }));
  await using caller = scoped(clusterOptions("caller", bus));
  server.createService(usersService(runs));
  await startCluster([server, caller], ["users"]);

  assert.deepEqual(await caller.call("users.get", { id: 3 }), {
    id: 3,
    run: 1,
  });
  assert.deepEqual(await caller.call("users.get", { id: 3 }), {
    id: 3,
    run: 1,
  });
  assert.deepEqual(await server.call("users.get", { id: 3 }), {
    id: 3,
    run: 1,
  });
  assert.equal(runs.get, 1);
  assert.deepEqual(server.cacher!.get("users.get:3"), { id: 3, run: 1 });
  assert.equal(caller.cacher, null);
  // `$cache: false` travels in the meta.
  assert.deepEqual(
    await caller.call("users.get", { id: 3 }, { meta: { $cache: false } }),
    { id: 3, run: 2 },
  );
});

Deno.test("a memory cacher is emptied when the transporter connects", async () => {
  await using broker = scoped(
    clusterOptions("n1", memoryBus(), { cacher: true }),
  );
  await broker.cacher!.set("users.get:1", "stale");
  await broker.start();
  assert.equal(await broker.cacher!.get("users.get:1"), undefined);
});

Deno.test("@action({ cache }) caches a class-style action", async () => {
  let runs = 0;
  class Users extends Service {
    constructor() {
      super("users");
    }
    @action({ cache: { keys: ["id"], ttl: 30 } })
    get(ctx: Context<{ id: number }>): string {
      runs++;
      return `user ${ctx.params.id}`;
    }
  }
  await using broker = scoped({ cacher: true });
  await broker.register(new Users());
  await broker.start();
  assert.equal(await broker.call("users.get", { id: 1 }), "user 1");
  assert.equal(await broker.call("users.get", { id: 1 }), "user 1");
  assert.equal(runs, 1);
});

Deno.test("a malformed cache definition is rejected when the service is registered", async () => {
  const cases: Array<[unknown, RegExp]> = [
    ["yes", /must be true, false or \{ keys, ttl, enabled \}/],
    [{ keys: "id" }, /'keys' must be an array/],
    [{ keys: ["id", 5] }, /'keys' must be an array/],
    [{ ttl: -1 }, /'ttl' must be a number of seconds/],
    [{ ttl: "30s" }, /'ttl' must be a number of seconds/],
    [{ enabled: "no" }, /'enabled' must be true, false or a function/],
    [{ key: ["id"] }, /unknown option 'key'; known: keys, ttl, enabled/],
  ];
  for (const [cache, pattern] of cases) {
    await using broker = scoped({ cacher: true });
    await assert.rejects(
      broker.register(
        { name: "bad", actions: { a: { cache, handler: () => 1 } } } as never,
      ),
      (err: unknown) => {
        assert.ok(err instanceof ServiceSchemaError, String(err));
        assert.match(err.message, /The cache of action 'bad\.a'/);
        assert.match(err.message, pattern);
        return true;
      },
    );
  }
  // Without a cacher the definition is not read, as in Moleculer.
  await using plain = scoped();
  await plain.register({
    name: "ok",
    actions: { a: { cache: "yes" as never, handler: () => 1 } },
  });
});

/** A cacher over promises, recording what the broker asks of it. */
class AsyncCacher extends BaseCacher {
  readonly store = new Map<string, unknown>();
  readonly log: string[] = [];
  failGet = false;
  failSet = false;
  override init(broker: ServiceBroker): void {
    super.init(broker);
    this.log.push(`init ${broker.nodeID}`);
  }
  override close(): void {
    this.log.push("close");
  }
  async get(key: string): Promise<unknown> {
    await sleep(1);
    this.log.push(`get ${key}`);
    if (this.failGet) throw new Error("store down");
    return this.store.get(key);
  }
  async set(key: string, value: unknown, ttl?: number | null): Promise<void> {
    await sleep(1);
    this.log.push(`set ${key} ttl=${ttl}`);
    if (this.failSet) throw new Error("store full");
    this.store.set(key, value);
  }
  del(key: string | readonly string[]): void {
    for (const k of typeof key === "string" ? [key] : key) this.store.delete(k);
  }
  clean(): void {
    this.store.clear();
  }
}

Deno.test("a custom (async) cacher: init, get, set with the action's ttl, close on stop", async () => {
  const cacher = new AsyncCacher();
  let runs = 0;
  const broker = scoped({ nodeID: "n1", cacher });
  assert.equal(broker.cacher, cacher);
  broker.createService({
    name: "s",
    actions: { a: { cache: { keys: ["id"], ttl: 7 }, handler: () => ++runs } },
  });
  await broker.start();
  assert.equal(await broker.call("s.a", { id: 1 }), 1);
  await sleep(5); // the write is not awaited by the call
  assert.equal(await broker.call("s.a", { id: 1 }), 1);
  await broker.stop();
  assert.deepEqual(cacher.log, [
    "init n1",
    "get s.a:1",
    "set s.a:1 ttl=7",
    "get s.a:1",
    "close",
  ]);
});

Deno.test("a failing cacher is logged and the handler answers", async () => {
  const cacher = new AsyncCacher();
  const logs = captureLogs();
  let runs = 0;
  await using broker = scoped({ cacher, logger: logs.sink, logLevel: "warn" });
  broker.createService({
    name: "s",
    actions: { a: { cache: true, handler: () => ++runs } },
  });
  await broker.start();
  cacher.failSet = true;
  assert.equal(await broker.call("s.a"), 1);
  await sleep(5); // the write fails after the call has answered
  cacher.failSet = false;
  cacher.failGet = true;
  assert.equal(await broker.call("s.a"), 2);
  await sleep(5);
  const warnings = logs.messages("warn");
  assert.ok(
    warnings.some((m) => /Cannot store the cache entry 's\.a:'/.test(m)),
    warnings.join(),
  );
  assert.ok(
    warnings.some((m) => /Cannot read the cache entry 's\.a:'/.test(m)),
    warnings.join(),
  );
});

Deno.test("broker.stop() ends the memory cacher's sweep timer", async () => {
  const started: unknown[] = [];
  const cleared: unknown[] = [];
  const { setInterval: realSet, clearInterval: realClear } = globalThis;
  globalThis.setInterval = ((fn: () => void, ms?: number) => {
    const id = realSet(fn, ms);
    if (ms === 30_000) started.push(id); // the sweep's period
    return id;
  }) as typeof setInterval;
  globalThis.clearInterval = ((id?: number) => {
    if (started.includes(id)) cleared.push(id);
    realClear(id);
  }) as typeof clearInterval;
  try {
    const broker = scoped({ cacher: { options: { ttl: 60 } } });
    broker.createService({
      name: "s",
      actions: { a: { cache: true, handler: () => 1 } },
    });
    await broker.start();
    await broker.call("s.a");
    await broker.call("s.a", { other: 1 });
    assert.equal(
      started.length,
      1,
      "one sweep timer, started by the first entry with a ttl",
    );
    await broker.stop();
    assert.deepEqual(cleared, started);
  } finally {
    globalThis.setInterval = realSet;
    globalThis.clearInterval = realClear;
  }
});
