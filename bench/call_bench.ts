/**
 * Micro-benchmarks of a local action call: plain, with params validation, and through 1 and 10
 * pass-through middlewares. Run: `deno bench -A bench/call_bench.ts`.
 *
 * @module
 */

import { type Context, type MiddlewareHooks, ServiceBroker } from "../mod.ts";

type AB = { a: number; b: number };

const passThrough = (i: number): MiddlewareHooks => ({
  name: `PassThrough${i}`,
  localAction: (next) => (ctx) => next(ctx),
});

async function makeBroker(middlewares: number): Promise<ServiceBroker> {
  const broker = new ServiceBroker({
    nodeID: `bench-call-${middlewares}`,
    logger: false,
    internalServices: false,
    middlewares: Array.from({ length: middlewares }, (_, i) => passThrough(i)),
  });
  broker.createService({
    name: "math",
    actions: {
      add: (ctx: Context<AB>) => ctx.params.a + ctx.params.b,
      addChecked: {
        params: { a: "number", b: "number" },
        handler: (ctx: Context<AB>) => ctx.params.a + ctx.params.b,
      },
    },
  });
  await broker.start();
  return broker;
}

const plain = await makeBroker(0);
const one = await makeBroker(1);
const ten = await makeBroker(10);
const params = { a: 1, b: 2 };

Deno.bench({
  name: "local call",
  group: "local call",
  baseline: true,
  fn: async () => {
    await plain.call("math.add", params);
  },
});

Deno.bench({
  name: "local call + params validation",
  group: "local call",
  fn: async () => {
    await plain.call("math.addChecked", params);
  },
});

Deno.bench({
  name: "local call through 1 middleware",
  group: "local call",
  fn: async () => {
    await one.call("math.add", params);
  },
});

Deno.bench({
  name: "local call through 10 middlewares",
  group: "local call",
  fn: async () => {
    await ten.call("math.add", params);
  },
});

Deno.bench({
  name: "local call with meta (merged back)",
  group: "local call",
  fn: async () => {
    await plain.call("math.add", params, { meta: { user: 1 } });
  },
});
