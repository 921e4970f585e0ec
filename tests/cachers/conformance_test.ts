/**
 * One conformance suite, run against every cacher: the `Cacher` contract of
 * `src/cachers/cacher.ts` as the cacher middleware and services rely on it. Every call is
 * awaited, so a cacher whose methods return promises joins as well as the synchronous built-in
 * ones. A new cacher joins by adding an entry to `IMPLEMENTATIONS`.
 */

import assert from "node:assert/strict";
import type { BrokerApi } from "../../src/core/broker_api.ts";
import { type CacherOptions, defaultCacheKey } from "../../src/cachers/cacher.ts";
import type { Cacher } from "../../src/core/cacher.ts";
import { MemoryCacher } from "../../src/cachers/memory.ts";
import { MemoryLRUCacher } from "../../src/cachers/memory_lru.ts";
import { resolveCacher } from "../../src/cachers/resolve.ts";
import { createLoggerFactory } from "../../src/logging.ts";
import { denoRuntime } from "../../src/runtime/deno.ts";

interface Implementation {
  name: string;
  /** A new cacher with these options, as the `cacher` option or a constructor makes it. */
  make(options: CacherOptions): Cacher;
}

const IMPLEMENTATIONS: Implementation[] = [
  { name: "Memory", make: (options) => new MemoryCacher(options) },
  { name: "MemoryLRU", make: (options) => new MemoryLRUCacher({ max: 100, ...options }) },
  {
    name: "Memory (by { type, options })",
    make: (options) => resolveCacher({ type: "Memory", options })!,
  },
  {
    name: "MemoryLRU (by { type, options })",
    make: (options) => resolveCacher({ type: "MemoryLRU", options })!,
  },
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A broker as far as a cacher may use it: its loggers and its runtime. */
const broker = {
  nodeID: "conformance",
  runtime: denoRuntime,
  getLogger: createLoggerFactory({ nodeID: "conformance", logger: false }).getLogger,
} as Partial<BrokerApi> as BrokerApi;

const KEYS = [
  "users.get:5",
  "users.get:6",
  "users.v2.get:1",
  'users.find:name|"a.b"',
  "posts.get:1",
  "posts.list",
];

for (const impl of IMPLEMENTATIONS) {
  Deno.test(`Cacher conformance: ${impl.name}`, async (t) => {
    /** A cacher made for one step, initialised by the fake broker and closed at its end. */
    const withCacher = async (options: CacherOptions, run: (c: Cacher) => void | Promise<void>) => {
      const cacher = impl.make(options);
      cacher.init(broker);
      try {
        await run(cacher);
      } finally {
        await cacher.close();
      }
    };
    const fill = async (c: Cacher) => {
      for (const [i, key] of KEYS.entries()) await c.set(key, i);
    };
    const left = async (c: Cacher) => {
      const out: string[] = [];
      for (const key of KEYS) if (await c.get(key) !== undefined) out.push(key);
      return out;
    };

    await t.step("stores any value but undefined; undefined removes the key", async () => {
      await withCacher({}, async (c) => {
        assert.equal(await c.get("missing"), undefined);
        const values: unknown[] = [0, "", false, null, [1, 2], { a: { b: 1 } }];
        for (const [i, value] of values.entries()) await c.set(`k${i}`, value);
        for (const [i, value] of values.entries()) assert.deepEqual(await c.get(`k${i}`), value);
        await c.set("k0", 7);
        assert.equal(await c.get("k0"), 7, "set overwrites");
        await c.set("k0", undefined);
        assert.equal(await c.get("k0"), undefined);
      });
    });

    await t.step("del() removes one key or several, missing ones included", async () => {
      await withCacher({}, async (c) => {
        await fill(c);
        await c.del("users.get:5");
        await c.del(["users.get:6", "posts.list", "never.set"]);
        assert.deepEqual(await left(c), ["users.v2.get:1", 'users.find:name|"a.b"', "posts.get:1"]);
      });
    });

    await t.step(
      "clean() takes Moleculer's wildcards, a list of them, or nothing (all)",
      async () => {
        await withCacher({}, async (c) => {
          const cases: [string | string[] | undefined, string[]][] = [
            ["users.get:*", [
              "users.v2.get:1",
              'users.find:name|"a.b"',
              "posts.get:1",
              "posts.list",
            ]],
            ["users.**", ["posts.get:1", "posts.list"]],
            ["posts.get:?", [
              "users.get:5",
              "users.get:6",
              "users.v2.get:1",
              'users.find:name|"a.b"',
              "posts.list",
            ]],
            // `*` stops at a dot: "posts.*" takes "posts.get:1" and "posts.list".
            [["users.get:*", "posts.*"], ["users.v2.get:1", 'users.find:name|"a.b"']],
            [undefined, []],
          ];
          for (const [pattern, expected] of cases) {
            await fill(c);
            await c.clean(pattern);
            assert.deepEqual(await left(c), expected, `clean(${JSON.stringify(pattern)})`);
          }
        });
      },
    );

    await t.step("entries expire after the cacher's ttl; set()'s ttl wins; 0 = never", async () => {
      await withCacher({ ttl: 0.05 }, async (c) => {
        await c.set("default", 1);
        await c.set("longer", 2, 10);
        await c.set("never", 3, 0);
        await c.set("null", 4, null);
        await sleep(80);
        assert.equal(await c.get("default"), undefined);
        assert.equal(await c.get("null"), undefined, "null means the cacher's ttl");
        assert.equal(await c.get("longer"), 2);
        assert.equal(await c.get("never"), 3);
      });
    });

    await t.step("getCacheKey() is Moleculer's key, or the keygen option's", async () => {
      await withCacher({}, (c) => {
        const params = { id: 5, name: "Ann", tags: ["a"] };
        const meta = { user: { id: 9 } };
        for (const keys of [undefined, ["id"], ["id", "#user.id"], []]) {
          assert.equal(
            c.getCacheKey("users.get", params, meta, keys),
            defaultCacheKey("users.get", params, meta, keys),
          );
        }
      });
      await withCacher({ keygen: (name, p) => `${name}/${(p as { id: number }).id}` }, (c) => {
        assert.equal(c.getCacheKey("users.get", { id: 5 }, {}), "users.get/5");
      });
    });

    await t.step("close() may be called again, and leaves no timer behind", async () => {
      const c = impl.make({ ttl: 30 });
      c.init(broker);
      await c.set("a", 1);
      await c.close();
      await c.close();
    });
  });
}
