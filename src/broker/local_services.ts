/**
 * The services of one broker: registration (schema or instance into actions
 * and events wrapped in the middlewares), and each service's `created`,
 * `started` and `stopped` steps with their middleware hooks.
 *
 * @module
 */

import type { BrokerParts, ServiceBroker } from "./broker.ts";
import { Context } from "../core/context.ts";
import { ServiceSchemaError } from "../errors.ts";
import type { ActionInfo, EventInfo } from "../core/middleware.ts";
import type { LocalAction, LocalEvent } from "../registry/registry.ts";
import type { BrokerStrategies } from "../strategies/broker_strategies.ts";
import {
  buildServiceSpec,
  instantiateService,
  type Service,
  type ServiceClass,
  type ServiceSpec,
} from "../core/service.ts";
import type { ServiceDependency, ServiceSchema } from "../core/schema.ts";
import { wrapActionHooks } from "../middlewares/action_hook.ts";

/** A registered local service with its wrapped actions and events. */
export interface Registered {
  /** The service. */
  readonly service: Service;
  /** Its parsed schema. */
  readonly spec: ServiceSpec;
  /** Its actions, wrapped in the `localAction` hooks. */
  readonly actions: LocalAction[];
  /** Its events, wrapped in the `localEvent` hooks. */
  readonly events: LocalEvent[];
  /** Settles once the `created` handlers and `serviceCreated` hooks ran. */
  created: Promise<void>;
  /** True while started. */
  started: boolean;
}

/**
 * The full name of a service reference.
 *
 * @param ref A full name, or `{ name, version }`.
 * @returns The full name, e.g. `"v2.greeter"`.
 */
export function refName(ref: ServiceDependency): string {
  if (typeof ref === "string") return ref;
  if (ref.version === undefined) return ref.name;
  return typeof ref.version === "number"
    ? `v${ref.version}.${ref.name}`
    : `${ref.version}.${ref.name}`;
}

/**
 * The local services of a broker. Internal: the broker owns one.
 */
export class LocalServices {
  /** The registered services, in registration order. */
  readonly all: Registered[] = [];
  readonly #broker: ServiceBroker;
  readonly #parts: BrokerParts;
  readonly #strategies: BrokerStrategies;
  readonly #closing: () => boolean;

  /**
   * @param broker The broker the services attach to.
   * @param parts Its middlewares, registry and transit.
   * @param strategies Checks the strategy of each local action.
   * @param closing True once the broker is stopping or stopped.
   */
  constructor(
    broker: ServiceBroker,
    parts: BrokerParts,
    strategies: BrokerStrategies,
    closing: () => boolean,
  ) {
    this.#broker = broker;
    this.#parts = parts;
    this.#strategies = strategies;
    this.#closing = closing;
  }

  /**
   * Register a service: attach it, wrap its actions and events, and run its
   * `created` step (in {@linkcode Registered.created}).
   *
   * @param input A schema, a service instance or a class extending `Service`.
   * @returns The registration.
   * @throws {ServiceSchemaError} for a duplicate name, a stopping broker or a bad schema.
   */
  prepare(input: Service | ServiceClass | ServiceSchema): Registered {
    const broker = this.#broker;
    const service = instantiateService(input, broker);
    if (this.all.some((r) => r.service.fullName === service.fullName)) {
      throw new ServiceSchemaError(
        `A service named '${service.fullName}' is already registered on node '${broker.nodeID}'`,
        { service: service.fullName },
      );
    }
    if (this.#closing()) {
      throw new ServiceSchemaError(
        `Cannot register '${service.fullName}': the broker is stopping or stopped`,
      );
    }
    service.attach(broker, broker.getLogger(service.fullName));
    const spec = buildServiceSpec(service);
    const actions: LocalAction[] = [];
    for (const a of spec.actions) {
      const info: ActionInfo = {
        name: a.name,
        rawName: a.rawName,
        service,
        params: a.params,
        visibility: a.visibility,
        timeout: a.timeout,
        schema: a.schema,
      };
      this.#strategies.checkAction(a.name, a.schema);
      const inner = wrapActionHooks(service, spec.hooks, a, a.handler);
      const handler = this.#parts.middlewares.wrap("localAction", inner, info);
      actions.push({ info, definition: a.definition, handler });
      service.actions[a.rawName] = (params, opts) => {
        const ctx = Context.create(broker, params, opts ?? {});
        ctx.service = service;
        ctx.action = info;
        ctx.timeout = opts?.timeout ?? a.timeout ?? null;
        return Promise.resolve(handler(ctx));
      };
    }
    const events: LocalEvent[] = spec.events.map((e) => {
      const info: EventInfo = {
        name: e.name,
        group: e.group,
        service,
        params: e.params,
        schema: e.schema,
      };
      return {
        info,
        definition: e.definition,
        handler: this.#parts.middlewares.wrap("localEvent", e.handler, info),
      };
    });
    const reg: Registered = {
      service,
      spec,
      actions,
      events,
      created: Promise.resolve(),
      started: false,
    };
    this.all.push(reg);
    reg.created = this.#created(reg);
    return reg;
  }

  /**
   * Forget a registration.
   *
   * @param reg The registration.
   */
  remove(reg: Registered): void {
    this.all.splice(this.all.indexOf(reg), 1);
  }

  async #created(reg: Registered): Promise<void> {
    for (const fn of reg.spec.created) await fn();
    await this.#parts.middlewares.callAsync("serviceCreated", reg.service);
  }

  /**
   * Start a service once: wait for `created` and its dependencies, run `started`,
   * then publish its endpoints.
   *
   * @param reg The registration.
   */
  async start(reg: Registered): Promise<void> {
    if (reg.started) return;
    reg.started = true;
    const broker = this.#broker;
    // `created` may be async: `started` must not overtake it (createService() then start()).
    await reg.created;
    const deps = reg.service.dependencies;
    if (deps.length) {
      broker.logger.info(
        `Service '${reg.service.fullName}' waits for ${deps.map(refName).join(", ")}`,
      );
      await broker.waitForServices(deps);
    }
    for (const fn of reg.spec.started) await fn();
    this.#parts.registry.registerLocalService(
      reg.service,
      reg.actions.filter((a) => a.info.visibility !== "private"),
      reg.events,
    );
    await this.#parts.middlewares.callAsync("serviceStarted", reg.service);
    this.#parts.transit?.servicesChanged();
    if (broker.started) {
      broker.broadcastLocal("$services.changed", { localService: true });
    }
    broker.logger.debug(`Service '${reg.service.fullName}' started`);
  }

  /**
   * Unpublish a service's endpoints and, when it was started, run `stopped`.
   *
   * @param reg The registration.
   */
  async stop(reg: Registered): Promise<void> {
    const broker = this.#broker;
    this.#parts.registry.unregisterLocalService(reg.service);
    if (!reg.started) return;
    reg.started = false;
    try {
      for (const fn of reg.spec.stopped) await fn();
    } catch (err) {
      broker.logger.error(
        `Service '${reg.service.fullName}' failed in stopped()`,
        err,
      );
    }
    await this.#parts.middlewares.callAsync("serviceStopped", reg.service, true);
  }
}
