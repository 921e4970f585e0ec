import assert from "node:assert/strict";
import {
  type ActionInfo,
  type Context,
  MoleculerClientError,
  MoleculerServerError,
  ServiceNotAvailableError,
} from "../../mod.ts";
import { CircuitBreaker } from "../../src/middlewares/circuit_breaker.ts";
import { CIRCUIT_BREAKER_DEFAULTS } from "../../src/middlewares/circuit_breaker.ts";
import { until } from "../_helpers/core.ts";
import { breakerEvents, callMany, cluster, tally, whoService } from "./_cluster.ts";

const serverError = (ctx: Context): never => {
  throw new MoleculerServerError(`down on ${ctx.broker.nodeID}`, 500, "DOWN");
};

const breaker = (extra: Record<string, unknown> = {}) => ({
  circuitBreaker: {
    enabled: true,
    threshold: 0.5,
    minRequestCount: 4,
    windowTime: 60,
    halfOpenTime: 60_000,
    ...extra,
  },
});

Deno.test("circuit breaker: opens exactly when the failure rate reaches the threshold", async () => {
  const health = { failing: false };
  const watch = breakerEvents();
  await using c = await cluster([
    { id: "caller", options: breaker(), services: [watch.service] },
    { id: "bad", services: [whoService(health, serverError)] },
  ], { caller: ["who.ami", 1] });
  const caller = c.nodes.caller!;
  const cb = caller.circuitBreaker;
  // 3 successes, then failures: 1/4, 2/5 stay under 0.5; the third failure makes 3/6.
  assert.deepEqual(await callMany(caller, "who.ami", 3), ["bad", "bad", "bad"]);
  health.failing = true;
  for (let i = 1; i <= 2; i++) {
    await assert.rejects(caller.call("who.ami"), MoleculerServerError);
    assert.equal(cb.state("bad", "who.ami"), "closed", `after failure ${i}`);
  }
  const opened = watch.next("$circuit-breaker.opened");
  await assert.rejects(caller.call("who.ami"), MoleculerServerError);
  assert.equal(cb.state("bad", "who.ami"), "open");
  assert.deepEqual(await opened, {
    nodeID: "bad",
    service: "who",
    action: "who.ami",
    failures: 3,
    count: 6,
    rate: 0.5,
  });
  // Every endpoint is open: the balancer has nothing to pick, and nothing is sent.
  await assert.rejects(caller.call("who.ami"), ServiceNotAvailableError);
  await assert.rejects(caller.call("who.ami", {}, { nodeID: "bad" }), ServiceNotAvailableError);
  assert.equal(cb.openCount, 1);
});

Deno.test("circuit breaker: minRequestCount holds the circuit closed, even at 100% failures", async () => {
  const health = { failing: true };
  await using c = await cluster([
    { id: "caller", options: breaker() },
    { id: "bad", services: [whoService(health, serverError)] },
  ], { caller: ["who.ami", 1] });
  const caller = c.nodes.caller!;
  for (let i = 1; i <= 3; i++) {
    await assert.rejects(caller.call("who.ami"), MoleculerServerError);
    assert.equal(caller.circuitBreaker.state("bad", "who.ami"), "closed", `after ${i}`);
  }
  await assert.rejects(caller.call("who.ami"), MoleculerServerError);
  assert.equal(caller.circuitBreaker.state("bad", "who.ami"), "open");
});

Deno.test("circuit breaker: counts start over after windowTime", async () => {
  const health = { failing: true };
  await using c = await cluster([
    { id: "caller", options: breaker({ windowTime: 0.15 }) },
    { id: "bad", services: [whoService(health, serverError)] },
  ], { caller: ["who.ami", 1] });
  const caller = c.nodes.caller!;
  assert.deepEqual(tally(await callMany(caller, "who.ami", 3)), { "!MoleculerServerError": 3 });
  await new Promise((r) => setTimeout(r, 200));
  // A new window: this is failure 1 of 1, under minRequestCount.
  await assert.rejects(caller.call("who.ami"), MoleculerServerError);
  assert.equal(caller.circuitBreaker.state("bad", "who.ami"), "closed");
});

Deno.test("circuit breaker: errors that fail `check` (client errors) do not count", async () => {
  const health = { failing: true };
  const clientError = (): never => {
    throw new MoleculerClientError("bad input", 422, "BAD");
  };
  await using c = await cluster([
    { id: "caller", options: breaker() },
    { id: "n1", services: [whoService(health, clientError)] },
  ], { caller: ["who.ami", 1] });
  const outcomes = await callMany(c.nodes.caller!, "who.ami", 10);
  assert.deepEqual(tally(outcomes), { "!MoleculerClientError": 10 });
  assert.equal(c.nodes.caller!.circuitBreaker.state("n1", "who.ami"), "closed");
});

Deno.test("circuit breaker: an open endpoint is skipped; a half-open probe closes it", async () => {
  const health = { failing: true };
  const watch = breakerEvents();
  await using c = await cluster([
    {
      id: "caller",
      options: { ...breaker({ minRequestCount: 2, halfOpenTime: 150 }) },
      services: [watch.service],
    },
    { id: "good", services: [whoService({ failing: false }, serverError)] },
    { id: "bad", services: [whoService(health, serverError)] },
  ], { caller: ["who.ami", 2] });
  const caller = c.nodes.caller!;
  const opened = watch.next("$circuit-breaker.opened");
  // Round-robin: "bad" fails every other call until its circuit opens (2 of 2 failed).
  const before = await callMany(caller, "who.ami", 4);
  assert.deepEqual(tally(before), { good: 2, "!MoleculerServerError": 2 });
  assert.equal((await opened).nodeID, "bad");
  // While open, every call goes to "good".
  assert.deepEqual(tally(await callMany(caller, "who.ami", 20)), { good: 20 });

  // "bad" recovers; after halfOpenTime one probe goes there and closes the circuit.
  health.failing = false;
  const halfOpened = await watch.next("$circuit-breaker.half-opened");
  assert.deepEqual(halfOpened, { nodeID: "bad", service: "who", action: "who.ami" });
  assert.equal(caller.circuitBreaker.state("bad", "who.ami"), "half-open");
  const closed = watch.next("$circuit-breaker.closed");
  const after = await callMany(caller, "who.ami", 6);
  assert.deepEqual(await closed, { nodeID: "bad", service: "who", action: "who.ami" });
  assert.equal(caller.circuitBreaker.state("bad", "who.ami"), "closed");
  assert.ok(after.includes("bad"), `the probe reached "bad": ${after}`);
  assert.deepEqual(tally(await callMany(caller, "who.ami", 4)), { good: 2, bad: 2 });
  assert.deepEqual(watch.seen.map((e) => e.event), [
    "$circuit-breaker.opened",
    "$circuit-breaker.half-opened",
    "$circuit-breaker.closed",
  ]);
});

Deno.test("circuit breaker: a failing half-open probe opens the circuit again", async () => {
  const health = { failing: true };
  const watch = breakerEvents();
  await using c = await cluster([
    {
      id: "caller",
      options: breaker({ minRequestCount: 1, halfOpenTime: 80 }),
      services: [watch.service],
    },
    { id: "bad", services: [whoService(health, serverError)] },
  ], { caller: ["who.ami", 1] });
  const caller = c.nodes.caller!;
  await assert.rejects(caller.call("who.ami"), MoleculerServerError);
  assert.equal(caller.circuitBreaker.state("bad", "who.ami"), "open");
  await watch.next("$circuit-breaker.half-opened");
  // The probe is let through, and while it runs no other call may go there.
  const probe = caller.call("who.ami");
  await assert.rejects(caller.call("who.ami"), ServiceNotAvailableError);
  await assert.rejects(probe, MoleculerServerError);
  assert.equal(caller.circuitBreaker.state("bad", "who.ami"), "open");
  await until(() => watch.seen.length === 3, "a second opened event");
  assert.deepEqual(watch.seen.map((e) => e.event), [
    "$circuit-breaker.opened",
    "$circuit-breaker.half-opened",
    "$circuit-breaker.opened",
  ]);
});

Deno.test("circuit breaker: an action's own `circuitBreaker` (announced to callers) turns it on", async () => {
  const health = { failing: true };
  await using c = await cluster([
    { id: "caller" }, // breaker disabled broker-wide
    {
      id: "bad",
      services: [
        whoService(health, serverError, {
          circuitBreaker: { enabled: true, minRequestCount: 2, threshold: 1 },
        }),
      ],
    },
  ], { caller: ["who.ami", 1] });
  const caller = c.nodes.caller!;
  await assert.rejects(caller.call("who.ami"), MoleculerServerError);
  await assert.rejects(caller.call("who.ami"), MoleculerServerError);
  assert.equal(caller.circuitBreaker.state("bad", "who.ami"), "open");
  await assert.rejects(caller.call("who.ami"), ServiceNotAvailableError);
});

Deno.test("circuit breaker: local endpoints are guarded too; requests from other nodes are the caller's to count", async () => {
  const health = { failing: true };
  await using c = await cluster([
    {
      id: "a",
      options: breaker({ minRequestCount: 2 }),
      services: [whoService(health, serverError)],
    },
    { id: "b", options: { registry: { preferLocal: false, stopDelay: 0 } } },
  ], { b: ["who.ami", 1] });
  const [a, b] = [c.nodes.a!, c.nodes.b!];
  // b (no breaker) calls a three times: a does not count requests it serves for others.
  assert.deepEqual(tally(await callMany(b, "who.ami", 3)), { "!MoleculerServerError": 3 });
  assert.equal(a.circuitBreaker.state("a", "who.ami"), "closed");
  // a's own local calls count, and open the circuit of its local endpoint.
  assert.deepEqual(tally(await callMany(a, "who.ami", 2)), { "!MoleculerServerError": 2 });
  assert.equal(a.circuitBreaker.state("a", "who.ami"), "open");
  await assert.rejects(a.call("who.ami"), ServiceNotAvailableError);
});

Deno.test("circuit breaker: disabled, it leaves handlers untouched", () => {
  const cb = new CircuitBreaker({ ...CIRCUIT_BREAKER_DEFAULTS }, {
    nodeID: "x",
    logger: undefined as never,
    broadcast: () => Promise.resolve(),
    serviceOf: () => undefined,
  });
  const mw = cb.middleware();
  const next = () => 1;
  const info = { name: "s.a", schema: {} } as unknown as ActionInfo;
  assert.equal(mw.localAction!(next, info), next);
  assert.equal(mw.remoteAction!(next, info), next);
  const own = {
    name: "s.a",
    schema: { circuitBreaker: { enabled: true } },
  } as unknown as ActionInfo;
  assert.notEqual(mw.localAction!(next, own), next);
});
