/**
 * The services of one broker: registration (schema or instance into actions
 * and events wrapped in the middlewares), and each service's `created`,
 * `started` and `stopped` steps with their middleware hooks.
 *
 * @module
 */

import type { BrokerParts, ServiceBroker } from "./broker.ts";
import { withUid } from "./calls.ts";
import { MoleculerError, ServiceSchemaError } from "../errors.ts";
import type { ActionInfo, EventInfo, Handler, MethodInfo } from "../core/middleware.ts";
import { isPromiseLike } from "../_util/async.ts";
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
import { ACTION_HOOKS } from "../middlewares/action_hook.ts";
import { isRecord } from "../_util/values.ts";

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
  /** The run of `start` while one is under way or done, until the service stops. */
  starting?: Promise<void> | undefined;
}

/**
 * A started local service as the `registerLocalService` middleware hook sees it: Moleculer's
 * service item (name, version, fullName, public settings, metadata, action and event
 * definitions), plus the service.
 */
export interface LocalServiceItem {
  /** Service name. */
  readonly name: string;
  /** Version, if any. */
  readonly version: string | number | undefined;
  /** Full name. */
  readonly fullName: string;
  /** Settings announced to other nodes. */
  readonly settings: Record<string, unknown>;
  /** Metadata. */
  readonly metadata: Record<string, unknown>;
  /** Action definitions by full name. */
  readonly actions: Record<string, Record<string, unknown>>;
  /** Event definitions by name. */
  readonly events: Record<string, Record<string, unknown>>;
  /** The service. */
  readonly service: Service;
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

/** A handler that always returns a promise, as Moleculer's (`Promise.method`). */
function promising(handler: Handler): Handler {
  return (ctx) => {
    try {
      const r = handler(ctx);
      return isPromiseLike(r) ? r : Promise.resolve(r);
    } catch (err) {
      return Promise.reject(err);
    }
  };
}

/** A positive number setting, or undefined (Moleculer's `settings.$x || options.x`). */
function positive(value: unknown): number | undefined {
  return typeof value === "number" && value > 0 ? value : undefined;
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
  /** The registry's registration of a started service, in the `registerLocalService` hooks. */
  readonly #registerLocal: (item: LocalServiceItem) => unknown;

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
    this.#registerLocal = parts.middlewares.wrapMethod(
      "registerLocalService",
      (item: LocalServiceItem) => {
        const reg = this.all.find((r) => r.service === item.service);
        if (!reg) return null;
        parts.registry.registerLocalService(
          reg.service,
          reg.actions.filter((a) => a.info.visibility !== "private"),
          reg.events,
        );
        return null;
      },
    );
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
    const middlewares = this.#parts.middlewares;
    middlewares.callSync("serviceCreating", service, service.schema);
    if (middlewares.has("localMethod")) this.#wrapMethods(service);
    const spec = buildServiceSpec(service);
    const promised = {
      localAction: middlewares.userHas("localAction"),
      localEvent: middlewares.userHas("localEvent"),
    };
    const actions: LocalAction[] = [];
    for (const a of spec.actions) {
      // Moleculer hands the definition itself to `localAction`: custom keys stay readable.
      const info: ActionInfo = {
        ...a.schema,
        name: a.name,
        rawName: a.rawName,
        service,
        params: a.params,
        visibility: a.visibility,
        timeout: a.timeout,
        schema: a.schema,
      };
      Object.defineProperty(info, ACTION_HOOKS, { value: { hooks: spec.hooks, spec: a } });
      this.#strategies.checkAction(a.name, a.schema);
      // Moleculer's handlers always return a promise: user middlewares may call `next(ctx).then`.
      const inner = promised.localAction ? promising(a.handler) : a.handler;
      const handler = middlewares.wrap("localAction", inner, info);
      actions.push({ info, definition: a.definition, handler });
      service.actions[a.rawName] = (params, opts) => {
        const ctx = broker.options.ContextFactory.create(broker, params, opts ?? {});
        if (broker.options.uidGenerator) withUid(ctx, broker.options.uidGenerator);
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
        handler: middlewares.wrap(
          "localEvent",
          promised.localEvent ? promising(e.handler) : e.handler,
          info,
        ),
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

  /** Wrap the service's methods in the `localMethod` hooks. */
  #wrapMethods(service: Service): void {
    const target = service as unknown as Record<string, unknown>;
    for (const [name, def] of Object.entries(service.schema.methods ?? {})) {
      const current = target[name];
      if (typeof current !== "function") continue;
      const handler = current as (...args: unknown[]) => unknown;
      const info: MethodInfo = {
        ...(isRecord(def) ? def : {}),
        name,
        service,
        handler,
      };
      target[name] = this.#parts.middlewares.wrap("localMethod", handler, info);
    }
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
  start(reg: Registered): Promise<void> {
    // Everyone asking gets the same run: `start()` waits for a service `createService` began.
    if (reg.started) return reg.starting ?? Promise.resolve();
    reg.started = true;
    reg.starting = this.#start(reg);
    return reg.starting;
  }

  async #start(reg: Registered): Promise<void> {
    const broker = this.#broker;
    // `created` may be async: `started` must not overtake it (createService() then start()).
    await reg.created;
    const service = reg.service;
    await this.#parts.middlewares.callAsync("serviceStarting", service);
    const deps = service.dependencies;
    if (deps.length) {
      // Moleculer's rule: the service's `$dependencyTimeout`/`$dependencyInterval` settings,
      // else the broker's `dependencyTimeout`/`dependencyInterval` options; 0 = wait forever.
      const o = broker.options;
      const timeout = positive(service.settings.$dependencyTimeout) ?? o.dependencyTimeout;
      const interval = positive(service.settings.$dependencyInterval) ?? o.dependencyInterval;
      broker.logger.info(
        `Service '${service.fullName}' waits for ${deps.map(refName).join(", ")}` +
          (timeout > 0 ? ` (up to ${timeout} ms)` : ""),
      );
      try {
        await broker.waitForServices(deps, timeout, interval);
      } catch (err) {
        reg.started = false;
        reg.starting = undefined;
        if (!(err instanceof MoleculerError) || err.type !== "WAITFOR_SERVICES") throw err;
        throw new MoleculerError(
          `Service '${service.fullName}' cannot start: ${err.message}`,
          err.code,
          err.type,
          { ...(err.data as Record<string, unknown>), service: service.fullName },
        );
      }
    }
    for (const fn of reg.spec.started) await fn();
    await this.#registerLocal({
      name: service.name,
      version: service.version,
      fullName: service.fullName,
      settings: service.publicSettings(),
      metadata: service.metadata,
      actions: Object.fromEntries(
        reg.actions.filter((a) => a.info.visibility !== "private").map((a) => [
          a.info.name,
          a.definition,
        ]),
      ),
      events: Object.fromEntries(reg.events.map((e) => [e.info.name, e.definition])),
      service,
    });
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
    await reg.starting?.catch(() => {});
    reg.starting = undefined;
    await this.#parts.middlewares.callAsync("serviceStopping", reg.service, true);
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
