/**
 * Services: the `Service` base class (class style, with decorators) and the
 * `ServiceSchema` object (Moleculer style). Both normalise to one spec.
 *
 * @module
 */

import type {
  ActionHandler,
  ActionHooks,
  Hook,
  LifecycleHandler,
  ParamsSchema,
  ServiceDependency,
  ServiceHooks,
  ServiceInit,
  ServiceSchema,
  Visibility,
} from "./schema.ts";
import type { BrokerApi } from "./broker_api.ts";
import type { CallOptions, Context } from "./context.ts";
import type { Logger } from "../logging.ts";
import { ServiceSchemaError } from "../errors.ts";
import { type ActionOptions, decoratedMembers, type EventOptions } from "./decorators.ts";
import { applyMixins } from "./service_mixins.ts";
import { toArray } from "../_util/values.ts";

/** A normalised action of a local service. */
export interface ActionSpec {
  /** Full name, e.g. `v2.greeter.hello`. */
  readonly name: string;
  /** Short name, e.g. `hello`. */
  readonly rawName: string;
  readonly params: ParamsSchema | undefined;
  readonly visibility: Visibility;
  readonly timeout: number | undefined;
  /** The user's handler bound to the service, hooks applied later by the broker. */
  readonly handler: (ctx: Context) => unknown;
  readonly hooks: ActionHooks;
  /** The JSON-safe definition other nodes see in INFO. */
  readonly definition: Record<string, unknown>;
  /** The whole user definition (for middlewares reading custom keys). */
  readonly schema: Record<string, unknown>;
}

/** A normalised event subscription of a local service. */
export interface EventSpec {
  readonly name: string;
  readonly group: string;
  readonly params: ParamsSchema | undefined;
  readonly handler: (ctx: Context) => unknown;
  readonly definition: Record<string, unknown>;
  readonly schema: Record<string, unknown>;
}

/** A service normalised for the broker. */
export interface ServiceSpec {
  readonly actions: ActionSpec[];
  readonly events: EventSpec[];
  readonly hooks: ServiceHooks;
  readonly created: Array<() => unknown>;
  readonly started: Array<() => unknown>;
  readonly stopped: Array<() => unknown>;
}

const RESERVED = new Set([
  "name",
  "version",
  "fullName",
  "settings",
  "metadata",
  "dependencies",
  "schema",
  "broker",
  "logger",
  "actions",
  "created",
  "started",
  "stopped",
]);

function jsonSafe(value: Record<string, unknown>): Record<string, unknown> {
  try {
    return JSON.parse(JSON.stringify(value)) ?? {};
  } catch {
    return {};
  }
}

/**
 * The full name of a service: `v2.posts` for version 2, `staging.posts` for a
 * string version, just `posts` without one (or with `settings.$noVersionPrefix`).
 *
 * @param name Service name.
 * @param version Optional version.
 * @param settings Service settings.
 * @returns The full name.
 */
export function serviceFullName(
  name: string,
  version?: string | number,
  settings?: Record<string, unknown>,
): string {
  if (version === undefined || version === null || settings?.$noVersionPrefix) {
    return name;
  }
  return typeof version === "number" ? `v${version}.${name}` : `${version}.${name}`;
}

/**
 * Base class of services. Extend it and decorate methods with `@action` and
 * `@event`, or pass a Moleculer-style schema to the constructor.
 *
 * @example Class style
 * ```ts ignore
 * class Greeter extends Service {
 *   constructor() { super({ name: "greeter", version: 2 }); }
 *   @action({ params: ["name"] })
 *   hello(ctx: Context<{ name: string }>) { return `Hello, ${ctx.params.name}!`; }
 *   async started() { this.logger.info("ready"); }
 * }
 * ```
 */
export class Service {
  /** Service name. */
  readonly name: string;
  /** Version, if any. */
  readonly version: string | number | undefined;
  /** Full name (`v2.greeter`). */
  readonly fullName: string;
  /** Settings. */
  settings: Record<string, unknown>;
  /** Metadata announced to other nodes. */
  metadata: Record<string, unknown>;
  /** Dependencies waited for before start. */
  readonly dependencies: ServiceDependency[];
  /** The schema after mixins were applied. */
  readonly schema: ServiceSchema;
  /** Local shortcuts to this service's own actions: `this.actions.hello(params)`. */
  readonly actions: Record<
    string,
    (params?: unknown, opts?: CallOptions) => Promise<unknown>
  > = {};
  #broker: BrokerApi | undefined;
  #logger: Logger | undefined;

  /**
   * Create a service from a name or a schema.
   *
   * @param init The service name, or a full schema.
   * @throws {ServiceSchemaError} when the name is missing or a part of the schema is malformed.
   */
  constructor(init: string | ServiceInit) {
    const raw: ServiceSchema = typeof init === "string" ? { name: init } : init;
    if (raw === null || typeof raw !== "object") {
      throw new ServiceSchemaError(
        "A service needs a name or a schema object",
        { schema: raw },
      );
    }
    const schema = applyMixins(raw);
    if (typeof schema.name !== "string" || schema.name.length === 0) {
      throw new ServiceSchemaError(
        'Service name is missing: pass a name (`super("greeter")`) or a schema with `name`',
        { schema: { ...schema, actions: undefined } },
      );
    }
    this.schema = schema;
    this.name = schema.name;
    this.version = schema.version;
    this.settings = schema.settings ?? {};
    this.metadata = schema.metadata ?? {};
    this.dependencies = toArray(schema.dependencies);
    this.fullName = serviceFullName(this.name, this.version, this.settings);
    for (const [key, fn] of Object.entries(schema.methods ?? {})) {
      if (RESERVED.has(key)) {
        throw new ServiceSchemaError(
          `Method '${key}' of service '${this.name}' clashes with a built-in member: rename it`,
          { service: this.name, method: key },
        );
      }
      if (typeof fn !== "function") {
        throw new ServiceSchemaError(
          `methods.${key} of service '${this.name}' must be a function`,
          { service: this.name, method: key },
        );
      }
      (this as unknown as Record<string, unknown>)[key] = fn.bind(this);
    }
  }

  /** The broker this service is registered on. @throws {Error} before registration. */
  get broker(): BrokerApi {
    if (!this.#broker) {
      throw new Error(
        `Service '${this.fullName}' is not registered on a broker`,
      );
    }
    return this.#broker;
  }

  /** This service's logger. @throws {Error} before registration. */
  get logger(): Logger {
    if (!this.#logger) {
      throw new Error(
        `Service '${this.fullName}' is not registered on a broker`,
      );
    }
    return this.#logger;
  }

  /**
   * Attach the service to a broker. Called by the broker on registration.
   *
   * @param broker The broker.
   * @param logger The service's logger.
   * @throws {ServiceSchemaError} when the service is already registered on a broker.
   */
  attach(broker: BrokerApi, logger: Logger): void {
    if (this.#broker && this.#broker !== broker) {
      throw new ServiceSchemaError(
        `Service '${this.fullName}' is already registered on a broker`,
      );
    }
    this.#broker = broker;
    this.#logger = logger;
  }

  /**
   * Settings safe to announce: without `$secureSettings` keys.
   *
   * @returns A copy of the public settings.
   */
  publicSettings(): Record<string, unknown> {
    const secure = this.settings.$secureSettings;
    const out = { ...this.settings };
    if (Array.isArray(secure)) {
      for (const key of secure) delete out[String(key)];
    }
    delete out.$secureSettings;
    return out;
  }
}

function resolveMethod(service: Service, hook: Hook, where: string): Hook {
  if (typeof hook === "function") return hook;
  const fn = (service as unknown as Record<string, unknown>)[hook];
  if (typeof fn !== "function") {
    throw new ServiceSchemaError(
      `${where} of service '${service.name}' names method '${hook}', which does not exist`,
      { service: service.name, hook },
    );
  }
  return fn as Hook;
}

function bindHandlers(
  service: Service,
  handlers: unknown,
  where: string,
): (ctx: Context) => unknown {
  const list = toArray(handlers as ActionHandler | ActionHandler[] | undefined);
  if (list.length === 0 || list.some((h) => typeof h !== "function")) {
    throw new ServiceSchemaError(
      `${where} of service '${service.name}' has no handler function`,
      { service: service.name, field: where },
    );
  }
  if (list.length === 1) return (list[0] as ActionHandler).bind(service);
  const bound = list.map((h) => h.bind(service));
  return async (ctx) => {
    let result: unknown;
    for (const h of bound) result = await h(ctx);
    return result;
  };
}

function normaliseHooks(
  service: Service,
  hooks: ActionHooks | undefined,
  where: string,
): ActionHooks {
  const out: ActionHooks = {};
  for (const kind of ["before", "after", "error"] as const) {
    const list = toArray(hooks?.[kind]);
    if (list.length) {
      out[kind] = list.map((h) => resolveMethod(service, h, `${where}.hooks.${kind}`));
    }
  }
  return out;
}

function actionSpec(
  service: Service,
  key: string,
  def: Record<string, unknown>,
  handler: unknown,
): ActionSpec {
  const rawName = typeof def.name === "string" && def.name ? def.name : key;
  const name = service.settings.$noServiceNamePrefix ? rawName : `${service.fullName}.${rawName}`;
  const where = `actions.${key}`;
  const visibility = (def.visibility ?? "published") as Visibility;
  if (!["published", "public", "protected", "private"].includes(visibility)) {
    throw new ServiceSchemaError(
      `${where}.visibility of service '${service.name}' must be published, public, protected or private`,
      { service: service.name, visibility },
    );
  }
  if (
    def.timeout !== undefined &&
    (typeof def.timeout !== "number" || def.timeout < 0)
  ) {
    throw new ServiceSchemaError(
      `${where}.timeout of service '${service.name}' must be a number of ms ≥ 0`,
      { service: service.name, timeout: def.timeout },
    );
  }
  const { handler: _h, hooks, ...rest } = def;
  return {
    name,
    rawName,
    params: def.params as ParamsSchema | undefined,
    visibility,
    timeout: def.timeout as number | undefined,
    handler: bindHandlers(service, handler, where),
    hooks: normaliseHooks(service, hooks as ActionHooks | undefined, where),
    definition: { ...jsonSafe(rest), rawName, name },
    schema: def,
  };
}

function eventSpec(
  service: Service,
  key: string,
  def: Record<string, unknown>,
  handler: unknown,
): EventSpec {
  const name = typeof def.name === "string" && def.name ? def.name : key;
  const group = typeof def.group === "string" && def.group ? def.group : service.name;
  const { handler: _h, ...rest } = def;
  const definition: Record<string, unknown> = { ...jsonSafe(rest), name };
  return {
    name,
    group,
    params: def.params as ParamsSchema | undefined,
    handler: bindHandlers(service, handler, `events.${key}`),
    definition,
    schema: def,
  };
}

/**
 * Normalise a service into the spec the broker registers: actions and events
 * from the schema and from decorated methods, hooks and lifecycle handlers.
 *
 * @param service The service.
 * @returns Its spec.
 * @throws {ServiceSchemaError} naming the field that is malformed.
 */
export function buildServiceSpec(service: Service): ServiceSpec {
  const schema = service.schema;
  const actions: ActionSpec[] = [];
  const events: EventSpec[] = [];
  for (const [key, value] of Object.entries(schema.actions ?? {})) {
    if (value === false) continue;
    const def = typeof value === "function" ? {} : value as Record<string, unknown>;
    if (def === null || typeof def !== "object") {
      throw new ServiceSchemaError(
        `actions.${key} of service '${service.name}' must be a function or an object with a handler`,
        { service: service.name, action: key },
      );
    }
    actions.push(
      actionSpec(
        service,
        key,
        def,
        typeof value === "function" ? value : def.handler,
      ),
    );
  }
  for (const [key, value] of Object.entries(schema.events ?? {})) {
    const def = typeof value === "function" ? {} : value as Record<string, unknown>;
    if (def === null || typeof def !== "object") {
      throw new ServiceSchemaError(
        `events.${key} of service '${service.name}' must be a function or an object with a handler`,
        { service: service.name, event: key },
      );
    }
    events.push(
      eventSpec(
        service,
        key,
        def,
        typeof value === "function" ? value : def.handler,
      ),
    );
  }
  const self = service as unknown as Record<string, unknown>;
  for (const member of decoratedMembers(service)) {
    const fn = self[member.key];
    if (member.kind === "action") {
      actions.push(
        actionSpec(
          service,
          member.key,
          { ...member.options as ActionOptions },
          fn,
        ),
      );
    } else if (member.kind === "event") {
      events.push(
        eventSpec(
          service,
          member.key,
          { ...member.options as EventOptions },
          fn,
        ),
      );
    }
  }
  const seen = new Set<string>();
  for (const a of actions) {
    if (seen.has(a.name)) {
      throw new ServiceSchemaError(
        `Action '${a.name}' is defined twice in service '${service.name}'`,
        { service: service.name, action: a.name },
      );
    }
    seen.add(a.name);
  }
  const lifecycle = (key: "created" | "started" | "stopped") => {
    const list = toArray(schema[key]).map((fn, i) => {
      if (typeof fn !== "function") {
        throw new ServiceSchemaError(
          `${key}${
            Array.isArray(schema[key]) ? `[${i}]` : ""
          } of service '${service.name}' must be a function`,
          { service: service.name, field: key },
        );
      }
      return fn.bind(service) as () => unknown;
    });
    const own = self[key];
    if (
      typeof own === "function" &&
      !toArray(schema[key]).includes(own as LifecycleHandler)
    ) {
      list.push((own as () => unknown).bind(service));
    }
    return list;
  };
  const hooks: ServiceHooks = {};
  for (const kind of ["before", "after", "error"] as const) {
    const table = schema.hooks?.[kind];
    if (!table) continue;
    const resolved: Record<string, Hook[]> = {};
    for (const [key, list] of Object.entries(table)) {
      resolved[key] = toArray(list).map((h) => resolveMethod(service, h, `hooks.${kind}.${key}`));
    }
    hooks[kind] = resolved;
  }
  return {
    actions,
    events,
    hooks,
    created: lifecycle("created"),
    started: lifecycle("started"),
    stopped: lifecycle("stopped"),
  };
}
