/**
 * What the gateway knows of the cluster's actions: their definitions (visibility, `rest`,
 * `responseType`…) and services, read from `$node.services` when the gateway starts and again
 * after `$services.changed`. A request for an action it has not seen reads the list again
 * first (at most once per change, or once a second), so a service that has just joined answers
 * at once and a flood of unknown names costs one list read per second, not one per request.
 *
 * @module
 */

import type { BrokerApi } from "../core/broker_api.ts";
import type { Logger } from "../logging.ts";
import type { ListedService } from "./route.ts";

/** An action definition as `$node.services` reports it. */
export type ActionDefinition = Record<string, unknown>;

const MISS_REFRESH_MS = 1000;

/** The action catalog of one gateway. */
export class ActionCatalog {
  readonly #broker: BrokerApi;
  readonly #logger: Logger;
  #actions = new Map<string, ActionDefinition>();
  #services: ListedService[] = [];
  #loading: Promise<void> | null = null;
  #loadedAt = 0;
  #stale = true;
  #warned = false;
  /** False when `$node.services` cannot be read: calls are made without the checks. */
  #available = true;

  /**
   * @param broker The broker to read `$node.services` from.
   * @param logger Where a failed read is reported (once).
   */
  constructor(broker: BrokerApi, logger: Logger) {
    this.#broker = broker;
    this.#logger = logger;
  }

  /** The services of the last read, with their actions. */
  get services(): readonly ListedService[] {
    return this.#services;
  }

  /** False when the node has no `$node` service to read the catalog from. */
  get available(): boolean {
    return this.#available;
  }

  /** The services changed: the next miss reads the list again at once. */
  markStale(): void {
    this.#stale = true;
  }

  /**
   * Read the catalog again (one read at a time; callers share it).
   *
   * @returns When the read is done.
   */
  refresh(): Promise<void> {
    if (this.#loading) return this.#loading;
    this.#stale = false;
    this.#loading = this.#read().finally(() => {
      this.#loading = null;
      this.#loadedAt = Date.now();
    });
    return this.#loading;
  }

  async #read(): Promise<void> {
    try {
      const list = await this.#broker.call<ListedService[]>("$node.services", {
        withActions: true,
        grouping: true,
      });
      const actions = new Map<string, ActionDefinition>();
      for (const s of list) {
        for (const [name, def] of Object.entries(s.actions ?? {})) {
          const known = actions.get(name);
          // A published definition wins over another node's narrower one.
          if (!known || (known.visibility ?? "published") !== "published") {
            actions.set(name, def);
          }
        }
      }
      this.#services = list;
      this.#actions = actions;
      this.#available = true;
    } catch (err) {
      this.#available = false;
      if (!this.#warned) {
        this.#warned = true;
        this.#logger.warn(
          "API gateway: cannot read $node.services, so autoAliases stay empty and action " +
            "visibility is not checked; keep the broker's internal services on",
          { error: err instanceof Error ? err.message : String(err) },
        );
      }
    }
  }

  /**
   * An action's definition, reading the catalog again first when the name is unknown and the
   * last read is stale or older than a second.
   *
   * @param name The full action name.
   * @returns Its definition, or undefined when no node serves it.
   */
  async lookup(name: string): Promise<ActionDefinition | undefined> {
    const known = this.#actions.get(name);
    if (known) return known;
    if (this.#loading || this.#stale || Date.now() - this.#loadedAt >= MISS_REFRESH_MS) {
      await this.refresh();
    }
    return this.#actions.get(name);
  }

  /**
   * An action's definition from the last read, without reading again.
   *
   * @param name The full action name.
   * @returns Its definition, if known.
   */
  peek(name: string): ActionDefinition | undefined {
    return this.#actions.get(name);
  }
}
