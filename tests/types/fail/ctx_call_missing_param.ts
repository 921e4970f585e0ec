// expect: TS2769 "Property 'name' is missing"
import type { Context } from "../../../mod.ts";
import "../pass/local_services.ts";

export async function handler(ctx: Context): Promise<string> {
  return await ctx.call("greeter.hello", {});
}
