/**
 * Turning an action's result or an error into the HTTP answer, as moleculer-web does: the
 * `ctx.meta` conventions (`$statusCode`, `$statusMessage`, `$responseType`,
 * `$responseHeaders`, `$location`), the action's `responseType`/`responseHeaders`, the body
 * by data type, and the JSON error body `{ name, message, code, type, data }` with the error's
 * own code as status when it is a 4xx/5xx, else 500.
 *
 * @module
 */

import type { Context } from "../core/context.ts";
import { MoleculerError } from "../errors.ts";
import { type EtagOption, generateETag, isFresh } from "./etag.ts";
import type { GatewayRequest, GatewayResponse } from "./http.ts";

const JSON_TYPE = "application/json; charset=utf-8";
const OCTET = "application/octet-stream";

/** The fields of an error a client sees. */
export interface ErrorBody {
  /** The error's class name, e.g. `ValidationError`. */
  name: string;
  /** Its message. */
  message: string;
  /** Its code (the status when 4xx/5xx). */
  code: number;
  /** Its machine-readable type, when it has one. */
  type?: string;
  /** Its data, when it has some. */
  data?: unknown;
}

/**
 * The client's view of an error (moleculer-web's `reformatError`): name, message, code, and type
 * and data when set.
 *
 * @param err The error.
 * @returns The body object.
 */
export function errorBody(err: Error): ErrorBody {
  const e = err as Error & { code?: unknown; type?: unknown; data?: unknown };
  const out: ErrorBody = {
    name: e.name,
    message: e.message,
    code: typeof e.code === "number" && e.code ? e.code : 500,
  };
  if (e.type !== undefined && e.type !== null && e.type !== "") out.type = e.type as string;
  if (e.data !== undefined) out.data = e.data;
  return out;
}

/**
 * The HTTP status of an error: its `code` when in 400–598, else 500.
 *
 * @param err The error.
 * @returns The status.
 */
export function errorStatus(err: unknown): number {
  const code = (err as { code?: unknown })?.code;
  return typeof code === "number" && code >= 400 && code < 599 ? code : 500;
}

/**
 * Apply `ctx.meta.$responseHeaders` and find the response type.
 *
 * @returns The content type chosen by meta, or the given one.
 */
function metaHeaders(ctx: Context | undefined, res: GatewayResponse, type: string | undefined) {
  let responseType = type;
  const meta = ctx?.meta;
  if (!meta) return responseType;
  if (typeof meta.$responseType === "string" && meta.$responseType) {
    responseType = meta.$responseType;
  }
  const headers = meta.$responseHeaders;
  if (headers && typeof headers === "object") {
    for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
      if (key === "Content-Type" && !responseType) responseType = String(value);
      else {
        try {
          res.setHeader(key, String(value));
        } catch {
          res.setHeader(key, encodeURI(String(value)));
        }
      }
    }
  }
  return responseType;
}

function isBufferObject(data: unknown): data is { type: "Buffer"; data: number[] } {
  return typeof data === "object" && data !== null &&
    (data as { type?: unknown }).type === "Buffer" &&
    Array.isArray((data as { data?: unknown }).data);
}

/** How the body of a result is encoded: `service.encodeResponse`, JSON by default. */
export type Encoder = (req: GatewayRequest, res: GatewayResponse, data: unknown) => string;

/**
 * Fill `res` with an action's result.
 *
 * @param req The request.
 * @param res The response.
 * @param data The result.
 * @param action The action's definition, for `responseType` and `responseHeaders`.
 * @param encode The JSON encoder.
 * @param etag The route's `etag` setting: an ETag of the body, and 304 when the client's copy
 *   is fresh.
 */
export function writeResult(
  req: GatewayRequest,
  res: GatewayResponse,
  data: unknown,
  action: Record<string, unknown> | undefined,
  encode: Encoder,
  etag?: EtagOption,
): void {
  const ctx = req.$ctx;
  const meta = ctx.meta;
  if (typeof meta.$statusCode === "number") res.statusCode = meta.$statusCode;
  if (typeof meta.$statusMessage === "string") res.statusMessage = meta.$statusMessage;
  const status = res.statusCode;
  if (status === 201 || (status >= 300 && status < 400 && status !== 304)) {
    if (typeof meta.$location === "string") res.setHeader("Location", meta.$location);
  }
  let responseType = typeof action?.responseType === "string" ? action.responseType : undefined;
  const actionHeaders = action?.responseHeaders;
  if (actionHeaders && typeof actionHeaders === "object") {
    for (const [key, value] of Object.entries(actionHeaders as Record<string, unknown>)) {
      res.setHeader(key, String(value));
      if (key === "Content-Type" && !responseType) responseType = String(value);
    }
  }
  responseType = metaHeaders(ctx, res, responseType);
  if (data === null || data === undefined) {
    res.end();
    return;
  }
  let body: string | Uint8Array | ReadableStream<Uint8Array>;
  if (data instanceof Uint8Array) {
    res.setHeader("Content-Type", responseType ?? OCTET);
    body = data;
  } else if (isBufferObject(data)) {
    res.setHeader("Content-Type", responseType ?? OCTET);
    body = Uint8Array.from(data.data);
  } else if (data instanceof ReadableStream) {
    res.setHeader("Content-Type", responseType ?? OCTET);
    body = data;
  } else if (typeof data === "object") {
    res.setHeader("Content-Type", responseType ?? JSON_TYPE);
    body = encode(req, res, data);
  } else if (!responseType) {
    res.setHeader("Content-Type", JSON_TYPE);
    body = encode(req, res, data);
  } else {
    res.setHeader("Content-Type", responseType);
    body = String(data);
  }
  if (etag && !(body instanceof ReadableStream) && !res.getHeader("ETag")) {
    res.setHeader("ETag", generateETag(body, etag, req.$service));
  }
  // Freshness is moleculer-web's too: also for an ETag the action set itself.
  if (
    ((status >= 200 && status < 300) || status === 304) &&
    isFresh(req.request.headers, res.getHeader("ETag"), res.getHeader("Last-Modified"))
  ) {
    res.statusCode = 304;
  }
  if (res.statusCode === 204 || res.statusCode === 304) {
    res.removeHeader("Content-Type");
    res.removeHeader("Content-Length");
    res.end();
    return;
  }
  res.end(body);
}

/**
 * Fill `res` with the default error answer.
 *
 * @param req The request.
 * @param res The response.
 * @param err The error.
 * @param format `service.reformatError`: the body object.
 * @param encode The JSON encoder.
 */
export function writeError(
  req: GatewayRequest,
  res: GatewayResponse,
  err: unknown,
  format: (err: Error, req: GatewayRequest, res: GatewayResponse) => unknown,
  encode: Encoder,
): void {
  if (!(err instanceof Error)) {
    res.writeHead(500, { "Content-Type": "text/plain" });
    res.end("Internal Server Error");
    return;
  }
  let error = err;
  if (!(err instanceof MoleculerError)) {
    const e = err as Error & { code?: unknown; status?: unknown; type?: unknown; data?: unknown };
    const code = typeof e.code === "number" ? e.code : typeof e.status === "number" ? e.status : 0;
    error = new MoleculerError(e.message, code, e.type as string | undefined, e.data);
    error.name = e.name;
  }
  const responseType = metaHeaders(req.$ctx, res, undefined) ?? JSON_TYPE;
  res.setHeader("Content-Type", responseType);
  res.statusCode = errorStatus(error);
  const body = format(error, req, res);
  res.end(body === undefined ? null : encode(req, res, body));
}
