/**
 * The fixture services and gateway settings of the gateway tests. The Deno side here mirrors
 * the Node side in `_node/web_node.mjs` (the `nusers` services and moleculer-web's routes), so
 * one HTTP scenario can run against either gateway and both answers can be compared.
 *
 * @module
 */

import { type Context, MoleculerClientError, type ServiceSchema } from "../../mod.ts";
import {
  ApiGateway,
  type ApiGatewayService,
  ERR_NO_TOKEN,
  type GatewaySettings,
  UnAuthorizedError,
} from "../../src/gateway/mod.ts";

type Rec = Record<string, unknown>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `ditems`: a Deno service the gateways reach, local to the Deno gateway. */
export const ditems: ServiceSchema = {
  name: "ditems",
  actions: {
    get: {
      rest: "GET /:id",
      params: { id: { type: "number", convert: true } },
      handler: (ctx: Context<{ id: number }>) => ({
        id: ctx.params.id,
        item: `item-${ctx.params.id}`,
      }),
    },
    create: {
      rest: "POST /",
      params: { name: "string" },
      handler(ctx: Context<{ name: string }>) {
        ctx.meta.$statusCode = 201;
        ctx.meta.$location = `/api/ditems/${ctx.params.name}`;
        return { created: ctx.params.name };
      },
    },
    slow: {
      params: { ms: { type: "number", convert: true } },
      async handler(ctx: Context<{ ms: number }>) {
        await sleep(ctx.params.ms);
        return { waited: ctx.params.ms };
      },
    },
    fail() {
      throw new MoleculerClientError("deno bad thing", 409, "CONFLICT", {
        y: 2,
      });
    },
  },
};

/** `dmath`: reached through the `/all` route's RegExp whitelist. */
export const dmath: ServiceSchema = {
  name: "dmath",
  actions: {
    add: {
      params: {
        a: { type: "number", convert: true },
        b: { type: "number", convert: true },
      },
      handler: (ctx: Context<{ a: number; b: number }>) => ctx.params.a + ctx.params.b,
    },
  },
};

/** The static files both gateways serve (`assets.folder`). */
export const ASSETS: string = decodeURIComponent(
  new URL("./_assets", import.meta.url).pathname,
);

/** The routes both gateways get (moleculer-web's copy is in `_node/web_node.mjs`). */
export function sharedSettings(port: number): GatewaySettings {
  return {
    port,
    ip: "127.0.0.1",
    logRequest: null,
    logResponse: null,
    logRouteRegistration: null,
    debounceTime: 100,
    assets: { folder: ASSETS },
    routes: [
      {
        path: "/api",
        aliases: {
          "REST nusers": "nusers",
          "GET nusers/fail": "nusers.fail",
          "GET nusers/crash": "nusers.crash",
          "GET nusers/slow": "nusers.slow",
          "GET nusers/text": "nusers.text",
          "GET nusers/headers": "nusers.headers",
          "GET nusers/redirect": "nusers.redirect",
          "GET nusers/nothing": "nusers.nothing",
          "GET nusers/str": "nusers.str",
          "GET nusers/bytes": "nusers.bytes",
          "GET nusers/echo": "nusers.echo",
          "POST nusers/echo": "nusers.echo",
          "GET nusers/whoami": "nusers.whoami",
          "GET nusers/wrap": "nusers.wrap",
          "GET ditems/:id": "ditems.get",
          "POST ditems": "ditems.create",
          "GET ditems/slow": "ditems.slow",
          "GET missing": "nothere.action",
          "GET fn/hello"(req, res) {
            res.setHeader("Content-Type", "text/plain");
            res.end(`fn ${req.$params.name ?? "anon"}`);
          },
        },
        bodyParsers: {
          json: { limit: "1kb" },
          urlencoded: { extended: true },
          text: true,
        },
        callOptions: { timeout: 500 },
        cors: {
          origin: ["http://good.example", "http://*.trusted.example"],
          credentials: true,
        },
        authentication: true,
        authorization: true,
        onBeforeCall(ctx, _route, req) {
          ctx.meta.agent = req.headers["x-agent"] ?? null;
        },
        onAfterCall(_ctx, _route, _req, _res, data) {
          return data && (data as Rec).wrapMe ? { wrapped: data } : data;
        },
      },
      {
        path: "/all",
        mappingPolicy: "all",
        whitelist: ["nusers.*", "ditems.get", /^dmath\./],
      },
      { path: "/auto", autoAliases: true, whitelist: ["**"] },
      {
        path: "/limited",
        aliases: { "GET hello": "nusers.str" },
        rateLimit: {
          window: 60_000,
          limit: 2,
          headers: true,
          key: (req) => req.headers["x-client"],
        },
      },
      {
        path: "/etag",
        aliases: { "GET users": "nusers.list", "GET text": "nusers.text" },
        etag: true,
      },
      {
        path: "/etag-strong",
        aliases: { "GET users": "nusers.list" },
        etag: "strong",
      },
      {
        path: "/oops",
        aliases: { "GET fail": "nusers.fail" },
        onError(_req, res, err) {
          res.setHeader("Content-Type", "text/plain");
          res.writeHead((err as { code?: number }).code === 599 ? 500 : 400);
          res.end(`oops: ${err.message}`);
        },
      },
    ],
  };
}

/** The gateway service with {@linkcode sharedSettings} and its `authenticate`/`authorize`. */
export function sharedGateway(port: number): ServiceSchema {
  return {
    name: "api",
    mixins: [ApiGateway],
    settings: sharedSettings(port),
    methods: {
      authenticate(
        _ctx: Context,
        _route: unknown,
        req: { headers: Record<string, string> },
      ) {
        const auth = req.headers["authorization"];
        if (auth === "Bearer 123") return { id: 1, name: "Ann" };
        if (auth) throw new UnAuthorizedError();
        return null;
      },
      authorize(ctx: Context, _route: unknown, req: { $action?: Rec }) {
        if (req.$action?.auth === "required" && !ctx.meta.user) {
          throw new UnAuthorizedError(ERR_NO_TOKEN);
        }
      },
    },
  };
}

/** The listening base URL of a started gateway service. */
export function baseUrl(service: unknown): string {
  const server = (service as ApiGatewayService).server;
  if (!server) {
    throw new Error(
      "the gateway has no server: was it started with server: true?",
    );
  }
  return server.url;
}

/** One HTTP answer, read whole. */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** The body as JSON, or undefined when it is not JSON. */
  json: unknown;
}

/**
 * Make a request and read the whole answer.
 *
 * @param base The gateway's base URL.
 * @param path Path and query.
 * @param init Fetch options.
 * @returns The answer.
 */
export async function http(
  base: string,
  path: string,
  init: RequestInit = {},
): Promise<Answer> {
  const res = await fetch(base + path, init);
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** A JSON POST body. */
export function jsonBody(value: unknown, method = "POST"): RequestInit {
  return {
    method,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(value),
  };
}
