import assert from "node:assert/strict";
import {
  BrokerOptionsError,
  CpuUsageStrategy,
  LatencyStrategy,
  resolveStrategy,
  type StrategyHost,
  type StrategyNode,
} from "../../mod.ts";
import { until } from "../_helpers/core.ts";
import { callMany, cluster, tally } from "../middlewares/_cluster.ts";

type Ep = { id: string; local: boolean; node: { cpu: number | null; hostname: string | null } };
const ep = (id: string, cpu: number | null, hostname: string | null = id): Ep => ({
  id,
  local: false,
  node: { cpu, hostname },
});

function picks(select: () => { id: string }, n = 300): Record<string, number> {
  return tally(Array.from({ length: n }, () => select().id));
}

Deno.test("CpuUsageStrategy: the least busy node, or any under lowCpuUsage", () => {
  const s = new CpuUsageStrategy();
  assert.deepEqual(picks(() => s.select([ep("a", 80), ep("b", 30), ep("c", 60)])), { b: 300 });
  // under lowCpuUsage (10) a node is taken at once: the idle ones share the load
  const idle = picks(() => s.select([ep("a", 90), ep("b", 5), ep("c", 3)]));
  assert.equal(idle.a, undefined);
  assert.ok(idle.b! > 50 && idle.c! > 50, JSON.stringify(idle));
  // nodes with no figure yet are skipped; with none at all, any node
  assert.deepEqual(picks(() => s.select([ep("a", null), ep("b", 50)])), { b: 300 });
  assert.equal(Object.keys(picks(() => s.select([ep("a", null), ep("b", null)]))).length, 2);
});

Deno.test("CpuUsageStrategy: sampleCount looks at a random sample only", () => {
  const s = new CpuUsageStrategy({ sampleCount: 1, lowCpuUsage: 0 });
  const counts = picks(() => s.select([ep("a", 90), ep("b", 5), ep("c", 50)]), 600);
  assert.equal(Object.keys(counts).length, 3, JSON.stringify(counts));
  assert.throws(() => new CpuUsageStrategy({ sampleCount: -1 }), BrokerOptionsError);
  assert.ok(resolveStrategy("CpuUsage")() instanceof CpuUsageStrategy);
});

Deno.test("CpuUsage in a cluster: calls go to the node whose heartbeats report the lowest CPU", async () => {
  await using c = await cluster([
    { id: "caller", options: { registry: { strategy: "CpuUsage", stopDelay: 0 } } },
    ...["n1", "n2", "n3"].map((id) => ({
      id,
      services: [{ name: "who", actions: { ami: () => id } }],
    })),
  ], { caller: ["who.ami", 3] });
  const caller = c.nodes.caller!;
  // What the last heartbeats said (heartbeats come every 10 s; none arrives during the test).
  const cpu = { n1: 70, n2: 20, n3: 45 };
  for (const [id, v] of Object.entries(cpu)) caller.registry.nodes.get(id)!.cpu = v;
  assert.deepEqual(tally(await callMany(caller, "who.ami", 20)), { n2: 20 });
  caller.registry.nodes.get("n3")!.cpu = 4;
  assert.deepEqual(tally(await callMany(caller, "who.ami", 20)), { n3: 20 });
});

/** A host whose pings answer after a set time per host name. */
function fakeHost(latency: Record<string, number>) {
  const nodes = new Map<string, StrategyNode>();
  for (const [hostname, _] of Object.entries(latency)) {
    for (const n of [1, 2]) {
      const id = `${hostname}-node${n}`;
      nodes.set(id, { id, local: false, available: true, cpu: null, hostname });
    }
  }
  const controller = new AbortController();
  const pinged: string[] = [];
  const host: StrategyHost = {
    nodeID: "me",
    nodes,
    ping(nodeID) {
      pinged.push(nodeID);
      return Promise.resolve({ elapsedTime: latency[nodes.get(nodeID)!.hostname!]! });
    },
    signal: controller.signal,
    shared: new Map(),
  };
  return { host, pinged, latency, stop: () => controller.abort() };
}

Deno.test("LatencyStrategy: pings one node per host and prefers the fastest host", async () => {
  const f = fakeHost({ h1: 30, h2: 15, h3: 60 });
  try {
    const s = new LatencyStrategy(f.host, { pingInterval: 0.02, lowLatency: 10 });
    await until(() => s.latencyOf("h3") !== undefined, "a ping round");
    assert.equal(s.latencyOf("h2"), 15);
    assert.equal(f.pinged.length % 3, 0, "one ping per host and round");
    const list = [
      ep("h1-node1", null, "h1"),
      ep("h2-node1", null, "h2"),
      ep("h3-node2", null, "h3"),
    ];
    assert.deepEqual(picks(() => s.select(list)), { "h2-node1": 300 });
    // h1 speeds up: its average (of the last collectCount pings) falls under lowLatency
    f.latency.h1 = 2;
    await until(() => s.latencyOf("h1")! < 10, "the new average");
    const counts = picks(() => s.select(list));
    assert.ok(counts["h1-node1"]! > 200, JSON.stringify(counts));
    // a second Latency list shares the broker's monitor
    const other = new LatencyStrategy(f.host, {});
    assert.equal(other.latencyOf("h2"), s.latencyOf("h2"));
  } finally {
    f.stop();
  }
});

Deno.test("LatencyStrategy: with no measurements (or no host) it picks at random", () => {
  const s = new LatencyStrategy();
  const counts = picks(() => s.select([ep("a", null), ep("b", null), ep("c", null)]));
  assert.equal(Object.keys(counts).length, 3);
  assert.throws(() => new LatencyStrategy(undefined, { collectCount: 0 }), BrokerOptionsError);
});

Deno.test("Latency in a cluster: new nodes are pinged, and equally fast nodes share the calls", async () => {
  await using c = await cluster([
    {
      id: "caller",
      options: {
        registry: { strategy: "Latency", strategyOptions: { pingInterval: 60 }, stopDelay: 0 },
      },
    },
    ...["n1", "n2", "n3"].map((id) => ({
      id,
      services: [{ name: "who", actions: { ami: () => id } }],
    })),
  ], { caller: ["who.ami", 3] });
  const caller = c.nodes.caller!;
  const strategy = caller.registry.actions.get("who.ami")!.strategy as LatencyStrategy;
  assert.ok(strategy instanceof LatencyStrategy);
  const host = caller.registry.nodes.get("n1")!.hostname!;
  // Nodes that joined after the last ping round are measured as soon as a call meets them.
  assert.equal(strategy.latencyOf(host), undefined);
  assert.equal((await callMany(caller, "who.ami", 3)).length, 3);
  await until(() => strategy.latencyOf(host) !== undefined, "a measured host");
  const counts = tally(await callMany(caller, "who.ami", 60));
  assert.deepEqual(Object.keys(counts).sort(), ["n1", "n2", "n3"], JSON.stringify(counts));
});
