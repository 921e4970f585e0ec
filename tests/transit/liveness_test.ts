/**
 * Liveness on its own, over a real registry: heartbeats out (CPU usage, skipped while
 * disconnected, jitter kept short), silent nodes judged (never while disconnected), heartbeats
 * in, the unheard nodes after a reconnect, and the timers' lifecycle. (The purge of offline
 * nodes runs once a minute: no test here waits for it.)
 */

import assert from "node:assert/strict";
import { Registry } from "../../src/registry/registry.ts";
import { RoundRobinStrategy } from "../../src/strategies/round_robin.ts";
import { Liveness, type LivenessHost, type LivenessOptions } from "../../src/transit/liveness.ts";

/** A registry holding this node ("local") and the given remote nodes. */
function registry(...remotes: string[]): Registry {
  const r = new Registry({
    nodeID: "local",
    instanceID: "local-instance",
    strategy: () => new RoundRobinStrategy(),
    preferLocal: true,
    metadata: {},
    client: { type: "deno", version: "test", langVersion: "test" },
    ipList: [],
    hostname: "test",
    remoteHandler: () => () => undefined,
  });
  for (const id of remotes) r.processNodeInfo(id, { services: [], instanceID: `${id}-1`, seq: 1 });
  return r;
}

/** A host that records what liveness asks of transit. */
class Host implements LivenessHost {
  connected = true;
  cpu: number | null = 42;
  readonly beats: { at: number; cpu: number | null }[] = [];
  readonly discovered: string[] = [];
  readonly lost: string[] = [];
  readonly warnings: string[] = [];
  readonly logger = { warn: (message: string) => void this.warnings.push(message) };

  constructor(readonly registry: Registry) {}

  isConnected(): boolean {
    return this.connected;
  }

  cpuUsage(): number | null {
    return this.cpu;
  }

  sendHeartbeat(cpu: number | null): void {
    this.beats.push({ at: performance.now(), cpu });
  }

  discover(nodeID: string): void {
    this.discovered.push(nodeID);
  }

  nodeLost(nodeID: string): void {
    this.lost.push(nodeID);
    this.registry.disconnectNode(nodeID);
  }
}

const SLOW: LivenessOptions = {
  heartbeatInterval: 5,
  heartbeatTimeout: 15,
  cleanOfflineNodesTimeout: 600,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("Liveness.check() marks offline the nodes silent past heartbeatTimeout, and only them", () => {
  const reg = registry("silent", "fresh", "gone");
  const host = new Host(reg);
  const liveness = new Liveness(host, SLOW);
  const now = Date.now();
  reg.nodes.get("silent")!.lastHeartbeatTime = now - 16_000;
  reg.nodes.get("fresh")!.lastHeartbeatTime = now - 14_000;
  reg.disconnectNode("gone");
  reg.nodes.get("gone")!.lastHeartbeatTime = now - 60_000;
  reg.localNode.lastHeartbeatTime = now - 60_000; // this node is never judged
  liveness.check();
  assert.deepEqual(host.lost, ["silent"]);
  assert.deepEqual(host.warnings, [
    "Node 'silent' sent no heartbeat for 15 s: marking it offline",
  ]);
  liveness.check(); // now offline: not again
  assert.deepEqual(host.lost, ["silent"]);
});

Deno.test("Liveness.check() judges nobody while our own connection is down", () => {
  const reg = registry("b");
  const host = new Host(reg);
  const liveness = new Liveness(host, SLOW);
  reg.nodes.get("b")!.lastHeartbeatTime = 0;
  host.connected = false;
  liveness.check();
  assert.deepEqual(host.lost, []);
  host.connected = true;
  liveness.check();
  assert.deepEqual(host.lost, ["b"]);
});

Deno.test("Liveness.onHeartbeat() refreshes a known node and asks an unknown one for its INFO", () => {
  const reg = registry("b", "c");
  const host = new Host(reg);
  const liveness = new Liveness(host, SLOW);
  const b = reg.nodes.get("b")!;
  b.lastHeartbeatTime = 0;
  liveness.onHeartbeat("b", { cpu: 37 });
  assert.ok(Date.now() - b.lastHeartbeatTime < 1_000);
  assert.equal(b.cpu, 37);
  liveness.onHeartbeat("b", { cpu: "high" });
  assert.equal(b.cpu, null, "a CPU that is no number is unknown");

  reg.disconnectNode("c");
  liveness.onHeartbeat("c", { cpu: 1 });
  liveness.onHeartbeat("stranger", { cpu: 1 });
  assert.deepEqual(host.discovered, ["c", "stranger"]);
  assert.equal(reg.nodes.get("c")!.available, false, "only its INFO brings it back");
});

Deno.test("Liveness.reconnected(): every node gets a full timeout and stays unheard until it speaks", () => {
  const reg = registry("b", "c", "d");
  const host = new Host(reg);
  const liveness = new Liveness(host, SLOW);
  for (const id of ["b", "c", "d"]) reg.nodes.get(id)!.lastHeartbeatTime = 0;
  reg.disconnectNode("d");
  assert.equal(liveness.isUnheard("b"), false);
  liveness.reconnected();
  for (const id of ["b", "c"]) {
    assert.ok(Date.now() - reg.nodes.get(id)!.lastHeartbeatTime < 1_000, id);
    assert.equal(liveness.isUnheard(id), true, id);
  }
  assert.equal(liveness.isUnheard("d"), false, "an offline node is not waited for");
  assert.equal(liveness.isUnheard("local"), false);
  liveness.check();
  assert.deepEqual(host.lost, [], "the fresh timeout holds");

  liveness.heard("b");
  liveness.forget("c");
  liveness.heard("stranger");
  assert.equal(liveness.isUnheard("b"), false);
  assert.equal(liveness.isUnheard("c"), false);

  liveness.reconnected();
  assert.equal(liveness.isUnheard("b"), true);
  liveness.stop();
  assert.equal(liveness.isUnheard("b"), false, "stop() forgets them");
});

Deno.test("Liveness.beat() sends this node's CPU usage, and nothing while disconnected", () => {
  const reg = registry();
  const host = new Host(reg);
  const liveness = new Liveness(host, SLOW);
  liveness.beat();
  assert.deepEqual(host.beats.map((b) => b.cpu), [42]);
  assert.equal(reg.localNode.cpu, 42);
  host.connected = false;
  host.cpu = 7;
  liveness.beat();
  assert.equal(host.beats.length, 1);
  host.connected = true;
  host.cpu = null;
  liveness.beat();
  assert.deepEqual(host.beats.map((b) => b.cpu), [42, null]);
  assert.equal(reg.localNode.cpu, null);
});

Deno.test("Liveness timers: beats every interval with a short jitter, checks every timeout, stop() ends them", async () => {
  const reg = registry("silent");
  const host = new Host(reg);
  // 40 ms beats: Moleculer's ±500 ms jitter would be ten times the interval; it is ±25% here.
  const liveness = new Liveness(host, {
    heartbeatInterval: 0.04,
    heartbeatTimeout: 0.15,
    cleanOfflineNodesTimeout: 600,
  });
  liveness.start();
  try {
    await sleep(420);
    assert.ok(host.beats.length >= 5, `${host.beats.length} beats in 420 ms`);
    const gaps = host.beats.slice(1).map((b, i) => b.at - host.beats[i]!.at);
    // 30–50 ms by design; the bound leaves room for late timers on a busy machine.
    assert.ok(Math.min(...gaps) >= 25, `gaps ${gaps.map(Math.round).join(", ")} ms`);
    assert.deepEqual(host.lost, ["silent"], "the check timer found the silent node");
  } finally {
    liveness.stop();
  }
  const beats = host.beats.length;
  await sleep(120);
  assert.equal(host.beats.length, beats, "no beat after stop()");
  liveness.start(); // stopped for good: starts nothing (--trace-leaks would see a timer)
  await sleep(60);
  assert.equal(host.beats.length, beats);
});
