/**
 * A Denolecular node in its own process, for the reliability tests (SIGKILL under load, fuzzing
 * with exact heap figures). Started by `spawnResponder()` in `./_util.ts`:
 *
 *   deno run -A --v8-flags=--expose-gc tests/reliability/_responder.ts '<options as JSON>'
 *
 * Options: `{ url, nodeID, heartbeatInterval?, heartbeatTimeout?, logLevel? }`.
 * Services: `math` (`add`, `echo`, `slow` {ms}, `id` → the nodeID) and `diag` (`memory`: heap after
 * a full GC; `logs`: log counts by level and the most frequent messages; `nodes`: registry size).
 * Prints `{"type":"ready"}` on stdout once started; stops gracefully on SIGTERM or when stdin
 * closes (the parent went away).
 *
 * @module
 */

import { type Context, ServiceBroker } from "../../mod.ts";

const opts = JSON.parse(Deno.args[0] ?? "{}") as {
  url: string;
  nodeID: string;
  heartbeatInterval?: number;
  heartbeatTimeout?: number;
  logLevel?: "debug" | "info" | "warn";
};

const byLevel: Record<string, number> = {};
const byShape = new Map<string, number>();
const last: string[] = [];

const broker = new ServiceBroker({
  nodeID: opts.nodeID,
  transporter: opts.url,
  heartbeatInterval: opts.heartbeatInterval ?? 0.5,
  heartbeatTimeout: opts.heartbeatTimeout ?? 3,
  logLevel: opts.logLevel ?? "info",
  logger: (e) => {
    byLevel[e.level] = (byLevel[e.level] ?? 0) + 1;
    const shape = e.message.replace(/'[^']*'/g, "'…'").replace(/\d+/g, "N")
      .slice(0, 120);
    byShape.set(shape, (byShape.get(shape) ?? 0) + 1);
    last.push(`${e.level} ${e.message.slice(0, 200)}`);
    if (last.length > 50) last.shift();
  },
  transit: { discoverWaitTime: 200, serviceChangedDebounceTime: 20 },
  registry: { stopDelay: 0 },
});

type AB = { a: number; b: number };
const gc = (globalThis as { gc?: () => void }).gc;

broker.createService({
  name: "math",
  actions: {
    add: {
      params: { a: "number", b: "number" },
      handler: (ctx: Context<AB>) => ctx.params.a + ctx.params.b,
    },
    echo: (ctx: Context<unknown>) => ({
      params: ctx.params,
      meta: { ...ctx.meta },
    }),
    slow: async (ctx: Context<{ ms?: number; n?: number }>) => {
      await new Promise((r) => setTimeout(r, Number(ctx.params?.ms) || 0));
      return { n: ctx.params?.n, by: broker.nodeID };
    },
    id: () => broker.nodeID,
  },
  events: { "user.*": () => {} },
});

broker.createService({
  name: "diag",
  actions: {
    memory: () => {
      // Two full collections: the first may leave objects with finalizers for the second.
      gc?.();
      gc?.();
      return { ...Deno.memoryUsage(), gc: gc !== undefined };
    },
    logs: () => ({
      byLevel,
      top: [...byShape].sort((a, b) => b[1] - a[1]).slice(0, 10),
      last: last.slice(-20),
    }),
    nodes: () => ({
      total: broker.registry.nodes.size,
      available: [...broker.registry.nodes.values()].filter((n) => n.available).length,
      actions: broker.registry.actions.size,
    }),
  },
});

let stopping: Promise<void> | undefined;
function stop(): Promise<void> {
  stopping ??= broker.stop().finally(() => Deno.exit(0));
  return stopping;
}
Deno.addSignalListener("SIGTERM", () => void stop());

await broker.start();
console.log(JSON.stringify({ type: "ready", nodeID: broker.nodeID }));

// Never outlive the parent: stop when stdin closes.
for await (const _ of Deno.stdin.readable) { /* nothing is sent on stdin */ }
await stop();
