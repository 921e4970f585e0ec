/**
 * The pending tables of transit, on their own: requests settled by their RES (data, errors,
 * meta, the responder), timeouts, orphans, what a lost node or a lost connection does to them;
 * pings settled by their PONG, timed out or abandoned.
 */

import assert from "node:assert/strict";
import {
  Context,
  MoleculerClientError,
  RequestRejectedError,
  RequestTimeoutError,
  ServiceBroker,
} from "../../mod.ts";
import { PendingPings, PendingRequests } from "../../src/transit/pending.ts";
import { nextId } from "../../src/_util/ids.ts";

/** Contexts need a broker; a local one that is never started is enough. */
const broker = new ServiceBroker({ nodeID: "local", logger: false });

/** A call context to `nodeID` (null: a balanced request). */
function call(
  nodeID: string | null,
  timeout: number | null = null,
  id: string = nextId(),
): Context {
  const ctx = new Context(broker, { id, timeout, meta: { mine: 1 } });
  ctx.nodeID = nodeID;
  return ctx;
}

/** Whether a promise is still pending after `ms`. */
async function stillPending(p: Promise<unknown>, ms = 30): Promise<boolean> {
  const marker = Symbol("pending");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const later = new Promise((resolve) => timer = setTimeout(() => resolve(marker), ms));
  try {
    return await Promise.race([p.then(() => "settled", () => "settled"), later]) === marker;
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("PendingRequests: a RES resolves its request, names the responder and merges its meta", async () => {
  const pending = new PendingRequests();
  const ctx = call(null); // balanced: the responder is not known until it answers
  const response = pending.add(ctx, "math.add");
  assert.equal(pending.size, 1);
  const meta = JSON.parse('{"took":3,"__proto__":{"polluted":true}}');
  assert.equal(pending.settle("node-2", { id: ctx.id, success: true, data: 5, meta }), true);
  assert.equal(await response, 5);
  assert.equal(ctx.nodeID, "node-2");
  assert.deepEqual(ctx.meta, { mine: 1, took: 3 });
  assert.equal(Object.getPrototypeOf(ctx.meta), Object.prototype, "no prototype change");
  assert.equal(pending.size, 0);
  // The same RES again is an orphan.
  assert.equal(pending.settle("node-2", { id: ctx.id, success: true, data: 6 }), false);
});

Deno.test("PendingRequests: an error RES rejects with the remote error's class", async () => {
  const pending = new PendingRequests();
  const ctx = call("node-2");
  const response = pending.add(ctx, "users.get");
  pending.settle("node-2", {
    id: ctx.id,
    success: false,
    data: null,
    error: { name: "MoleculerClientError", message: "bad id", code: 422, type: "BAD_ID" },
  });
  await assert.rejects(response, (e: unknown) => {
    assert.ok(e instanceof MoleculerClientError);
    assert.equal(e.message, "bad id");
    assert.equal(e.code, 422);
    return true;
  });
});

Deno.test("PendingRequests: a RES without a string id is refused, an unknown one is an orphan", () => {
  const pending = new PendingRequests();
  assert.throws(() => pending.settle("node-2", { id: 42, success: true }), /string 'id'/);
  assert.equal(pending.settle("node-2", { id: "nobody-waits", success: true }), false);
});

Deno.test("PendingRequests: ids made here and ids set by the caller are both found", async () => {
  const pending = new PendingRequests();
  const made = call("n", null, nextId());
  const custom = call("n", null, "caller-chosen-id");
  const a = pending.add(made, "a.b");
  const b = pending.add(custom, "a.b");
  assert.equal(pending.size, 2);
  pending.settle("n", { id: "caller-chosen-id", success: true, data: "custom" });
  pending.settle("n", { id: made.id, success: true, data: "made" });
  assert.deepEqual(await Promise.all([a, b]), ["made", "custom"]);
});

Deno.test("PendingRequests: an id that carries another request's counter settles only its own", async () => {
  const pending = new PendingRequests();
  const made = call("n", null, nextId());
  // Same tag and counter, other leading digits: not the id this process made.
  const lookalike = (made.id[0] === "0" ? "1" : "0") + made.id.slice(1);
  const other = call("n", null, lookalike);
  const a = pending.add(made, "a.b");
  const b = pending.add(other, "a.b");
  assert.equal(pending.size, 2);
  assert.equal(pending.peek(lookalike)?.ctx, other);
  assert.equal(pending.settle("n", { id: lookalike, success: true, data: "lookalike" }), true);
  assert.equal(pending.peek(made.id)?.ctx, made);
  assert.equal(pending.settle("n", { id: lookalike, success: true, data: "again" }), false);
  pending.settle("n", { id: made.id, success: true, data: "made" });
  assert.deepEqual(await Promise.all([a, b]), ["made", "lookalike"]);
  assert.equal(pending.size, 0);
});

Deno.test("PendingRequests: the timeout rejects with RequestTimeoutError, and a late RES is an orphan", async () => {
  const pending = new PendingRequests();
  const targeted = call("node-2", 20);
  const balanced = call(null, 20);
  const t0 = performance.now();
  const results = await Promise.allSettled([
    pending.add(targeted, "slow.one"),
    pending.add(balanced, "slow.two"),
  ]);
  assert.ok(performance.now() - t0 >= 15, "not before the timeout");
  const [r1, r2] = results.map((r) => (r as PromiseRejectedResult).reason);
  assert.ok(r1 instanceof RequestTimeoutError);
  assert.deepEqual(r1.data, { action: "slow.one", nodeID: "node-2" });
  assert.ok(r2 instanceof RequestTimeoutError);
  assert.deepEqual(r2.data, { action: "slow.two", nodeID: "" }, "a balanced request has no node");
  assert.equal(pending.size, 0);
  assert.equal(pending.settle("node-2", { id: targeted.id, success: true, data: 1 }), false);
});

Deno.test("PendingRequests: no timeout, or one past 2^31-1 ms, waits; remove() forgets it", async () => {
  const pending = new PendingRequests();
  const none = call("node-2", null);
  const zero = call("node-2", 0);
  // setTimeout fires at once past 2^31-1 ms: the table caps it instead.
  const huge = call("node-2", 1e12);
  const waiting = [none, zero, huge].map((ctx) => pending.add(ctx, "long.job"));
  for (const p of waiting) assert.equal(await stillPending(p), true);
  for (const ctx of [none, zero, huge]) pending.remove(ctx.id);
  pending.remove("unknown"); // nothing to forget: fine
  assert.equal(pending.size, 0);
  // Forgotten requests never settle (and their timers are gone: no leak).
  for (const p of waiting) assert.equal(await stillPending(p), true);
});

Deno.test("PendingRequests: fail() rejects a request that could not be sent, once", async () => {
  const pending = new PendingRequests();
  const ctx = call("node-2", 5_000);
  const response = pending.add(ctx, "big.upload");
  const error = new Error("payload too large");
  assert.equal(pending.fail(ctx.id, error), true);
  assert.equal(pending.fail(ctx.id, new Error("again")), false);
  await assert.rejects(response, (e) => e === error);
  assert.equal(pending.size, 0);
});

Deno.test("PendingRequests: rejectNode() rejects only that node's requests", async () => {
  const pending = new PendingRequests();
  const gone = [call("gone", 5_000), call("gone")];
  const stays = call("stays", 5_000);
  const balanced = call(null);
  const goneCalls = gone.map((ctx) => pending.add(ctx, "svc.x"));
  const staysCall = pending.add(stays, "svc.y");
  const balancedCall = pending.add(balanced, "svc.z");
  pending.rejectNode("gone");
  for (const p of goneCalls) {
    await assert.rejects(p, (e: unknown) => {
      assert.ok(e instanceof RequestRejectedError);
      assert.deepEqual(e.data, { action: "svc.x", nodeID: "gone" });
      return true;
    });
  }
  assert.equal(pending.size, 2);
  assert.equal(await stillPending(staysCall), true);
  assert.equal(await stillPending(balancedCall), true);
  pending.rejectAll((req) => new Error(`stopped: ${req.action} on ${req.nodeID}`));
  await assert.rejects(staysCall, /stopped: svc.y on stays/);
  await assert.rejects(balancedCall, /stopped: svc.z on null/);
  assert.equal(pending.size, 0);
});

Deno.test("PendingRequests: rejectWhere() picks the requests", async () => {
  const pending = new PendingRequests();
  const a = pending.add(call("n1"), "keep.me");
  const b = pending.add(call("n1"), "drop.me");
  pending.rejectWhere((req) => req.action.startsWith("drop"), () => new Error("dropped"));
  await assert.rejects(b, /dropped/);
  assert.equal(await stillPending(a), true);
  pending.rejectAll(() => new Error("end"));
  await assert.rejects(a, /end/);
});

Deno.test("PendingPings: a PONG gives the round trip and the clock difference", async () => {
  const pings = new PendingPings();
  const { id, result } = pings.add("node-2", 1_000);
  assert.equal(pings.has(id), true);
  const sent = Date.now() - 40;
  // The other clock is 100 ms ahead: the PING arrived there 20 ms (half the trip) after it left.
  assert.equal(pings.settle("node-2", { id, time: sent, arrived: sent + 20 + 100 }), true);
  const pong = await result;
  assert.equal(pong?.nodeID, "node-2");
  assert.ok(pong!.elapsedTime >= 40 && pong!.elapsedTime < 200, String(pong!.elapsedTime));
  assert.ok(Math.abs(pong!.timeDiff + 100) <= 20, `timeDiff ${pong!.timeDiff}`);
  assert.equal(pings.has(id), false);
  assert.equal(pings.settle("node-2", { id, time: sent }), false, "settled once");
});

Deno.test("PendingPings: no PONG in time resolves null; so do abandon() and clear()", async () => {
  const pings = new PendingPings();
  const late = pings.add("slow", 20);
  assert.equal(await late.result, null);
  assert.equal(pings.has(late.id), false);

  const unsent = pings.add("x", 5_000);
  pings.abandon(unsent.id);
  pings.abandon(unsent.id); // already gone: fine
  assert.equal(await unsent.result, null);

  const all = [pings.add("a", 5_000), pings.add("b", 5_000)];
  assert.equal(pings.size, 2);
  pings.clear();
  assert.deepEqual(await Promise.all(all.map((p) => p.result)), [null, null]);
  assert.equal(pings.size, 0);
  assert.equal(pings.settle("a", { id: 7 }), false, "an id that is no string");
});
