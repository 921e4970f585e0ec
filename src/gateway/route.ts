/**
 * Routes and aliases as moleculer-web builds them: the route's full path, its aliases
 * (`"GET users"`, `"REST users"`, function and typed aliases), the aliases generated from
 * actions' `rest` property, the whitelist/blacklist, and the ordering that makes the most
 * specific path win.
 *
 * @module
 */

import type { CallOptions } from "../core/context.ts";
import { matchEventName } from "../core/event_match.ts";
import { type BodyParser, resolveBodyParsers } from "./body.ts";
import type { EtagOption } from "./etag.ts";
import { RateLimiter } from "./rate_limit.ts";
import type {
  AfterCallHook,
  AliasFunction,
  AliasTarget,
  AliasView,
  BusboyConfig,
  CorsOptions,
  ErrorHook,
  GatewaySettings,
  RouteHook,
  RouteSettings,
  RouteView,
} from "./options.ts";
import { compilePath } from "./path.ts";
import { BadRequestError, ERR_UNABLE_DECODE_PARAM } from "./errors.ts";

/** `/a/` → `a`. */
export function trimSlashes(s: string): string {
  let out = s;
  if (out.startsWith("/")) out = out.slice(1);
  if (out.endsWith("/")) out = out.slice(0, -1);
  return out;
}

/** `a` → `/a/`. */
export function addSlashes(s: string): string {
  return (s.startsWith("/") ? "" : "/") + s + (s.endsWith("/") ? "" : "/");
}

/** `//a///b` → `/a/b`. */
export function normalizePath(s: string): string {
  return s.replace(/\/{2,}/g, "/");
}

const DEFAULT_CORS: CorsOptions = {
  origin: "*",
  methods: ["GET", "HEAD", "PUT", "PATCH", "POST", "DELETE"],
};

/** A compiled route. */
export class Route implements RouteView {
  readonly name: string | undefined;
  readonly path: string;
  readonly opts: RouteSettings;
  readonly callOptions: CallOptions | undefined;
  readonly parsers: BodyParser[];
  readonly cors: CorsOptions | null;
  readonly whitelist: Array<string | RegExp> | undefined;
  readonly blacklist: Array<string | RegExp> | undefined;
  readonly mappingPolicy: "all" | "restrict";
  readonly authentication: RouteHook | null;
  readonly authorization: RouteHook | null;
  readonly onBeforeCall: RouteHook | undefined;
  readonly onAfterCall: AfterCallHook | undefined;
  readonly onError: ErrorHook | undefined;
  readonly logging: boolean;
  readonly mergeParams: boolean;
  /** The `rateLimit` of this route (its own, else the gateway's), or null. */
  readonly rateLimit: RateLimiter | null;
  /** The `etag` of this route (its own, else the gateway's). */
  readonly etag: EtagOption;

  /**
   * @param opts The route's settings.
   * @param globals The gateway's settings: `path`, and the `cors`, `rateLimit` and `etag` a
   *   route without its own takes.
   * @param method A service method by name (for `authentication: true` and named hooks).
   * @param where The route's place in the settings, for errors.
   * @param broker Handed to a custom rate-limit store.
   */
  constructor(
    opts: RouteSettings,
    globals: Pick<GatewaySettings, "path" | "cors" | "rateLimit" | "etag">,
    method: (name: string) => RouteHook | undefined,
    where: string,
    broker?: unknown,
  ) {
    const globalPath = globals.path;
    const globalCors = globals.cors;
    this.opts = opts;
    this.name = opts.name;
    const prefix = globalPath && globalPath !== "/" ? globalPath : "";
    this.path = normalizePath(addSlashes(prefix) + (opts.path ?? ""));
    this.callOptions = opts.callOptions;
    this.parsers = resolveBodyParsers(opts.bodyParsers, `${where}.bodyParsers`);
    this.cors = globalCors || opts.cors
      ? Object.assign(
        {},
        DEFAULT_CORS,
        typeof globalCors === "object" ? globalCors : {},
        typeof opts.cors === "object" ? opts.cors : {},
      )
      : null;
    this.whitelist = opts.whitelist;
    this.blacklist = opts.blacklist;
    const hasAliases = !!opts.aliases && Object.keys(opts.aliases).length > 0;
    this.mappingPolicy = opts.mappingPolicy ??
      (hasAliases || opts.autoAliases ? "restrict" : "all");
    const hook = (v: RouteSettings["authentication"], fallback: string, what: string) => {
      if (!v) return null;
      if (typeof v === "function") return v;
      const name = typeof v === "string" ? v : fallback;
      const fn = method(name);
      if (!fn) {
        throw new TypeError(
          `API gateway: ${where}.${what} needs a service method '${name}': define it in methods`,
        );
      }
      return fn;
    };
    this.authentication = hook(opts.authentication, "authenticate", "authentication");
    this.authorization = hook(opts.authorization, "authorize", "authorization");
    this.onBeforeCall = opts.onBeforeCall;
    this.onAfterCall = opts.onAfterCall;
    this.onError = opts.onError;
    this.logging = opts.logging ?? true;
    this.mergeParams = opts.mergeParams !== false;
    const rateLimit = opts.rateLimit || globals.rateLimit;
    this.rateLimit = rateLimit ? new RateLimiter(rateLimit, broker) : null;
    this.etag = opts.etag ?? globals.etag ?? false;
  }

  /** Release what the route holds (its rate-limit store's timer). */
  close(): void {
    this.rateLimit?.close();
  }

  /**
   * Whether the whitelist lets `action` through (true without a whitelist).
   *
   * @param action A full action name.
   * @returns Allowed or not.
   */
  allows(action: string): boolean {
    if (this.whitelist && !matchesAny(this.whitelist, action)) return false;
    if (this.blacklist && matchesAny(this.blacklist, action)) return false;
    return true;
  }

  /**
   * Whether two routes are the same one (by name, else by path).
   *
   * @param other Another route.
   * @returns Same or not.
   */
  sameAs(other: Route): boolean {
    if (this.name != null && other.name != null) return this.name === other.name;
    return this.path === other.path;
  }
}

function matchesAny(masks: ReadonlyArray<string | RegExp>, action: string): boolean {
  for (const m of masks) {
    if (typeof m === "string" ? matchEventName(action, m) : m.test(action)) return true;
  }
  return false;
}

/** A compiled alias. */
export class Alias implements AliasView {
  readonly route: Route;
  readonly method: string;
  readonly path: string;
  readonly fullPath: string;
  readonly action: string | null;
  readonly type: string;
  readonly handler: AliasFunction | null;
  /** `multipart`/`stream` aliases: the alias's own `busboyConfig`, over the route's. */
  readonly busboyConfig: BusboyConfig | undefined;
  readonly generated: boolean;
  readonly regexp: RegExp;
  readonly keys: readonly string[];

  /**
   * @param route The route.
   * @param spec `"GET users"`, `"users"`, or `{ method, path }`.
   * @param target The action, a function, a list, or a definition.
   * @param generated Whether it comes from an action's `rest` property.
   */
  constructor(
    route: Route,
    spec: string | { method?: string; path: string },
    target: AliasTarget,
    generated = false,
  ) {
    this.route = route;
    let method = "*";
    let path: string;
    if (typeof spec === "string") {
      const space = spec.search(/\s/);
      if (space !== -1) {
        const parts = spec.split(/\s+/);
        method = (parts[0] as string).toUpperCase();
        path = parts[1] ?? "";
      } else path = spec;
    } else {
      method = (spec.method ?? "*").toUpperCase();
      path = spec.path;
    }
    let action: string | null = null;
    let type = "call";
    let handler: AliasFunction | null = null;
    let busboyConfig: BusboyConfig | undefined;
    const takeAction = (name: string) => {
      const colon = name.indexOf(":");
      if (colon > 0) {
        type = name.slice(0, colon);
        action = name.slice(colon + 1);
      } else action = name;
    };
    if (typeof target === "string") takeAction(target);
    else if (typeof target === "function") handler = target;
    else if (Array.isArray(target)) {
      for (const item of target) {
        if (typeof item === "string") takeAction(item);
        else if (typeof item === "function") handler = item;
      }
    } else if (target && typeof target === "object") {
      if (target.action) takeAction(target.action);
      if (target.type) type = target.type;
      if (target.handler) handler = target.handler;
      busboyConfig = target.busboyConfig;
    }
    this.method = method;
    this.path = trimSlashes(path);
    this.action = action;
    this.type = type;
    this.handler = handler;
    this.busboyConfig = busboyConfig;
    this.generated = generated;
    let full = addSlashes(route.path) + this.path;
    if (full !== "/" && full.endsWith("/")) full = full.slice(0, -1);
    this.fullPath = full;
    const compiled = compilePath(full);
    this.regexp = compiled.regexp;
    this.keys = compiled.keys;
  }

  /**
   * The path params when `url` matches, else null.
   *
   * @param url A request path.
   * @returns The params.
   * @throws {BadRequestError} when a param is not valid percent-encoding.
   */
  match(url: string): Record<string, string> | null {
    const m = this.regexp.exec(url);
    if (!m) return null;
    const params: Record<string, string> = {};
    for (let i = 0; i < this.keys.length; i++) {
      const raw = m[i + 1];
      if (!raw) continue;
      try {
        params[this.keys[i] as string] = decodeURIComponent(raw);
      } catch {
        throw new BadRequestError(ERR_UNABLE_DECODE_PARAM, { param: raw });
      }
    }
    return params;
  }

  /** `GET /api/users => users.list`, for logs. */
  toString(): string {
    return `${this.method.padStart(6)} ${this.fullPath} => ${
      this.handler && !this.action ? "<Function>" : this.action
    }`;
  }
}

const REST_ACTIONS = ["list", "get", "create", "update", "patch", "remove"] as const;

/**
 * The aliases of one `aliases` entry: one alias, or the six of a `REST` entry.
 *
 * @param route The route.
 * @param key The entry's key, e.g. `"GET users"` or `"REST users"`.
 * @param target Its value.
 * @returns The aliases.
 */
export function aliasesOf(route: Route, key: string, target: AliasTarget): Alias[] {
  if (!key.startsWith("REST ")) return [new Alias(route, key, target)];
  const pathName = key.split(/\s+/)[1] ?? "";
  const bare = pathName.endsWith("/") ? pathName.slice(0, -1) : pathName;
  const paths: Record<(typeof REST_ACTIONS)[number], string> = {
    list: `GET ${pathName}`,
    get: `GET ${bare}/:id`,
    create: `POST ${pathName}`,
    update: `PUT ${bare}/:id`,
    patch: `PATCH ${bare}/:id`,
    remove: `DELETE ${bare}/:id`,
  };
  let actions: string[] = [...REST_ACTIONS];
  let service = target;
  if (typeof target === "object" && !Array.isArray(target) && (target.only || target.except)) {
    if (target.only) actions = actions.filter((a) => target.only?.includes(a));
    if (target.except) actions = actions.filter((a) => !target.except?.includes(a));
    service = target.action ?? "";
  }
  return actions.map((a) =>
    new Alias(route, paths[a as (typeof REST_ACTIONS)[number]], `${service}.${a}`)
  );
}

/** A service as `$node.services` lists it, with its actions. */
export interface ListedService {
  name: string;
  version?: string | number | null;
  fullName?: string;
  settings?: Record<string, unknown> | null;
  actions?: Record<string, Record<string, unknown>>;
}

function restSpecs(
  rest: unknown,
  rawName: string,
  basePath: string,
): Array<{ method: string; path: string }> {
  const out: Array<{ method: string; path: string }> = [];
  for (const r of Array.isArray(rest) ? rest : [rest]) {
    if (typeof r === "string") {
      const parts = r.split(/\s+/);
      out.push(
        parts.length > 1
          ? { method: parts[0] as string, path: basePath + parts[1] }
          : { method: "*", path: basePath + r },
      );
    } else if (r && typeof r === "object") {
      const o = r as { method?: string; path?: string; basePath?: string };
      out.push({
        method: o.method ?? "*",
        path: (o.basePath ? o.basePath : basePath) + (o.path ? o.path : rawName),
      });
    }
  }
  return out;
}

/**
 * The aliases a route gets from the `rest` property of the cluster's actions (moleculer-web's
 * `autoAliases`): base path from the service's `settings.rest` (or its full name with `.` as
 * `/`), only published actions the route's whitelist allows.
 *
 * @param route The route.
 * @param services The cluster's services with their actions.
 * @returns The generated aliases.
 */
export function autoAliasesOf(route: Route, services: readonly ListedService[]): Alias[] {
  const out: Alias[] = [];
  const seen = new Set<string>();
  for (const service of services) {
    if (!service.settings) continue;
    const fullName = service.fullName ?? service.name;
    if (seen.has(fullName)) continue;
    seen.add(fullName);
    const rest = service.settings.rest;
    const bases = typeof rest === "string" ? [rest] : Array.isArray(rest) ? rest : [undefined];
    for (const base of bases) {
      const basePath = addSlashes(typeof base === "string" ? base : fullName.replace(/\./g, "/"));
      for (const action of Object.values(service.actions ?? {})) {
        if (!action.rest) continue;
        const visibility = action.visibility;
        if (visibility != null && visibility !== "published") continue;
        const name = String(action.name);
        if (!route.allows(name)) continue;
        const rawName = String(action.rawName ?? name.slice(name.lastIndexOf(".") + 1));
        for (const spec of restSpecs(action.rest, rawName, basePath)) {
          out.push(
            new Alias(
              route,
              { method: spec.method, path: trimSlashes(normalizePath(spec.path)) },
              name,
              true,
            ),
          );
        }
      }
    }
  }
  return out;
}

/**
 * Sort aliases as moleculer-web's `optimizeOrder` does: deeper paths first, then fewer params,
 * then by path.
 *
 * @param aliases The aliases, sorted in place.
 */
export function sortAliases(aliases: Alias[]): void {
  aliases.sort((a, b) => {
    let c = addSlashes(b.path).split("/").length - addSlashes(a.path).split("/").length;
    if (c === 0) c = a.path.split(":").length - b.path.split(":").length;
    if (c === 0) c = a.path.localeCompare(b.path);
    return c;
  });
}

/**
 * Sort routes as moleculer-web's `optimizeOrder` does: deeper paths first, then fewer params.
 *
 * @param routes The routes, sorted in place.
 */
export function sortRoutes(routes: Route[]): void {
  routes.sort((a, b) => {
    let c = addSlashes(b.path).split("/").length - addSlashes(a.path).split("/").length;
    if (c === 0) c = a.path.split(":").length - b.path.split(":").length;
    return c;
  });
}
