import assert from "node:assert/strict";
import {
  BrokerOptionsError,
  MemoryCacher,
  MemoryLRUCacher,
  resolveCacher,
  ServiceBroker,
} from "../../mod.ts";
import { resolveOptions } from "../../src/broker/options.ts";

/** `resolveOptions` rejects `cacher` naming `option` (and matching `pattern`). */
function rejects(cacher: unknown, option: string, pattern?: RegExp): void {
  assert.throws(
    () => resolveOptions({ cacher: cacher as never }),
    (err: unknown) => {
      assert.ok(
        err instanceof BrokerOptionsError,
        `expected BrokerOptionsError, got ${err}`,
      );
      assert.equal(err.type, "BROKER_OPTIONS_ERROR");
      assert.ok(
        err.message.includes(`'${option}'`),
        `the message names '${option}': ${err.message}`,
      );
      if (pattern) assert.match(err.message, pattern);
      return true;
    },
  );
}

Deno.test("cacher option: accepted forms, off by default", () => {
  assert.equal(resolveOptions({}).cacher, false);
  assert.equal(resolveOptions({ cacher: null }).cacher, false);
  assert.equal(resolveOptions({ cacher: false }).cacher, false);
  assert.equal(resolveOptions({ cacher: true }).cacher, true);
  assert.equal(resolveOptions({ cacher: "Memory" }).cacher, "Memory");
  assert.equal(
    resolveOptions({ cacher: "memoryLRU" as never }).cacher,
    "MemoryLRU",
  );
  const config = {
    type: "MemoryLRU",
    options: { ttl: 0.5, max: 10, clone: true },
  } as const;
  assert.equal(resolveOptions({ cacher: config }).cacher, config);
  const instance = new MemoryCacher();
  assert.equal(resolveOptions({ cacher: instance }).cacher, instance);
  assert.ok(
    resolveCacher({ options: { ttl: 5 } }) instanceof MemoryCacher,
    "type: Memory",
  );
  assert.equal(resolveCacher(undefined), null);
});

Deno.test("cacher option: unknown names, Redis, wrong types", () => {
  const shapes = /"Memory", "MemoryLRU", true, false, \{ type: "Memory" \| "MemoryLRU", options \}/;
  rejects("Fastest", "cacher", shapes);
  rejects("Redis", "cacher", /Redis cacher is not built in.*extend BaseCacher/);
  rejects("redis://localhost:6379", "cacher", /Redis cacher is not built in/);
  rejects("REDISS://cache.example:6380", "cacher", /Redis cacher is not built in/);
  rejects({ type: "redis" }, "cacher.type", /Redis cacher is not built in/);
  rejects("memcached://localhost:11211", "cacher", shapes);
  rejects(42, "cacher", shapes);
  rejects([], "cacher", shapes);
  rejects(
    MemoryCacher,
    "cacher",
    /pass an instance, e\.g\. new MyCacher\(\), not the class/,
  );
});

Deno.test("cacher option: a { type, options } object is checked key by key", () => {
  rejects(
    { ttl: 30 },
    "cacher.ttl",
    /\{ type: "Memory" \| "MemoryLRU", options: \{ ttl/,
  );
  rejects({ type: "LRU" }, "cacher.type", /"Memory" or "MemoryLRU"/);
  rejects({ options: 5 }, "cacher.options", /must be an object/);
  rejects(
    { type: "Memory", options: { max: 5 } },
    "cacher.options.max",
    /Known options of the Memory cacher: ttl, keygen, maxParamsLength, clone/,
  );
  rejects(
    { type: "MemoryLRU", options: { prefix: "MOL" } },
    "cacher.options.prefix",
  );
  rejects({ options: { ttl: -1 } }, "cacher.options.ttl", /seconds ≥ 0/);
  rejects({ options: { ttl: "30" } }, "cacher.options.ttl");
  rejects({ options: { ttl: Infinity } }, "cacher.options.ttl");
  rejects(
    { type: "MemoryLRU", options: { max: 0 } },
    "cacher.options.max",
    /integer ≥ 1/,
  );
  rejects({ type: "MemoryLRU", options: { max: 1.5 } }, "cacher.options.max");
  rejects(
    { options: { keygen: "md5" } },
    "cacher.options.keygen",
    /must be a function/,
  );
  rejects(
    { options: { maxParamsLength: -5 } },
    "cacher.options.maxParamsLength",
  );
  rejects(
    { options: { clone: "deep" } },
    "cacher.options.clone",
    /true \(structuredClone\)/,
  );
  // null means "none" for the nullable ones.
  resolveOptions({
    cacher: { options: { ttl: null, keygen: null, maxParamsLength: null } },
  });
});

Deno.test("cacher option: an object with some cacher methods but not all", () => {
  rejects(
    { get() {}, set() {} },
    "cacher",
    /not del, clean, getCacheKey, init, close: implement the Cacher interface/,
  );
});

Deno.test("cacher constructors check their options the same way", () => {
  assert.throws(() => new MemoryCacher({ ttl: -1 }), /'cacher\.options\.ttl'/);
  assert.throws(
    () => new MemoryCacher({ clone: 1 as never }),
    /'cacher\.options\.clone'/,
  );
  assert.throws(
    () => new MemoryLRUCacher({ max: 0 }),
    /'cacher\.options\.max'/,
  );
  assert.throws(
    () => new MemoryLRUCacher({ keygen: 3 as never }),
    BrokerOptionsError,
  );
});

Deno.test("new ServiceBroker() throws for a bad cacher option, before anything starts", () => {
  assert.throws(
    () => new ServiceBroker({ logger: false, cacher: "Couchbase" as never }),
    (err: unknown) => err instanceof BrokerOptionsError && /'cacher'/.test(err.message),
  );
});
