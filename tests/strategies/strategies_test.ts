import assert from "node:assert/strict";
import {
  BrokerOptionsError,
  RandomStrategy,
  resolveStrategy,
  RoundRobinStrategy,
  ServiceBroker,
  ServiceSchemaError,
  type StrategyEndpoint,
} from "../../mod.ts";
import { EndpointList, type ListedEndpoint } from "../../src/registry/endpoint_list.ts";
import { clusterOptions, endpoints, memoryBus, startCluster } from "../_helpers/core.ts";

const ep = (id: string, local = false): ListedEndpoint => ({
  id,
  local,
  service: { fullName: "svc" },
});

Deno.test("RoundRobinStrategy takes endpoints in turn and wraps", () => {
  const s = new RoundRobinStrategy();
  const list = [ep("a"), ep("b"), ep("c")];
  assert.deepEqual(
    Array.from({ length: 7 }, () => s.select(list).id),
    ["a", "b", "c", "a", "b", "c", "a"],
  );
});

Deno.test("RoundRobinStrategy copes with a list that shrinks", () => {
  const s = new RoundRobinStrategy();
  const list = [ep("a"), ep("b"), ep("c")];
  s.select(list);
  s.select(list);
  s.select(list);
  assert.equal(s.select([ep("x"), ep("y")]).id, "x");
});

Deno.test("RandomStrategy picks only list members and reaches all of them", () => {
  const s = new RandomStrategy();
  const list = [ep("a"), ep("b"), ep("c")];
  const seen = new Set<string>();
  for (let i = 0; i < 300; i++) seen.add(s.select(list).id);
  assert.deepEqual([...seen].sort(), ["a", "b", "c"]);
});

Deno.test("RandomStrategy follows Math.random", () => {
  const original = Math.random;
  try {
    Math.random = () => 0.99;
    assert.equal(
      new RandomStrategy().select([ep("a"), ep("b"), ep("c")]).id,
      "c",
    );
    Math.random = () => 0;
    assert.equal(
      new RandomStrategy().select([ep("a"), ep("b"), ep("c")]).id,
      "a",
    );
  } finally {
    Math.random = original;
  }
});

Deno.test("resolveStrategy() accepts names (any case) and factories", () => {
  assert.ok(resolveStrategy()() instanceof RoundRobinStrategy);
  assert.ok(resolveStrategy("RoundRobin")() instanceof RoundRobinStrategy);
  assert.ok(resolveStrategy("roundrobin")() instanceof RoundRobinStrategy);
  assert.ok(resolveStrategy("Random")() instanceof RandomStrategy);
  const custom = {
    select: <E extends StrategyEndpoint>(l: readonly E[]) => l[l.length - 1]!,
  };
  assert.equal(resolveStrategy(() => custom)(), custom);
  assert.throws(() => resolveStrategy("Fastest"), BrokerOptionsError);
});

Deno.test("EndpointList.next() prefers local endpoints when asked", () => {
  const list = new EndpointList<ListedEndpoint>(
    "a.b",
    undefined,
    new RoundRobinStrategy(),
  );
  list.add(ep("remote-1"));
  list.add(ep("local", true));
  list.add(ep("remote-2"));
  assert.deepEqual([0, 1, 2].map(() => list.next(true)!.id), [
    "local",
    "local",
    "local",
  ]);
  assert.deepEqual(
    [0, 1, 2, 3].map(() => list.next(false)!.id),
    ["remote-1", "local", "remote-2", "remote-1"],
  );
});

Deno.test("EndpointList replaces the endpoint of a node and removes by node", () => {
  const list = new EndpointList<ListedEndpoint>(
    "a.b",
    undefined,
    new RoundRobinStrategy(),
  );
  assert.equal(list.next(true), undefined);
  list.add(ep("n1"));
  list.add(ep("n1"));
  assert.equal(list.items.length, 1);
  assert.equal(list.removeByNode("n1"), true);
  assert.equal(list.removeByNode("n1"), false);
  assert.equal(list.available, false);
});

function balanceCluster(
  preferLocal: boolean,
  strategy?: string,
): ServiceBroker[] {
  const bus = memoryBus();
  const registry = {
    stopDelay: 0,
    preferLocal,
    ...(strategy ? { strategy } : {}),
  };
  const nodes = ["n1", "n2", "n3"].map((id) =>
    new ServiceBroker(clusterOptions(id, bus, { registry }))
  );
  for (const b of nodes) {
    b.createService({
      name: "who",
      actions: { ami: (ctx) => ctx.broker.nodeID },
    });
  }
  return nodes;
}

Deno.test("preferLocal: a node with a local endpoint always calls itself", async () => {
  const nodes = balanceCluster(true);
  try {
    await startCluster(nodes, ["who"]);
    const n1 = nodes[0]!;
    // wait until n1 knows the two remote endpoints too
    await endpoints(n1, "who.ami", 3);
    const answers = new Set<unknown>();
    for (let i = 0; i < 9; i++) answers.add(await n1.call("who.ami"));
    assert.deepEqual([...answers], ["n1"]);
  } finally {
    await Promise.all(nodes.map((b) => b.stop()));
  }
});

Deno.test("preferLocal: false balances round-robin over every node", async () => {
  const nodes = balanceCluster(false);
  try {
    await startCluster(nodes, ["who"]);
    const n1 = nodes[0]!;
    await endpoints(n1, "who.ami", 3);
    const answers: unknown[] = [];
    for (let i = 0; i < 6; i++) answers.push(await n1.call("who.ami"));
    assert.deepEqual(new Set(answers), new Set(["n1", "n2", "n3"]));
    // round-robin: each window of three consecutive calls hits three different nodes
    assert.equal(new Set(answers.slice(0, 3)).size, 3);
    assert.deepEqual(answers.slice(3), answers.slice(0, 3));
  } finally {
    await Promise.all(nodes.map((b) => b.stop()));
  }
});

Deno.test("strategy: 'Random' reaches every node", async () => {
  const nodes = balanceCluster(false, "Random");
  try {
    await startCluster(nodes, ["who"]);
    const n1 = nodes[0]!;
    await endpoints(n1, "who.ami", 3);
    const answers = new Set<unknown>();
    for (let i = 0; i < 200 && answers.size < 3; i++) {
      answers.add(await n1.call("who.ami"));
    }
    assert.deepEqual(answers, new Set(["n1", "n2", "n3"]));
  } finally {
    await Promise.all(nodes.map((b) => b.stop()));
  }
});

Deno.test("call({ nodeID }) targets one node regardless of the strategy", async () => {
  const nodes = balanceCluster(true);
  try {
    await startCluster(nodes, ["who"]);
    const n1 = nodes[0]!;
    await endpoints(n1, "who.ami", 3);
    assert.equal(await n1.call("who.ami", {}, { nodeID: "n3" }), "n3");
    assert.equal(await n1.call("who.ami", {}, { nodeID: "n2" }), "n2");
  } finally {
    await Promise.all(nodes.map((b) => b.stop()));
  }
});

Deno.test("resolveStrategy() knows every built-in, with or without the Strategy suffix", () => {
  for (const name of ["CpuUsage", "Latency", "Shard", "ShardStrategy", "latencystrategy"]) {
    const s = resolveStrategy(name)();
    assert.equal(typeof s.select, "function", name);
  }
});

Deno.test("EndpointList.next() with an availability test skips refused endpoints", () => {
  const list = new EndpointList<ListedEndpoint>("a.b", undefined, new RoundRobinStrategy());
  list.add(ep("r1"));
  list.add(ep("local", true));
  list.add(ep("r2"));
  const open = new Set(["local", "r1"]);
  const available = (e: ListedEndpoint) => !open.has(e.id);
  // preferLocal: the local endpoint is refused, so the others are balanced
  assert.deepEqual([0, 1, 2].map(() => list.next(true, undefined, available)!.id), [
    "r2",
    "r2",
    "r2",
  ]);
  open.delete("local");
  assert.equal(list.next(true, undefined, available)!.id, "local");
  open.add("local");
  open.add("r2");
  assert.equal(list.next(true, undefined, available), undefined);
  assert.equal(list.hasAvailable(available), false);
  assert.equal(list.hasAvailable(), true);
});

Deno.test("a local action naming an unknown strategy, or bad options, is a schema error", () => {
  const broker = new ServiceBroker({ logger: false });
  assert.throws(
    () =>
      broker.createService({
        name: "s",
        actions: { a: { strategy: "Fastest", handler: () => 1 } },
      }),
    ServiceSchemaError,
  );
  assert.throws(
    () =>
      broker.createService({
        name: "t",
        actions: { a: { strategy: "Shard", strategyOptions: { vnodes: -1 }, handler: () => 1 } },
      }),
    ServiceSchemaError,
  );
  assert.throws(
    () =>
      new ServiceBroker({
        logger: false,
        registry: { strategy: "Latency", strategyOptions: { pingInterval: "x" } },
      }),
    BrokerOptionsError,
  );
});
