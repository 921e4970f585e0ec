/**
 * CORS headers as moleculer-web writes them (after expressjs/cors): the allowed origin (or 403
 * `ORIGIN_NOT_ALLOWED`), credentials, exposed headers, and on a preflight the allowed headers,
 * methods and max age.
 *
 * @module
 */

import { ERR_ORIGIN_NOT_ALLOWED, ForbiddenError } from "./errors.ts";
import type { GatewayRequest, GatewayResponse } from "./http.ts";
import type { CorsOptions } from "./options.ts";

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Whether an origin is allowed by the `origin` setting.
 *
 * @param origin The request's `Origin`.
 * @param allowed The setting.
 * @returns Allowed or not.
 */
export function checkOrigin(origin: string, allowed: CorsOptions["origin"]): boolean {
  if (typeof allowed === "string") {
    if (allowed.indexOf(origin) !== -1) return true;
    if (allowed.indexOf("*") !== -1) {
      const re = new RegExp(
        `^${escapeRe(allowed).replace(/\\\*/g, ".*").replace(/\\\?/g, ".")}$`,
      );
      return re.test(origin);
    }
    return false;
  }
  if (typeof allowed === "function") return !!allowed(origin);
  if (Array.isArray(allowed)) return allowed.some((a) => checkOrigin(origin, a));
  return false;
}

const list = (v: string | string[] | undefined) => Array.isArray(v) ? v.join(", ") : v;

/**
 * Write the CORS headers of a request.
 *
 * @param cors The route's (or gateway's) CORS settings.
 * @param req The request.
 * @param res The response.
 * @param preflight Whether to write the preflight headers too.
 * @throws {ForbiddenError} `ORIGIN_NOT_ALLOWED` for an origin the settings refuse.
 */
export function writeCorsHeaders(
  cors: CorsOptions,
  req: GatewayRequest,
  res: GatewayResponse,
  preflight: boolean,
): void {
  const origin = req.request.headers.get("origin");
  if (!origin) return;
  if (!cors.origin || cors.origin === "*") {
    res.setHeader("Access-Control-Allow-Origin", "*");
  } else if (checkOrigin(origin, cors.origin)) {
    res.setHeader("Access-Control-Allow-Origin", origin);
    res.setHeader("Vary", "Origin");
  } else {
    throw new ForbiddenError(ERR_ORIGIN_NOT_ALLOWED);
  }
  if (cors.credentials === true) res.setHeader("Access-Control-Allow-Credentials", "true");
  const exposed = list(cors.exposedHeaders);
  if (exposed) res.setHeader("Access-Control-Expose-Headers", exposed);
  if (!preflight) return;
  const allowedHeaders = list(cors.allowedHeaders);
  if (allowedHeaders) res.setHeader("Access-Control-Allow-Headers", allowedHeaders);
  else {
    const asked = req.request.headers.get("access-control-request-headers");
    if (asked) {
      res.setHeader("Vary", "Access-Control-Request-Headers");
      res.setHeader("Access-Control-Allow-Headers", asked);
    }
  }
  const methods = list(cors.methods);
  if (methods) res.setHeader("Access-Control-Allow-Methods", methods);
  if (cors.maxAge) res.setHeader("Access-Control-Max-Age", String(cors.maxAge));
}

/**
 * Write the CORS headers; true when the request is a preflight, which is then answered with 204.
 *
 * @param cors The CORS settings, or null when CORS is off.
 * @param req The request.
 * @param res The response.
 * @returns Whether the request was a preflight (and `res` is its answer).
 */
export function handleCors(
  cors: CorsOptions | null,
  req: GatewayRequest,
  res: GatewayResponse,
): boolean {
  if (!cors) return false;
  writeCorsHeaders(cors, req, res, true);
  if (req.method === "OPTIONS" && req.request.headers.get("access-control-request-method")) {
    res.writeHead(204, { "Content-Length": "0" });
    res.end();
    return true;
  }
  return false;
}
