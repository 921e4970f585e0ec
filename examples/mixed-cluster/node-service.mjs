// Run: node examples/mixed-cluster/node-service.mjs [--once]   (Moleculer 0.15 from `cd tests && npm ci`, or `npm i moleculer nats`)
//
// The Node.js half of the mixed cluster: a plain Moleculer 0.15 service, `inventory`, that knows
// the stock of a few products. Once the Deno `pricing` service is up it asks it for a quote, which
// makes Deno call back into `inventory.stock` — a round trip across both runtimes.
//
// NATS_URL (default nats://127.0.0.1:4222) picks the server. With --once both sides announce
// `mixed.done` after their own calls and stop once they have heard the other side's.

import { createRequire } from "node:module";
import process from "node:process";

/** `moleculer` installed next to this file, else the pinned copy of the interop tests. */
function loadMoleculer() {
  try {
    return createRequire(import.meta.url)("moleculer");
  } catch {
    return createRequire(new URL("../../tests/package.json", import.meta.url))("moleculer-015");
  }
}

const { ServiceBroker } = loadMoleculer();
const once = process.argv.includes("--once");

const STOCK = { apple: 12, pear: 3, plum: 0 };
let onPeerDone;
const peerDone = new Promise((resolve) => onPeerDone = resolve);

const broker = new ServiceBroker({
  nodeID: "node-inventory",
  transporter: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
  logLevel: "warn",
});

broker.createService({
  name: "inventory",
  actions: {
    stock: {
      params: { sku: "string" },
      async handler(ctx) {
        const qty = STOCK[ctx.params.sku] ?? 0;
        if (qty < 5) await ctx.emit("inventory.low", { sku: ctx.params.sku, qty });
        console.log(`[node] ${ctx.nodeID} asked for the stock of ${ctx.params.sku}: ${qty}`);
        return { sku: ctx.params.sku, qty };
      },
    },
  },
  events: {
    "mixed.done"(ctx) {
      if (ctx.nodeID !== broker.nodeID) onPeerDone(ctx.nodeID);
    },
  },
});

await broker.start();
console.log(`[node] Moleculer ${broker.MOLECULER_VERSION} node '${broker.nodeID}' started`);
await broker.waitForServices("pricing");

const meta = { customer: "ada" };
const quote = await broker.call("pricing.quote", { sku: "pear", qty: 2 }, { meta });
console.log("[node] Deno quoted:", JSON.stringify(quote), "meta back:", JSON.stringify(meta));

if (once) {
  await broker.emit("mixed.done");
  console.log(`[node] '${await peerDone}' is done too: stopping`);
  await broker.stop();
}
// Otherwise keep serving: Moleculer stops the broker gracefully on SIGINT/SIGTERM by itself.
