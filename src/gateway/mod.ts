/**
 * The API gateway: what moleculer-web is for Node.js, on `Deno.serve` and web-standard
 * `Request`/`Response`. Mix `ApiGateway` into a service; its settings carry moleculer-web's
 * names (`port`, `ip`, `path`, `routes` with `aliases`, `mappingPolicy`, `whitelist`,
 * `autoAliases`, `bodyParsers`, `authentication`, `authorization`, `onBeforeCall`,
 * `onAfterCall`, `onError`, `cors`, `rateLimit`, `etag`, `assets`, `callOptions`) and actions
 * answer through the `ctx.meta` conventions (`$statusCode`, `$statusMessage`, `$responseType`,
 * `$responseHeaders`, `$location`). With `dashboard: true` it also serves a live cluster
 * dashboard with an optional action console.
 *
 * @example A gateway in front of a local service
 * ```ts
 * import { type Context, ServiceBroker } from "../../mod.ts";
 * import { ApiGateway, type ApiGatewayService } from "./mod.ts";
 *
 * const broker = new ServiceBroker({ nodeID: "gw", logger: false });
 * broker.createService({
 *   name: "greeter",
 *   actions: {
 *     hello: {
 *       rest: "GET /hello/:name",
 *       handler: (ctx: Context<{ name: string }>) => ({ hello: ctx.params.name }),
 *     },
 *   },
 * });
 * const api = broker.createService({
 *   name: "api",
 *   mixins: [ApiGateway],
 *   settings: { server: false, routes: [{ path: "/api", autoAliases: true }] },
 * }) as ApiGatewayService;
 * await broker.start();
 * const res = await api.fetch(new Request("http://localhost/api/greeter/hello/Ann"));
 * console.log(res.status, await res.json()); // 200 { hello: "Ann" }
 * await broker.stop();
 * ```
 *
 * @module
 */

export { ApiGateway } from "./service.ts";
export type { ApiGatewayMembers, ApiGatewayService } from "./service.ts";
export type { AliasInfo, RequestInfo } from "./gateway.ts";
export { GatewayRequest, GatewayResponse } from "./http.ts";
export type { ResponseBody } from "./http.ts";
export type { MultipartLimits } from "./multipart.ts";
export { GatewaySettingsError } from "./options.ts";
export type {
  AfterCallHook,
  AliasFunction,
  AliasTarget,
  AliasView,
  BusboyConfig,
  CorsOptions,
  DashboardOptions,
  ErrorHook,
  GatewayLogLevel,
  GatewaySettings,
  RouteHook,
  RouteSettings,
  RouteView,
} from "./options.ts";
export type { BodyParserOptions, BodyParsersOptions } from "./body.ts";
export type { AssetsOptions, AssetsServeOptions } from "./assets.ts";
export type { EtagOption } from "./etag.ts";
export { MemoryStore } from "./rate_limit.ts";
export type { RateLimitOptions, RateLimitStore, RateLimitStoreFactory } from "./rate_limit.ts";
export type {
  ActionRate,
  ActionView,
  NodeView,
  ServiceView,
  Snapshot,
} from "./dashboard/snapshot.ts";
export type { QueryOptions } from "./query.ts";
export { parseQuery } from "./query.ts";
export type { GatewayServer } from "./server.ts";
export type { ErrorBody } from "./respond.ts";
export {
  BadRequestError,
  BodyParseError,
  ERR_INVALID_TOKEN,
  ERR_NO_TOKEN,
  ERR_ORIGIN_NOT_ALLOWED,
  ERR_UNABLE_DECODE_PARAM,
  ForbiddenError,
  NotFoundError,
  NotImplementedError,
  PayloadTooLarge,
  RateLimitExceeded,
  ServiceUnavailableError,
  UnAuthorizedError,
} from "./errors.ts";
