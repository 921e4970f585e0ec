/**
 * The broker's strategy construction: the strategy of each new endpoint list
 * (an action's own `strategy` and `strategyOptions`, or the broker-wide
 * ones), and the check of a local action's strategy when it is registered.
 *
 * @module
 */

import { ServiceSchemaError } from "../errors.ts";
import type { Logger } from "../logging.ts";
import { resolveStrategy } from "./resolve.ts";
import type {
  Strategy,
  StrategyFactory,
  StrategyHost,
  StrategyOption,
  StrategyOptions,
} from "../core/strategy.ts";
import { isRecord } from "../_util/values.ts";

/**
 * Makes the strategy of a new endpoint list from the definition of its first
 * endpoint (an action's `strategy` and `strategyOptions`), or the broker-wide
 * one. The registry calls it; the broker builds it ({@linkcode BrokerStrategies.make}).
 */
export type StrategyResolver = (
  definition?: Readonly<Record<string, unknown>>,
) => Strategy;

/** The broker-wide strategy settings (the `registry` options that name a strategy). */
export interface StrategySettings {
  /** The strategy of every endpoint list whose action names none. */
  readonly strategy: StrategyOption;
  /** Options of that strategy. */
  readonly strategyOptions: StrategyOptions;
}

/**
 * Makes the strategies of a broker's endpoint lists. Internal: the broker owns
 * one and hands {@linkcode BrokerStrategies.make} to its registry.
 */
export class BrokerStrategies {
  readonly #options: StrategySettings;
  readonly #host: StrategyHost;
  readonly #logger: Logger;
  readonly #defaultStrategy: StrategyFactory;

  /**
   * Resolve the broker-wide strategy and check its options.
   *
   * @param options The broker's `registry` options.
   * @param host What strategies may use: nodes, ping, stop signal, shared state.
   * @param logger Where an unusable remote definition is reported.
   * @throws {BrokerOptionsError} for an unknown strategy or bad options.
   */
  constructor(options: StrategySettings, host: StrategyHost, logger: Logger) {
    this.#options = options;
    this.#logger = logger;
    this.#defaultStrategy = resolveStrategy(options.strategy);
    // Check the options of a built-in strategy now rather than at the first endpoint.
    if (typeof options.strategy === "string") {
      this.#defaultStrategy(undefined, options.strategyOptions);
    }
    this.#host = host;
  }

  /**
   * The strategy of a new endpoint list: the action's own, or the broker-wide one.
   *
   * @param definition The definition of the list's first endpoint.
   * @returns A new strategy instance.
   */
  make(definition?: Readonly<Record<string, unknown>>): Strategy {
    let factory = this.#defaultStrategy;
    let options: StrategyOptions = this.#options.strategyOptions;
    const own = definition?.strategy;
    if (own !== undefined && own !== null) {
      try {
        factory = resolveStrategy(own as StrategyOption);
      } catch {
        // A remote node's definition must not break this node (local ones were checked).
        this.#logger.warn(
          `Action '${definition?.name}' names the unknown strategy ${JSON.stringify(own)}: ` +
            "using the broker's",
        );
      }
    }
    if (isRecord(definition?.strategyOptions)) options = definition.strategyOptions;
    try {
      return factory(this.#host, options);
    } catch (err) {
      this.#logger.warn(
        `Cannot make the strategy of '${definition?.name}' (${(err as Error).message}): ` +
          "using the broker's",
      );
      return this.#defaultStrategy(this.#host, this.#options.strategyOptions);
    }
  }

  /**
   * Check a local action's own `strategy` and `strategyOptions` when it is registered.
   *
   * @param action The action's full name.
   * @param schema The action's schema.
   * @throws {ServiceSchemaError} naming the action and the problem.
   */
  checkAction(action: string, schema: Readonly<Record<string, unknown>>): void {
    const own = schema.strategy;
    const options = schema.strategyOptions;
    if ((own === undefined || own === null) && options === undefined) return;
    try {
      if (options !== undefined && !isRecord(options)) {
        throw new Error("strategyOptions must be an object");
      }
      if (typeof own === "string" || own === undefined || own === null) {
        const factory = own ? resolveStrategy(own) : this.#defaultStrategy;
        if (own || typeof this.#options.strategy === "string") {
          factory(undefined, options ?? this.#options.strategyOptions);
        }
      } else if (typeof own !== "function") {
        throw new Error("strategy must be a name or a factory function");
      }
    } catch (err) {
      throw new ServiceSchemaError(
        `Action '${action}': ${(err as Error).message}`,
        { action, strategy: typeof own === "function" ? "[Function]" : own },
      );
    }
  }
}
