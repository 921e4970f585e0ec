/**
 * The `disableBalancer` subscriptions on their own, over a real memory transporter: one per
 * action and per event group, kept when unchanged, dropped when gone, and a failed one tried
 * again with the next INFO.
 */

import assert from "node:assert/strict";
import { BalancedSubscriptions } from "../../src/transit/balanced.ts";
import { MemoryTransporter } from "../../src/transporters/memory.ts";
import { RecordingHost } from "../transporters/_util.ts";

const SERVICES = [
  {
    name: "users",
    actions: { "users.get": {}, "users.list": {} },
    events: { "user.created": { group: "mail" }, "order.**": {} },
  },
];

Deno.test("BalancedSubscriptions: one per action and per event group; unchanged ones are kept", async () => {
  const group = `balanced-${crypto.randomUUID()}`;
  const t = new MemoryTransporter(group);
  const caller = new MemoryTransporter(group);
  const host = new RecordingHost("n1");
  await t.connect(host);
  await caller.connect(new RecordingHost("caller"));
  const warnings: string[] = [];
  const balanced = new BalancedSubscriptions(t, { warn: (m) => void warnings.push(m) });
  try {
    await balanced.sync(SERVICES);
    assert.deepEqual(balanced.keys.sort(), [
      "EVENT mail user.created",
      "EVENT users order.**",
      "REQ users.get",
      "REQ users.list",
    ]);
    await caller.publishBalancedRequest("users.get", new TextEncoder().encode("get"));
    await caller.publishBalancedEvent("order.line.added", "users", new TextEncoder().encode("o"));
    await host.waitFor(2);
    assert.deepEqual(host.lines, ["REQ get", "EVENT o"]);

    // A service loses an action: only that subscription goes.
    await balanced.sync([{ ...SERVICES[0], actions: { "users.get": {} } }]);
    assert.equal(balanced.keys.includes("REQ users.list"), false);
    await caller.publishBalancedRequest("users.list", new TextEncoder().encode("list"));
    await caller.publishBalancedRequest("users.get", new TextEncoder().encode("get-2"));
    await host.waitFor(3);
    assert.deepEqual(host.texts, ["get", "o", "get-2"], "users.list is no longer heard");

    // The INFO sent at stop announces no services: every subscription goes.
    await balanced.sync([]);
    assert.deepEqual(balanced.keys, []);
    assert.deepEqual(warnings, []);
  } finally {
    balanced.clear();
    await t.disconnect();
    await caller.disconnect();
  }
});

Deno.test("BalancedSubscriptions: a subscription that fails is logged and tried again next time", async () => {
  const t = new MemoryTransporter(`balanced-${crypto.randomUUID()}`);
  const warnings: string[] = [];
  const balanced = new BalancedSubscriptions(t, { warn: (m) => void warnings.push(m) });
  await balanced.sync([{ name: "users", actions: { "users.get": {} } }]); // not connected yet
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /^Cannot make the balanced subscription 'REQ users.get': /);
  assert.deepEqual(balanced.keys, []);
  await t.connect(new RecordingHost("n1"));
  try {
    await balanced.sync([{ name: "users", actions: { "users.get": {} } }]);
    assert.deepEqual(balanced.keys, ["REQ users.get"]);
    assert.equal(warnings.length, 1);
  } finally {
    balanced.clear();
    await t.disconnect();
  }
});
