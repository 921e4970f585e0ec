// Moleculer schema-style service. Run: deno run -A cli.ts examples/services
import type { Context, ServiceSchema } from "../../mod.ts";

type Pair = { a: number; b: number };

/** `math.add`, `math.sub`, `math.mult` and `math.div`, with validated params. */
const math: ServiceSchema = {
  name: "math",
  actions: {
    add: {
      params: { a: "number", b: "number" },
      handler: (ctx: Context<Pair>) => ctx.params.a + ctx.params.b,
    },
    sub: {
      params: { a: "number", b: "number" },
      handler: (ctx: Context<Pair>) => ctx.params.a - ctx.params.b,
    },
    mult: {
      params: { a: "number", b: "number" },
      handler: (ctx: Context<Pair>) => ctx.params.a * ctx.params.b,
    },
    div: {
      params: { a: "number", b: "number" },
      handler(ctx: Context<Pair>) {
        if (ctx.params.b === 0) throw new RangeError("Cannot divide by zero");
        return ctx.params.a / ctx.params.b;
      },
    },
  },
};

export default math;
