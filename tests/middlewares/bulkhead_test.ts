import assert from "node:assert/strict";
import { type ActionInfo, type Context, QueueIsFullError } from "../../mod.ts";
import { BULKHEAD_DEFAULTS, bulkheadMiddleware } from "../../src/middlewares/bulkhead.ts";
import { deferred, scoped, until } from "../_helpers/core.ts";
import { cluster } from "./_cluster.ts";

/** An action that counts how many of its calls run at once, and waits for `gate`. */
function gauge() {
  const state = { running: 0, max: 0, started: 0, order: [] as number[] };
  let gate = deferred();
  return {
    state,
    release() {
      gate.resolve();
      gate = deferred();
    },
    async handler(ctx: Context<{ i: number }>) {
      state.running++;
      state.started++;
      state.max = Math.max(state.max, state.running);
      state.order.push(ctx.params.i);
      try {
        await gate.promise;
        return ctx.params.i;
      } finally {
        state.running--;
      }
    },
  };
}

Deno.test("bulkhead: at most `concurrency` run, `maxQueueSize` wait, the rest get QueueIsFullError", async () => {
  const g = gauge();
  await using broker = scoped({ bulkhead: { enabled: true, concurrency: 2, maxQueueSize: 3 } });
  broker.createService({ name: "job", actions: { run: g.handler } });
  await broker.start();
  const calls = Array.from(
    { length: 10 },
    (_, i) => broker.call("job.run", { i }).catch((e: Error) => e),
  );
  await until(() => g.state.started === 2, "two running calls");
  const settled = await Promise.race([
    Promise.all(calls.slice(5)),
    new Promise((r) => setTimeout(() => r("pending"), 1000)),
  ]);
  assert.ok(Array.isArray(settled), "the five over the limit are rejected at once");
  for (const err of settled) {
    assert.ok(err instanceof QueueIsFullError, String(err));
    assert.equal(err.code, 429);
    assert.deepEqual(err.data, { action: "job.run", nodeID: broker.nodeID, size: 3, limit: 3 });
  }
  assert.equal(g.state.running, 2);
  while (g.state.started < 5 || g.state.running > 0) {
    g.release();
    await new Promise((r) => setTimeout(r, 1));
  }
  assert.deepEqual(await Promise.all(calls.slice(0, 5)), [0, 1, 2, 3, 4]);
  assert.equal(g.state.max, 2);
  assert.deepEqual(g.state.order, [0, 1, 2, 3, 4], "queued calls start in arrival order");
});

Deno.test("bulkhead: under churn the limit is never exceeded (maxQueueSize 0 = unbounded)", async () => {
  const state = { running: 0, max: 0 };
  await using broker = scoped();
  broker.createService({
    name: "job",
    actions: {
      run: {
        bulkhead: { enabled: true, concurrency: 3, maxQueueSize: 0 },
        async handler(ctx: Context<{ ms: number; sync: boolean }>) {
          state.running++;
          state.max = Math.max(state.max, state.running);
          try {
            if (ctx.params.sync) return "sync";
            // finish in a microtask or after a timer: slots are handed over in every order
            if (ctx.params.ms === 0) await Promise.resolve();
            else await new Promise((r) => setTimeout(r, ctx.params.ms));
            return "ok";
          } finally {
            state.running--;
          }
        },
      },
    },
  });
  await broker.start();
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < 200; i++) {
    calls.push(broker.call("job.run", { ms: i % 4, sync: i % 7 === 0 }));
    // new calls also arrive from the completions of earlier ones
    if (i % 5 === 0) {
      calls.push(calls[i]!.then(() => broker.call("job.run", { ms: 0, sync: false })));
    }
  }
  const results = await Promise.all(calls);
  assert.equal(results.length, 240);
  assert.equal(state.max, 3);
});

Deno.test("bulkhead: a freed slot goes to the queue, never to a call arriving in between", async () => {
  // A call arriving in the microtasks between one call's end and the start of the queued one
  // must queue behind it. Try every microtask distance.
  const state = { running: 0, max: 0 };
  await using broker = scoped();
  broker.createService({
    name: "job",
    actions: {
      run: {
        bulkhead: { enabled: true, concurrency: 1, maxQueueSize: 0 },
        async handler(ctx: Context<{ gate: Promise<void> }>) {
          state.running++;
          state.max = Math.max(state.max, state.running);
          try {
            await ctx.params.gate;
          } finally {
            state.running--;
          }
        },
      },
    },
  });
  await broker.start();
  for (let depth = 0; depth < 16; depth++) {
    const gate = deferred();
    const first = broker.call("job.run", { gate: gate.promise });
    const queued = broker.call("job.run", { gate: Promise.resolve() });
    gate.resolve();
    let late: Promise<unknown> = Promise.resolve();
    for (let i = 0; i < depth; i++) late = late.then(() => {});
    const third = late.then(() => broker.call("job.run", { gate: Promise.resolve() }));
    await Promise.all([first, queued, third]);
    assert.equal(state.max, 1, `a call ${depth} microtasks after a release overtook the queue`);
  }
});

Deno.test("bulkhead: requests from other nodes are limited too (per action, from the definition)", async () => {
  const g = gauge();
  await using c = await cluster([
    {
      id: "server",
      services: [{
        name: "job",
        actions: {
          run: { bulkhead: { enabled: true, concurrency: 1, maxQueueSize: 1 }, handler: g.handler },
        },
      }],
    },
    { id: "caller" },
  ], { caller: ["job.run", 1] });
  const caller = c.nodes.caller!;
  const calls = [0, 1, 2].map((i) => caller.call("job.run", { i }).catch((e: Error) => e));
  const third = await calls[2];
  assert.ok(third instanceof QueueIsFullError, String(third));
  assert.equal((third as QueueIsFullError).nodeID, "server");
  g.release();
  await until(() => g.state.started === 2, "the queued call to start");
  g.release();
  assert.deepEqual(await Promise.all(calls.slice(0, 2)), [0, 1]);
  assert.equal(g.state.max, 1);
});

Deno.test("bulkhead: event handlers with a `bulkhead` are limited", async () => {
  const state = { running: 0, max: 0, done: 0 };
  await using broker = scoped();
  broker.createService({
    name: "sink",
    events: {
      "job.done": {
        bulkhead: { enabled: true, concurrency: 1, maxQueueSize: 0 },
        async handler() {
          state.running++;
          state.max = Math.max(state.max, state.running);
          await new Promise((r) => setTimeout(r, 2));
          state.running--;
          state.done++;
        },
      },
    },
  });
  await broker.start();
  await Promise.all(Array.from({ length: 5 }, () => broker.emit("job.done")));
  assert.equal(state.done, 5);
  assert.equal(state.max, 1);
});

Deno.test("bulkhead: disabled, it leaves handlers untouched", () => {
  const mw = bulkheadMiddleware({ ...BULKHEAD_DEFAULTS });
  const next = () => 1;
  const info = { name: "s.a", schema: {} } as unknown as ActionInfo;
  assert.equal(mw.localAction!(next, info), next);
  const off = { name: "s.a", schema: { bulkhead: { enabled: false } } } as unknown as ActionInfo;
  const on = bulkheadMiddleware({ ...BULKHEAD_DEFAULTS, enabled: true });
  assert.equal(on.localAction!(next, off), next);
  assert.notEqual(on.localAction!(next, info), next);
});
