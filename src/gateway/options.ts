/**
 * The gateway's settings, with moleculer-web's names and defaults, and their checks: a bad
 * setting fails the service's creation with an error that names it and says what it takes.
 *
 * @module
 */

import type { CallOptions, Context } from "../core/context.ts";
import { type AssetsOptions, checkAssets } from "./assets.ts";
import type { BodyParsersOptions } from "./body.ts";
import { checkEtag, type EtagOption } from "./etag.ts";
import type { GatewayRequest, GatewayResponse } from "./http.ts";
import type { MultipartLimits } from "./multipart.ts";
import type { QueryOptions } from "./query.ts";
import { checkRateLimit, type RateLimitOptions } from "./rate_limit.ts";

/** A log level name, or `null`/`false` for no log. */
export type GatewayLogLevel = "trace" | "debug" | "info" | "warn" | "error" | null | false;

/**
 * A function alias or hook handler. `this` is the gateway service. Return a value to answer
 * with it, a `Response` to answer with that, or call `res.end()`.
 */
// deno-lint-ignore no-explicit-any
export type AliasFunction = (this: any, req: GatewayRequest, res: GatewayResponse) => unknown;

/** What an alias points at: `"users.list"`, `"multipart:files.save"`, a function, or a definition. */
export type AliasTarget =
  | string
  | AliasFunction
  | Array<string | AliasFunction>
  | {
    /** The action to call. */
    action?: string;
    /** `call` (default), `multipart` or `stream`. */
    type?: string;
    /** A function to run (before the action when both are given). */
    handler?: AliasFunction;
    /** `multipart` and `stream` aliases: limits over the route's `busboyConfig`. */
    busboyConfig?: BusboyConfig;
    /** `REST` aliases only: generate just these of list/get/create/update/patch/remove. */
    only?: string[];
    /** `REST` aliases only: generate all but these. */
    except?: string[];
  };

/** Upload settings of a route or alias, by moleculer-web's `busboyConfig` names. */
export interface BusboyConfig {
  /** busboy's limits: `fileSize`, `files`, `fields`, `parts`, `fieldSize`, `fieldNameSize`. */
  limits?: MultipartLimits;
  /** Call the action for a form without files (with its fields); else 400. @default {false} */
  empty?: boolean;
  /** Called (`this` = the gateway service) when a file past `limits.files` is skipped. */
  // deno-lint-ignore no-explicit-any
  onFilesLimit?: (this: any) => void;
  /** Called when a field past `limits.fields` is skipped. */
  // deno-lint-ignore no-explicit-any
  onFieldsLimit?: (this: any) => void;
  /** Called when a part past `limits.parts` is skipped. */
  // deno-lint-ignore no-explicit-any
  onPartsLimit?: (this: any) => void;
}

/** `(ctx, route, req, res, alias)` hooks; `this` is the gateway service. */
export type RouteHook = (
  // deno-lint-ignore no-explicit-any
  this: any,
  ctx: Context,
  route: RouteView,
  req: GatewayRequest,
  res: GatewayResponse,
  alias: AliasView,
) => unknown;

/** `onAfterCall(ctx, route, req, res, data)`: return the data to send. */
export type AfterCallHook = (
  // deno-lint-ignore no-explicit-any
  this: any,
  ctx: Context,
  route: RouteView,
  req: GatewayRequest,
  res: GatewayResponse,
  data: unknown,
) => unknown;

/**
 * `onError(req, res, err)`: answer instead of the default JSON error — with `res.end(...)`,
 * or by returning a `Response`.
 */
export type ErrorHook = (
  // deno-lint-ignore no-explicit-any
  this: any,
  req: GatewayRequest,
  res: GatewayResponse,
  err: Error,
) => unknown;

/** CORS settings (moleculer-web's, after expressjs/cors). */
export interface CorsOptions {
  /** Allowed origins: `"*"`, a list, wildcards (`"http://*.example.com"`), or a function. @default {"*"} */
  origin?: string | string[] | ((origin: string) => boolean);
  /** `Access-Control-Allow-Methods`. @default {["GET","HEAD","PUT","PATCH","POST","DELETE"]} */
  methods?: string | string[];
  /** `Access-Control-Allow-Headers`; the request's own when unset. */
  allowedHeaders?: string | string[];
  /** `Access-Control-Expose-Headers`. */
  exposedHeaders?: string | string[];
  /** Send `Access-Control-Allow-Credentials: true`. */
  credentials?: boolean;
  /** `Access-Control-Max-Age` in seconds. */
  maxAge?: number;
}

/** One route: a path prefix with its aliases, parsers, hooks and policies. */
export interface RouteSettings {
  /** A name, to replace or remove the route later. */
  name?: string;
  /** The path prefix under the gateway's `path`. @default {""} */
  path?: string;
  /** `"GET users": "users.list"`, `"REST users": "users"`, `"POST upload": "multipart:files.save"`. */
  aliases?: Record<string, AliasTarget>;
  /**
   * `all`: any `/service/action` path calls that action; `restrict`: only aliases.
   * @default {"restrict" with aliases or autoAliases, else "all"}
   */
  mappingPolicy?: "all" | "restrict";
  /** Actions callable through this route: names, `*` / `**` globs, RegExps. */
  whitelist?: Array<string | RegExp>;
  /** Actions never callable through this route. */
  blacklist?: Array<string | RegExp>;
  /** Make aliases from the `rest` property of every action in the cluster, kept up to date. */
  autoAliases?: boolean;
  /** Body parsers: `{ json: true, urlencoded: { extended: true }, text: { limit: "1mb" } }`. @default {{ json: true }} */
  bodyParsers?: boolean | BodyParsersOptions;
  /**
   * Uploads through `multipart:` and `stream:` aliases: busboy's `limits` (`fileSize` also
   * bounds a raw `stream:` body), `empty`, and `onFilesLimit`/`onFieldsLimit`/`onPartsLimit`.
   */
  busboyConfig?: BusboyConfig;
  /** `true` runs the service's `authenticate` method; a string names another method. */
  authentication?: boolean | string | RouteHook;
  /** `true` runs the service's `authorize` method; a string names another method. */
  authorization?: boolean | string | RouteHook;
  /** Runs before the call with `(ctx, route, req, res, alias)`. */
  onBeforeCall?: RouteHook;
  /** Runs after the call with `(ctx, route, req, res, data)`; returns the data to send. */
  onAfterCall?: AfterCallHook;
  /** Answers errors of this route instead of the default. */
  onError?: ErrorHook;
  /** CORS of this route, over the gateway's `cors`. */
  cors?: boolean | CorsOptions;
  /** Options of every action call made through this route, e.g. `{ timeout: 500 }`. */
  callOptions?: CallOptions;
  /** `false` passes `{ body, query, params }` instead of one merged object. @default {true} */
  mergeParams?: boolean;
  /** With `mappingPolicy: "all"`, `/users/get-all` calls `users.getAll`. */
  camelCaseNames?: boolean;
  /** Log this route's requests. @default {true} */
  logging?: boolean;
  /** Limit the requests per client (over the gateway's `rateLimit`). */
  rateLimit?: RateLimitOptions;
  /** ETags of answers: `true`/`"weak"`, `"strong"`, a function, or `false` (over the gateway's). */
  etag?: EtagOption;
}

/**
 * The cluster dashboard's options. The dashboard is a route of the gateway, so the route
 * settings here (`authentication`, `authorization`, `whitelist`, `rateLimit`, `cors`,
 * `callOptions`, hooks) guard it as they guard any route.
 */
export interface DashboardOptions extends
  Pick<
    RouteSettings,
    | "authentication"
    | "authorization"
    | "whitelist"
    | "blacklist"
    | "rateLimit"
    | "cors"
    | "callOptions"
    | "onBeforeCall"
    | "onAfterCall"
    | "onError"
    | "bodyParsers"
  > {
  /** Its path (under the gateway's `path`). @default {"/dashboard"} */
  path?: string;
  /**
   * The action console: call a published action the route's `whitelist` allows, with JSON
   * params, through the route's `authentication`/`authorization`. Off unless `true`.
   * @default {false}
   */
  console?: boolean;
  /** Ms between live updates. @default {2000} */
  interval?: number;
  /** Log the dashboard's requests. @default {false} */
  logging?: boolean;
}

/** The gateway service's settings. */
export interface GatewaySettings {
  /** TCP port; `0` picks a free one. @default {PORT env or 3000} */
  port?: number;
  /** Address to listen on. @default {IP env or "0.0.0.0"} */
  ip?: string;
  /** `false`: no server of its own; mount `service.fetch` in another server. @default {true} */
  server?: boolean;
  /** A path prefix of every route. */
  path?: string;
  /** The routes; an empty list means one route at `/` with `mappingPolicy: "all"`. */
  routes?: RouteSettings[];
  /** CORS of every route. */
  cors?: boolean | CorsOptions;
  /** Answers errors no route's `onError` answered. */
  onError?: ErrorHook;
  /** The rate limit of every route without its own. */
  rateLimit?: RateLimitOptions;
  /** The `etag` of every route without its own. @default {false} */
  etag?: EtagOption;
  /** Serve the files of a folder to requests no route answers. */
  assets?: AssetsOptions;
  /** Serve the cluster dashboard: `true` (at `/dashboard`), its path, or its options. */
  dashboard?: boolean | string | DashboardOptions;
  /** Options of the request's root context: `{ timeout, meta }`, or a function filling them. */
  rootCallOptions?: CallOptions | ((this: unknown, opts: CallOptions, req: GatewayRequest) => void);
  /** The character that stands for `$` in paths (`/~node/list` calls `$node.list`). @default {"~"} */
  internalServiceSpecialChar?: string;
  /** Sort routes and aliases so that the most specific path wins. @default {true} */
  optimizeOrder?: boolean;
  /** Ms to wait after a service change before the auto aliases are rebuilt. @default {500} */
  debounceTime?: number;
  /** Ms a request body may take to arrive, else 408. `0` = no limit. @default {300000} */
  requestTimeout?: number;
  /** Ms a stop waits for the requests in flight before it closes their connections. @default {5000} */
  shutdownTimeout?: number;
  /** The query-string parser's limits. */
  qsOptions?: QueryOptions;
  /** Level of the request line log. @default {"info"} */
  logRequest?: GatewayLogLevel;
  /** Level of the params log. @default {"debug"} */
  logRequestParams?: GatewayLogLevel;
  /** Level of the response line log. @default {"info"} */
  logResponse?: GatewayLogLevel;
  /** Level of the response data log. @default {null} */
  logResponseData?: GatewayLogLevel;
  /** Log 4xx errors too. @default {false} */
  log4XXResponses?: boolean;
  /** Level of the route registration log. @default {"info"} */
  logRouteRegistration?: GatewayLogLevel;
  /** Other settings are kept (and announced) as they are. */
  [key: string]: unknown;
}

/** A route as hooks see it. */
export interface RouteView {
  /** The route's name, if it has one. */
  readonly name: string | undefined;
  /** Its full path prefix, e.g. `/api`. */
  readonly path: string;
  /** The settings it was made from. */
  readonly opts: RouteSettings;
  /** Its call options. */
  readonly callOptions: CallOptions | undefined;
}

/** An alias as hooks see it. */
export interface AliasView {
  /** `GET`, `POST`…, or `*` for any. */
  readonly method: string;
  /** Its path inside the route. */
  readonly path: string | null;
  /** Its full path. */
  readonly fullPath?: string;
  /** The action it calls. */
  readonly action: string | null;
  /** `call`, `multipart` or `stream`. */
  readonly type?: string;
}

/** The shape problem of a setting. */
export class GatewaySettingsError extends TypeError {
  /**
   * Creates the error.
   *
   * @param message What is wrong and how to fix it.
   */
  constructor(message: string) {
    super(message);
    this.name = "GatewaySettingsError";
  }
}

const LOG_LEVELS = new Set(["trace", "debug", "info", "warn", "error"]);
const HOOKS = ["onBeforeCall", "onAfterCall", "onError"] as const;

/**
 * Check the settings a gateway is created with.
 *
 * @param s The settings.
 * @throws {GatewaySettingsError} naming the setting and what it takes.
 */
export function checkSettings(s: GatewaySettings): void {
  const fail = (msg: string): never => {
    throw new GatewaySettingsError(`API gateway: settings.${msg}`);
  };
  if (s.port !== undefined && (!Number.isInteger(s.port) || s.port < 0 || s.port > 65535)) {
    fail(`port must be a TCP port (0-65535; 0 picks a free one), got ${JSON.stringify(s.port)}`);
  }
  if (s.ip !== undefined && typeof s.ip !== "string") fail("ip must be an address string");
  if (s.path !== undefined && typeof s.path !== "string") fail('path must be a string like "/api"');
  if (s.routes !== undefined && !Array.isArray(s.routes)) fail("routes must be an array of routes");
  for (const key of ["debounceTime", "requestTimeout", "shutdownTimeout"] as const) {
    const v = s[key];
    if (v !== undefined && (typeof v !== "number" || !(v >= 0))) fail(`${key} must be ms ≥ 0`);
  }
  for (
    const key of [
      "logRequest",
      "logRequestParams",
      "logResponse",
      "logResponseData",
      "logRouteRegistration",
    ] as const
  ) {
    const v = s[key];
    if (v !== undefined && v !== null && v !== false && !LOG_LEVELS.has(v as string)) {
      fail(`${key} must be one of trace, debug, info, warn, error, or null`);
    }
  }
  if (s.onError !== undefined && typeof s.onError !== "function") {
    fail("onError must be a function (req, res, err)");
  }
  checkRateLimit(s.rateLimit, "rateLimit", fail);
  checkEtag(s.etag, "etag", fail);
  checkAssets(s.assets, fail);
  checkDashboard(s.dashboard, fail);
  (s.routes ?? []).forEach((r, i) => checkRoute(r, `routes[${i}]`, fail));
}

/**
 * Check one route's settings.
 *
 * @param r The route.
 * @param where Its path in the settings, e.g. `routes[0]`.
 * @param fail Throws the error.
 */
export function checkRoute(r: RouteSettings, where: string, fail: (msg: string) => never): void {
  if (r === null || typeof r !== "object") fail(`${where} must be an object with a path`);
  if (r.path !== undefined && typeof r.path !== "string") fail(`${where}.path must be a string`);
  if (
    r.mappingPolicy !== undefined && r.mappingPolicy !== "all" && r.mappingPolicy !== "restrict"
  ) {
    fail(`${where}.mappingPolicy must be "all" or "restrict"`);
  }
  for (const key of ["whitelist", "blacklist"] as const) {
    const list = r[key];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.some((m) => typeof m !== "string" && !(m instanceof RegExp))) {
      fail(`${where}.${key} must be an array of action names, globs or RegExps`);
    }
  }
  if (r.aliases !== undefined && (r.aliases === null || typeof r.aliases !== "object")) {
    fail(`${where}.aliases must be an object like { "GET users": "users.list" }`);
  }
  for (const key of HOOKS) {
    if (r[key] !== undefined && typeof r[key] !== "function") {
      fail(`${where}.${key} must be a function`);
    }
  }
  checkRateLimit(r.rateLimit, `${where}.rateLimit`, fail);
  checkEtag(r.etag, `${where}.etag`, fail);
  for (const key of ["authentication", "authorization"] as const) {
    const v = r[key];
    if (
      v !== undefined && typeof v !== "boolean" && typeof v !== "string" &&
      typeof v !== "function"
    ) {
      fail(`${where}.${key} must be true, a method name or a function`);
    }
  }
}

/**
 * Check the `dashboard` setting.
 *
 * @param v The setting.
 * @param fail Throws the settings error.
 */
function checkDashboard(v: unknown, fail: (msg: string) => never): void {
  if (v === undefined || v === null || typeof v === "boolean") return;
  if (typeof v === "string") {
    if (!v.startsWith("/")) fail(`dashboard must be a path like "/dashboard", got "${v}"`);
    return;
  }
  if (typeof v !== "object") fail('dashboard must be true, a path like "/dashboard", or options');
  const o = v as DashboardOptions;
  if (o.path !== undefined && (typeof o.path !== "string" || !o.path.startsWith("/"))) {
    fail('dashboard.path must be a path like "/dashboard"');
  }
  if (o.console !== undefined && typeof o.console !== "boolean") {
    fail("dashboard.console must be true or false");
  }
  if (o.interval !== undefined && (typeof o.interval !== "number" || !(o.interval >= 100))) {
    fail("dashboard.interval must be ms ≥ 100");
  }
}
