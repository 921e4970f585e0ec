/**
 * `ApiGateway`: the API gateway as a Moleculer-style service schema, to mix into a service as
 * moleculer-web is (`mixins: [ApiGateway]`), from a schema or a class. It answers HTTP on its
 * own `Deno.serve` server (`settings.port`/`ip`), or only through `service.fetch(request)`
 * with `settings.server: false`, to mount inside any Deno HTTP server.
 *
 * @module
 */

import type { Context } from "../core/context.ts";
import type { ServiceSchema } from "../core/schema.ts";
import type { Service } from "../core/service.ts";
import { type AliasInfo, HttpGateway, type RequestInfo } from "./gateway.ts";
import type { GatewayRequest, GatewayResponse } from "./http.ts";
import {
  checkSettings,
  type GatewaySettings,
  type RouteSettings,
  type RouteView,
} from "./options.ts";
import { errorBody } from "./respond.ts";
import type { Route } from "./route.ts";
import { type GatewayServer, listen } from "./server.ts";

/** The members the `ApiGateway` mixin adds to its service. */
export interface ApiGatewayMembers {
  /** The gateway's settings. */
  settings: GatewaySettings;
  /** The server, while it listens (null with `server: false` or before start). */
  readonly server: GatewayServer | null;
  /**
   * Answer one request: mount this in any `Deno.serve` handler.
   *
   * @param request The request.
   * @param info Connection facts (the second argument of a `Deno.serve` handler).
   * @returns The response; it never rejects.
   */
  fetch(request: Request, info?: RequestInfo): Promise<Response>;
  /** Add a route, or replace the one with its name or path. */
  addRoute(opts: RouteSettings, toBottom?: boolean): RouteView;
  /** Remove a route by its `path` setting. */
  removeRoute(path: string): boolean;
  /** Remove a route by name. */
  removeRouteByName(name: string): boolean;
  /** The body of an error answer: `{ name, message, code, type, data }`. Override to change it. */
  reformatError(err: Error, req?: GatewayRequest, res?: GatewayResponse): unknown;
}

/** A service made with the `ApiGateway` mixin. */
export type ApiGatewayService = Service & ApiGatewayMembers;

type Self = Service & {
  gateway: HttpGateway | undefined;
  server: GatewayServer | null;
};

function engine(self: Self): HttpGateway {
  if (!self.gateway) {
    throw new Error(`API gateway '${self.fullName}' is not created yet: register it on a broker`);
  }
  return self.gateway;
}

function envValue(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    // No env permission: the setting's default applies.
    return undefined;
  }
}

/**
 * The API gateway mixin, with moleculer-web's defaults (name `api`, one route at `/`).
 *
 * @example Schema style, with its own server
 * ```ts ignore
 * import { ServiceBroker } from "@denolecular/denolecular";
 * import { ApiGateway } from "@denolecular/denolecular/gateway";
 *
 * const broker = new ServiceBroker();
 * broker.createService({
 *   name: "api",
 *   mixins: [ApiGateway],
 *   settings: {
 *     port: 3000,
 *     routes: [{ path: "/api", aliases: { "GET users": "users.list", "REST posts": "posts" } }],
 *   },
 * });
 * await broker.start();
 * ```
 */
export const ApiGateway: ServiceSchema = {
  name: "api",
  settings: {
    ip: undefined,
    port: undefined,
    server: true,
    routes: [],
    logRequest: "info",
    logRequestParams: "debug",
    logResponse: "info",
    logResponseData: null,
    log4XXResponses: false,
    logRouteRegistration: "info",
    optimizeOrder: true,
    debounceTime: 500,
    requestTimeout: 300_000,
    shutdownTimeout: 5000,
  },
  metadata: {
    $category: "gateway",
    $description: "Denolecular API gateway",
    $package: { name: "@denolecular/denolecular" },
  },
  actions: {
    listAliases: {
      rest: "GET /list-aliases",
      handler(this: Self): AliasInfo[] {
        return engine(this).listAliases();
      },
    },
    addRoute: {
      visibility: "public",
      params: {
        route: { type: "object" },
        toBottom: { type: "boolean", optional: true, default: true },
      },
      handler(this: Self, ctx: Context<{ route: RouteSettings; toBottom?: boolean }>) {
        const route = engine(this).addRoute(ctx.params.route, ctx.params.toBottom ?? true);
        return { path: route.path, name: route.name ?? null };
      },
    },
    removeRoute: {
      visibility: "public",
      params: {
        name: { type: "string", optional: true },
        path: { type: "string", optional: true },
      },
      handler(this: Self, ctx: Context<{ name?: string; path?: string }>): boolean {
        const gw = engine(this);
        if (ctx.params.name != null) return gw.removeRouteByName(ctx.params.name);
        return gw.removeRoute(ctx.params.path ?? "");
      },
    },
  },
  events: {
    "$services.changed"(this: Self) {
      this.gateway?.servicesChanged();
    },
  },
  methods: {
    fetch(this: Self, request: Request, info?: RequestInfo): Promise<Response> {
      return engine(this).fetch(request, info);
    },
    addRoute(this: Self, opts: RouteSettings, toBottom = true): Route {
      return engine(this).addRoute(opts, toBottom);
    },
    removeRoute(this: Self, path: string): boolean {
      return engine(this).removeRoute(path);
    },
    removeRouteByName(this: Self, name: string): boolean {
      return engine(this).removeRouteByName(name);
    },
    reformatError(err: Error): unknown {
      return errorBody(err);
    },
  },
  created(this: Self) {
    const settings = this.settings as GatewaySettings;
    checkSettings(settings);
    this.server = null;
    this.gateway = new HttpGateway(this, settings);
  },
  async started(this: Self) {
    const gw = engine(this);
    await gw.regenerateAutoAliases();
    const settings = this.settings as GatewaySettings;
    if (settings.server === false) return;
    const port = settings.port ?? Number(envValue("PORT") ?? 3000);
    const hostname = settings.ip ?? envValue("IP") ?? "0.0.0.0";
    this.server = await listen((req, info) => gw.fetch(req, info), {
      port,
      hostname,
      logger: this.logger,
      shutdownTimeout: settings.shutdownTimeout ?? 5000,
    });
    this.logger.info(`API Gateway listening on ${this.server.url}`);
  },
  async stopped(this: Self) {
    await this.gateway?.close();
    const server = this.server;
    this.server = null;
    if (server) {
      await server.close();
      this.logger.info("API Gateway stopped");
    }
  },
};
