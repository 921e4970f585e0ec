/**
 * `disableBalancer` between several Deno brokers over the in-process `memory://` transporter, whose
 * queue groups behave like NATS's (round-robin instead of random): calls go to `REQB.<action>` and
 * the queue group (the action name) spreads them, each request handled exactly once; emits go to
 * `EVENTB.<group>.<event>`, one copy per group, and reach one handler per group; broadcasts are
 * targeted EVENTs to every node, this one included; wildcard EVENTB subjects; the subscriptions'
 * lifecycle; the fallback when the transporter cannot balance; and mixed clusters (a node that
 * keeps its balancer), which behave as Moleculer's do.
 *
 * A sniffer on the same bus group (a plain `MOL.>` subscription) sees every packet on the wire.
 */

import assert from "node:assert/strict";
import {
  type Context,
  MemoryTransporter,
  RequestTimeoutError,
  ServiceBroker,
  type ServiceSchema,
} from "../../mod.ts";
import type {
  TransporterHost,
  TransporterSubscription,
} from "../../src/transporters/transporter.ts";
import { MemoryBusClient } from "../../src/transporters/memory_bus.ts";
import { balancedEventPattern, balancedRequestSubject } from "../../src/transporters/subjects.ts";
import { type DenoNodeOptions, EventLog, startDeno, waitFor } from "./_util.ts";

type Rec = Record<string, unknown>;

/** A fresh bus group per test, so parallel tests never see each other. */
function busGroup(): string {
  return `disable-balancer-${crypto.randomUUID()}`;
}

/**
 * A memory transporter that records its balanced subscriptions (the bus subject, the queue group,
 * still active?).
 */
class SpyTransporter extends MemoryTransporter {
  readonly subscriptions: { subject: string; queue: string; active: boolean }[] = [];
  #prefix = "MOL";

  override connect(host: TransporterHost): Promise<void> {
    this.#prefix = host.prefix;
    return super.connect(host);
  }

  override async subscribeBalancedRequest(action: string): Promise<TransporterSubscription> {
    const sub = await super.subscribeBalancedRequest(action);
    return this.#record(sub, balancedRequestSubject(this.#prefix, action), action);
  }

  override async subscribeBalancedEvent(
    event: string,
    group: string,
  ): Promise<TransporterSubscription> {
    const sub = await super.subscribeBalancedEvent(event, group);
    return this.#record(sub, balancedEventPattern(this.#prefix, group, event), group);
  }

  #record(sub: TransporterSubscription, subject: string, queue: string): TransporterSubscription {
    const rec = { subject, queue, active: true };
    this.subscriptions.push(rec);
    return {
      unsubscribe: () => {
        rec.active = false;
        sub.unsubscribe();
      },
    };
  }

  /** Active queue-group subscriptions as `"<subject> [<queue>]"`, sorted. */
  balanced(): string[] {
    return this.subscriptions.filter((s) => s.active).map((s) => `${s.subject} [${s.queue}]`)
      .sort();
  }
}

/** A memory transporter that claims to have no queue groups (like Redis or MQTT). */
class NoBalancerTransporter extends MemoryTransporter {
  override readonly hasBuiltInBalancer: boolean = false;
}

/** A broker on the bus with `disableBalancer: true` (unless overridden) and a spy transporter. */
async function node(group: string, nodeID: string, extra: DenoNodeOptions = {}) {
  const spy = new SpyTransporter(group);
  const n = await startDeno({
    transporter: spy,
    nodeID,
    disableBalancer: true,
    ...extra,
    registry: { stopDelay: 20, ...extra.registry },
    transit: { discoverWaitTime: 30, ...extra.transit },
  });
  return Object.assign(n, { spy });
}

interface WirePacket {
  subject: string;
  payload: Rec;
}

/** Every packet published on the bus group, decoded. */
async function sniffer(group: string, pattern = "MOL.>") {
  const t = new MemoryBusClient(group);
  await t.connect();
  const packets: WirePacket[] = [];
  const decoder = new TextDecoder();
  t.subscribe(pattern, (data, subject) => {
    packets.push({ subject, payload: JSON.parse(decoder.decode(data)) });
  });
  return {
    packets,
    clear() {
      packets.length = 0;
    },
    /** Packets whose subject starts with `prefix`. */
    on(prefix: string): WirePacket[] {
      return packets.filter((p) => p.subject.startsWith(prefix));
    },
    async [Symbol.asyncDispose]() {
      await t.disconnect();
    },
  };
}

const settle = (ms = 60) => new Promise((r) => setTimeout(r, ms));

function count<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const it of items) out[key(it)] = (out[key(it)] ?? 0) + 1;
  return out;
}

interface Served {
  id: string;
  node: string;
  sender: string | null;
  n: unknown;
}

/** A `work` service whose `do` action records which node served which request. */
function worker(nodeID: string, served: Served[]): ServiceSchema {
  return {
    name: "work",
    actions: {
      do(ctx: Context<Rec>) {
        served.push({ id: ctx.id, node: nodeID, sender: ctx.nodeID, n: ctx.params.n });
        ctx.meta.servedBy = nodeID;
        return { servedBy: nodeID, n: ctx.params.n };
      },
      hidden: {
        visibility: "protected",
        handler: () => `hidden on ${nodeID}`,
      },
    },
  };
}

Deno.test("disableBalancer: calls go to REQB, the queue group spreads them, each is handled once", async () => {
  const group = busGroup();
  await using wire = await sniffer(group);
  const served: Served[] = [];
  await using a = await node(group, "a", { services: [worker("a", served)] });
  await using b = await node(group, "b", { services: [worker("b", served)] });
  await using c = await node(group, "c", { services: [worker("c", served)] });
  await waitFor(
    () => [a, b, c].every((n) => n.broker.registry.actions.get("work.do")?.items.length === 3),
    "every node sees work.do on a, b and c",
  );
  // Each node serves the action in the REQB queue group named after it.
  for (const n of [a, b, c]) {
    assert.ok(n.spy.balanced().includes("MOL.REQB.work.do [work.do]"), n.spy.balanced().join());
  }
  wire.clear();

  const results = await Promise.all(
    Array.from({ length: 30 }, (_, n) => a.broker.call<Rec>("work.do", { n })),
  );
  results.forEach((r, n) => assert.equal(r.n, n));
  await settle();
  // Each request was handled exactly once, and the queue group spread them over the three nodes,
  // the caller's own action included (it is reached through the bus, not called directly).
  assert.equal(served.length, 30);
  assert.equal(new Set(served.map((s) => s.id)).size, 30);
  assert.deepEqual(count(served, (s) => s.node), { a: 10, b: 10, c: 10 });
  assert.ok(served.every((s) => s.sender === "a"), "ctx.nodeID is the caller on every node");
  // On the wire: 30 REQ on REQB, none targeted; one RES per request back to the caller.
  assert.equal(wire.on("MOL.REQB.work.do").length, 30);
  assert.equal(wire.on("MOL.REQ.").length, 0);
  const res = wire.on("MOL.RES.");
  assert.equal(res.length, 30);
  assert.ok(res.every((p) => p.subject === "MOL.RES.a"));
  assert.deepEqual(count(res, (p) => String(p.payload.sender)), { a: 10, b: 10, c: 10 });

  // The response meta says who served; the REQB payload is the same REQ as a targeted one.
  const meta: Rec = {};
  await b.broker.call("work.do", { n: 99 }, { meta });
  assert.ok(["a", "b", "c"].includes(meta.servedBy as string));
  const balancedReq = wire.on("MOL.REQB.work.do").at(-1)!.payload;
  wire.clear();
  const targetedMeta: Rec = {};
  await b.broker.call("work.do", { n: 100 }, { nodeID: "c", meta: targetedMeta });
  assert.equal(targetedMeta.servedBy, "c");
  assert.equal(wire.on("MOL.REQB.").length, 0, "opts.nodeID still targets the node");
  const targetedReq = wire.on("MOL.REQ.c")[0]!.payload;
  assert.deepEqual(Object.keys(balancedReq), Object.keys(targetedReq));
  assert.equal(balancedReq.action, "work.do");
  assert.equal(balancedReq.sender, "b");
  assert.equal(balancedReq.ver, "5");

  // A nested call from a handler is balanced too.
  served.length = 0;
  await using d = await node(group, "d", {
    services: [{
      name: "relay",
      actions: { go: (ctx: Context) => ctx.call("work.do", { n: "nested" }) },
    }],
  });
  await waitFor(
    () => a.broker.registry.actions.get("relay.go") && d.broker.registry.actions.get("work.do"),
    "relay.go and work.do known",
  );
  wire.clear();
  const nested = await a.broker.call<Rec>("relay.go");
  assert.equal(nested.n, "nested");
  assert.equal(wire.on("MOL.REQB.relay.go").length, 1);
  assert.equal(wire.on("MOL.REQB.work.do").length, 1);
  assert.equal(wire.on("MOL.REQB.work.do")[0]!.payload.level, 2);

  // A protected action cannot be served for another node: it is called directly.
  wire.clear();
  assert.equal(await a.broker.call("work.hidden"), "hidden on a");
  assert.equal(wire.on("MOL.REQB.").length, 0);
});

Deno.test("disableBalancer: emits go to EVENTB, one copy per group, one handler per group", async () => {
  const group = busGroup();
  await using wire = await sniffer(group);
  const logs = { a: new EventLog(), b: new EventLog(), c: new EventLog() };
  await using a = await node(group, "a", {
    services: [logs.a.service("mailer", { "order.created": "mail" })],
  });
  await using b = await node(group, "b", {
    services: [
      logs.b.service("billing", { "order.created": undefined }),
      logs.b.service("deep", { "order.**": "deep" }),
    ],
  });
  await using c = await node(group, "c", {
    services: [
      logs.c.service("billing", { "order.created": undefined }),
      logs.c.service("audit", { "order.*": "audit" }),
      logs.c.service("internal", { "$custom.tick": undefined }),
    ],
  });
  await waitFor(
    () =>
      [a, b, c].every((n) =>
        n.broker.registry.matchingEventLists("order.created")
          .reduce((sum, l) => sum + l.items.length, 0) === 5
      ),
    "every node knows the 5 order.created listeners",
  );
  // Subscriptions: queue = group; `**` becomes `>`, `*` stays; `$` events included.
  const eventSubs = (n: typeof a) => n.spy.balanced().filter((s) => s.startsWith("MOL.EVENTB."));
  assert.deepEqual(eventSubs(a), ["MOL.EVENTB.mail.order.created [mail]"]);
  assert.deepEqual(eventSubs(b), [
    "MOL.EVENTB.billing.order.created [billing]",
    "MOL.EVENTB.deep.order.> [deep]",
  ]);
  assert.deepEqual(eventSubs(c), [
    "MOL.EVENTB.audit.order.* [audit]",
    "MOL.EVENTB.billing.order.created [billing]",
    "MOL.EVENTB.internal.$custom.tick [internal]",
  ]);
  wire.clear();

  for (let i = 0; i < 20; i++) await a.broker.emit("order.created", { i });
  const all = () => [...logs.a.events, ...logs.b.events, ...logs.c.events];
  await waitFor(() => all().length === 80, "80 handler calls", 5000);
  await settle();
  assert.equal(all().length, 80);
  // One handler per group per emit; billing (on b and c) is spread by the queue group.
  assert.equal(logs.a.count("order.created"), 20); // mail: the emitter's own handler, via the bus
  assert.equal(logs.b.count("order.**"), 20);
  assert.equal(logs.c.count("order.*"), 20);
  assert.equal(logs.b.count("order.created"), 10);
  assert.equal(logs.c.count("order.created"), 10);
  for (const log of Object.values(logs)) {
    for (const e of log.events) {
      assert.equal(e.eventType, "emit");
      assert.equal(e.nodeID, "a");
      assert.deepEqual(e.groups, [e.group ?? e.service]);
    }
  }
  // Every billing emit handled once: the data values 0..19 each appear once across b and c.
  const billing = [...logs.b.events, ...logs.c.events].filter((e) => e.service === "billing");
  assert.deepEqual(billing.map((e) => (e.data as Rec).i).sort((x, y) => +x! - +y!), [
    ...Array(20).keys(),
  ]);
  // On the wire: 4 EVENTB copies per emit with `groups: [group]`, no targeted EVENT.
  assert.equal(wire.on("MOL.EVENT.").length, 0);
  const copies = wire.on("MOL.EVENTB.");
  assert.equal(copies.length, 80);
  assert.deepEqual(count(copies, (p) => p.subject), {
    "MOL.EVENTB.mail.order.created": 20,
    "MOL.EVENTB.billing.order.created": 20,
    "MOL.EVENTB.audit.order.created": 20,
    "MOL.EVENTB.deep.order.created": 20,
  });
  for (const p of copies) {
    assert.deepEqual(p.payload.groups, [p.subject.split(".")[2]]);
    assert.equal(p.payload.broadcast, false);
    assert.equal(p.payload.event, "order.created");
  }

  // `order.**` (subject `order.>`) matches two tokens; `order.*` does not.
  for (const log of Object.values(logs)) log.events.length = 0;
  wire.clear();
  await b.broker.emit("order.item.added", { deep: true });
  await logs.b.waitFor((e) => e.event === "order.item.added", "deep gets order.item.added");
  await settle();
  assert.equal(all().length, 1);
  assert.deepEqual(wire.on("MOL.EVENTB.").map((p) => p.subject), [
    "MOL.EVENTB.deep.order.item.added",
  ]);

  // The `groups` option limits the copies; a `$` event goes through the bus too.
  for (const log of Object.values(logs)) log.events.length = 0;
  wire.clear();
  await c.broker.emit("order.created", { only: true }, { groups: ["audit", "mail"] });
  await c.broker.emit("$custom.tick", { tick: 1 });
  await waitFor(() => all().length === 3, "audit, mail and $custom.tick");
  await settle();
  assert.deepEqual(all().map((e) => `${e.service}:${e.event}`).sort(), [
    "audit:order.created",
    "internal:$custom.tick",
    "mailer:order.created",
  ]);
  assert.deepEqual(wire.on("MOL.EVENTB.").map((p) => p.subject).sort(), [
    "MOL.EVENTB.audit.order.created",
    "MOL.EVENTB.internal.$custom.tick",
    "MOL.EVENTB.mail.order.created",
  ]);

  // No listener: nothing is sent.
  wire.clear();
  await a.broker.emit("nobody.listens", {});
  await settle(20);
  assert.equal(wire.on("MOL.EVENT").length, 0);
});

Deno.test("disableBalancer: a broadcast is a targeted EVENT to every node, the sender included", async () => {
  const group = busGroup();
  await using wire = await sniffer(group);
  const logs = { a: new EventLog(), b: new EventLog(), c: new EventLog() };
  await using a = await node(group, "a", {
    services: [logs.a.service("mailer", { "order.created": "mail" })],
  });
  await using b = await node(group, "b", {
    services: [logs.b.service("billing", { "order.created": undefined, "order.*": "stars" })],
  });
  await using c = await node(group, "c", {
    services: [logs.c.service("billing", { "order.created": undefined })],
  });
  await waitFor(
    () =>
      [a, b, c].every((n) =>
        n.broker.registry.matchingEventLists("order.created")
          .reduce((sum, l) => sum + l.items.length, 0) === 4
      ),
    "every node knows the 4 listeners",
  );
  wire.clear();
  await a.broker.broadcast("order.created", { x: 1 });
  const all = () => [...logs.a.events, ...logs.b.events, ...logs.c.events];
  await waitFor(() => all().length === 4, "4 handler calls");
  await settle();
  assert.equal(all().length, 4);
  assert.equal(logs.a.count("order.created"), 1); // the sender's own handler, from its own packet
  assert.equal(logs.b.count("order.created"), 1);
  assert.equal(logs.b.count("order.*"), 1);
  assert.equal(logs.c.count("order.created"), 1);
  const groups = ["billing", "mail", "stars"];
  for (const e of all()) {
    assert.equal(e.eventType, "broadcast");
    assert.equal(e.nodeID, "a");
    assert.deepEqual([...e.groups!].sort(), groups);
  }
  assert.equal(wire.on("MOL.EVENTB.").length, 0);
  const sent = wire.on("MOL.EVENT.");
  assert.deepEqual(sent.map((p) => p.subject).sort(), [
    "MOL.EVENT.a",
    "MOL.EVENT.b",
    "MOL.EVENT.c",
  ]);
  for (const p of sent) {
    assert.equal(p.payload.broadcast, true);
    assert.deepEqual([...(p.payload.groups as string[])].sort(), groups);
  }

  // The groups option limits the nodes and the handlers.
  for (const log of Object.values(logs)) log.events.length = 0;
  wire.clear();
  await c.broker.broadcast("order.created", {}, { groups: ["stars"] });
  await logs.b.waitFor((e) => e.handler === "order.*", "stars handler");
  await settle();
  assert.equal(all().length, 1);
  assert.deepEqual(wire.on("MOL.EVENT.").map((p) => p.subject), ["MOL.EVENT.b"]);
});

Deno.test("disableBalancer: balanced subscriptions follow the announced services", async () => {
  const group = busGroup();
  const log = new EventLog();
  const served: Served[] = [];
  await using a = await node(group, "a", { internalServices: false });
  const b = await node(group, "b", {
    internalServices: false,
    services: [worker("b", served), log.service("listener", { "job.**": "jobs" })],
  });
  await using plain = await node(group, "plain", {
    internalServices: false,
    disableBalancer: false,
    services: [{ name: "other", actions: { x: () => 1 }, events: { "job.done": () => {} } }],
  });
  await waitFor(() => a.broker.registry.actions.get("work.do"), "a sees work.do");
  // Every action in the INFO (protected ones too, as in Moleculer) and every event.
  assert.deepEqual(b.spy.balanced(), [
    "MOL.EVENTB.jobs.job.> [jobs]",
    "MOL.REQB.work.do [work.do]",
    "MOL.REQB.work.hidden [work.hidden]",
  ]);
  assert.deepEqual(a.spy.balanced(), []);
  // A node that keeps its balancer never subscribes to balanced subjects.
  assert.deepEqual(plain.spy.balanced(), []);

  // A service added later gets its subscriptions with the next INFO; a removed one loses them.
  await b.broker.register({ name: "late", actions: { hi: () => "hi" } });
  await waitFor(() => a.broker.registry.actions.get("late.hi"), "a sees late.hi");
  assert.ok(b.spy.balanced().includes("MOL.REQB.late.hi [late.hi]"));
  assert.equal(await a.broker.call("late.hi"), "hi");
  const before = b.spy.subscriptions.length;
  await b.broker.destroyService("late");
  await waitFor(() => !a.broker.registry.actions.get("late.hi"), "late.hi gone from a");
  assert.ok(!b.spy.balanced().includes("MOL.REQB.late.hi [late.hi]"));
  // Unchanged subscriptions are kept, not recreated.
  assert.equal(b.spy.subscriptions.length, before);

  // Stopping drops them all (the INFO sent at stop announces no services).
  await b.broker.stop();
  assert.deepEqual(b.spy.balanced(), []);
});

Deno.test("disableBalancer: the namespace prefixes the balanced subjects", async () => {
  const group = busGroup();
  await using wire = await sniffer(group, "MOL-ns1.>");
  const served: Served[] = [];
  const log = new EventLog();
  await using a = await node(group, "a", { namespace: "ns1" });
  await using b = await node(group, "b", {
    namespace: "ns1",
    protocolVersion: "4",
    services: [worker("b", served), log.service("l", { "ev.*": undefined })],
  });
  await using a4 = await node(group, "a4", { namespace: "ns1", protocolVersion: "4" });
  await waitFor(() => a4.broker.registry.actions.get("work.do"), "a4 sees work.do");
  assert.ok(b.spy.balanced().includes("MOL-ns1.EVENTB.l.ev.* [l]"));
  wire.clear();
  assert.deepEqual(await a4.broker.call("work.do", { n: 1 }), { servedBy: "b", n: 1 });
  await a4.broker.emit("ev.x", 1);
  await log.waitFor((e) => e.event === "ev.x", "ev.x");
  assert.deepEqual(wire.packets.map((p) => p.subject).filter((s) => /REQB|EVENTB/.test(s)), [
    "MOL-ns1.REQB.work.do",
    "MOL-ns1.EVENTB.l.ev.x",
  ]);
  const req = wire.on("MOL-ns1.REQB.")[0]!.payload;
  assert.equal(req.ver, "4");
  assert.ok(!("headers" in req), "no headers in protocol 4");
  // The protocol 5 node is not part of that cluster.
  assert.equal(a.broker.registry.actions.get("work.do"), undefined);
});

Deno.test("disableBalancer: without a built-in balancer it is ignored with a warning", async () => {
  const group = busGroup();
  await using wire = await sniffer(group);
  const served: Served[] = [];
  await using a = await startDeno({
    transporter: new NoBalancerTransporter(group),
    nodeID: "a",
    disableBalancer: true,
    transit: { discoverWaitTime: 30 },
  });
  await using b = await node(group, "b", {
    disableBalancer: false,
    services: [worker("b", served)],
  });
  assert.equal(a.broker.options.disableBalancer, false);
  assert.ok(
    a.logs.some((l) => l.level === "warn" && /no built-in balancer/.test(l.message)),
    a.logs.map((l) => l.message).join("\n"),
  );
  await waitFor(() => a.broker.registry.actions.get("work.do"), "a sees work.do");
  wire.clear();
  assert.deepEqual(await a.broker.call("work.do", { n: 1 }), { servedBy: "b", n: 1 });
  assert.deepEqual(wire.on("MOL.REQ").map((p) => p.subject), ["MOL.REQ.b"]);

  // Without a transporter there is nothing to balance with either.
  const local = new ServiceBroker({
    nodeID: "local",
    disableBalancer: true,
    logger: () => {},
  });
  assert.equal(local.options.disableBalancer, false);
  // The default is the built-in balancer.
  assert.equal(new ServiceBroker({ nodeID: "d", logger: false }).options.disableBalancer, false);
  assert.equal(b.broker.options.disableBalancer, false);
  assert.throws(
    () => new ServiceBroker({ nodeID: "x", logger: false, disableBalancer: "yes" as never }),
    /disableBalancer/,
  );
});

Deno.test("disableBalancer: a mixed cluster behaves as Moleculer's (targeted traffic only)", async () => {
  const group = busGroup();
  await using wire = await sniffer(group);
  const servedOff: Served[] = [];
  const servedOn: Served[] = [];
  const offLog = new EventLog();
  const onLog = new EventLog();
  // "off" runs with disableBalancer, "on" keeps the built-in balancer.
  await using off = await node(group, "off", {
    services: [worker("off", servedOff), offLog.service("offl", { "x.ev": undefined })],
  });
  await using on = await node(group, "on", {
    disableBalancer: false,
    services: [
      { ...worker("on", servedOn), name: "onwork" },
      onLog.service("onl", { "x.ev": undefined }),
    ],
  });
  await waitFor(
    () => off.broker.registry.actions.get("onwork.do") && on.broker.registry.actions.get("work.do"),
    "both see each other",
  );
  // The balancer node reaches the other with targeted REQ / EVENT, which every node subscribes to.
  assert.deepEqual(await on.broker.call("work.do", { n: 1 }), { servedBy: "off", n: 1 });
  await on.broker.emit("x.ev", 1);
  await offLog.waitFor((e) => e.event === "x.ev" && e.nodeID === "on", "off gets on's emit");
  await on.broker.broadcast("x.ev", 2);
  await offLog.waitFor((e) => e.data === 2, "off gets on's broadcast");
  assert.equal(wire.on("MOL.REQB.").length + wire.on("MOL.EVENTB.").length, 0);
  // Targeted calls and broadcasts from the disableBalancer node work too.
  assert.deepEqual(await off.broker.call("onwork.do", { n: 2 }, { nodeID: "on" }), {
    servedBy: "on",
    n: 2,
  });
  await off.broker.broadcast("x.ev", 3);
  await onLog.waitFor((e) => e.data === 3, "on gets off's broadcast");
  // But balanced traffic from the disableBalancer node never reaches a node that keeps its
  // balancer (it does not subscribe to REQB/EVENTB): the call times out, the emit is lost. A
  // Moleculer node with its balancer on behaves the same way.
  onLog.events.length = 0;
  const err = await off.broker.call("onwork.do", { n: 3 }, { timeout: 150 }).catch((e) => e);
  assert.ok(err instanceof RequestTimeoutError, String(err));
  assert.equal(wire.on("MOL.REQB.onwork.do").length, 1);
  await off.broker.emit("x.ev", 4);
  await offLog.waitFor((e) => e.data === 4, "off's own handler gets the EVENTB copy");
  await settle();
  assert.equal(onLog.events.length, 0);
  assert.equal(servedOn.filter((s) => s.n === 3).length, 0);
});
