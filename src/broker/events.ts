/**
 * Event delivery of a broker: `emit`, `broadcast` and `broadcastLocal` below
 * the middlewares — local handler runs, packets to other nodes, and the
 * `disableBalancer` variants that let the transporter's queue groups balance.
 *
 * @module
 */

import type { BrokerParts, ServiceBroker } from "./broker.ts";
import type { Context, EmitOptions, EventType } from "../core/context.ts";
import type { Logger } from "../logging.ts";
import type { EventEndpoint, Registry } from "../registry/registry.ts";
import type { EndpointList } from "../registry/endpoint_list.ts";
import { isPromiseLike } from "../_util/async.ts";
import { withUid } from "./calls.ts";

const NOOP = (): void => {};
/** One settled promise for every emit that has nothing to wait for. */
const RESOLVED: Promise<void> = Promise.resolve();

function toGroups(groups: string | string[] | undefined): string[] | null {
  if (groups === undefined) return null;
  return Array.isArray(groups) ? groups : [groups];
}

/**
 * Delivers a broker's events. Internal: the broker owns one and wraps its
 * methods in the `emit`, `broadcast` and `broadcastLocal` middleware hooks.
 */
export class EventDelivery {
  readonly #broker: ServiceBroker;
  readonly #registry: Registry;
  readonly #parts: BrokerParts;
  readonly #logger: Logger;
  /** `disableBalancer` in effect: emits without a target go through the transporter's queue groups. */
  readonly #noBalancer: boolean;
  readonly #factory: typeof Context;
  readonly #uid: (() => string) | undefined;

  /**
   * @param broker The broker: contexts belong to it; its `transit` sends packets.
   * @param parts The broker's registry (which knows the listeners) and transit.
   * @param logger Where failed handlers and unsent packets are reported.
   * @param noBalancer `disableBalancer` in effect.
   */
  constructor(broker: ServiceBroker, parts: BrokerParts, logger: Logger, noBalancer: boolean) {
    this.#broker = broker;
    this.#parts = parts;
    this.#registry = parts.registry;
    this.#logger = logger;
    this.#noBalancer = noBalancer;
    this.#factory = broker.options.ContextFactory;
    this.#uid = broker.options.uidGenerator;
  }

  #eventContext(
    name: string,
    data: unknown,
    opts: EmitOptions,
    type: EventType,
    groups: string[] | null,
  ): Context {
    const ctx = this.#factory.forEvent(this.#broker, name, data, opts, type, groups);
    if (this.#uid) withUid(ctx, this.#uid);
    return ctx;
  }

  /**
   * Run a local handler with its own copy of the event context; its failure is logged.
   *
   * @param ep The local event endpoint.
   * @param base The event context.
   * @param groups The groups the handler gets the event for.
   * @returns Resolves once the handler settled; never rejects.
   */
  runLocal(
    ep: EventEndpoint,
    base: Context,
    groups: string[] | null,
  ): Promise<void> {
    const ctx = base.forHandler(ep.info!.service, ep.event, groups);
    try {
      const r = ep.handler!(ctx);
      if (!isPromiseLike(r)) return RESOLVED;
      // The rejection handler is made only for handlers that return a promise.
      return (r as Promise<unknown>).then(NOOP, (err) => this.#handlerFailed(ep, base, err));
    } catch (err) {
      this.#handlerFailed(ep, base, err);
      return RESOLVED;
    }
  }

  #handlerFailed(ep: EventEndpoint, base: Context, err: unknown): void {
    this.#logger.error(
      `Handler of event '${base.eventName}' in '${ep.service.fullName}' failed`,
      err,
    );
  }

  /**
   * The endpoint lists of an event's listeners, limited to some groups.
   *
   * @param name Event name.
   * @param groups Only these groups, or null for all.
   * @returns One list per group.
   */
  matching(
    name: string,
    groups: string[] | null,
  ): EndpointList<EventEndpoint>[] {
    const lists = this.#registry.matchingEventLists(name);
    return groups ? lists.filter((l) => groups.includes(l.group!)) : lists;
  }

  /**
   * Emit a balanced event: each group of listeners gets it once, on one node.
   *
   * @param name Event name.
   * @param data Event payload.
   * @param opts Emit options.
   * @returns Resolves once local handlers ran and remote packets were sent.
   */
  emit(name: string, data: unknown, opts: EmitOptions): Promise<void> {
    const groups = toGroups(opts.groups);
    const ctx = this.#eventContext(name, data, opts, "emit", groups);
    if (this.#noBalancer) return this.#emitBalanced(ctx, this.#groupsOf(name, groups));
    // The usual emit has one listener group, so one job: no arrays or maps are made for it.
    let job: Promise<void> | undefined;
    let jobs: Promise<void>[] | undefined;
    let remote: Map<string, string[]> | undefined;
    for (const list of this.matching(name, groups)) {
      const ep = list.next(this.#registry.preferLocal, ctx);
      if (!ep) continue;
      if (ep.local) {
        const p = this.runLocal(ep, ctx, [list.group!]);
        if (job === undefined) job = p;
        else (jobs ??= [job]).push(p);
      } else {
        remote ??= new Map();
        const g = remote.get(ep.id);
        if (g) g.push(list.group!);
        else remote.set(ep.id, [list.group!]);
      }
    }
    if (remote !== undefined) {
      for (const [nodeID, g] of remote) {
        const p = this.#sendEvent(nodeID, ctx, g, false);
        if (job === undefined) job = p;
        else (jobs ??= [job]).push(p);
      }
    }
    return jobs !== undefined ? Promise.all(jobs).then(NOOP) : job ?? RESOLVED;
  }

  #sendEvent(
    nodeID: string | null,
    ctx: Context,
    groups: string[] | null,
    broadcast: boolean,
  ): Promise<void> {
    const transit = this.#parts.transit;
    if (!transit) return Promise.resolve();
    return transit.sendEvent(nodeID, ctx, groups, broadcast).catch((err) =>
      this.#logger.warn(
        `Cannot send event '${ctx.eventName}' to ${
          nodeID === null ? `group(s) '${groups?.join(", ")}'` : `'${nodeID}'`
        }: ${err.message}`,
      )
    );
  }

  /** `disableBalancer`: the groups an event goes to: the caller's, or else every known one. */
  #groupsOf(name: string, groups: string[] | null): string[] {
    if (groups && groups.length > 0) return groups;
    const all = new Set<string>();
    for (const list of this.#registry.matchingEventLists(name)) all.add(list.group!);
    return [...all];
  }

  /**
   * `disableBalancer` emit: one copy per group on `EVENTB.<group>.<event>`; the transporter's
   * queue group picks the handler, local ones included.
   */
  #emitBalanced(ctx: Context, groups: string[]): Promise<void> {
    if (groups.length === 0) return Promise.resolve();
    ctx.eventGroups = groups;
    return this.#sendEvent(null, ctx, groups, false);
  }

  /**
   * `disableBalancer` broadcast: a targeted EVENT (with every group) to each node with a
   * listener, this one included: local handlers also run from the packet.
   */
  #broadcastBalanced(name: string, ctx: Context, groups: string[]): Promise<void> {
    if (groups.length === 0) return Promise.resolve();
    ctx.eventGroups = groups;
    const nodes = new Set<string>();
    for (const list of this.matching(name, groups)) {
      for (const ep of list.items) nodes.add(ep.id);
    }
    const jobs: Promise<void>[] = [];
    for (const nodeID of nodes) jobs.push(this.#sendEvent(nodeID, ctx, groups, true));
    return Promise.all(jobs).then(() => {});
  }

  /**
   * Broadcast an event to every listener on every node.
   *
   * @param name Event name.
   * @param data Event payload.
   * @param opts Emit options.
   * @returns Resolves once local handlers ran and remote packets were sent.
   */
  broadcast(
    name: string,
    data: unknown,
    opts: EmitOptions,
  ): Promise<void> {
    const groups = toGroups(opts.groups);
    const ctx = this.#eventContext(name, data, opts, "broadcast", groups);
    if (this.#noBalancer) return this.#broadcastBalanced(name, ctx, this.#groupsOf(name, groups));
    const nodes = new Set<string>();
    const jobs: Promise<void>[] = [];
    for (const list of this.matching(name, groups)) {
      for (const ep of list.items) {
        if (ep.local) jobs.push(this.runLocal(ep, ctx, groups));
        else nodes.add(ep.id);
      }
    }
    for (const nodeID of nodes) {
      jobs.push(this.#sendEvent(nodeID, ctx, groups, true));
    }
    return jobs.length === 0 ? Promise.resolve() : Promise.all(jobs).then(() => {});
  }

  /**
   * Deliver an event to every listener on this node only.
   *
   * @param name Event name.
   * @param data Event payload.
   * @param opts Emit options.
   * @param type The event type the handlers see.
   * @returns Resolves once the handlers ran.
   */
  broadcastLocal(
    name: string,
    data: unknown,
    opts: EmitOptions,
    type: EventType,
  ): Promise<void> {
    const groups = toGroups(opts.groups);
    const ctx = this.#eventContext(name, data, opts, type, groups);
    const jobs: Promise<void>[] = [];
    for (const list of this.matching(name, groups)) {
      for (const ep of list.locals) jobs.push(this.runLocal(ep, ctx, groups));
    }
    return jobs.length === 0 ? Promise.resolve() : Promise.all(jobs).then(() => {});
  }
}
