/**
 * Micro-benchmarks of the framework's share of a REMOTE call and event: two brokers in one
 * process joined by the in-process memory transporter, so every call is serialized, published,
 * decoded and dispatched by transit on both sides, without sockets. Useful to A/B hot-path
 * changes; bench/compare.ts measures the real thing over NATS.
 * Run: `deno bench -A bench/remote_memory_bench.ts`.
 *
 * @module
 */

import { type Context, ServiceBroker } from "../mod.ts";

type AB = { a: number; b: number };
const group = `bench-${crypto.randomUUID()}`;
const options = {
  logger: false,
  transporter: `memory://${group}`,
  transit: { discoverWaitTime: 50 },
};

const responder = new ServiceBroker({ ...options, nodeID: "responder" });
let received = 0;
responder.createService({
  name: "math",
  actions: { add: (ctx: Context<AB>) => ctx.params.a + ctx.params.b },
  events: {
    "bench.event": () => {
      received++;
    },
  },
});
const caller = new ServiceBroker({ ...options, nodeID: "caller" });
await Promise.all([responder.start(), caller.start()]);
await caller.waitForServices("math", 5_000);

const params = { a: 1, b: 2 };
if ((await caller.call("math.add", params)) !== 3) throw new Error("math.add is broken");

Deno.bench({
  name: "remote call over the memory transporter (1 in flight)",
  group: "remote (memory transporter)",
  baseline: true,
  fn: async () => {
    await caller.call("math.add", params);
  },
});

Deno.bench({
  name: "32 remote calls in flight (time per batch of 32)",
  group: "remote (memory transporter)",
  fn: async () => {
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < 32; i++) all.push(caller.call("math.add", params));
    await Promise.all(all);
  },
});

Deno.bench({
  name: "emit to a remote node (time per batch of 32, until delivered)",
  group: "remote (memory transporter)",
  fn: async () => {
    const target = received + 32;
    for (let i = 0; i < 32; i++) caller.emit("bench.event", params);
    while (received < target) await new Promise((r) => queueMicrotask(() => r(null)));
  },
});
