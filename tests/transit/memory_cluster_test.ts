/**
 * The transit protocol between several Deno brokers over the in-process `memory://` transporter
 * (no network): discovery, calls, meta, headers, errors, events, stop and heartbeat loss,
 * pending-call rejection, timeouts, `opts.nodeID`, QueueIsFullError, late services and nodeID
 * conflicts. Every test gets its own bus group.
 */

import assert from "node:assert/strict";
import {
  type Context,
  MemoryTransporter,
  MoleculerClientError,
  MoleculerError,
  QueueIsFullError,
  RequestRejectedError,
  RequestTimeoutError,
  ServiceNotFoundError,
  ValidationError,
} from "../../mod.ts";
import {
  deferred,
  type DenoNodeOptions,
  describeCtx,
  EventLog,
  startDeno,
  timed,
  waitFor,
} from "./_util.ts";
import { MemoryBusClient } from "../../src/transporters/memory_bus.ts";

type Rec = Record<string, unknown>;

/** A fresh bus group per test, so parallel tests never see each other. */
function bus(): string {
  return `memory://cluster-${crypto.randomUUID()}`;
}

/** A broker on the bus. The memory bus answers within microtasks, so discovery waits are short. */
function node(
  transporter: string | MemoryTransporter,
  nodeID: string,
  extra: DenoNodeOptions = {},
) {
  return startDeno({
    transporter,
    nodeID,
    ...extra,
    registry: { stopDelay: 20, ...extra.registry },
    transit: { discoverWaitTime: 30, ...extra.transit },
  });
}

interface NodeEvent {
  event: string;
  nodeID: string;
  unexpected: boolean | undefined;
  reconnected: boolean | undefined;
}

function watcher(seen: NodeEvent[]) {
  const record = (event: string) => (ctx: Context<Rec>) => {
    seen.push({
      event,
      nodeID: (ctx.params.node as { id: string }).id,
      unexpected: ctx.params.unexpected as boolean | undefined,
      reconnected: ctx.params.reconnected as boolean | undefined,
    });
  };
  return {
    name: "watcher",
    events: {
      "$node.connected": record("$node.connected"),
      "$node.disconnected": record("$node.disconnected"),
    },
  };
}

/** A service whose `hold` action waits until the test releases it. */
function holder(name: string) {
  let gate = deferred();
  let running = 0;
  return {
    get running() {
      return running;
    },
    release() {
      gate.resolve();
      gate = deferred();
    },
    schema: {
      name,
      actions: {
        async hold() {
          running++;
          try {
            await gate.promise;
            return "released";
          } finally {
            running--;
          }
        },
      },
    },
  };
}

Deno.test("memory cluster: discovery — every node lists the others and their services", async () => {
  const url = bus();
  await using a = await node(url, "a", {
    services: [{ name: "sa", actions: { x: () => 1 } }],
  });
  await using b = await node(url, "b", {
    services: [{ name: "sb", version: 2, actions: { x: () => 2 } }],
  });
  await using c = await node(url, "c", {
    services: [{ name: "sc", actions: { x: () => 3 } }],
  });
  for (const n of [a, b, c]) {
    await n.broker.waitForServices(["sa", "v2.sb", "sc"], 2000);
  }

  const list = await a.broker.call<Rec[]>("$node.list");
  assert.deepEqual(list.map((n) => n.id).sort(), ["a", "b", "c"]);
  for (const n of list) {
    assert.equal(n.available, true);
    assert.equal((n.client as Rec).type, "deno");
    assert.equal(n.local, n.id === "a");
  }
  const services = await c.broker.call<Rec[]>("$node.services", {
    skipInternal: true,
  });
  const sb = services.find((s) => s.fullName === "v2.sb");
  assert.deepEqual(sb?.nodes, ["b"]);
  assert.equal(sb?.version, 2);
  const internal = (await c.broker.call<Rec[]>("$node.services")).find((s) => s.name === "$node");
  assert.deepEqual((internal?.nodes as string[]).sort(), ["a", "b", "c"]);
  assert.equal(await a.broker.call("v2.sb.x"), 2);
  assert.equal(await b.broker.call("sc.x"), 3);
  assert.equal(await c.broker.call("sa.x"), 1);
});

Deno.test("memory cluster: calls — params, meta merge, headers, lineage, errors", async (t) => {
  const url = bus();
  await using a = await node(url, "a", {
    services: [{
      name: "front",
      version: 1,
      actions: {
        chain: async (ctx: Context) => ({
          self: describeCtx(ctx),
          inner: await ctx.call("back.info"),
        }),
      },
    }],
  });
  await using b = await node(url, "b", {
    services: [{
      name: "back",
      actions: {
        info(ctx: Context) {
          const seen = {
            ...describeCtx(ctx),
            meta: { ...ctx.meta },
            headers: ctx.headers,
          };
          ctx.meta.fromB = true;
          ctx.responseHeaders.rh = 1;
          return seen;
        },
        add: {
          params: { a: "number", b: "number" },
          handler: (ctx: Context<{ a: number; b: number }>) => ctx.params.a + ctx.params.b,
        },
        fail(ctx: Context) {
          ctx.meta.failed = true;
          throw new MoleculerClientError("nope", 418, "TEAPOT", { z: 1 });
        },
      },
    }],
  });
  await a.broker.waitForServices("back", 2000);
  await b.broker.waitForServices("v1.front", 2000);

  await t.step("params and meta go out, response meta comes back", async () => {
    assert.equal(await a.broker.call("back.add", { a: 2, b: 5 }), 7);
    const meta: Rec = { m: 1 };
    const seen = await a.broker.call<Rec>("back.info", {}, {
      meta,
      headers: { h: "v" },
    });
    assert.deepEqual(seen.meta, { m: 1 });
    assert.deepEqual(seen.headers, { h: "v" });
    assert.equal(seen.nodeID, "a");
    assert.equal(seen.level, 1);
    assert.equal(seen.requestID, seen.id);
    assert.deepEqual(meta, { m: 1, fromB: true });
  });

  await t.step(
    "lineage across nodes: level, parentID, requestID, caller",
    async () => {
      const { self, inner } = await b.broker.call<{ self: Rec; inner: Rec }>(
        "v1.front.chain",
      );
      assert.equal(self.nodeID, "b");
      assert.equal(inner.level, 2);
      assert.equal(inner.parentID, self.id);
      assert.equal(inner.requestID, self.requestID);
      assert.equal(inner.caller, "v1.front");
      assert.equal(inner.nodeID, "a");
    },
  );

  await t.step(
    "errors keep their class, fields and the handler's meta",
    async () => {
      const meta: Rec = {};
      await assert.rejects(
        a.broker.call("back.fail", {}, { meta }),
        (err: unknown) => {
          assert.ok(err instanceof MoleculerClientError);
          assert.equal(err.code, 418);
          assert.equal(err.type, "TEAPOT");
          assert.deepEqual(err.data, { z: 1 });
          assert.equal(err.nodeID, "b");
          return true;
        },
      );
      assert.deepEqual(meta, { failed: true });
      await assert.rejects(
        a.broker.call("back.add", { a: "x" }),
        (err: unknown) => {
          assert.ok(err instanceof ValidationError);
          assert.equal(err.nodeID, "b");
          assert.ok(Array.isArray(err.data));
          return true;
        },
      );
      await assert.rejects(a.broker.call("back.nothing"), ServiceNotFoundError);
    },
  );
});

Deno.test("memory cluster: protocol 4 sends no headers", async () => {
  const url = bus();
  const svc = { name: "h", actions: { get: (ctx: Context) => ctx.headers } };
  await using a = await node(url, "a", { protocolVersion: "4" });
  await using _b = await node(url, "b", {
    protocolVersion: "4",
    services: [svc],
  });
  await a.broker.waitForServices("h", 2000);
  assert.deepEqual(await a.broker.call("h.get", {}, { headers: { x: 1 } }), {});
});

Deno.test("memory cluster: opts.nodeID targets one node", async () => {
  const url = bus();
  const who = (id: string) => ({ name: "who", actions: { am: () => id } });
  await using a = await node(url, "a", { services: [who("a")] });
  await using _b = await node(url, "b", { services: [who("b")] });
  await using _c = await node(url, "c", { services: [who("c")] });
  await using d = await node(url, "d");
  await waitFor(
    () => d.broker.registry.actions.get("who.am")?.items.length === 3,
    "3 endpoints",
  );
  for (const target of ["a", "b", "c"]) {
    for (let i = 0; i < 3; i++) {
      assert.equal(
        await d.broker.call("who.am", {}, { nodeID: target }),
        target,
      );
    }
    // Even when a local endpoint exists.
    assert.equal(await a.broker.call("who.am", {}, { nodeID: target }), target);
  }
  const seen = new Set<unknown>();
  for (let i = 0; i < 6; i++) seen.add(await d.broker.call("who.am"));
  assert.deepEqual(
    [...seen].sort(),
    ["a", "b", "c"],
    "without nodeID: balanced",
  );
  await assert.rejects(
    d.broker.call("who.am", {}, { nodeID: "d" }),
    ServiceNotFoundError,
  );
});

Deno.test("memory cluster: events — groups, broadcast, wildcards, groups option", async () => {
  const url = bus();
  const log = new EventLog();
  await using a = await node(url, "a", {
    services: [log.service("la", { "order.*": undefined })],
  });
  await using _b = await node(url, "b", {
    services: [
      log.service("lb", { "order.created": "workers", "order.**": undefined }),
    ],
  });
  await using _c = await node(url, "c", {
    services: [log.service("lc", { "order.created": "workers" })],
  });
  await using d = await node(url, "d"); // an emitter without listeners
  await waitFor(
    () => d.broker.registry.matchingEventLists("order.created").length === 3,
    "3 event lists for order.created",
  );

  const N = 12;
  for (let i = 0; i < N; i++) await d.broker.emit("order.created", { i });
  const inWorkers = () => log.filter((e) => e.group === "workers");
  await waitFor(
    () =>
      log.count("order.*") === N && log.count("order.**") === N &&
      inWorkers().length >= N,
    "all emits",
  );
  const workers = inWorkers();
  assert.equal(workers.length, N, "one handler of the group per emit");
  const onB = workers.filter((e) => e.service === "lb").length;
  assert.ok(onB > 0 && onB < N, `balanced across b and c (b got ${onB})`);
  assert.equal(workers[0]?.nodeID, "d");
  assert.equal(workers[0]?.eventType, "emit");

  log.events.length = 0;
  await d.broker.broadcast("order.created", { b: 1 });
  await waitFor(() => log.events.length === 4, "broadcast to 4 handlers");
  assert.deepEqual(log.events.map((e) => e.service).sort(), [
    "la",
    "lb",
    "lb",
    "lc",
  ]);
  assert.ok(log.events.every((e) => e.eventType === "broadcast"));

  log.events.length = 0;
  await d.broker.emit("order.deep.name", {});
  await d.broker.emit("order.created", {}, { groups: ["workers"] });
  await a.broker.emit("order.paid", {}, { groups: "la" });
  // A barrier: a broadcast from every emitter, seen by `la` (order.*) after the earlier packets.
  await d.broker.broadcast("order.barrier", {});
  await a.broker.broadcast("order.barrier", {});
  await waitFor(
    () => log.count("order.*", "order.barrier") === 2,
    "the barrier",
  );
  const got = log.events.filter((e) => e.event !== "order.barrier");
  assert.deepEqual(
    got.map((e) => `${e.service}:${e.handler}:${e.event}`).sort(),
    [
      "la:order.*:order.paid",
      "lb:order.**:order.deep.name",
      `${got.find((e) => e.group === "workers")?.service}:order.created:order.created`,
    ].sort(),
  );
  assert.equal(got.filter((e) => e.group === "workers").length, 1);
});

Deno.test("memory cluster: a graceful stop is seen as disconnected, not unexpected", async () => {
  const url = bus();
  const seen: NodeEvent[] = [];
  await using a = await node(url, "a", { services: [watcher(seen)] });
  await using b = await node(url, "b", {
    services: [{ name: "sb", actions: { x: () => 1 } }],
  });
  await a.broker.waitForServices("sb", 2000);
  assert.ok(
    seen.some((e) => e.event === "$node.connected" && e.nodeID === "b" && !e.reconnected),
  );
  await b.broker.stop();
  const d = await waitFor(
    () => seen.find((e) => e.event === "$node.disconnected" && e.nodeID === "b"),
    "b to leave",
  );
  assert.equal(d.unexpected, false);
  assert.equal(a.broker.registry.nodes.get("b")?.available, false);
  await assert.rejects(a.broker.call("sb.x"), ServiceNotFoundError);
});

Deno.test("memory cluster: a pending call is rejected when its node disconnects", async () => {
  const url = bus();
  const h = holder("slow");
  await using a = await node(url, "a");
  await using b = await node(url, "b", { services: [h.schema] });
  await a.broker.waitForServices("slow", 2000);
  // The timeout only turns a regression (a hanging call) into a clear failure.
  const call = timed(a.broker.call("slow.hold", {}, { timeout: 4000 }));
  await waitFor(() => h.running === 1, "the handler to run on b");
  const stopping = b.broker.stop();
  const r = await call;
  assert.ok(r.error instanceof RequestRejectedError, String(r.error));
  assert.equal((r.error.data as Rec).nodeID, "b");
  h.release();
  await stopping;
  await waitFor(() => h.running === 0, "the handler to finish");
});

Deno.test("memory cluster: a silent node goes offline after the heartbeat timeout", async () => {
  const group = bus().slice("memory://".length);
  const seen: NodeEvent[] = [];
  const fast = { heartbeatInterval: 0.2, heartbeatTimeout: 0.6 };
  const h = holder("slow");
  await using a = await node(new MemoryTransporter(group), "a", {
    ...fast,
    services: [watcher(seen)],
  });
  const bTransporter = new MemoryTransporter(group);
  await using _b = await node(bTransporter, "b", {
    ...fast,
    services: [h.schema],
  });
  await a.broker.waitForServices("slow", 2000);

  // Heartbeats keep b online for several timeouts.
  const stable = performance.now();
  await waitFor(
    () => performance.now() - stable > 1500,
    "1.5 s of heartbeats",
    3000,
    100,
  );
  assert.equal(
    a.broker.registry.nodes.get("b")?.available,
    true,
    "b stays online",
  );
  assert.ok(
    !seen.some((e) => e.event === "$node.disconnected"),
    JSON.stringify(seen),
  );

  // The timeout only turns a regression (a hanging call) into a clear failure.
  const call = timed(a.broker.call("slow.hold", {}, { timeout: 4000 }));
  await waitFor(() => h.running === 1, "the handler to run on b");
  await bTransporter.disconnect(); // b goes silent: no DISCONNECT, no heartbeat
  const t0 = performance.now();
  const r = await call;
  const ms = performance.now() - t0;
  assert.ok(r.error instanceof RequestRejectedError, String(r.error));
  assert.ok(ms < 1500, `rejected after ${Math.round(ms)} ms`);
  const d = seen.find((e) => e.event === "$node.disconnected" && e.nodeID === "b");
  assert.equal(d?.unexpected, true);
  assert.equal(a.broker.registry.nodes.get("b")?.available, false);
  h.release();
  await waitFor(() => h.running === 0, "the handler to finish");
});

Deno.test("memory cluster: caller timeout gives RequestTimeoutError", async () => {
  const url = bus();
  const h = holder("slow");
  await using a = await node(url, "a");
  await using _b = await node(url, "b", { services: [h.schema] });
  await a.broker.waitForServices("slow", 2000);
  const r = await timed(a.broker.call("slow.hold", {}, { timeout: 80 }));
  assert.ok(r.error instanceof RequestTimeoutError, String(r.error));
  assert.equal((r.error.data as Rec).nodeID, "b");
  assert.ok(r.ms >= 70 && r.ms < 1000, `after ${r.ms} ms`);
  assert.equal(a.broker.transit!.pendingCount, 0);
  h.release();
  await waitFor(() => h.running === 0, "the handler to finish");
});

Deno.test("memory cluster: transit.maxQueueSize gives QueueIsFullError", async () => {
  const url = bus();
  const h = holder("slow");
  await using a = await node(url, "a", { transit: { maxQueueSize: 1 } });
  await using _b = await node(url, "b", { services: [h.schema] });
  await a.broker.waitForServices("slow", 2000);
  const first = a.broker.call("slow.hold");
  await assert.rejects(a.broker.call("slow.hold"), (err: unknown) => {
    assert.ok(err instanceof QueueIsFullError, String(err));
    assert.equal(err.code, 429);
    return true;
  });
  await waitFor(() => h.running === 1, "the first call to run");
  h.release();
  assert.equal(await first, "released");
  // The queue has room again.
  const again = a.broker.call("slow.hold");
  await waitFor(() => h.running === 1, "the next call to run");
  h.release();
  assert.equal(await again, "released");
});

Deno.test("memory cluster: services registered after start are re-announced (seq bump)", async () => {
  const url = bus();
  await using a = await node(url, "a");
  await using b = await node(url, "b");
  await waitFor(
    () => a.broker.registry.nodes.get("b")?.available,
    "a to see b",
  );
  const seq0 = a.broker.registry.nodes.get("b")!.seq;
  await b.broker.register({ name: "late", actions: { x: () => "late" } });
  await a.broker.waitForServices("late", 2000);
  const seq1 = a.broker.registry.nodes.get("b")!.seq;
  assert.ok(seq1 > seq0, `seq ${seq0} → ${seq1}`);
  assert.equal(seq1, b.broker.registry.localNode.seq);
  assert.equal(await a.broker.call("late.x"), "late");
  await b.broker.destroyService("late");
  await waitFor(
    () => !a.broker.registry.actions.has("late.x"),
    "late.x to go away",
  );
  assert.ok(a.broker.registry.nodes.get("b")!.seq > seq1);
  await assert.rejects(a.broker.call("late.x"), ServiceNotFoundError);
});

Deno.test("memory cluster: a nodeID conflict stops the newcomer, the first node keeps working", async () => {
  const url = bus();
  await using first = await node(url, "dup", {
    services: [{ name: "one", actions: { x: () => 1 } }],
  });
  await using other = await node(url, "other");
  await other.broker.waitForServices("one", 2000);
  const firstInstance = first.broker.instanceID;

  await using second = await node(url, "dup", {
    start: false,
    logLevel: "fatal",
    services: [{ name: "two", actions: { x: () => 2 } }],
  });
  await assert.rejects(second.broker.start(), (err: unknown) => {
    assert.ok(err instanceof MoleculerError, String(err));
    assert.equal(err.type, "NODE_ID_CONFLICT");
    assert.deepEqual(err.data, { nodeID: "dup", instanceID: firstInstance });
    return true;
  });
  await waitFor(() => second.logs.length > 0, "the fatal line");
  assert.equal(second.logs.length, 1, JSON.stringify(second.logs));
  assert.equal(second.logs[0]!.level, "fatal");
  assert.match(second.logs[0]!.message, /nodeID 'dup'/);
  assert.equal(second.broker.started, false);

  // The first node was not disturbed and the rest of the cluster still sees it.
  assert.ok(first.broker.started, "the first node keeps running");
  assert.equal(first.logs.length, 0, JSON.stringify(first.logs));
  const seen = other.broker.registry.nodes.get("dup");
  assert.equal(seen?.available, true);
  assert.equal(seen?.instanceID, firstInstance);
  assert.equal(await other.broker.call("one.x"), 1);
  await assert.rejects(other.broker.call("two.x"), ServiceNotFoundError);
});

Deno.test("memory cluster: a running node that receives a conflicting INFO stops silently", async () => {
  const group = bus().slice("memory://".length);
  await using victim = await node(`memory://${group}`, "dup", {
    logLevel: "fatal",
  });
  // A raw client on the bus: records what "dup" sends, then plays another live instance
  // announcing itself under the same nodeID. One INFO is not enough (a forged or stray packet
  // must not stop a healthy node): the victim checks the claim with a PING under its nodeID,
  // which a live Denolecular instance answers. The smaller instanceID stays; this one is the
  // smallest there is, so the victim yields.
  const newcomer = "00000000-0000-4000-8000-000000000000";
  const raw = new MemoryBusClient(group);
  await raw.connect();
  try {
    const sent: string[] = [];
    for (const type of ["INFO", "DISCONNECT", "HEARTBEAT"]) {
      raw.subscribe(`MOL.${type}`, (data) => {
        const p = JSON.parse(new TextDecoder().decode(data));
        if (p.sender !== "dup") return;
        const services = Array.isArray(p.services)
          ? `:${p.services.length ? "full" : "empty"}`
          : "";
        sent.push(`${type}:${p.instanceID ?? ""}${services}`);
      });
    }
    raw.subscribe("MOL.PING.dup", (data) => {
      const p = JSON.parse(new TextDecoder().decode(data));
      if (p.instanceID === newcomer) return;
      const pong = {
        time: p.time,
        id: p.id,
        arrived: Date.now(),
        instanceID: newcomer,
      };
      void raw.publish(
        "MOL.PONG.dup",
        new TextEncoder().encode(
          JSON.stringify({ ...pong, ver: "5", sender: "dup" }),
        ),
      );
    });
    const info = {
      services: [],
      ipList: [],
      hostname: "x",
      client: { type: "nodejs", version: "0.15.2", langVersion: "v22" },
      config: {},
      instanceID: newcomer,
      metadata: {},
      seq: 2,
      ver: "5",
      sender: "dup",
    };
    await raw.publish(
      "MOL.INFO",
      new TextEncoder().encode(JSON.stringify(info)),
    );
    await waitFor(
      () => !victim.broker.started && victim.logs.length > 0,
      "the victim to stop",
    );
    await victim.broker.stop();
    assert.equal(victim.logs[0]!.level, "fatal");
    // The newcomer's INFO, then the victim's own while it checked the claim (so that the other
    // nodes see it again); once the conflict is confirmed, no empty INFO and no DISCONNECT under
    // the nodeID.
    assert.deepEqual(sent, [
      `INFO:${newcomer}:empty`,
      `INFO:${victim.broker.instanceID}:full`,
    ]);
  } finally {
    await raw.disconnect();
  }
});

Deno.test("memory cluster: a node restarted under the same nodeID rejects the old pending calls", async () => {
  const group = bus().slice("memory://".length);
  const seen: NodeEvent[] = [];
  const h = holder("slow");
  await using a = await node(`memory://${group}`, "a", {
    services: [watcher(seen)],
  });
  const crashed = new MemoryTransporter(group);
  await using _b = await node(crashed, "b", { services: [h.schema] });
  await a.broker.waitForServices("slow", 2000);
  // The timeout only turns a regression (a hanging call) into a clear failure.
  const call = timed(a.broker.call("slow.hold", {}, { timeout: 4000 }));
  await waitFor(() => h.running === 1, "the handler to run on b");
  await crashed.disconnect(); // the old process is gone without a word...
  // ...and a new one starts under the same nodeID well before the heartbeat timeout (5 s).
  await using b2 = await node(`memory://${group}`, "b", {
    services: [h.schema],
  });
  const r = await call;
  assert.ok(r.error instanceof RequestRejectedError, String(r.error));
  assert.ok(r.ms < 2000, `rejected after ${Math.round(r.ms)} ms`);
  assert.equal(
    a.broker.registry.nodes.get("b")?.instanceID,
    b2.broker.instanceID,
  );
  assert.ok(
    !seen.some((e) => e.event === "$node.disconnected"),
    "never seen offline",
  );
  h.release();
  await waitFor(() => h.running === 0, "the old handler to finish");
  const again = a.broker.call("slow.hold");
  await waitFor(() => h.running === 1, "the new process to take the call");
  h.release();
  assert.equal(await again, "released");
});

Deno.test("memory cluster: short heartbeat intervals keep their jitter small", async () => {
  // Moleculer's fixed ±500 ms jitter would send beats of a 0.2 s interval 0.1–0.7 s apart,
  // past a 0.6 s timeout; the jitter is capped at ±25% of the interval.
  const group = bus().slice("memory://".length);
  const raw = new MemoryBusClient(group);
  await raw.connect();
  try {
    const beats: number[] = [];
    raw.subscribe("MOL.HEARTBEAT", () => void beats.push(performance.now()));
    await using _a = await node(`memory://${group}`, "a", {
      heartbeatInterval: 0.2,
    });
    await waitFor(() => beats.length >= 9, "9 heartbeats", 4000, 50);
    const gaps = beats.slice(1).map((t, i) => t - beats[i]!);
    // 150–250 ms by design; the bound leaves room for late timers on a busy machine.
    const max = Math.max(...gaps);
    assert.ok(max <= 400, `gaps ${gaps.map(Math.round).join(", ")} ms`);
  } finally {
    await raw.disconnect();
  }
});

Deno.test("memory cluster: a successor may start while the old instance stops (rolling restart)", async () => {
  const url = bus();
  const gate = deferred();
  await using other = await node(url, "other");
  const old = await node(url, "x", {
    logLevel: "info",
    services: [{
      name: "svc",
      actions: { v: () => "old" },
      stopped: () => gate.promise,
    }],
  });
  await other.broker.waitForServices("svc", 2000);
  const stopping = old.broker.stop(); // held in its services' stopped() by the gate
  await waitFor(
    () => old.broker.transit!.stopping,
    "the old instance to be stopping",
  );

  await using successor = await node(url, "x", {
    services: [{ name: "svc", actions: { v: () => "new" } }],
  });
  await waitFor(
    () =>
      other.broker.registry.nodes.get("x")?.instanceID ===
        successor.broker.instanceID,
    "the cluster to see the successor",
  );
  gate.resolve();
  await stopping;
  // The old instance sent no DISCONNECT in the successor's name, and logged no fatal line.
  assert.equal(
    old.logs.filter((e) => e.level === "fatal").length,
    0,
    JSON.stringify(old.logs),
  );
  assert.ok(old.logs.some((e) => e.message.includes("took over the nodeID")));
  await other.broker.ping("x"); // a round trip to x: anything old sent earlier has arrived
  assert.equal(other.broker.registry.nodes.get("x")?.available, true);
  assert.equal(await other.broker.call("svc.v"), "new");
});
