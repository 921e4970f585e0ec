import assert from "node:assert/strict";
import type { Context, EventInfo } from "../../mod.ts";
import { EventThrottler } from "../../src/middlewares/throttle.ts";
import { scoped, until } from "../_helpers/core.ts";
import { cluster } from "./_cluster.ts";

function recorder(def: Record<string, unknown>) {
  const seen: unknown[] = [];
  return {
    seen,
    service: {
      name: "sink",
      events: {
        "tick": {
          ...def,
          handler(ctx: Context<{ n: number }>) {
            seen.push(ctx.params.n);
          },
        },
      },
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test("throttle: a handler runs at most once per `throttle` ms; the rest are dropped", async () => {
  const r = recorder({ throttle: 80 });
  await using broker = scoped();
  broker.createService(r.service);
  await broker.start();
  for (let n = 1; n <= 10; n++) await broker.emit("tick", { n });
  assert.deepEqual(r.seen, [1]);
  await sleep(100);
  for (let n = 11; n <= 13; n++) await broker.emit("tick", { n });
  assert.deepEqual(r.seen, [1, 11]);
});

Deno.test("debounce: a burst runs the handler once, with its last event, `debounce` ms later", async () => {
  const r = recorder({ debounce: 40 });
  await using broker = scoped();
  broker.createService(r.service);
  await broker.start();
  for (let n = 1; n <= 5; n++) {
    await broker.emit("tick", { n });
    await sleep(5);
  }
  assert.deepEqual(r.seen, []);
  await until(() => r.seen.length > 0, "the debounced run");
  await sleep(60);
  assert.deepEqual(r.seen, [5]);
  await broker.emit("tick", { n: 6 });
  await until(() => r.seen.length > 1, "a second debounced run");
  assert.deepEqual(r.seen, [5, 6]);
});

Deno.test("debounce: stop() drops a pending run and leaves no timer", async () => {
  const r = recorder({ debounce: 60_000 });
  const broker = scoped();
  broker.createService(r.service);
  await broker.start();
  await broker.emit("tick", { n: 1 });
  await broker.stop();
  assert.deepEqual(r.seen, []);
});

Deno.test("throttle: events from other nodes are throttled on the receiving node", async () => {
  const r = recorder({ throttle: 10_000 });
  await using c = await cluster([
    { id: "sender" },
    { id: "receiver", services: [r.service] },
  ]);
  await c.nodes.sender!.waitForServices("sink", 2000, 5);
  for (let n = 1; n <= 5; n++) await c.nodes.sender!.emit("tick", { n });
  await until(() => r.seen.length === 1, "the first event");
  await sleep(20);
  assert.deepEqual(r.seen, [1]);
});

Deno.test("throttle/debounce: handlers with neither are left untouched", () => {
  const mw = new EventThrottler().middleware();
  const next = () => 1;
  const info = { name: "tick", schema: {} } as unknown as EventInfo;
  assert.equal(mw.localEvent!(next, info), next);
  const zero = { name: "tick", schema: { throttle: 0, debounce: 0 } } as unknown as EventInfo;
  assert.equal(mw.localEvent!(next, zero), next);
});
