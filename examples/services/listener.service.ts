// Event listener service (schema style). Run: deno run -A cli.ts examples/services
import type { Context, ServiceSchema } from "../../mod.ts";

const seen: Array<{ event: string; data: unknown; from: string | null }> = [];

/** Logs `user.*` and `greeter.welcomed` events; `listener.seen` returns the last ones. */
export const listener: ServiceSchema = {
  name: "listener",
  events: {
    "user.*"(this: { logger: { info(msg: string): void } }, ctx: Context) {
      seen.push({
        event: ctx.eventName ?? "",
        data: ctx.params,
        from: ctx.nodeID,
      });
      this.logger.info(
        `${ctx.eventName} from ${ctx.nodeID}: ${JSON.stringify(ctx.params)}`,
      );
    },
    "greeter.welcomed": {
      group: "audit",
      handler(ctx: Context<{ name: string; count: number }>) {
        seen.push({
          event: "greeter.welcomed",
          data: ctx.params,
          from: ctx.nodeID,
        });
      },
    },
  },
  actions: {
    seen: () => seen.slice(-20),
  },
};
