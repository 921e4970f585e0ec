import assert from "node:assert/strict";
import { type ActionInfo, GracefulStopTimeoutError } from "../../mod.ts";
import { ContextTracker } from "../../src/middlewares/tracking.ts";
import { captureLogs, deferred, scoped, until } from "../_helpers/core.ts";
import { callMany, cluster, tally } from "./_cluster.ts";

function slowService(gate: Promise<unknown>, started: () => void) {
  return {
    name: "slow",
    actions: {
      async work() {
        started();
        await gate;
        return "done";
      },
      untracked: {
        tracking: false,
        async handler() {
          started();
          await gate;
          return "done";
        },
      },
    },
  };
}

Deno.test("tracking: stop() waits for in-flight local calls", async () => {
  const gate = deferred();
  let started = 0;
  const logs = captureLogs();
  const broker = scoped({
    tracking: { enabled: true, shutdownTimeout: 10_000 },
    logger: logs.sink,
  });
  broker.createService(slowService(gate.promise, () => started++));
  await broker.start();
  const call = broker.call("slow.work");
  await until(() => started === 1, "the call to start");
  assert.equal(broker.tracker.size, 1);
  let stopped = false;
  const stopping = broker.stop().then(() => stopped = true);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(stopped, false, "stop() waits while the call runs");
  gate.resolve();
  assert.equal(await call, "done");
  await stopping;
  assert.equal(broker.tracker.size, 0);
  assert.ok(logs.messages("info").some((m) => /Waiting for 1 request\(s\) in flight/.test(m)));
});

Deno.test("tracking: past shutdownTimeout the rest fail with GracefulStopTimeoutError", async () => {
  const logs = captureLogs();
  let started = 0;
  const broker = scoped({
    tracking: { enabled: true, shutdownTimeout: 40 },
    logger: logs.sink,
  });
  broker.createService(slowService(new Promise(() => {}), () => started++));
  await broker.start();
  const calls = [broker.call("slow.work"), broker.call("slow.work")].map((p) =>
    p.catch((e: Error) => e)
  );
  await until(() => started === 2, "both calls to start");
  const t0 = performance.now();
  await broker.stop();
  assert.ok(performance.now() - t0 >= 35, "stop() waited for the timeout");
  for (const err of await Promise.all(calls)) {
    assert.ok(err instanceof GracefulStopTimeoutError, String(err));
    assert.deepEqual(err.data, { name: "slow" });
  }
  assert.ok(
    logs.messages("warn").some((m) => /2 request\(s\) still running after 40 ms/.test(m)),
    logs.messages("warn").join("\n"),
  );
});

Deno.test("tracking: calls with `tracking: false` (option or definition) are not waited for", async () => {
  let started = 0;
  const broker = scoped({ tracking: { enabled: true, shutdownTimeout: 10_000 } });
  broker.createService(slowService(new Promise(() => {}), () => started++));
  await broker.start();
  void broker.call("slow.work", {}, { tracking: false });
  void broker.call("slow.untracked");
  await until(() => started === 2, "both calls to start");
  assert.equal(broker.tracker.size, 0);
  const t0 = performance.now();
  await broker.stop();
  assert.ok(performance.now() - t0 < 1000);
});

Deno.test("tracking: disabled, stop() does not wait; an action may opt in", async () => {
  const gate = deferred();
  let started = 0;
  const broker = scoped();
  broker.createService({
    name: "s",
    actions: {
      ...slowService(new Promise(() => {}), () => started++).actions,
      optIn: {
        tracking: true,
        async handler() {
          started++;
          await gate.promise;
          return "opted in";
        },
      },
    },
  });
  await broker.start();
  void broker.call("s.work");
  const optIn = broker.call("s.optIn");
  await until(() => started === 2, "both calls to start");
  assert.equal(broker.tracker.size, 1);
  const stopping = broker.stop();
  await new Promise((r) => setTimeout(r, 20));
  gate.resolve();
  await stopping;
  assert.equal(await optIn, "opted in");
});

Deno.test("tracking: requests from other nodes are drained, and cut off over the wire", async () => {
  const gate = deferred();
  let started = 0;
  await using c = await cluster([
    { id: "caller" },
    {
      id: "server",
      options: { tracking: { enabled: true, shutdownTimeout: 5_000 } },
      services: [slowService(gate.promise, () => started++)],
    },
  ], { caller: ["slow.work", 1] });
  const call = c.nodes.caller!.call("slow.work");
  await until(() => started === 1, "the request to arrive");
  const stopping = c.nodes.server!.stop();
  await new Promise((r) => setTimeout(r, 20));
  gate.resolve();
  assert.equal(await call, "done", "the caller gets the answer of a draining node");
  await stopping;

  await using c2 = await cluster([
    { id: "caller" },
    {
      id: "server",
      options: { tracking: { enabled: true, shutdownTimeout: 30 } },
      services: [slowService(new Promise(() => {}), () => started++)],
    },
  ], { caller: ["slow.work", 1] });
  const cut = c2.nodes.caller!.call("slow.work").catch((e: Error) => e);
  await until(() => started === 2, "the second request to arrive");
  await c2.nodes.server!.stop();
  const err = await cut;
  assert.ok(err instanceof GracefulStopTimeoutError, String(err));
  assert.equal(err.nodeID, "server");
});

Deno.test("tracking: event handlers are tracked too", async () => {
  const gate = deferred();
  let handled = false;
  const broker = scoped({ tracking: { enabled: true, shutdownTimeout: 5_000 } });
  broker.createService({
    name: "sink",
    events: {
      async "job.done"() {
        await gate.promise;
        handled = true;
      },
    },
  });
  await broker.start();
  void broker.emit("job.done");
  await until(() => broker.tracker.size === 1, "the handler to run");
  const stopping = broker.stop();
  setTimeout(() => gate.resolve(), 20);
  await stopping;
  assert.equal(handled, true);
});

Deno.test("graceful stop: with stopDelay, callers move to other nodes and lose no call", async () => {
  await using c = await cluster([
    {
      id: "caller",
      options: { registry: { preferLocal: false, stopDelay: 0 } },
    },
    ...["a", "b"].map((id) => ({
      id,
      options: {
        registry: { stopDelay: 50 },
        tracking: { enabled: true, shutdownTimeout: 5_000 },
      },
      services: [{
        name: "who",
        actions: {
          async ami(ctx: { broker: { nodeID: string } }) {
            await new Promise((r) => setTimeout(r, 3));
            return ctx.broker.nodeID;
          },
        },
      }],
    })),
  ], { caller: ["who.ami", 2] });
  const caller = c.nodes.caller!;
  let running = true;
  const outcomes: unknown[] = [];
  const load = (async () => {
    while (running) outcomes.push(...await callMany(caller, "who.ami", 1));
  })();
  await until(() => outcomes.length >= 10, "some calls");
  await c.nodes.a!.stop();
  const after = outcomes.length;
  await until(() => outcomes.length >= after + 10, "more calls");
  running = false;
  await load;
  const t = tally(outcomes);
  assert.equal(Object.keys(t).filter((k) => k.startsWith("!")).length, 0, JSON.stringify(t));
  assert.deepEqual(tally(outcomes.slice(after)), { b: outcomes.length - after });
});

Deno.test("ContextTracker: disabled, it leaves handlers untouched", () => {
  const mw = new ContextTracker().middleware();
  const next = () => 1;
  const info = { name: "s.a", schema: {} } as unknown as ActionInfo;
  assert.equal(mw.localAction!(next, info), next);
  assert.equal(mw.remoteAction!(next, info), next);
});
