// Run: deno task demo   (or: deno run -A examples/quickstart.ts) — needs no server.
//
// Two nodes in one process, joined by the in-process memory transporter: a
// greeter (class style) and a math service (Moleculer schema style), an event
// listener, and a middleware that times every local action.

import {
  action,
  type ActionInfo,
  type Context,
  event,
  type Handler,
  Middleware,
  Service,
  ServiceBroker,
} from "../mod.ts";

/** Logs how long each local action took. */
class Timing extends Middleware {
  localAction(next: Handler, info: ActionInfo): Handler {
    return async (ctx) => {
      const start = performance.now();
      try {
        return await next(ctx);
      } finally {
        console.log(
          `  [timing] ${info.name} took ${(performance.now() - start).toFixed(2)} ms`,
        );
      }
    };
  }
}

class Greeter extends Service {
  constructor() {
    super("greeter");
  }

  @action({ params: { name: "string" } })
  hello(ctx: Context<{ name: string }>): string {
    return `Hello, ${ctx.params.name}!`;
  }

  @event({ name: "user.*" })
  onUser(ctx: Context<{ id: number }>): void {
    console.log(
      `  [greeter] got ${ctx.eventName} (${ctx.eventType}) id=${ctx.params.id}`,
    );
  }
}

const transporter = "memory://quickstart";
const nodeA = new ServiceBroker({
  nodeID: "node-a",
  transporter,
  logLevel: "warn",
});
const nodeB = new ServiceBroker({
  nodeID: "node-b",
  transporter,
  logLevel: "warn",
  middlewares: [new Timing()],
});

await nodeA.register(new Greeter());
nodeB.createService({
  name: "math",
  actions: {
    add: {
      params: { a: "number", b: "number" },
      handler(ctx: Context<{ a: number; b: number }>) {
        return ctx.params.a + ctx.params.b;
      },
    },
    // Calls the greeter on the other node as a child call: meta and lineage travel along.
    async greetSum(ctx: Context<{ a: number; b: number }>) {
      const sum = await ctx.call<number>("math.add", ctx.params);
      ctx.meta.computedBy = ctx.broker.nodeID;
      return ctx.call("greeter.hello", { name: `sum ${sum}` });
    },
  },
  events: {
    "user.created": {
      group: "audit",
      handler(ctx: Context<{ id: number }>) {
        console.log(
          `  [math/audit] user ${ctx.params.id} created, from node ${ctx.nodeID}`,
        );
      },
    },
  },
});

await Promise.all([nodeA.start(), nodeB.start()]);
await nodeA.waitForServices(["math"], 5000);
await nodeB.waitForServices(["greeter"], 5000);

console.log("node-a calls math.add on node-b:");
console.log(" ", await nodeA.call("math.add", { a: 2, b: 3 }));

console.log(
  "node-a calls math.greetSum, which calls greeter.hello back on node-a:",
);
const meta: Record<string, unknown> = { user: "demo" };
console.log(" ", await nodeA.call("math.greetSum", { a: 20, b: 22 }, { meta }));
console.log("  response meta merged into the caller's:", meta);

console.log("a bad call is rejected by validation:");
try {
  await nodeA.call("math.add", { a: "two" });
} catch (err) {
  const e = err as Error & { code?: number };
  console.log(`  ${e.name} (${e.code}): ${e.message}`);
}

console.log("emit (one handler per group) and broadcast (every handler):");
await nodeA.emit("user.created", { id: 1 });
await nodeA.broadcast("user.created", { id: 2 });
await new Promise((r) => setTimeout(r, 50)); // let the events cross to node-b

console.log("node-a sees these nodes:");
const nodes = await nodeA.call<Array<{ id: string; available: boolean }>>(
  "$node.list",
);
for (const n of nodes) console.log(`  ${n.id} available=${n.available}`);

await Promise.all([nodeA.stop(), nodeB.stop()]);
