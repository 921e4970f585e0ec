/**
 * The gateway engine behind the `ApiGateway` service: its routes and aliases, and `fetch`,
 * which answers one web `Request` the way moleculer-web answers one Node.js request — alias
 * or route match, body and query, CORS, whitelist, visibility, hooks, the action call, and
 * the answer or the error.
 *
 * @module
 */

import { type CallOptions, Context } from "../core/context.ts";
import type { Service } from "../core/service.ts";
import { MoleculerServerError, ServiceNotFoundError } from "../errors.ts";
import type { Logger } from "../logging.ts";
import { StaticFiles } from "./assets.ts";
import { parseBody, pickParser, readBody } from "./body.ts";
import { ActionCatalog, type ActionDefinition } from "./catalog.ts";
import { handleCors } from "./cors.ts";
import { CONSOLE_ALIAS, Dashboard, resolveDashboard } from "./dashboard/dashboard.ts";
import { BadRequestError, NotFoundError, ServiceUnavailableError } from "./errors.ts";
import { GatewayRequest, GatewayResponse } from "./http.ts";
import {
  checkRoute,
  type GatewayLogLevel,
  type GatewaySettings,
  GatewaySettingsError,
  type RouteHook,
  type RouteSettings,
} from "./options.ts";
import { parseQuery } from "./query.ts";
import { busboyOf, multipartCall, RawUpload } from "./upload.ts";
import { type Encoder, errorStatus, writeError, writeResult } from "./respond.ts";
import {
  addSlashes,
  type Alias,
  aliasesOf,
  autoAliasesOf,
  normalizePath,
  Route,
  sortAliases,
  sortRoutes,
} from "./route.ts";

/** Connection facts a server passes along with a request. */
export interface RequestInfo {
  /** The client's address. */
  remoteAddr?: { hostname?: string } | Deno.Addr;
}

/** What `listAliases` returns per alias (moleculer-web's shape). */
export interface AliasInfo {
  /** The action it calls (null for a function alias). */
  actionName: string | null;
  /** Its path inside the route. */
  path: string;
  /** Its full path. */
  fullPath: string;
  /** Its method, `*` for any. */
  methods: string;
  /** Its route's path. */
  routePath: string;
}

interface Found {
  alias: Alias;
  params: Record<string, string>;
}

/** An alias of a route without aliases: a direct `/service/action` call. */
interface DirectAlias {
  readonly action: string;
  readonly notDefined: true;
  readonly method: "*";
  readonly path: null;
  readonly type: "call";
  readonly handler: null;
}

type AnyAlias = Alias | DirectAlias;

type Hooks = Record<string, unknown>;

type ErrorFormatter = (err: Error, req: GatewayRequest, res: GatewayResponse) => unknown;

/** The gateway engine. One per `ApiGateway` service. */
export class HttpGateway {
  readonly #service: Service;
  readonly #settings: GatewaySettings;
  readonly #logger: Logger;
  readonly catalog: ActionCatalog;
  #routes: Route[] = [];
  #aliases: Alias[] = [];
  readonly #special: RegExp;
  readonly #requestTimeout: number;
  readonly #encode: Encoder;
  readonly #format: ErrorFormatter;
  readonly #restName: string;
  #debounce: ReturnType<typeof setTimeout> | undefined;
  readonly #assets: StaticFiles | null;
  readonly #dashboard: Dashboard | null = null;
  /** Log levels by what is logged; null = not logged (`null`/`false` in the settings). */
  readonly #levels: Record<
    "request" | "params" | "response" | "data" | "routes",
    Exclude<GatewayLogLevel, false> | null
  >;

  /**
   * Creates the engine and its routes.
   *
   * @param service The gateway service (hooks run with it as `this`).
   * @param settings Its settings, already checked.
   */
  constructor(service: Service, settings: GatewaySettings) {
    this.#service = service;
    this.#settings = settings;
    this.#logger = service.logger;
    this.catalog = new ActionCatalog(service.broker, service.logger);
    const special = settings.internalServiceSpecialChar ?? "~";
    this.#special = new RegExp(special.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    this.#requestTimeout = settings.requestTimeout ?? 300_000;
    const self = service as unknown as Hooks;
    this.#encode = typeof self.encodeResponse === "function"
      ? (self.encodeResponse as Encoder).bind(service)
      : (_req, _res, data) => JSON.stringify(data);
    this.#format = (self.reformatError as ErrorFormatter).bind(service);
    this.#restName = `${service.fullName}.rest`;
    const level = (v: GatewayLogLevel | undefined, fallback: GatewayLogLevel) =>
      (v === undefined ? fallback : v) || null;
    this.#levels = {
      request: level(settings.logRequest, "info"),
      params: level(settings.logRequestParams, "debug"),
      response: level(settings.logResponse, "info"),
      data: level(settings.logResponseData, null),
      routes: level(settings.logRouteRegistration, "info"),
    };
    const routes = settings.routes && settings.routes.length > 0
      ? settings.routes
      : [{ path: "/" }];
    routes.forEach((r, i) => this.addRoute(r, true, `routes[${i}]`));
    this.#assets = settings.assets ? new StaticFiles(settings.assets) : null;
    const dashboard = resolveDashboard(settings.dashboard);
    if (dashboard) {
      this.#dashboard = new Dashboard(service.broker, this.#logger, dashboard);
      const prefix = settings.path && settings.path !== "/" ? settings.path : "";
      const route = this.#dashboard.route((p) => normalizePath(addSlashes(prefix) + p));
      this.addRoute(route, true, "dashboard");
    }
  }

  /** The dashboard, when it is on. */
  get dashboard(): Dashboard | null {
    return this.#dashboard;
  }

  /** The routes, in matching order. */
  get routes(): readonly Route[] {
    return this.#routes;
  }

  /** The aliases of every route, in matching order. */
  get aliases(): readonly Alias[] {
    return this.#aliases;
  }

  #method(name: string): RouteHook | undefined {
    const fn = (this.#service as unknown as Hooks)[name];
    return typeof fn === "function" ? fn as RouteHook : undefined;
  }

  #log(level: GatewayLogLevel | null, msg: string, props?: Record<string, unknown>): void {
    if (level) this.#logger[level](msg, props);
  }

  /**
   * Add a route (or replace the one with its name or path).
   *
   * @param opts The route's settings.
   * @param toBottom Add after the others (before them when false).
   * @param where Its place in the settings, for errors.
   * @returns The route.
   * @throws {GatewaySettingsError} naming the setting that is wrong.
   */
  addRoute(opts: RouteSettings, toBottom = true, where = "route"): Route {
    checkRoute(opts, where, (msg) => {
      throw new GatewaySettingsError(`API gateway: ${msg}`);
    });
    let route: Route;
    try {
      route = new Route(opts, this.#settings, (n) => this.#method(n), where, this.#service.broker);
    } catch (err) {
      if (err instanceof GatewaySettingsError) throw err;
      throw new GatewaySettingsError(err instanceof Error ? err.message : String(err));
    }
    this.#log(this.#levels.routes, `Register route to '${route.path}'`);
    const idx = this.#routes.findIndex((r) => r.sameAs(route));
    if (idx !== -1) {
      this.#aliases = this.#aliases.filter((a) => a.route !== this.#routes[idx]);
      this.#routes[idx]?.close();
      this.#routes[idx] = route;
    } else {
      if (toBottom) this.#routes.push(route);
      else this.#routes.unshift(route);
      if (this.#settings.optimizeOrder !== false) sortRoutes(this.#routes);
    }
    const own: Alias[] = [];
    for (const [key, target] of Object.entries(opts.aliases ?? {})) {
      try {
        own.push(...aliasesOf(route, key, target));
      } catch (err) {
        throw new GatewaySettingsError(
          `API gateway: ${where}.aliases["${key}"]: ${err instanceof Error ? err.message : err}`,
        );
      }
    }
    this.#aliases.push(...own);
    if (opts.autoAliases) this.#aliases.push(...autoAliasesOf(route, this.catalog.services));
    this.#sortAliases();
    if (this.#levels.routes) { for (const a of own) this.#log(this.#levels.routes, `  ${a}`); }
    return route;
  }

  /**
   * Remove a route by path.
   *
   * @param path The route's `path` setting.
   * @returns Whether a route was removed.
   */
  removeRoute(path: string): boolean {
    return this.#removeWhere((r) => r.opts.path === path);
  }

  /**
   * Remove a route by name.
   *
   * @param name The route's `name`.
   * @returns Whether a route was removed.
   */
  removeRouteByName(name: string): boolean {
    return this.#removeWhere((r) => r.name === name);
  }

  #removeWhere(pred: (r: Route) => boolean): boolean {
    const idx = this.#routes.findIndex(pred);
    if (idx === -1) return false;
    const route = this.#routes[idx] as Route;
    this.#aliases = this.#aliases.filter((a) => a.route !== route);
    this.#routes.splice(idx, 1);
    route.close();
    return true;
  }

  #sortAliases(): void {
    if (this.#settings.optimizeOrder !== false) sortAliases(this.#aliases);
  }

  /**
   * Read the catalog and rebuild the auto aliases of every route that has `autoAliases`.
   *
   * @returns When done.
   */
  async regenerateAutoAliases(): Promise<void> {
    await this.catalog.refresh();
    const auto = this.#routes.filter((r) => r.opts.autoAliases);
    if (auto.length === 0) return;
    this.#aliases = this.#aliases.filter((a) => !a.generated);
    for (const route of auto) {
      this.#log(
        this.#levels.routes,
        `Generate aliases for '${route.path}' route`,
      );
      this.#aliases.push(...autoAliasesOf(route, this.catalog.services));
    }
    this.#sortAliases();
  }

  /**
   * The services changed: the catalog is stale now; the auto aliases are rebuilt after
   * `debounceTime` ms of quiet, then `$api.aliases.regenerated` is broadcast.
   */
  servicesChanged(): void {
    this.catalog.markStale();
    clearTimeout(this.#debounce);
    const wait = this.#settings.debounceTime && this.#settings.debounceTime > 0
      ? this.#settings.debounceTime
      : 500;
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      this.regenerateAutoAliases()
        .then(() => this.#service.broker.broadcast("$api.aliases.regenerated"))
        .catch((err) => this.#logger.warn("API gateway: rebuilding aliases failed", { err }));
    }, wait);
  }

  /**
   * Stop the debounce timer, the rate-limit stores and the dashboard's live streams.
   *
   * @returns Once the live streams' ends had a moment to reach their clients.
   */
  async close(): Promise<void> {
    clearTimeout(this.#debounce);
    this.#debounce = undefined;
    for (const route of this.#routes) route.close();
    await this.#dashboard?.close();
  }

  /**
   * The aliases, as moleculer-web's `listAliases` action returns them.
   *
   * @returns One entry per alias.
   */
  listAliases(): AliasInfo[] {
    return this.#aliases.map((a) => ({
      actionName: a.action,
      path: a.path,
      fullPath: a.fullPath,
      methods: a.method,
      routePath: a.route.path,
    }));
  }

  #resolveAlias(url: string, method: string): Found | null {
    const aliases = this.#aliases;
    for (let i = 0; i < aliases.length; i++) {
      const alias = aliases[i] as Alias;
      if (alias.method !== "*" && alias.method !== method) continue;
      const params = alias.match(url);
      if (params) return { alias, params };
    }
    return null;
  }

  /**
   * Answer one request.
   *
   * @param request The request.
   * @param info Connection facts from the server, if any.
   * @returns The response; never rejects.
   */
  async fetch(request: Request, info?: RequestInfo): Promise<Response> {
    // The clock is read only for the response log line (`performance.now()` is a runtime call).
    const start = this.#levels.response ? performance.now() : 0;
    const href = request.url;
    const pathStart = href.indexOf("/", href.indexOf("//") + 2);
    const originalUrl = pathStart === -1 ? "/" : href.slice(pathStart);
    const q = originalUrl.indexOf("?");
    let url = q === -1 ? originalUrl : originalUrl.slice(0, q);
    if (url.length > 1 && url.endsWith("/")) url = url.slice(0, -1);
    const req = new GatewayRequest(
      request,
      originalUrl,
      url,
      undefined as unknown as Context,
      this.#service,
      info,
    );
    const res = new GatewayResponse();
    const ctx = this.#rootContext(request, req);
    req.$ctx = ctx;
    if (ctx.requestID) res.setHeader("X-Request-ID", ctx.requestID);
    let answer: Response;
    try {
      if (q !== -1) req.query = parseQuery(originalUrl.slice(q + 1), this.#settings.qsOptions);
      const routed = await this.#dispatch(req, res, url);
      if (routed instanceof Response) answer = routed;
      else if (routed) answer = res.toResponse(request.method === "HEAD");
      else {
        const global = this.#settings.cors;
        // Not routed: a preflight may still be answered by the gateway's own CORS settings.
        const cors = global ? Object.assign({ origin: "*" }, global === true ? {} : global) : null;
        if (handleCors(cors, req, res)) answer = res.toResponse();
        else {
          const file = await this.#assets?.serve(request);
          if (!file) throw new NotFoundError();
          for (const [k, v] of Object.entries(res.getHeaders())) file.headers.set(k, v);
          answer = file;
        }
      }
    } catch (err) {
      answer = await this.#answerError(req, res, err);
    }
    const route = req.$route as Route | undefined;
    if (this.#levels.response && (!route || route.logging)) {
      this.#log(
        this.#levels.response,
        `<= ${answer.status} ${request.method} ${originalUrl} [+${
          (performance.now() - start).toFixed(3)
        } ms]`,
      );
    }
    return answer;
  }

  #rootContext(request: Request, req: GatewayRequest): Context {
    const opts: CallOptions = {};
    const requestID = request.headers.get("x-correlation-id") ??
      request.headers.get("x-request-id");
    if (requestID) opts.requestID = requestID;
    const root = this.#settings.rootCallOptions;
    if (typeof root === "function") root.call(this.#service, opts, req);
    else if (root) Object.assign(opts, root);
    const ctx = Context.create(this.#service.broker, {}, opts);
    ctx.service = this.#service;
    ctx.action = { name: this.#restName, rawName: "rest" };
    ctx.caller = null;
    if (opts.timeout && opts.timeout > 0) ctx.timeout = opts.timeout;
    return ctx;
  }

  /** Find the alias or route and run it; false when nothing routes the request. */
  #dispatch(
    req: GatewayRequest,
    res: GatewayResponse,
    url: string,
  ): Promise<boolean | Response> | boolean {
    if (this.#routes.length === 0) return false;
    let method = req.method;
    if (method === "OPTIONS") {
      method = req.request.headers.get("access-control-request-method") ?? method;
    }
    const found = this.#resolveAlias(url, method);
    if (found) return this.#routeHandler(found.alias.route, req, res, found);
    for (const route of this.#routes) {
      if (url.startsWith(route.path)) return this.#routeHandler(route, req, res, null);
    }
    return false;
  }

  async #routeHandler(
    route: Route,
    req: GatewayRequest,
    res: GatewayResponse,
    found: Found | null,
  ): Promise<boolean | Response> {
    req.$route = route;
    req.baseUrl = route.path;
    const rest = req.originalUrl.slice(route.path.length);
    req.url = rest.startsWith("/") ? rest : `/${rest}`;
    if (this.#levels.request && route.logging) {
      this.#log(
        this.#levels.request,
        `=> ${req.method} ${req.originalUrl}`,
      );
    }
    const upload = found?.alias.type === "multipart" || found?.alias.type === "stream";
    // An upload's body goes to the action as a stream: no body parser reads it.
    if (!upload) await this.#parseBody(route, req);
    if (handleCors(route.cors, req, res)) return true;
    if (found?.alias.type === CONSOLE_ALIAS) return await this.#consoleCall(route, req, res);
    let urlPath = req.parsedUrl.slice(route.path.length);
    if (urlPath.startsWith("/")) urlPath = urlPath.slice(1);
    urlPath = urlPath.replace(this.#special, "$");
    let params: Record<string, unknown> = {};
    const merge = route.mergeParams || urlPath.startsWith("$");
    if (!merge) params = { body: req.body, query: req.query };
    else {
      const body = req.body;
      if (typeof body === "object" && body !== null) Object.assign(params, body);
      Object.assign(params, req.query);
    }
    req.$params = params;
    if (found) {
      if (!merge) params.params = found.params;
      else Object.assign(params, found.params);
      req.$alias = found.alias;
      return await this.#aliasHandler(route, req, res, found.alias);
    }
    if (route.mappingPolicy === "restrict" || !urlPath) return false;
    let action = urlPath.replace(/\//g, ".");
    if (route.opts.camelCaseNames) action = action.split(".").map(camelCase).join(".");
    return await this.#aliasHandler(route, req, res, {
      action,
      notDefined: true,
      method: "*",
      path: null,
      type: "call",
      handler: null,
    });
  }

  /**
   * A dashboard console call, `{ action, params }`: run as a direct call through the
   * dashboard's route, so its whitelist, rate limit, authentication and authorization apply
   * (with `req.$action` the called action). `Server-Timing: call;dur=` carries its time.
   */
  async #consoleCall(
    route: Route,
    req: GatewayRequest,
    res: GatewayResponse,
  ): Promise<boolean | Response> {
    const body = req.body as { action?: unknown; params?: unknown } | undefined;
    const action = body?.action;
    const params = body?.params ?? {};
    if (typeof action !== "string" || !action || typeof params !== "object" || !params) {
      throw new BadRequestError("INVALID_CONSOLE_CALL", {
        expected: '{ "action": "service.action", "params": { ... } }',
      });
    }
    req.$params = params as Record<string, unknown>;
    const start = performance.now();
    try {
      return await this.#aliasHandler(route, req, res, {
        action,
        notDefined: true,
        method: "*",
        path: null,
        type: "call",
        handler: null,
      });
    } finally {
      res.setHeader("Server-Timing", `call;dur=${(performance.now() - start).toFixed(3)}`);
    }
  }

  async #parseBody(route: Route, req: GatewayRequest): Promise<void> {
    const request = req.request;
    // GET and HEAD bodies are not read (fetch cannot send one); asking for the body costs a call.
    if (req.method === "GET" || req.method === "HEAD" || !request.body) return;
    const parser = pickParser(route.parsers, request.headers.get("content-type"));
    if (!parser) return;
    const bytes = await readBody(request, parser.limit, this.#requestTimeout);
    req.body = parseBody(parser, bytes);
  }

  async #aliasHandler(
    route: Route,
    req: GatewayRequest,
    res: GatewayResponse,
    alias: AnyAlias,
  ): Promise<boolean | Response> {
    const ctx = req.$ctx;
    const action = alias.action;
    let def: ActionDefinition | undefined;
    if (action && !route.allows(action)) throw new ServiceNotFoundError({ action });
    // moleculer-web counts after the whitelist, before the action is looked up.
    if (route.rateLimit) await route.rateLimit.check(req, res);
    if (action) {
      def = this.catalog.peek(action) ?? await this.catalog.lookup(action);
      if (!def && this.catalog.available) {
        if ("notDefined" in alias) throw new ServiceNotFoundError({ action });
        throw new ServiceUnavailableError();
      }
      if (def && def.visibility != null && def.visibility !== "published") {
        throw new ServiceNotFoundError({ action });
      }
      req.$action = def;
    }
    const service = this.#service;
    if (route.onBeforeCall) await route.onBeforeCall.call(service, ctx, route, req, res, alias);
    if (route.authentication) {
      const user = await route.authentication.call(service, ctx, route, req, res, alias);
      ctx.meta.user = user ? user : null;
    }
    if (route.authorization) {
      await route.authorization.call(service, ctx, route, req, res, alias);
    }
    if (alias.handler) {
      const out = await alias.handler.call(service, req, res);
      if (out instanceof Response) return out;
      if (res.ended) return true;
      if (!action) {
        if (out === undefined) {
          throw new MoleculerServerError(
            "No alias handler: the function alias neither ended the response nor returned a value",
            500,
            "NO_ALIAS_HANDLER",
            { path: req.originalUrl },
          );
        }
        const data = await this.#afterCall(route, req, res, out);
        writeResult(req, res, data, undefined, this.#encode, route.etag);
        return true;
      }
    }
    if (!action) return false;
    if (alias.type === "multipart") {
      const config = busboyOf(route, alias as Alias);
      const data = await multipartCall(req, action, route.callOptions, config, this.#service);
      writeResult(req, res, await this.#afterCall(route, req, res, data), undefined, this.#encode);
      return true;
    }
    const upload = alias.type === "stream"
      ? new RawUpload(req.request, busboyOf(route, alias as Alias).limits?.fileSize)
      : undefined;
    return await this.#callAction(route, action, req, res, def, "notDefined" in alias, upload);
  }

  async #afterCall(
    route: Route,
    req: GatewayRequest,
    res: GatewayResponse,
    data: unknown,
  ): Promise<unknown> {
    if (!route.onAfterCall) return data;
    return await route.onAfterCall.call(this.#service, req.$ctx, route, req, res, data);
  }

  async #callAction(
    route: Route,
    action: string,
    req: GatewayRequest,
    res: GatewayResponse,
    def: ActionDefinition | undefined,
    direct: boolean,
    upload?: RawUpload,
  ): Promise<boolean> {
    const ctx = req.$ctx;
    if (route.logging) {
      if (this.#levels.request) this.#log(this.#levels.request, `   Call '${action}' action`);
      if (this.#levels.params) {
        this.#log(this.#levels.params, "   Params:", { params: req.$params });
      }
    }
    let data: unknown;
    try {
      const opts = upload ? { ...route.callOptions, stream: upload.stream } : route.callOptions;
      data = await ctx.call(action, req.$params, opts);
      if (upload?.error) throw upload.error;
    } catch (err) {
      // Past the upload limit, the answer is 413 whatever the action made of its failed stream.
      if (upload?.error) throw upload.error;
      // The catalog was a step behind: the action's last node left. An alias says 503.
      if (
        !direct && err instanceof ServiceNotFoundError &&
        (err.data as { action?: unknown } | undefined)?.action === action
      ) {
        throw new ServiceUnavailableError();
      }
      throw err;
    }
    data = await this.#afterCall(route, req, res, data);
    writeResult(req, res, data, def, this.#encode, route.etag);
    if (route.logging && this.#levels.data) {
      this.#log(this.#levels.data, "  Data:", { data });
    }
    return true;
  }

  async #answerError(req: GatewayRequest, res: GatewayResponse, err: unknown): Promise<Response> {
    const status = errorStatus(err);
    if (this.#settings.log4XXResponses || status < 400 || status >= 500) {
      const e = err as { name?: string; message?: string; data?: unknown; stack?: string };
      this.#logger.error(`   Request error! ${e?.name}: ${e?.message}`, {
        data: e?.data,
        stack: e?.stack,
      });
    }
    const route = req.$route as Route | undefined;
    const error = err instanceof Error ? err : new Error(String(err));
    for (const hook of [route?.onError, this.#settings.onError]) {
      if (!hook) continue;
      try {
        const out = await hook.call(this.#service, req, res, error);
        if (out instanceof Response) return out;
        if (res.ended) return res.toResponse(req.method === "HEAD");
      } catch (hookErr) {
        this.#logger.error("API gateway: an onError hook threw", {
          error: hookErr instanceof Error ? hookErr.message : String(hookErr),
        });
      }
      break;
    }
    const fresh = res.ended ? new GatewayResponse() : res;
    writeError(req, fresh, err, this.#format, this.#encode);
    return fresh.toResponse(req.method === "HEAD");
  }
}

function camelCase(s: string): string {
  return s.replace(/[-_\s]+(.)?/g, (_m, c: string | undefined) => c ? c.toUpperCase() : "")
    .replace(/^[A-Z]/, (c) => c.toLowerCase());
}
