/** MemoryTransporter specifics: group isolation, asynchronous ordered delivery, bus lifecycle. */

import assert from "node:assert/strict";
import { MemoryTransporter } from "../../src/transporters/memory.ts";
import { resolveTransporter } from "../../src/transporters/resolve.ts";
import { bytes, Inbox, sync } from "./_util.ts";

Deno.test("MemoryTransporter groups are isolated", async () => {
  const a1 = new MemoryTransporter("iso-1");
  const a2 = new MemoryTransporter("iso-1");
  const b1 = new MemoryTransporter("iso-2");
  const all = [a1, a2, b1];
  await Promise.all(all.map((t) => t.connect({})));
  try {
    const inA2 = new Inbox();
    const inB1 = new Inbox();
    a2.subscribe("MOL.INFO", inA2.handler);
    b1.subscribe("MOL.INFO", inB1.handler);
    await a1.publish("MOL.INFO", bytes("from group 1"));
    await inA2.waitFor(1);
    await sync(b1); // group 2's bus has run since
    assert.deepEqual(inA2.texts, ["from group 1"]);
    assert.deepEqual(inB1.texts, []);

    await b1.publish("MOL.INFO", bytes("from group 2"));
    await inB1.waitFor(1);
    await sync(a2);
    assert.deepEqual(inA2.texts, ["from group 1"]);
    assert.deepEqual(inB1.texts, ["from group 2"]);
  } finally {
    await Promise.all(all.map((t) => t.disconnect()));
  }
});

Deno.test("MemoryTransporter defaults to the 'default' group, shared with memory://default", async () => {
  const a = new MemoryTransporter();
  const b = resolveTransporter("memory://default");
  const c = resolveTransporter("Memory");
  assert.equal(a.group, "default");
  await Promise.all([a.connect({}), b.connect({}), c.connect({})]);
  try {
    const inB = new Inbox();
    const inC = new Inbox();
    b.subscribe("x", inB.handler);
    c.subscribe("x", inC.handler);
    await a.publish("x", bytes("hi"));
    await inB.waitFor(1);
    await inC.waitFor(1);
  } finally {
    await Promise.all([a.disconnect(), b.disconnect(), c.disconnect()]);
  }
});

Deno.test("MemoryTransporter delivers asynchronously, never inside publish()", async () => {
  const t = new MemoryTransporter(`async-${crypto.randomUUID()}`);
  await t.connect({});
  try {
    let delivered = false;
    t.subscribe("a", () => delivered = true);
    const p = t.publish("a", bytes("x"));
    assert.equal(delivered, false);
    await p;
    await sync(t);
    assert.equal(delivered, true);
  } finally {
    await t.disconnect();
  }
});

Deno.test("MemoryTransporter round-robins a queue group and also serves plain subscribers", async () => {
  const group = `rr-${crypto.randomUUID()}`;
  const t = new MemoryTransporter(group);
  await t.connect({});
  try {
    const q1 = new Inbox();
    const q2 = new Inbox();
    const other = new Inbox();
    const plain = new Inbox();
    t.subscribe("REQB.svc.>", q1.handler, "svc");
    t.subscribe("REQB.svc.*", q2.handler, "svc"); // same queue name, other pattern: one group
    t.subscribe("REQB.svc.act", other.handler, "other");
    t.subscribe("REQB.>", plain.handler);
    for (let i = 0; i < 6; i++) await t.publish("REQB.svc.act", bytes(String(i)));
    await plain.waitFor(6);
    assert.deepEqual(q1.texts, ["0", "2", "4"]);
    assert.deepEqual(q2.texts, ["1", "3", "5"]);
    assert.equal(other.messages.length, 6);
  } finally {
    await t.disconnect();
  }
});

Deno.test("MemoryTransporter.disconnect() delivers what was published before leaving", async () => {
  const group = `drain-${crypto.randomUUID()}`;
  const a = new MemoryTransporter(group);
  const b = new MemoryTransporter(group);
  await a.connect({});
  await b.connect({});
  const inB = new Inbox();
  const inA = new Inbox();
  b.subscribe("d", inB.handler);
  a.subscribe("d", inA.handler);
  for (let i = 0; i < 10; i++) await a.publish("d", bytes(String(i)));
  await a.disconnect();
  assert.equal(inB.messages.length, 10);
  assert.equal(inA.messages.length, 10, "its own pending messages too");
  await b.disconnect();
  // The group's bus is gone; a new transporter on the same group starts clean and works.
  const c = new MemoryTransporter(group);
  await c.connect({});
  await sync(c);
  await c.disconnect();
});

Deno.test("MemoryTransporter rejects malformed subjects and groups", async () => {
  assert.throws(() => new MemoryTransporter(""), TypeError);
  const t = new MemoryTransporter(`bad-${crypto.randomUUID()}`);
  await t.connect({});
  try {
    assert.throws(() => t.subscribe("a..b", () => {}), TypeError);
    assert.throws(() => t.subscribe("a.>.b", () => {}), TypeError);
    assert.throws(() => t.subscribe("", () => {}), TypeError);
    await assert.rejects(t.publish("a b", bytes("x")), TypeError);
    assert.equal(t.maxPayload, undefined);
  } finally {
    await t.disconnect();
  }
});
