/**
 * A list of endpoints (nodes) serving one action or one event group, with the
 * strategy that picks among them.
 *
 * @module
 */

import type { Context } from "../core/context.ts";
import type { Strategy, StrategyEndpoint } from "../core/strategy.ts";

/** An endpoint in a list: a node, and the service on it that serves the action or event. */
export interface ListedEndpoint extends StrategyEndpoint {
  /** The serving service; one node may list several services for one event group. */
  readonly service: { readonly fullName: string };
}

/** Endpoints for one action, or one event name and group. */
export class EndpointList<E extends ListedEndpoint> {
  /** The action name, or the event subscription name. */
  readonly name: string;
  /** The event group; undefined for actions. */
  readonly group: string | undefined;
  /** Every endpoint, local and remote. */
  items: E[] = [];
  /** The local endpoints only. */
  locals: E[] = [];
  readonly #strategy: Strategy;
  #localTurn = 0;

  /**
   * Create an empty list.
   *
   * @param name Action or event name.
   * @param group Event group.
   * @param strategy The balancing strategy of this list.
   */
  constructor(name: string, group: string | undefined, strategy: Strategy) {
    this.name = name;
    this.group = group;
    this.#strategy = strategy;
  }

  /** True when at least one endpoint exists. */
  get available(): boolean {
    return this.items.length > 0;
  }

  /** True when a local endpoint exists. */
  get hasLocal(): boolean {
    return this.locals.length > 0;
  }

  /**
   * Add or replace the endpoint of a service on a node.
   *
   * @param ep The endpoint.
   */
  add(ep: E): void {
    const same = (e: E) => e.id === ep.id && e.service.fullName === ep.service.fullName;
    this.items = this.items.filter((e) => !same(e));
    this.locals = this.locals.filter((e) => !same(e));
    this.items.push(ep);
    if (ep.local) this.locals.push(ep);
  }

  /**
   * Remove the endpoint of a node.
   *
   * @param nodeID The node.
   * @returns True if one was removed.
   */
  removeByNode(nodeID: string): boolean {
    const before = this.items.length;
    this.items = this.items.filter((e) => e.id !== nodeID);
    this.locals = this.locals.filter((e) => e.id !== nodeID);
    return this.items.length !== before;
  }

  /** The balancing strategy of this list. */
  get strategy(): Strategy {
    return this.#strategy;
  }

  /**
   * Pick an endpoint: a local one when `preferLocal` and one exists, else by strategy.
   *
   * @param preferLocal Prefer this node's endpoints.
   * @param ctx The call's context (the Shard strategy reads its params and meta).
   * @param available When given, only endpoints it accepts are picked (the
   *   circuit breaker passes one while some circuit is open); a local endpoint
   *   it refuses makes way for the others, as in Moleculer.
   * @returns An endpoint, or undefined when none exists (or none is available).
   */
  next(
    preferLocal: boolean,
    ctx?: Context,
    available?: (ep: E) => boolean,
  ): E | undefined {
    if (available !== undefined) {
      return this.#nextAvailable(preferLocal, available, ctx);
    }
    const items = this.items;
    if (items.length === 0) return undefined;
    if (items.length === 1) return items[0];
    if (preferLocal && this.locals.length > 0) return this.nextLocal();
    return this.#strategy.select(items, ctx);
  }

  #nextAvailable(
    preferLocal: boolean,
    available: (ep: E) => boolean,
    ctx: Context | undefined,
  ): E | undefined {
    if (preferLocal && this.locals.length > 0) {
      const locals = this.locals.filter(available);
      if (locals.length > 0) {
        if (this.#localTurn >= locals.length) this.#localTurn = 0;
        return locals[this.#localTurn++];
      }
    }
    const list = this.items.filter(available);
    if (list.length <= 1) return list[0];
    return this.#strategy.select(list, ctx);
  }

  /**
   * True when some endpoint is available.
   *
   * @param available The availability test; all endpoints count without one.
   * @returns Whether `next()` would find one.
   */
  hasAvailable(available?: (ep: E) => boolean): boolean {
    return available ? this.items.some(available) : this.items.length > 0;
  }

  /**
   * Pick a local endpoint in turn.
   *
   * @returns A local endpoint, or undefined.
   */
  nextLocal(): E | undefined {
    const locals = this.locals;
    if (locals.length <= 1) return locals[0];
    if (this.#localTurn >= locals.length) this.#localTurn = 0;
    return locals[this.#localTurn++];
  }

  /**
   * The endpoint of one node.
   *
   * @param nodeID The node.
   * @returns Its endpoint, or undefined.
   */
  byNode(nodeID: string): E | undefined {
    return this.items.find((e) => e.id === nodeID);
  }
}
