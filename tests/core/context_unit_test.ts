/**
 * Context on its own: its factories and child calls, with a fake BrokerApi instead of a broker.
 */
import assert from "node:assert/strict";
import { Context } from "../../mod.ts";
import { fakeBroker } from "../_helpers/fake_broker.ts";

Deno.test("Context.create: a root call starts a new chain with a copy of the caller's meta", () => {
  const broker = fakeBroker();
  const meta = { user: 1 };
  const opts = { meta, headers: { h: 1 }, requestID: "req-1", caller: "api" };
  const ctx = Context.create(broker, { a: 1 }, opts);
  assert.equal(ctx.broker, broker);
  assert.equal(ctx.nodeID, "fake-node");
  assert.deepEqual(ctx.params, { a: 1 });
  assert.deepEqual(ctx.meta, { user: 1 });
  assert.notEqual(ctx.meta, meta, "the callee gets a copy; changes come back by merge");
  assert.deepEqual(ctx.headers, { h: 1 });
  assert.equal(ctx.level, 1);
  assert.equal(ctx.parentID, null);
  assert.equal(ctx.requestID, "req-1");
  assert.equal(ctx.caller, "api");
  assert.equal(ctx.options, opts, "the options are kept as given");
});

Deno.test("Context.create: a child inherits lineage and meta under its own", () => {
  const broker = fakeBroker();
  const parent = Context.create(broker, {}, { meta: { a: 1, b: 1 }, requestID: "chain" });
  parent.service = { fullName: "v2.users" } as Context["service"];
  const child = Context.create(broker, {}, { parentCtx: parent, meta: { b: 2 } });
  assert.equal(child.level, 2);
  assert.equal(child.parentID, parent.id);
  assert.equal(child.requestID, "chain");
  assert.equal(child.caller, "v2.users", "the parent's service is the caller");
  assert.deepEqual(child.meta, { a: 1, b: 2 });
  assert.deepEqual(parent.meta, { a: 1, b: 1 }, "the parent's meta is not touched");
  assert.notEqual(child.id, parent.id);
});

Deno.test("Context.forEvent: an event context names the event, its type and groups", () => {
  const broker = fakeBroker();
  const parent = Context.create(broker, {}, { meta: { t: 1 } });
  const ctx = Context.forEvent(broker, "user.created", { id: 5 }, { parentCtx: parent }, "emit", [
    "mail",
  ]);
  assert.equal(ctx.eventName, "user.created");
  assert.equal(ctx.eventType, "emit");
  assert.deepEqual(ctx.eventGroups, ["mail"]);
  assert.deepEqual(ctx.params, { id: 5 });
  assert.deepEqual(ctx.meta, { t: 1 });
  assert.equal(ctx.level, 2);
  assert.equal(ctx.requestID, parent.requestID);
  assert.deepEqual(ctx.options, {}, "events carry no call options");
});

Deno.test("Context.fromRemote: a packet's lineage is taken as sent", () => {
  const broker = fakeBroker();
  const meta = { m: 1 };
  const ctx = Context.fromRemote(broker, "node-2", {
    id: "remote-id",
    meta,
    headers: { x: "y" },
    level: 3,
    parentID: "p",
    requestID: "r",
    caller: "billing",
  }, { a: 1 });
  assert.equal(ctx.id, "remote-id");
  assert.equal(ctx.nodeID, "node-2");
  assert.equal(ctx.meta, meta, "the decoded meta object is used as is");
  assert.deepEqual(ctx.headers, { x: "y" });
  assert.equal(ctx.level, 3);
  assert.equal(ctx.parentID, "p");
  assert.equal(ctx.requestID, "r");
  assert.equal(ctx.caller, "billing");
  assert.deepEqual(ctx.params, { a: 1 });
  const noId = Context.fromRemote(broker, "n", {
    id: null,
    meta: {},
    headers: {},
    level: 1,
    parentID: null,
    requestID: null,
    caller: null,
  }, {});
  assert.equal(typeof noId.id, "string", "an event without an id gets a new one");
  assert.equal(noId.requestID, noId.id);
});

Deno.test("ctx.forHandler: each handler gets its own context over the same event", () => {
  const broker = fakeBroker();
  const base = Context.forEvent(broker, "a.b", { v: 1 }, {}, "broadcast", null);
  const copy = base.forHandler(null, { name: "a.*", group: "g" }, ["g"]);
  assert.notEqual(copy, base);
  assert.equal(copy.id, base.id);
  assert.equal(copy.params, base.params);
  assert.equal(copy.meta, base.meta, "handlers share the event's meta object");
  assert.deepEqual(copy.event, { name: "a.*", group: "g" });
  assert.equal(copy.eventName, "a.b");
  assert.equal(copy.eventType, "broadcast");
  assert.deepEqual(copy.eventGroups, ["g"]);
});

Deno.test("ctx.call / emit / broadcast / mcall go to the broker as children of the context", async () => {
  const broker = fakeBroker((name, params) => `${name}:${JSON.stringify(params)}`);
  const ctx = Context.create(broker, {}, {});
  assert.equal(await ctx.call("math.add", { a: 1 }, { timeout: 5 }), 'math.add:{"a":1}');
  await ctx.emit("e1", 1, { groups: "g" });
  await ctx.broadcast("e2", 2);
  assert.deepEqual(await ctx.mcall([{ action: "x.y", params: { n: 1 } }]), ['x.y:{"n":1}']);
  assert.deepEqual(broker.recorded.map((r) => [r.kind, r.name]), [
    ["call", "math.add"],
    ["emit", "e1"],
    ["broadcast", "e2"],
    ["call", "x.y"],
  ]);
  for (const r of broker.recorded) {
    assert.equal(r.opts.parentCtx, ctx, `${r.kind} ${r.name} is a child of the context`);
  }
  assert.equal((broker.recorded[0]!.opts as { timeout?: number }).timeout, 5);
  assert.equal((broker.recorded[1]!.opts as { groups?: string }).groups, "g");
});

Deno.test("ctx.remainingTime counts down from the context's timeout", () => {
  const ctx = Context.create(fakeBroker(), {}, {});
  assert.equal(ctx.remainingTime(), null, "no timeout, no deadline");
  ctx.timeout = 10_000;
  const left = ctx.remainingTime()!;
  assert.ok(left > 9_000 && left <= 10_000, `${left} ms left`);
});
