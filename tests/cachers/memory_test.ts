import assert from "node:assert/strict";
import { matchCacheKey, MemoryCacher, MemoryLRUCacher } from "../../mod.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("MemoryCacher: set, get, overwrite, del one or several keys", () => {
  const c = new MemoryCacher();
  assert.equal(c.get("a"), undefined);
  c.set("a", 1);
  c.set("b", { x: 1 });
  c.set("c", null); // null is a value (only undefined means "not cached")
  c.set("d", 0);
  assert.equal(c.get("a"), 1);
  assert.deepEqual(c.get("b"), { x: 1 });
  assert.equal(c.get("c"), null);
  assert.equal(c.get("d"), 0);
  c.set("a", 2);
  assert.equal(c.get("a"), 2);
  c.set("d", undefined);
  assert.equal(c.size, 3, "setting undefined removes the key");
  c.del("a");
  assert.equal(c.get("a"), undefined);
  c.del(["b", "c", "missing"]);
  assert.equal(c.size, 0);
});

Deno.test("MemoryCacher: clean() with Moleculer's wildcards, several patterns, everything", () => {
  const c = new MemoryCacher();
  const keys = [
    "users.get:5",
    "users.get:6",
    'users.find:name|"a.b"',
    "users.v2.get:1",
    "posts.find:author|5",
    "posts.get:1",
    "posts.list",
    'users.get:"multi\nline"',
  ];
  const fill = () => keys.forEach((k, i) => c.set(k, i));
  const left = () => keys.filter((k) => c.get(k) !== undefined);

  fill();
  c.clean("users.get:*");
  assert.deepEqual(left(), [
    'users.find:name|"a.b"',
    "users.v2.get:1",
    "posts.find:author|5",
    "posts.get:1",
    "posts.list",
  ]);
  fill();
  c.clean("users.**"); // a prefix: also the key holding a line break
  assert.deepEqual(left(), [
    "posts.find:author|5",
    "posts.get:1",
    "posts.list",
  ]);
  fill();
  c.clean("users.*"); // `*` stops at dots: only keys without a dot after "users."
  assert.deepEqual(
    left(),
    keys.filter((k) =>
      !k.startsWith("users.") || k.includes('"a.b"') ||
      k.startsWith("users.v2.")
    ),
  );
  fill();
  c.clean(["posts.get:?", "posts.list"]);
  assert.deepEqual(
    left(),
    keys.filter((k) => k !== "posts.get:1" && k !== "posts.list"),
  );
  c.clean();
  assert.equal(c.size, 0);
  fill();
  c.clean("**");
  assert.equal(c.size, 0);
  fill();
  c.clean("nothing.*");
  assert.equal(c.size, keys.length);
});

Deno.test("matchCacheKey(): prefix patterns, one-segment stars, exact keys", () => {
  assert.ok(matchCacheKey("users.get:5", "users.**"));
  assert.ok(matchCacheKey('users.get:"a\nb"', "users.**"));
  assert.ok(matchCacheKey("users.get:5", "**"));
  assert.ok(matchCacheKey("users.get:5", "users.get:*"));
  assert.ok(!matchCacheKey('users.get:"a.b"', "users.get:*"));
  assert.ok(matchCacheKey("users.get:5", "*.get:5"));
  assert.ok(matchCacheKey("users.get:5", "users.get:5"));
  assert.ok(!matchCacheKey("users.get:55", "users.get:5"));
  assert.ok(matchCacheKey("users.get:5", "users.get:?"));
  assert.ok(!matchCacheKey("posts.get:5", "users.**"));
});

Deno.test("MemoryCacher: entries expire after their ttl (fractional seconds); 0 = never", async () => {
  const c = new MemoryCacher({ ttl: 0.05 });
  c.set("default", 1); // the cacher's ttl
  c.set("longer", 2, 10); // its own ttl wins
  c.set("forever", 3, 0); // 0: no expiry, despite the cacher's ttl
  c.set("null", 4, null); // null: the cacher's ttl
  assert.equal(c.get("default"), 1);
  await sleep(80);
  assert.equal(c.get("default"), undefined);
  assert.equal(c.get("null"), undefined);
  assert.equal(c.get("longer"), 2);
  assert.equal(c.get("forever"), 3);
  c.close();
});

Deno.test("MemoryCacher: checkTTL() sweeps expired entries nobody reads", async () => {
  const c = new MemoryCacher();
  c.set("short1", 1, 0.03);
  c.set("short2", 2, 0.03);
  c.set("long", 3, 60);
  c.set("forever", 4);
  assert.equal(c.checkTTL(), 0);
  await sleep(60);
  assert.equal(c.size, 4, "expired entries are still held until swept");
  assert.equal(c.checkTTL(), 2);
  assert.equal(c.size, 2);
  assert.equal(c.get("long"), 3);
  c.close();
  // A closed cacher starts no sweep again (the test's leak check would see its timer).
  c.set("after", 5, 60);
  assert.equal(c.get("after"), 5);
});

Deno.test("MemoryCacher: without clone values are shared; clone: true isolates both ways", () => {
  const shared = new MemoryCacher();
  const value = { list: [1] };
  shared.set("k", value);
  value.list.push(2);
  assert.deepEqual(shared.get("k"), { list: [1, 2] }, "stored by reference");

  const cloned = new MemoryCacher({ clone: true });
  const original = { list: [1], at: new Date(5) };
  cloned.set("k", original);
  original.list.push(2);
  const got = cloned.get("k") as typeof original;
  assert.deepEqual(got, { list: [1], at: new Date(5) }, "a copy was stored");
  got.list.push(3);
  assert.deepEqual(
    (cloned.get("k") as typeof original).list,
    [1],
    "each get is a new copy",
  );
  assert.notEqual(cloned.get("k"), cloned.get("k"));
  assert.throws(() => cloned.set("fn", { f: () => 1 }), /could not be cloned/i);

  let copies = 0;
  const custom = new MemoryCacher({
    clone: (v) => {
      copies++;
      return JSON.parse(JSON.stringify(v));
    },
  });
  custom.set("k", { a: 1 });
  assert.deepEqual(custom.get("k"), { a: 1 });
  assert.equal(copies, 2, "one copy on set, one on get");
});

Deno.test("MemoryLRUCacher: past max the least recently used entry goes", () => {
  const c = new MemoryLRUCacher({ max: 3 });
  c.set("a", 1);
  c.set("b", 2);
  c.set("c", 3);
  assert.equal(c.get("a"), 1); // a is now the most recently used: b is the oldest
  c.set("d", 4);
  assert.equal(c.size, 3);
  assert.equal(c.get("b"), undefined);
  c.set("c", 30); // overwriting counts as a use: a is now the oldest
  c.set("e", 5);
  assert.equal(c.get("d"), 4);
  assert.equal(c.get("a"), undefined);
  assert.deepEqual([c.get("c"), c.get("d"), c.get("e")], [30, 4, 5]);
  assert.equal(c.get("missing"), undefined);
  c.set("f", 6); // a miss above did not touch anything: c is the oldest
  assert.equal(c.get("c"), undefined);
});

Deno.test("MemoryLRUCacher: 1000 entries by default; ttl, clone and clean as the Memory cacher", async () => {
  const c = new MemoryLRUCacher({ ttl: 0.04, clone: true });
  assert.equal(c.max, 1000);
  for (let i = 0; i < 1005; i++) c.set(`k.${i}`, { i });
  assert.equal(c.size, 1000);
  assert.equal(c.get("k.4"), undefined);
  assert.deepEqual(c.get("k.5"), { i: 5 });
  (c.get("k.6") as { i: number }).i = -1;
  assert.deepEqual(c.get("k.6"), { i: 6 });
  c.clean("k.1*");
  assert.equal(c.get("k.10"), undefined);
  assert.deepEqual(c.get("k.20"), { i: 20 });
  await sleep(70);
  assert.equal(c.get("k.20"), undefined, "expired");
  c.close();
});

Deno.test("MemoryCacher: getCacheKeys lists live keys with their expiry, as Moleculer's does", async () => {
  const c = new MemoryCacher();
  const before = Date.now();
  c.set("users.get:5", 1, 60);
  c.set("posts.find", [], 0);
  c.set("gone", 1, 0.01);
  await sleep(30);
  const keys = c.getCacheKeys();
  assert.deepEqual(keys.map((k) => k.key), ["users.get:5", "posts.find"]);
  assert.ok(keys[0]!.expiresAt! >= before + 60_000 && keys[0]!.expiresAt! <= Date.now() + 60_000);
  assert.equal(keys[1]!.expiresAt, null);
  c.close();
});
