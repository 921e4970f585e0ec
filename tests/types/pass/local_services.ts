// Local services registered by one line each: calls and events are checked and typed.
import {
  action,
  type ClassActions,
  type Context,
  type SchemaActions,
  type SchemaEvents,
  Service,
  ServiceBroker,
  type ServiceSchema,
} from "../../../mod.ts";

export const math = {
  name: "math",
  version: 2,
  actions: {
    add: {
      params: { a: "number", b: "number" },
      handler: (ctx: Context<{ a: number; b: number }>) => ctx.params.a + ctx.params.b,
    },
    // Params from the fastest-validator schema alone.
    mul: {
      params: {
        a: "number",
        b: "number|optional",
        label: { type: "string", default: "x" },
      },
      handler: (ctx: Context) => String(ctx.params),
    },
    async now() {
      return await Promise.resolve(new Date());
    },
    dropped: false,
  },
  events: {
    "user.created": {
      params: { id: "number" },
      handler(_ctx: Context<{ id: number }>) {},
    },
    "user.*": () => {},
  },
} as const satisfies ServiceSchema;

export class Greeter extends Service {
  constructor() {
    super({ name: "greeter" });
  }
  @action({ params: { name: "string" } })
  hello(ctx: Context<{ name: string }>): string {
    return `Hello, ${ctx.params.name}`;
  }
  @action()
  async count(_ctx: Context): Promise<number> {
    return await Promise.resolve(1);
  }
  helper(x: number): number {
    return x;
  }
}

declare module "../../../mod.ts" {
  interface ServiceActions extends SchemaActions<typeof math>, ClassActions<"greeter", Greeter> {}
  interface ServiceEvents extends SchemaEvents<typeof math> {}
}

const broker = new ServiceBroker({ logger: false });
broker.createService(math);

const sum: number = await broker.call("v2.math.add", { a: 1, b: 2 });
const text: string = await broker.call("v2.math.mul", { a: 1 });
const now: Date = await broker.call("v2.math.now");
const hi: string = await broker.call("greeter.hello", { name: "x" }, {
  timeout: 100,
});
const n: number = await broker.call("greeter.count");
// Unknown names compile as before: unknown result, any params; explicit types as in Moleculer.
const anything: unknown = await broker.call("other.action", { whatever: true });
const typed: number = await broker.call<number>("other.action");
const both: string = await broker.call<string, { id: number }>("users.get", {
  id: 1,
});
const dynamic: string = "v2.math." + "add";
const viaString: unknown = await broker.call(dynamic, { a: "not checked" });

await broker.emit("user.created", { id: 1 });
await broker.broadcast("user.created", { id: 1 }, { groups: ["a"] });
await broker.emit("unknown.event", { free: "form" });
await broker.emit("no.payload");

async function handler(ctx: Context<{ id: number }>): Promise<string> {
  const r: number = await ctx.call("v2.math.add", { a: ctx.params.id, b: 1 });
  await ctx.emit("user.created", { id: r });
  await ctx.broadcast("user.created", { id: r });
  const u: unknown = await ctx.call("users.get", { id: 1 });
  return String(u) + sum + text + now + hi + n + anything + typed + both +
    viaString;
}
export { handler };
