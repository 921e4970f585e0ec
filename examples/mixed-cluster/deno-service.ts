// Run: deno run --allow-net --allow-env --allow-sys examples/mixed-cluster/deno-service.ts [--once]
/**
 * The Deno half of the mixed cluster: a Denolecular `pricing` service that quotes prices using
 * the stock the Node.js `inventory` service (Moleculer 0.15) reports, and listens to its
 * `inventory.low` events. Once `inventory` is up it calls it directly too.
 *
 * NATS_URL (default nats://127.0.0.1:4222) picks the server; PROTOCOL=4 talks to Moleculer 0.14
 * instead. With --once both sides announce `mixed.done` after their own calls and stop once
 * they have heard the other side's.
 *
 * @module
 */

import { action, type Context, event, Service, ServiceBroker } from "../../mod.ts";

const PRICES: Record<string, number> = { apple: 0.5, pear: 0.8, plum: 1.2 };
const once = Deno.args.includes("--once");

class Pricing extends Service {
  /** Resolves with the other node's id once it announced `mixed.done`. */
  readonly peerDone: Promise<string>;
  #onPeerDone!: (nodeID: string) => void;

  constructor() {
    // Start (and announce `pricing`) only once `inventory` is known, as a Moleculer service
    // with `dependencies` would: a freshly started Moleculer node announces its services about
    // a second after it can already call ours.
    super({ name: "pricing", dependencies: ["inventory"] });
    this.peerDone = new Promise((resolve) => this.#onPeerDone = resolve);
  }

  @action({ params: { sku: "string", qty: "number" } })
  async quote(ctx: Context<{ sku: string; qty: number }, Record<string, unknown>>) {
    const { sku, qty } = ctx.params;
    // A child call: Node sees level 2, caller "pricing", and the same requestID.
    const stock = await ctx.call<{ qty: number }>("inventory.stock", { sku });
    ctx.meta.quotedBy = ctx.broker.nodeID; // merged back into the caller's meta
    console.log(`[deno] ${ctx.nodeID} asked for a quote of ${qty} × ${sku}`);
    return {
      sku,
      qty,
      unitPrice: PRICES[sku] ?? 1,
      total: Math.round((PRICES[sku] ?? 1) * qty * 100) / 100,
      available: stock.qty >= qty,
      customer: ctx.meta.customer ?? null,
    };
  }

  @event({ name: "inventory.low" })
  lowStock(ctx: Context<{ sku: string; qty: number }>) {
    console.log(`[deno] event from ${ctx.nodeID}: ${ctx.params.sku} is low (${ctx.params.qty})`);
  }

  @event({ name: "mixed.done" })
  done(ctx: Context) {
    if (ctx.nodeID !== ctx.broker.nodeID) this.#onPeerDone(ctx.nodeID!);
  }
}

const broker = new ServiceBroker({
  nodeID: "deno-pricing",
  transporter: Deno.env.get("NATS_URL") ?? "nats://127.0.0.1:4222",
  protocolVersion: Deno.env.get("PROTOCOL") === "4" ? "4" : "5",
  logLevel: "warn",
});
const pricing = new Pricing();
await broker.register(pricing);
await broker.start();
console.log(`[deno] Denolecular node '${broker.nodeID}' started`);
await broker.waitForServices("inventory");

const stock = await broker.call("inventory.stock", { sku: "apple" });
console.log("[deno] Node reported:", JSON.stringify(stock));

if (once) {
  await broker.emit("mixed.done");
  console.log(`[deno] '${await pricing.peerDone}' is done too: stopping`);
  await broker.stop();
} else {
  await broker.waitForShutdown();
}
