/**
 * A few brokers on one private `memory://` bus for the fault-tolerance tests, stopped together
 * at scope end (`await using`).
 *
 * @module
 */

import type { BrokerOptions, Context, ServiceBroker, ServiceSchema } from "../../mod.ts";
import {
  clusterOptions,
  collector,
  endpoints,
  memoryBus,
  scoped,
  type ScopedBroker,
} from "../_helpers/core.ts";

/** One node of a {@linkcode cluster}. */
export interface NodeSpec {
  readonly id: string;
  readonly options?: BrokerOptions;
  readonly services?: ServiceSchema[];
}

/** Brokers by node id, stopped together. */
export interface Cluster extends AsyncDisposable {
  readonly nodes: Record<string, ScopedBroker>;
  /** Stop every broker now (idempotent). */
  stop(): Promise<void>;
}

/**
 * Start brokers on one fresh bus and wait until each one that calls `action` sees `count`
 * endpoints of it.
 *
 * @param specs The nodes.
 * @param wait Action endpoints to wait for on given nodes: `{ nodeID: [action, count] }`.
 * @returns The cluster.
 */
export async function cluster(
  specs: NodeSpec[],
  wait: Record<string, [string, number]> = {},
): Promise<Cluster> {
  const bus = memoryBus();
  const nodes: Record<string, ScopedBroker> = {};
  for (const spec of specs) {
    const b = scoped(clusterOptions(spec.id, bus, spec.options ?? {}));
    for (const s of spec.services ?? []) b.createService(s);
    nodes[spec.id] = b;
  }
  const all = Object.values(nodes);
  const stop = async () => {
    await Promise.all(all.map((b) => b.stop()));
  };
  try {
    await Promise.all(all.map((b) => b.start()));
    for (const [id, [action, count]] of Object.entries(wait)) {
      await endpoints(nodes[id]!, action, count);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { nodes, stop, [Symbol.asyncDispose]: stop };
}

/** A service `who` whose action `ami` answers the node id, or fails while `health.failing`. */
export function whoService(
  health: { failing: boolean },
  fail: (ctx: Context) => never,
  extra: Record<string, unknown> = {},
): ServiceSchema {
  return {
    name: "who",
    actions: {
      ami: {
        ...extra,
        handler(ctx: Context) {
          if (health.failing) fail(ctx);
          return ctx.broker.nodeID;
        },
      },
    },
  };
}

/**
 * A listener service recording `$circuit-breaker.*` events it gets.
 *
 * @returns The service and the events seen, in order.
 */
export function breakerEvents(): {
  service: ServiceSchema;
  seen: Array<{ event: string; payload: Record<string, unknown> }>;
  next(event: string): Promise<Record<string, unknown>>;
} {
  const seen: Array<{ event: string; payload: Record<string, unknown> }> = [];
  const waiters: Array<{ event: string; resolve: (p: Record<string, unknown>) => void }> = [];
  return {
    seen,
    next(event) {
      return new Promise((resolve) => waiters.push({ event, resolve }));
    },
    service: {
      name: "cbwatch",
      events: {
        "$circuit-breaker.**"(ctx: Context<Record<string, unknown>>) {
          const entry = { event: ctx.eventName!, payload: ctx.params };
          seen.push(entry);
          for (const w of [...waiters]) {
            if (w.event === entry.event) {
              waiters.splice(waiters.indexOf(w), 1);
              w.resolve(entry.payload);
            }
          }
        },
      },
    },
  };
}

/** Call `n` times in sequence; each outcome is the answer or the error's class name. */
export async function callMany(
  broker: ServiceBroker,
  action: string,
  n: number,
  params: unknown = {},
): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    out.push(await broker.call(action, params).catch((e: Error) => `!${e.name}`));
  }
  return out;
}

/** Tally values. */
export function tally(values: unknown[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[String(v)] = (out[String(v)] ?? 0) + 1;
  return out;
}

export { collector };
