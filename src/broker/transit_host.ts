/**
 * The broker side of transit: what the protocol engine asks of its node — run
 * incoming requests and events on local endpoints, and announce node and
 * transporter state changes on the local event bus.
 *
 * @module
 */

import type { BrokerParts, ServiceBroker } from "./broker.ts";
import type { Context } from "../core/context.ts";
import { ServiceNotAvailableError, ServiceNotFoundError } from "../errors.ts";
import type { Logger } from "../logging.ts";
import type { NodeInfo, Registry } from "../registry/registry.ts";
import type { EventPacket, RequestPacket } from "../transit/packets.ts";
import type { RequestOutcome, TransitHost } from "../transit/host.ts";
import type { EventDelivery } from "./events.ts";
import { isPromiseLike } from "../_util/async.ts";

/**
 * A broker as its {@linkcode Transit} sees it. Internal: the broker makes one
 * and hands it to its transit.
 */
export class BrokerTransitHost implements TransitHost {
  readonly #broker: ServiceBroker;
  readonly #parts: BrokerParts;
  readonly #events: EventDelivery;
  /** The logger of transit. */
  readonly logger: Logger;
  /** Current CPU usage 0–100, or null when unknown. */
  readonly cpuUsage: () => number | null;

  /**
   * @param broker The broker whose endpoints serve incoming packets.
   * @param parts Its registry and transit.
   * @param events The broker's event delivery, which runs local handlers.
   */
  constructor(broker: ServiceBroker, parts: BrokerParts, events: EventDelivery) {
    this.#broker = broker;
    this.#parts = parts;
    this.#events = events;
    this.logger = broker.getLogger("TRANSIT");
    this.cpuUsage = broker.runtime.cpuUsage;
  }

  /** This node's id. */
  get nodeID(): string {
    return this.#broker.nodeID;
  }

  /** The broker instance's random id. */
  get instanceID(): string {
    return this.#broker.instanceID;
  }

  /** The broker's registry. */
  get registry(): Registry {
    return this.#parts.registry;
  }

  /** Announce a node that connected (or reconnected). */
  nodeConnected(node: NodeInfo, reconnected: boolean): void {
    const broker = this.#broker;
    broker.logger.info(
      `Node '${node.id}' ${reconnected ? "reconnected" : "connected"}`,
    );
    broker.broadcastLocal("$node.connected", { node, reconnected });
    broker.broadcastLocal("$services.changed", { localService: false });
  }

  /** Announce an updated node. */
  nodeUpdated(node: NodeInfo): void {
    this.#broker.broadcastLocal("$node.updated", { node });
    this.#broker.broadcastLocal("$services.changed", { localService: false });
  }

  /** Announce a lost node. */
  nodeDisconnected(node: NodeInfo, unexpected: boolean): void {
    const broker = this.#broker;
    const how = unexpected ? "disconnected unexpectedly" : "disconnected";
    broker.logger[unexpected ? "warn" : "info"](`Node '${node.id}' ${how}`);
    broker.broadcastLocal("$node.disconnected", { node, unexpected });
    broker.broadcastLocal("$services.changed", { localService: false });
  }

  /** Announce that the transporter connected (or reconnected). */
  transporterConnected(wasReconnect: boolean): void {
    this.#broker.broadcastLocal("$transporter.connected", { wasReconnect });
  }

  /** Announce that the transporter lost its connection. */
  transporterDisconnected(): void {
    this.#broker.broadcastLocal("$transporter.disconnected", { graceFul: false });
  }

  /** Another process claims our nodeID: stop this broker. */
  nodeIDConflict(other: string): void {
    const broker = this.#broker;
    broker.logger.fatal(
      `Another node uses the nodeID '${broker.nodeID}' (instance ${other}): ` +
        "stopping this broker. Give every node a unique nodeID.",
    );
    broker.stop().catch(() => {});
  }

  /**
   * Run a request from another node on a local endpoint.
   *
   * Not `async`: an async function with an `await` costs two extra promises and microtask hops
   * per incoming request; a synchronous handler's answer is returned as it is.
   */
  runRequest(p: RequestPacket, sender: string): RequestOutcome | Promise<RequestOutcome> {
    const broker = this.#broker;
    const transit = this.#parts.transit;
    if (!transit || transit.stopping || !broker.started) {
      return Promise.reject(
        new ServiceNotAvailableError({
          action: p.action,
          nodeID: broker.nodeID,
        }),
      );
    }
    const ep = this.#parts.registry.actions.get(p.action)?.nextLocal();
    if (
      !ep ||
      (ep.action.visibility !== "published" &&
        ep.action.visibility !== "public")
    ) {
      return Promise.reject(new ServiceNotFoundError({ action: p.action, nodeID: broker.nodeID }));
    }
    let ctx: Context;
    let data: unknown;
    try {
      ctx = broker.options.ContextFactory.fromRemote(broker, sender, p, p.params ?? {});
      ctx.timeout = p.timeout;
      ctx.service = ep.service.service;
      ctx.action = ep.action;
      data = ep.handler(ctx);
    } catch (err) {
      return Promise.reject(err);
    }
    return isPromiseLike(data)
      ? Promise.resolve(data).then((d) => ({ ctx, data: d }))
      : { ctx, data };
  }

  /** Deliver an event from another node to local handlers. */
  runEvent(p: EventPacket, sender: string): Promise<void> {
    const ctx = this.#broker.options.ContextFactory.fromRemote(this.#broker, sender, p, p.data);
    ctx.eventName = p.event;
    ctx.eventType = p.broadcast ? "broadcast" : "emit";
    ctx.eventGroups = p.groups;
    const groups = p.groups && p.groups.length ? p.groups : null;
    const events = this.#events;
    // Usually one handler gets it: its promise is the result, no array is made.
    let job: Promise<void> | undefined;
    let jobs: Promise<void>[] | undefined;
    for (const list of events.matching(p.event, groups)) {
      if (p.broadcast) {
        for (const ep of list.locals) {
          const run = events.runLocal(ep, ctx, p.groups);
          if (job === undefined) job = run;
          else (jobs ??= [job]).push(run);
        }
      } else {
        const ep = list.nextLocal();
        if (ep) {
          const run = events.runLocal(ep, ctx, p.groups);
          if (job === undefined) job = run;
          else (jobs ??= [job]).push(run);
        }
      }
    }
    return jobs !== undefined ? Promise.all(jobs).then(() => {}) : job ?? Promise.resolve();
  }
}
