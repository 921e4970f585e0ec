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
  MergedHandler,
  MixinSchema,
  ParamsSchema,
  ServiceDependency,
  ServiceHooks,
  ServiceInit,
  ServiceSchema,
  Visibility,
} from "./schema.ts";
import type { BrokerApi, ServiceRef } from "./broker_api.ts";
import { type CallOptions, Context, type EmitOptions } from "./context.ts";
import type { Logger } from "../logging.ts";
import { MoleculerError, ServiceSchemaError } from "../errors.ts";
import { type ActionOptions, decoratedMembers, type EventOptions } from "./decorators.ts";
import { applyMixins, mergeSchemas } from "./service_mixins.ts";
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

/** A method of a local service (from `methods`), for the `localMethod` middleware hook. */
export interface MethodSpec {
  /** The method name, e.g. `uppercase`. */
  readonly name: string;
  /** The handler bound to the service, as installed on it. */
  readonly handler: (...args: unknown[]) => unknown;
  /** The whole user definition (`{ handler, ...custom keys }`). */
  readonly schema: Record<string, unknown>;
}

/** A service normalised for the broker. */
export interface ServiceSpec {
  readonly actions: ActionSpec[];
  readonly events: EventSpec[];
  /** The schema's `methods`, installed on the service under their names. */
  readonly methods: MethodSpec[];
  readonly hooks: ServiceHooks;
  readonly created: Array<() => unknown>;
  readonly started: Array<() => unknown>;
  readonly stopped: Array<() => unknown>;
}

/** Method names Moleculer refuses (plus `fullName`, `events` and `Promise`, members here). */
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
  "events",
  "created",
  "started",
  "stopped",
  "_start",
  "_stop",
  "_init",
  "applyMixins",
  "parseServiceSchema",
  "Promise",
]);

/**
 * A Moleculer-style service class: `class Posts extends Service { constructor(broker) {
 * super(broker); this.parseServiceSchema({...}); } }`, which `broker.createService(Posts)`
 * instantiates with the broker.
 */
// deno-lint-ignore no-explicit-any
export type ServiceClass = new (broker: any, ...rest: any[]) => Service;

/** True for a broker (what `super(broker)` passes), false for a schema or a name. */
function isBroker(value: unknown): value is BrokerApi {
  const v = value as Partial<Record<keyof BrokerApi, unknown>> | null;
  return typeof v === "object" && v !== null && typeof v.getLogger === "function" &&
    typeof v.call === "function" && typeof v.createService === "function";
}

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
 * Base class of services, in three styles:
 * - decorators: extend it, pass a name or schema to `super(...)`, decorate methods with
 *   `@action` and `@event`;
 * - Moleculer's ES6 classes: `constructor(broker) { super(broker); this.parseServiceSchema({...}) }`
 *   and `broker.createService(TheClass)`;
 * - a plain schema: `broker.createService({ name, actions, ... })`, or `new Service(broker, schema)`.
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
 *
 * @example Moleculer's ES6 class style
 * ```ts ignore
 * class Greeter extends Service {
 *   constructor(broker: ServiceBroker) {
 *     super(broker);
 *     this.parseServiceSchema({
 *       name: "greeter",
 *       actions: { hello: this.hello },
 *     });
 *   }
 *   hello(ctx: Context) { return "Hello Moleculer"; }
 * }
 * broker.createService(Greeter);
 * ```
 */
export class Service {
  /** Service name. */
  readonly name!: string;
  /** Version, if any. */
  readonly version: string | number | undefined;
  /** Full name (`v2.greeter`). */
  readonly fullName!: string;
  /** Settings. */
  settings: Record<string, unknown> = {};
  /** Metadata announced to other nodes. */
  metadata: Record<string, unknown> = {};
  /** Dependencies waited for before start. */
  readonly dependencies: ServiceDependency[] = [];
  /** The schema after mixins were applied. */
  readonly schema!: ServiceSchema;
  /** The schema as given, before mixins were applied. */
  readonly originalSchema: ServiceSchema | undefined;
  /** Local shortcuts to this service's own actions: `this.actions.hello(params)`. */
  readonly actions: Record<
    string,
    (params?: unknown, opts?: CallOptions) => Promise<unknown>
  > = {};
  /**
   * This service's own event handlers by event name, run directly (no middlewares), as in
   * Moleculer: `this.events["user.created"](payload)`. Filled on registration.
   */
  readonly events: Record<string, (params?: unknown, opts?: EmitOptions) => Promise<unknown>> = {};
  #broker: BrokerApi | undefined;
  #logger: Logger | undefined;
  #methods: MethodSpec[] = [];

  /**
   * Create a service from a name or a schema, or (Moleculer's style) from the broker and an
   * optional schema: `new Service(broker, schema)`, or `super(broker)` in a subclass that then
   * calls {@linkcode parseServiceSchema}.
   *
   * @param init The service name, a full schema, or the broker.
   * @param schema With a broker first: the schema to parse now.
   * @throws {ServiceSchemaError} when the name is missing or a part of the schema is malformed.
   */
  constructor(init: string | ServiceInit | BrokerApi, schema?: ServiceInit) {
    if (isBroker(init)) {
      this.#broker = init;
      if (schema !== undefined) this.parseServiceSchema(schema);
      return;
    }
    this.parseServiceSchema(typeof init === "string" ? { name: init } : init);
  }

  /**
   * Read a schema into this service, as Moleculer's `parseServiceSchema`: apply its `mixins`,
   * call its `merged` handlers with the merged schema, then take its name, settings, metadata,
   * dependencies and methods. Actions and events are built when the broker registers the
   * service.
   *
   * @param schema The schema.
   * @throws {ServiceSchemaError} when the name is missing or a method is malformed.
   */
  parseServiceSchema(schema: ServiceInit): void {
    if (schema === null || typeof schema !== "object") {
      throw new ServiceSchemaError(
        "A service needs a name or a schema object: the schema can't be null. Is it a service schema?",
        { schema },
      );
    }
    const merged = schema.mixins ? this.applyMixins(schema) : schema;
    for (const fn of toArray(merged.merged as MergedHandler | MergedHandler[] | undefined)) {
      if (typeof fn !== "function") {
        throw new ServiceSchemaError(`merged of service '${merged.name}' must be a function`, {
          service: merged.name,
        });
      }
      fn.call(this, merged);
    }
    if (typeof merged.name !== "string" || merged.name.length === 0) {
      throw new ServiceSchemaError(
        'Service name is missing: pass a name (`super("greeter")`) or a schema with `name`',
        { schema: { ...merged, actions: undefined } },
      );
    }
    const settings = merged.settings ?? {};
    Object.assign(this, {
      originalSchema: schema,
      schema: merged,
      name: merged.name,
      version: merged.version,
      settings,
      metadata: merged.metadata ?? {},
      dependencies: toArray(merged.dependencies),
      fullName: serviceFullName(merged.name, merged.version, settings),
    });
    this.#methods = [];
    for (const [key, def] of Object.entries(merged.methods ?? {})) {
      this.#methods.push(this.#installMethod(key, def));
    }
    if (this.#broker) this.#logger = this.#broker.getLogger(this.fullName);
  }

  #installMethod(key: string, def: unknown): MethodSpec {
    if (RESERVED.has(key) || key.startsWith("mergeSchema")) {
      throw new ServiceSchemaError(
        `Method '${key}' of service '${this.name}' clashes with a built-in member: rename it`,
        { service: this.name, method: key },
      );
    }
    const spec = typeof def === "function" ? { handler: def } : def as Record<string, unknown>;
    if (spec === null || typeof spec !== "object" || typeof spec.handler !== "function") {
      throw new ServiceSchemaError(
        `methods.${key} of service '${this.name}' must be a function or an object with a handler`,
        { service: this.name, method: key },
      );
    }
    const handler = (spec.handler as (...args: unknown[]) => unknown).bind(this);
    (this as unknown as Record<string, unknown>)[key] = handler;
    return { name: key, handler, schema: spec };
  }

  /**
   * Merge a schema with its `mixins`, as Moleculer's `Service.applyMixins`. A subclass may
   * define `mergeSchema<Key>(src, target)` methods for its own schema keys (or to replace a
   * built-in strategy such as `mergeSchemaSettings`).
   *
   * @param schema A schema with `mixins`.
   * @returns The merged schema.
   */
  applyMixins(schema: ServiceSchema): ServiceSchema {
    return applyMixins(schema, this as unknown as Record<string, unknown>);
  }

  /**
   * Merge a service schema over a mixin schema, as Moleculer's `Service.mergeSchemas`.
   *
   * @param mixinSchema The schema underneath.
   * @param svcSchema The schema on top.
   * @returns The merged schema.
   */
  mergeSchemas(mixinSchema: MixinSchema, svcSchema: MixinSchema): ServiceSchema {
    return mergeSchemas(mixinSchema, svcSchema, this as unknown as Record<string, unknown>);
  }

  /**
   * The promise class of the broker (`broker.Promise`, the global `Promise` unless the broker
   * says otherwise), as Moleculer's `this.Promise`.
   */
  get Promise(): PromiseConstructor {
    const own = (this.#broker as { Promise?: unknown } | undefined)?.Promise;
    return typeof own === "function" ? own as PromiseConstructor : globalThis.Promise;
  }

  /**
   * Wait until services are available in the cluster, as Moleculer's `this.waitForServices`.
   *
   * @param services Names or `{ name, version }` references.
   * @param timeout Ms before giving up; `0` waits for ever.
   * @param interval Ms between checks.
   * @returns What the broker's `waitForServices` returns.
   * @throws {Error} before the service is registered on a broker.
   */
  waitForServices(
    services: ServiceRef | ServiceRef[],
    timeout?: number,
    interval?: number,
  ): ReturnType<BrokerApi["waitForServices"]> {
    return this.broker.waitForServices(services, timeout, interval);
  }

  /**
   * Run one of this service's event handlers directly, without an emit (handy in tests), as
   * Moleculer's `emitLocalEventHandler`.
   *
   * @param eventName The event name of the handler (its `name`, or its key).
   * @param params The payload.
   * @param opts Emit options (`meta`, `parentCtx`...).
   * @returns What the handler returns.
   * @throws {MoleculerError} `NOT_FOUND_EVENT` (rejected) when this service has no such handler.
   */
  emitLocalEventHandler(eventName: string, params?: unknown, opts?: EmitOptions): Promise<unknown> {
    const run = this.events[eventName];
    if (!run) {
      return Promise.reject(
        new MoleculerError(
          `No '${eventName}' registered local event handler`,
          500,
          "NOT_FOUND_EVENT",
          { eventName },
        ),
      );
    }
    return run(params, opts);
  }

  /** The methods parsed from the schema (for the broker's `localMethod` hook). */
  get methodSpecs(): readonly MethodSpec[] {
    return this.#methods;
  }

  /**
   * The full name of a service, as Moleculer's static `Service.getVersionedFullName`.
   *
   * @param name Service name.
   * @param version Optional version.
   * @returns `v2.posts`, `staging.posts` or `posts`.
   */
  static getVersionedFullName(name: string, version?: string | number): string {
    return serviceFullName(name, version);
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

/**
 * One handler from one or several (a mixin merge gives several): event handlers run in
 * parallel as in Moleculer, action handlers one after the other (the last result wins).
 */
function bindHandlers(
  service: Service,
  handlers: unknown,
  where: string,
  parallel = false,
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
  if (parallel) return (ctx) => Promise.all(bound.map(async (h) => await h(ctx)));
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
  if (def.cache === undefined && service.settings.$cache !== undefined) {
    def = { ...def, cache: service.settings.$cache };
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
    handler: bindHandlers(service, handler, `events.${key}`, true),
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
    // Moleculer stops in reverse: the service's own `stopped` first, then its mixins'.
    if (key === "stopped") list.reverse();
    if (key !== "started") return list;
    // A failing `started()` names its service in the log; the error itself is passed on as is.
    return list.map((fn) => async () => {
      try {
        await fn();
      } catch (err) {
        service.logger.error(`Service '${service.fullName}' failed in started()`, err);
        throw err;
      }
    });
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
  for (const e of events) {
    service.events[e.name] = (params, opts) => {
      const ctx = Context.forEvent(service.broker, e.name, params, opts ?? {}, "emit", [e.group]);
      ctx.service = service;
      ctx.event = { name: e.name, group: e.group };
      return Promise.resolve(e.handler(ctx));
    };
  }
  return {
    actions,
    events,
    methods: [...service.methodSpecs],
    hooks,
    created: lifecycle("created"),
    started: lifecycle("started"),
    stopped: lifecycle("stopped"),
  };
}

/**
 * Turn what `createService`/`register` received into a service attached to `broker`: a
 * `Service` instance as is, a `Service` subclass (Moleculer's ES6 style) built with
 * `new TheClass(broker)`, a schema built with `new Service(broker, schema)`.
 *
 * @param input An instance, a subclass or a schema.
 * @param broker The broker registering it.
 * @returns The service.
 * @throws {ServiceSchemaError} for anything else, or a class that never called `parseServiceSchema`.
 */
export function instantiateService(
  input: Service | ServiceClass | ServiceSchema,
  broker: BrokerApi,
): Service {
  let service: Service;
  if (input instanceof Service) service = input;
  else if (typeof input === "function" && input.prototype instanceof Service) {
    service = new (input as ServiceClass)(broker);
  } else if (typeof input === "object" && input !== null) {
    service = new Service(broker, input as ServiceSchema);
  } else {
    throw new ServiceSchemaError(
      "createService() needs a schema object, a Service instance or a class extending Service",
      { schema: input },
    );
  }
  if (typeof service.name !== "string") {
    throw new ServiceSchemaError(
      `Service class '${service.constructor.name}' has no schema: call ` +
        "this.parseServiceSchema({ name, ... }) in its constructor, after super(broker)",
    );
  }
  return service;
}
