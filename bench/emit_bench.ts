/**
 * Micro-benchmarks of emitting events to local handlers: one exact listener, several groups, and
 * wildcard listeners. Run: `deno bench -A bench/emit_bench.ts`.
 *
 * @module
 */

import { ServiceBroker } from "../mod.ts";

let received = 0;
const count = () => {
  received++;
};

const broker = new ServiceBroker({
  nodeID: "bench-emit",
  logger: false,
  internalServices: false,
});
broker.createService({ name: "one", events: { "user.created": count } });
for (const name of ["two", "three", "four", "five"]) {
  broker.createService({ name, events: { "order.created": count } });
}
broker.createService({ name: "wild", events: { "stock.*": count, "stock.**": count } });
broker.createService({ name: "once", events: { "order.created": count } });
await broker.start();

const data = { id: 1, name: "John" };

Deno.bench({
  name: "emit → 1 local handler",
  group: "emit",
  baseline: true,
  fn: async () => {
    await broker.emit("user.created", data);
  },
});

Deno.bench({
  name: "emit → 5 groups (5 handlers)",
  group: "emit",
  fn: async () => {
    await broker.emit("order.created", data);
  },
});

Deno.bench({
  name: "emit → 2 wildcard handlers (stock.* / stock.**)",
  group: "emit",
  fn: async () => {
    await broker.emit("stock.changed", data);
  },
});

Deno.bench({
  name: "broadcastLocal → 5 handlers",
  group: "emit",
  fn: async () => {
    await broker.broadcastLocal("order.created", data);
  },
});

Deno.bench({
  name: "emit → no listener",
  group: "emit",
  fn: async () => {
    await broker.emit("nobody.listens", data);
  },
});

globalThis.addEventListener("unload", () => {
  if (received === 0) console.error("no event was delivered");
});
