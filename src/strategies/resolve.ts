/**
 * Turns a strategy option (the broker's `registry.strategy`, or an action's own `strategy`) into
 * a {@linkcode StrategyFactory}.
 *
 * @module
 */

import type { StrategyFactory, StrategyOption } from "../core/strategy.ts";
import { BrokerOptionsError } from "../errors.ts";
import { CpuUsageStrategy } from "./cpu_usage.ts";
import { LatencyStrategy } from "./latency.ts";
import { RandomStrategy } from "./random.ts";
import { RoundRobinStrategy } from "./round_robin.ts";
import { ShardStrategy } from "./shard.ts";

/** One built-in strategy: its Moleculer name and how it is made. */
interface StrategyEntry {
  /** Moleculer's name, as the error message lists it. */
  readonly name: string;
  /** Makes one instance per endpoint list. */
  readonly make: StrategyFactory;
}

/**
 * The built-in strategies. They pull no client library, so all load with this module; a
 * strategy that does would get an entry loading it by `import()`.
 */
const BUILT_IN: readonly StrategyEntry[] = [
  { name: "RoundRobin", make: () => new RoundRobinStrategy() },
  { name: "Random", make: () => new RandomStrategy() },
  { name: "CpuUsage", make: (_host, options) => new CpuUsageStrategy(options) },
  { name: "Latency", make: (host, options) => new LatencyStrategy(host, options) },
  { name: "Shard", make: (_host, options) => new ShardStrategy(options) },
];

/** The entries by lower-case name. A Map: a remote `strategy: "constructor"` finds nothing. */
const BY_NAME: ReadonlyMap<string, StrategyEntry> = new Map(
  BUILT_IN.map((entry) => [entry.name.toLowerCase(), entry]),
);

/** `"A", "B" or "C"`, for the error message. */
function supported(): string {
  const names = BUILT_IN.map((entry) => `"${entry.name}"`);
  return `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`;
}

/**
 * Resolve a strategy option into a factory.
 *
 * @param option A name (any case, with or without a `Strategy` suffix) or a
 *   factory. @default {"RoundRobin"}
 * @returns A factory making one strategy per endpoint list.
 * @throws {BrokerOptionsError} for an unknown name; the message lists the built-in ones.
 *
 * @example
 * ```ts
 * import { resolveStrategy } from "./resolve.ts";
 *
 * const rr = resolveStrategy("RoundRobin")();
 * console.log(rr.select([{ id: "a", local: true }, { id: "b", local: false }]).id); // "a"
 * ```
 */
export function resolveStrategy(
  option: StrategyOption = "RoundRobin",
): StrategyFactory {
  if (typeof option === "function") return option;
  const found = BY_NAME.get(String(option).toLowerCase().replace(/strategy$/, ""));
  if (!found) {
    throw new BrokerOptionsError(
      `Unknown strategy '${option}': use ${supported()}, or pass a factory function`,
      { strategy: option },
    );
  }
  return found.make;
}
