/**
 * One conformance suite, run against every strategy implementation: the contract of
 * `src/core/strategy.ts` (pick one member of a non-empty list, with or without a host, a context
 * or options; stop its timers when the host's signal aborts). A new strategy joins by adding an
 * entry to `IMPLEMENTATIONS`.
 */

import assert from "node:assert/strict";
import type { Context } from "../../src/core/context.ts";
import type {
  Strategy,
  StrategyEndpoint,
  StrategyFactory,
  StrategyHost,
  StrategyNode,
} from "../../src/core/strategy.ts";
import { resolveStrategy } from "../../src/strategies/resolve.ts";

interface Implementation {
  /** The name `resolveStrategy()` knows it by. */
  name: string;
  /** Options of its own, set away from their defaults. */
  options: Readonly<Record<string, unknown>>;
}

const IMPLEMENTATIONS: Implementation[] = [
  { name: "RoundRobin", options: {} },
  { name: "Random", options: {} },
  { name: "CpuUsage", options: { sampleCount: 2, lowCpuUsage: 5 } },
  {
    name: "Latency",
    options: { sampleCount: 2, lowLatency: 1, pingInterval: 0.01 },
  },
  { name: "Shard", options: { shardKey: "userID", vnodes: 4 } },
];

interface Endpoint extends StrategyEndpoint {
  readonly node: {
    readonly cpu: number | null;
    readonly hostname: string | null;
  };
}

/** `n` remote endpoints on as many hosts, each with a CPU figure (one of them idle). */
function endpoints(n: number, prefix = "n"): Endpoint[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}${i}`,
    local: false,
    node: { cpu: i === n - 1 ? 1 : 50 + i, hostname: `host-${prefix}${i}` },
  }));
}

/** A host over `list`'s nodes that answers every ping in `1 + index` ms. */
function hostOf(
  list: readonly Endpoint[],
  signal: AbortSignal,
): StrategyHost & { pings: number } {
  const nodes = new Map<string, StrategyNode>(
    list.map((ep) => [ep.id, {
      id: ep.id,
      local: false,
      available: true,
      cpu: ep.node.cpu,
      hostname: ep.node.hostname,
    }]),
  );
  const host = {
    nodeID: "self",
    nodes,
    signal,
    shared: new Map<unknown, unknown>(),
    pings: 0,
    ping(nodeID: string): Promise<{ elapsedTime: number }> {
      host.pings++;
      return Promise.resolve({
        elapsedTime: 1 + list.findIndex((ep) => ep.id === nodeID),
      });
    },
  };
  return host;
}

/** A call context as the Shard strategy reads it. */
function ctxFor(userID: number): Context {
  return { params: { userID }, meta: {} } as unknown as Context;
}

/** `count` picks from `list`, each with a context of its own. */
function picks(
  strategy: Strategy,
  list: readonly Endpoint[],
  count: number,
): Endpoint[] {
  return Array.from(
    { length: count },
    (_, i) => strategy.select(list, ctxFor(i)),
  );
}

for (const impl of IMPLEMENTATIONS) {
  Deno.test(`Strategy conformance: ${impl.name}`, async (t) => {
    const factory: StrategyFactory = resolveStrategy(impl.name);
    const stop = new AbortController();
    try {
      await t.step(
        "is known by name in any case, with or without the Strategy suffix",
        () => {
          for (
            const name of [
              impl.name,
              impl.name.toLowerCase(),
              `${impl.name}Strategy`,
            ]
          ) {
            assert.equal(resolveStrategy(name), factory);
          }
        },
      );

      await t.step(
        "picks only members of the list, whatever its length",
        () => {
          for (const n of [1, 2, 3, 7]) {
            const list = endpoints(n);
            const s = factory(hostOf(list, stop.signal), impl.options);
            for (const picked of picks(s, list, 40)) {
              assert.ok(list.includes(picked));
            }
          }
        },
      );

      await t.step("a one-endpoint list always gives that endpoint", () => {
        const list = endpoints(1);
        const s = factory(undefined, impl.options);
        assert.ok(picks(s, list, 10).every((picked) => picked === list[0]));
        assert.equal(s.select(list), list[0], "without a context too");
      });

      await t.step(
        "works without a host, options or context (its defaults)",
        () => {
          const list = endpoints(4);
          const s = factory();
          for (let i = 0; i < 20; i++) assert.ok(list.includes(s.select(list)));
        },
      );

      await t.step(
        "follows a list that shrinks, grows and changes members",
        () => {
          const first = endpoints(5, "a");
          const s = factory(hostOf(first, stop.signal), impl.options);
          picks(s, first, 10);
          for (
            const list of [first.slice(0, 2), endpoints(3, "b"), [
              ...first,
              ...endpoints(3, "b"),
            ]]
          ) {
            for (const picked of picks(s, list, 20)) {
              assert.ok(list.includes(picked));
            }
          }
        },
      );

      await t.step(
        "one instance per list: instances share no pick state",
        () => {
          const list = endpoints(3);
          const host = hostOf(list, stop.signal);
          const a = factory(host, impl.options);
          const b = factory(host, impl.options);
          assert.notEqual(a, b);
          picks(a, list, 5);
          for (const picked of picks(b, list, 10)) {
            assert.ok(list.includes(picked));
          }
        },
      );

      const numeric = Object.keys(impl.options).find((k) => typeof impl.options[k] === "number");
      if (numeric !== undefined) {
        await t.step(`rejects a malformed '${numeric}' by name`, () => {
          assert.throws(
            () => factory(undefined, { ...impl.options, [numeric]: -1 }),
            (err: unknown) => err instanceof Error && err.message.includes(numeric),
          );
        });
      }
    } finally {
      // Timers a strategy started on the host must end with its signal (--trace-leaks checks).
      stop.abort();
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  });
}
