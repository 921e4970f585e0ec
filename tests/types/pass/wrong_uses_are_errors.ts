// Every wrong use below is a compile error: each `@ts-expect-error` fails the check if its line
// compiles. (tests/types/fail/ holds the same mistakes one per file, checked for the message.)
import type { Context, KnownAction, KnownEvent, ParamsFromSchema } from "../../../mod.ts";
import { ServiceBroker } from "../../../mod.ts";
import "./local_services.ts";

const broker = new ServiceBroker({ logger: false });

// @ts-expect-error a wrong param type
await broker.call("v2.math.add", { a: "1", b: 2 });
// @ts-expect-error a missing required param
await broker.call("v2.math.add", { a: 1 });
// @ts-expect-error required params left out
await broker.call("v2.math.add");
// @ts-expect-error an unknown key on a known action
await broker.call("greeter.hello", { name: "x", extra: 1 });
// @ts-expect-error the result used as the wrong type
const s: string = await broker.call("v2.math.add", { a: 1, b: 2 });
// @ts-expect-error a schema-derived param type (label is a string)
await broker.call("v2.math.mul", { a: 1, label: 5 });
// @ts-expect-error an action set to false is not registered
const d: KnownAction = "v2.math.dropped";
// @ts-expect-error a wrong event payload
await broker.emit("user.created", { id: "1" });
// @ts-expect-error a missing event payload
await broker.broadcast("user.created");
// An unknown name's result is `unknown` (or what the caller annotates, as in Moleculer).
const u = await broker.call("other.action");
// @ts-expect-error unknown is not usable without a check
u.toFixed();
// @ts-expect-error a helper method (no Context parameter) is not an action
const h: KnownAction = "greeter.helper";
// @ts-expect-error nor is a wildcard subscription an event name
const w: KnownEvent = "user.*";

export async function handler(ctx: Context<{ id: number }>): Promise<void> {
  // @ts-expect-error ctx.call checks params too
  await ctx.call("greeter.hello", { name: ctx.params.id });
  // @ts-expect-error ctx.emit checks the payload too
  await ctx.emit("user.created", {});
  console.log(s, d, u, h, w);
}

// The shorthand's flags are read as fastest-validator reads them.
type Shorthand = ParamsFromSchema<{ a: "number|optional"; b: "number|optional:false|min:1" }>;
export const shorthand: Shorthand = { b: 1 };
// @ts-expect-error b is required: `optional:false` is not `optional`
export const missingB: Shorthand = { a: 1 };
