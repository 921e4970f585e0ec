/**
 * The load-balancing contract: how one endpoint is picked from a list, and what the broker
 * gives a strategy. The built-in strategies live in `src/strategies/`.
 *
 * @module
 */

import type { Context } from "./context.ts";

/** A node as a strategy sees it. */
export interface StrategyNode {
  /** Node id. */
  readonly id: string;
  /** True for this node. */
  readonly local: boolean;
  /** False once the node went offline. */
  readonly available: boolean;
  /** CPU usage 0–100 from the node's last heartbeat, or null when unknown. */
  readonly cpu: number | null;
  /** The node's host name, or null when unknown. */
  readonly hostname: string | null;
}

/** An endpoint as a strategy sees it. */
export interface StrategyEndpoint {
  /** Node id. */
  readonly id: string;
  /** True for an endpoint on this node. */
  readonly local: boolean;
  /** The node serving it (CpuUsage reads `cpu`, Latency reads `hostname`). */
  readonly node?: {
    readonly cpu: number | null;
    readonly hostname: string | null;
  };
}

/** Picks one endpoint of a list for a call or an event. */
export interface Strategy {
  /**
   * Pick one endpoint.
   *
   * @param list Available endpoints; never empty.
   * @param ctx The context of the call, if any.
   * @returns One of `list`.
   */
  select<E extends StrategyEndpoint>(list: readonly E[], ctx?: Context): E;
}

/**
 * What the broker gives a strategy: the known nodes, a way to ping them, a
 * stop signal for timers, and a per-broker store for state shared by the
 * strategies of every endpoint list (one latency monitor per broker).
 */
export interface StrategyHost {
  /** This node's id. */
  readonly nodeID: string;
  /** Known nodes by id, this one included. */
  readonly nodes: ReadonlyMap<string, StrategyNode>;
  /**
   * Ping a node.
   *
   * @param nodeID The node.
   * @param timeout Give up after this many ms.
   * @returns The round trip, or null on timeout or without a transporter.
   */
  ping(
    nodeID: string,
    timeout: number,
  ): Promise<{ readonly elapsedTime: number } | null>;
  /** Aborted when the broker stops: strategies clear their timers then. */
  readonly signal: AbortSignal;
  /** Per-broker state shared by strategies, keyed by whatever the strategy chooses. */
  readonly shared: Map<unknown, unknown>;
}

/** Options of a strategy (`registry.strategyOptions`, or `strategyOptions` of an action). */
export type StrategyOptions = Readonly<Record<string, unknown>>;

/**
 * A strategy factory: makes one strategy instance per endpoint list. Built-in
 * strategies accept a missing host (Latency then has no measurements and picks
 * at random) and missing options (their defaults).
 */
export type StrategyFactory = (
  host?: StrategyHost,
  options?: StrategyOptions,
) => Strategy;

/** A strategy by name (`"RoundRobin"`, `"Random"`, `"CpuUsage"`, `"Latency"`, `"Shard"`) or a factory. */
export type StrategyOption = string | StrategyFactory;
