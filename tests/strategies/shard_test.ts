import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { BrokerOptionsError, type Context, ShardStrategy } from "../../mod.ts";
import { callMany, cluster, tally } from "../middlewares/_cluster.ts";

type Ep = { id: string; local: boolean };
const eps = (...ids: string[]): Ep[] => ids.map((id) => ({ id, local: false }));
const ctx = (params: unknown, meta: Record<string, unknown> = {}) =>
  ({ params, meta }) as unknown as Context;

Deno.test("ShardStrategy: the same key always goes to the same node; keys spread over nodes", () => {
  const s = new ShardStrategy({ shardKey: "userID" });
  const list = eps("n1", "n2", "n3");
  const owner = new Map<number, string>();
  for (let round = 0; round < 3; round++) {
    for (let userID = 0; userID < 600; userID++) {
      const id = s.select(list, ctx({ userID })).id;
      if (round === 0) owner.set(userID, id);
      else assert.equal(id, owner.get(userID), `user ${userID} moved`);
    }
  }
  const counts = tally([...owner.values()]);
  for (const n of ["n1", "n2", "n3"]) {
    assert.ok(counts[n]! > 120, `node ${n} owns ${counts[n]} of 600 keys`);
  }
});

Deno.test("ShardStrategy: keys from params paths, `#meta` paths and functions; none → random", () => {
  const list = eps("n1", "n2", "n3", "n4");
  const byPath = new ShardStrategy({ shardKey: "user.id" });
  const byMeta = new ShardStrategy({ shardKey: "#tenant" });
  const byFn = new ShardStrategy({ shardKey: (c: Context) => (c.params as { k: string }).k });
  const plain = new ShardStrategy({ shardKey: "key" });
  for (const key of ["a", "b", "c", "d", "e"]) {
    const want = plain.select(list, ctx({ key })).id;
    assert.equal(byPath.select(list, ctx({ user: { id: key } })).id, want);
    assert.equal(byMeta.select(list, ctx({}, { tenant: key })).id, want);
    assert.equal(byFn.select(list, ctx({ k: key })).id, want);
  }
  const random = new ShardStrategy({ shardKey: "missing" });
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) seen.add(random.select(list, ctx({})).id);
  assert.equal(seen.size, 4, "no key: picked at random");
  assert.throws(() => new ShardStrategy({ shardKey: 42 }), BrokerOptionsError);
  assert.throws(() => new ShardStrategy({ vnodes: 0 }), BrokerOptionsError);
});

Deno.test("ShardStrategy: the ring follows the endpoint set (a node leaves, a node comes back)", () => {
  const s = new ShardStrategy({ shardKey: "k" });
  const three = eps("n1", "n2", "n3");
  const two = eps("n1", "n3");
  const keys = Array.from({ length: 200 }, (_, i) => `key-${i}`);
  const before = keys.map((k) => s.select(three, ctx({ k })).id);
  const during = keys.map((k) => s.select(two, ctx({ k })).id);
  assert.ok(!during.includes("n2"));
  const after = keys.map((k) => s.select(three, ctx({ k })).id);
  assert.deepEqual(after, before);
});

const MOLECULER_SHARD = new URL(
  "../node_modules/moleculer-015/src/strategies/shard.js",
  import.meta.url,
);

function moleculerInstalled(): boolean {
  try {
    Deno.statSync(MOLECULER_SHARD);
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name: "ShardStrategy: places keys exactly where Moleculer 0.15's Shard strategy does",
  ignore: !moleculerInstalled() && !Deno.env.get("CI"),
  fn() {
    const require = createRequire(MOLECULER_SHARD);
    const MolShard = require(fileURLToPath(MOLECULER_SHARD));
    const bus = { localBus: { on() {} } };
    for (const opts of [{}, { vnodes: 3 }, { ringSize: 1000 }, { vnodes: 7, ringSize: 12345 }]) {
      const theirs = new MolShard({}, bus, { shardKey: "id", ...opts });
      const ours = new ShardStrategy({ shardKey: "id", ...opts });
      const list = eps("node-b", "node-a", "node-d", "node-c");
      for (let i = 0; i < 500; i++) {
        const c = ctx({ id: `user-${i}` });
        assert.equal(ours.select(list, c).id, theirs.select(list, c).id, JSON.stringify(opts));
      }
    }
  },
});

Deno.test("Shard in a cluster: calls with one key land on one node; per-action options", async () => {
  const services = (id: string) => [{
    name: "who",
    actions: {
      ami: () => id,
      tenant: {
        strategy: "Shard",
        strategyOptions: { shardKey: "#tenant" },
        handler: () => id,
      },
    },
  }];
  await using c = await cluster([
    {
      id: "caller",
      options: {
        registry: { strategy: "Shard", strategyOptions: { shardKey: "userID" }, stopDelay: 0 },
      },
    },
    { id: "n1", services: services("n1") },
    { id: "n2", services: services("n2") },
    { id: "n3", services: services("n3") },
    { id: "rr", options: { registry: { stopDelay: 0 } } }, // a RoundRobin caller
  ], { caller: ["who.ami", 3], rr: ["who.tenant", 3] });
  const caller = c.nodes.caller!;
  const owners = new Set<string>();
  for (let userID = 0; userID < 30; userID++) {
    const answers = new Set<unknown>();
    for (let i = 0; i < 4; i++) answers.add(await caller.call("who.ami", { userID }));
    assert.equal(answers.size, 1, `user ${userID} went to ${[...answers]}`);
    owners.add([...answers][0] as string);
  }
  assert.equal(owners.size, 3, "keys spread over the three nodes");
  // The action's own strategy, announced in INFO, is used by a RoundRobin caller too.
  const rr = c.nodes.rr!;
  assert.ok(rr.registry.actions.get("who.tenant")!.strategy instanceof ShardStrategy);
  assert.ok(!(rr.registry.actions.get("who.ami")!.strategy instanceof ShardStrategy));
  for (const tenant of ["acme", "globex", "initech"]) {
    const answers = await Promise.all(
      [0, 1, 2, 3].map(() => rr.call("who.tenant", {}, { meta: { tenant } })),
    );
    assert.equal(new Set(answers).size, 1, `${tenant}: ${answers}`);
  }
  assert.deepEqual(tally(await callMany(rr, "who.ami", 3)), { n1: 1, n2: 1, n3: 1 });
});
