/**
 * MemoryTransporter specifics: group isolation, asynchronous ordered delivery, bus lifecycle,
 * Moleculer's NATS subjects on the bus; and the bus itself (`MemoryBusClient`): NATS wildcards,
 * queue groups, subject checks.
 */

import assert from "node:assert/strict";
import { MemoryBusClient } from "../../src/transporters/memory_bus.ts";
import { MemoryTransporter } from "../../src/transporters/memory.ts";
import { resolveTransporter } from "../../src/transporters/resolve.ts";
import { bytes, Inbox, RecordingHost, sync } from "./_util.ts";

/** A fresh bus group. */
const group = (name: string): string => `${name}-${crypto.randomUUID()}`;

Deno.test("MemoryTransporter groups are isolated", async () => {
  const a1 = new MemoryTransporter("iso-1");
  const a2 = new MemoryTransporter("iso-1");
  const b1 = new MemoryTransporter("iso-2");
  const hosts = [new RecordingHost("a1"), new RecordingHost("a2"), new RecordingHost("b1")];
  const [h1, h2, h3] = hosts as [RecordingHost, RecordingHost, RecordingHost];
  const all = [a1, a2, b1];
  await Promise.all(all.map((t, i) => t.connect(hosts[i]!)));
  try {
    await a2.subscribe("INFO");
    await b1.subscribe("INFO");
    await a1.publish("INFO", undefined, bytes("from group 1"));
    await h2.waitFor(1);
    await sync(b1, h3); // group 2's bus has run since
    assert.deepEqual(h2.texts, ["from group 1"]);
    assert.deepEqual(h3.texts, []);

    await b1.publish("INFO", undefined, bytes("from group 2"));
    await h3.waitFor(1);
    await sync(a2, h2);
    assert.deepEqual(h2.texts, ["from group 1"]);
    assert.deepEqual(h3.texts, ["from group 2"]);
    assert.deepEqual(h1.texts, []);
  } finally {
    await Promise.all(all.map((t) => t.disconnect()));
  }
});

Deno.test("MemoryTransporter defaults to the 'default' group, shared with memory://default", async () => {
  const a = new MemoryTransporter();
  const b = resolveTransporter("memory://default");
  const c = resolveTransporter("Memory");
  assert.equal(a.group, "default");
  const hb = new RecordingHost("b");
  const hc = new RecordingHost("c");
  await Promise.all([a.connect(new RecordingHost("a")), b.connect(hb), c.connect(hc)]);
  try {
    await b.subscribe("DISCOVER");
    await c.subscribe("DISCOVER");
    await a.publish("DISCOVER", undefined, bytes("hi"));
    await hb.waitFor(1);
    await hc.waitFor(1);
  } finally {
    await Promise.all([a.disconnect(), b.disconnect(), c.disconnect()]);
  }
});

Deno.test("MemoryTransporter delivers asynchronously, never inside publish()", async () => {
  const t = new MemoryTransporter(group("async"));
  let delivered = false;
  await t.connect({ namespace: "", prefix: "MOL", nodeID: "a", receive: () => delivered = true });
  try {
    await t.subscribe("EVENT", "a");
    const p = t.publish("EVENT", "a", bytes("x"));
    assert.equal(delivered, false);
    await p;
    await t.disconnect(); // delivers what was published first
    assert.equal(delivered, true);
  } finally {
    await t.disconnect();
  }
});

Deno.test("MemoryTransporter.disconnect() delivers what was published before leaving", async () => {
  const g = group("drain");
  const a = new MemoryTransporter(g);
  const b = new MemoryTransporter(g);
  const ha = new RecordingHost("a");
  const hb = new RecordingHost("b");
  await a.connect(ha);
  await b.connect(hb);
  await b.subscribe("EVENT");
  await a.subscribe("EVENT");
  for (let i = 0; i < 10; i++) await a.publish("EVENT", undefined, bytes(String(i)));
  await a.disconnect();
  assert.equal(hb.received.length, 10);
  assert.equal(ha.received.length, 10, "its own pending messages too");
  await b.disconnect();
  // The group's bus is gone; a new transporter on the same group starts clean and works.
  const c = new MemoryTransporter(g);
  const hc = new RecordingHost("c");
  await c.connect(hc);
  await sync(c, hc);
  await c.disconnect();
});

Deno.test("MemoryTransporter lays Moleculer's NATS subjects on the bus", async () => {
  const g = group("subjects");
  const wire = new MemoryBusClient(g);
  const inbox = new Inbox();
  await wire.connect();
  wire.subscribe(">", inbox.handler);
  const t = new MemoryTransporter(g);
  const host = new RecordingHost("n1", "dev");
  await t.connect(host);
  try {
    await t.publish("REQ", "n2", bytes("1"));
    await t.publish("INFO", undefined, bytes("2"));
    await t.publishBalancedRequest("users.get", bytes("3"));
    await t.publishBalancedEvent("user.created", "mail", bytes("4"));
    await inbox.waitFor(4);
    assert.deepEqual(inbox.subjects, [
      "MOL-dev.REQ.n2",
      "MOL-dev.INFO",
      "MOL-dev.REQB.users.get",
      "MOL-dev.EVENTB.mail.user.created",
    ]);

    // `**` becomes `>`: the subscription hears any depth under it, in the group's queue.
    await t.subscribeBalancedEvent("order.**", "billing");
    await t.subscribe("PING", "n1");
    await wire.publish("MOL-dev.EVENTB.billing.order.line.added", bytes("deep"));
    await wire.publish("MOL-dev.PING.n1", bytes("ping"));
    await host.waitFor(2);
    assert.deepEqual(host.lines, ["EVENT deep", "PING ping"]);
  } finally {
    await t.disconnect();
    await wire.disconnect();
  }
});

Deno.test("MemoryBusClient: '*' matches one token and '>' the rest", async () => {
  const c = new MemoryBusClient(group("wildcards"));
  await c.connect();
  try {
    const star = new Inbox();
    const tail = new Inbox();
    const mid = new Inbox();
    const exact = new Inbox();
    c.subscribe("w.*.end", star.handler);
    c.subscribe("w.>", tail.handler);
    c.subscribe("w.*.*", mid.handler);
    c.subscribe("w.a", exact.handler);
    for (const s of ["w.a.end", "w.a.b.end", "w.a", "w", "x.a.end", "w.b.end", "w.ax"]) {
      await c.publish(s, bytes(s));
    }
    await tail.waitFor(5);
    assert.deepEqual(star.subjects, ["w.a.end", "w.b.end"]);
    assert.deepEqual(tail.subjects, ["w.a.end", "w.a.b.end", "w.a", "w.b.end", "w.ax"]);
    assert.deepEqual(mid.subjects, ["w.a.end", "w.b.end"]);
    assert.deepEqual(exact.subjects, ["w.a"]);
    assert.deepEqual(star.texts, star.subjects);
  } finally {
    await c.disconnect();
  }
});

Deno.test("MemoryBusClient round-robins a queue group and also serves plain subscribers", async () => {
  const c = new MemoryBusClient(group("rr"));
  await c.connect();
  try {
    const q1 = new Inbox();
    const q2 = new Inbox();
    const other = new Inbox();
    const plain = new Inbox();
    c.subscribe("REQB.svc.>", q1.handler, "svc");
    c.subscribe("REQB.svc.*", q2.handler, "svc"); // same queue name, other pattern: one group
    c.subscribe("REQB.svc.act", other.handler, "other");
    c.subscribe("REQB.>", plain.handler);
    for (let i = 0; i < 6; i++) await c.publish("REQB.svc.act", bytes(String(i)));
    await plain.waitFor(6);
    assert.deepEqual(q1.texts, ["0", "2", "4"]);
    assert.deepEqual(q2.texts, ["1", "3", "5"]);
    assert.equal(other.messages.length, 6);
  } finally {
    await c.disconnect();
  }
});

Deno.test("MemoryBusClient reports a throwing handler and delivers to the others", async () => {
  const errors: Error[] = [];
  const c = new MemoryBusClient(group("throw"));
  await c.connect((e) => errors.push(e));
  try {
    const inbox = new Inbox();
    c.subscribe("boom", () => {
      throw new Error("handler exploded");
    });
    c.subscribe("boom", () => Promise.reject(new Error("async handler exploded")));
    c.subscribe("boom", inbox.handler);
    await c.publish("boom", bytes("1"));
    await inbox.waitFor(1);
    await new Promise((r) => setTimeout(r, 0));
    assert.deepEqual(errors.map((e) => e.message).sort(), [
      "async handler exploded",
      "handler exploded",
    ]);
  } finally {
    await c.disconnect();
  }
});

Deno.test("MemoryBusClient rejects malformed subjects and groups", async () => {
  assert.throws(() => new MemoryBusClient(""), TypeError);
  assert.throws(() => new MemoryTransporter(""), TypeError);
  const c = new MemoryBusClient(group("bad"));
  await c.connect();
  try {
    assert.throws(() => c.subscribe("a..b", () => {}), TypeError);
    assert.throws(() => c.subscribe("a.>.b", () => {}), TypeError);
    assert.throws(() => c.subscribe("", () => {}), TypeError);
    await assert.rejects(c.publish("a b", bytes("x")), TypeError);
  } finally {
    await c.disconnect();
  }
  const t = new MemoryTransporter(group("bad"));
  await t.connect(new RecordingHost("n"));
  try {
    await assert.rejects(t.publish("REQ", "bad node", bytes("x")), TypeError);
    assert.equal(t.maxPayload, undefined);
  } finally {
    await t.disconnect();
  }
});
