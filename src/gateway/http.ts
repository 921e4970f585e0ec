/**
 * The request and response objects route hooks and function aliases receive. They carry
 * moleculer-web's field names (`req.headers["authorization"]`, `req.query`, `req.body`,
 * `req.$params`, `req.$ctx`, `res.setHeader`, `res.statusCode`, `res.end`), so hook code
 * written for moleculer-web reads the same, over a web-standard `Request` and a `Response`
 * built at the end.
 *
 * @module
 */

import type { Context } from "../core/context.ts";
import type { Service } from "../core/service.ts";

/** The incoming request, as route hooks see it. */
export class GatewayRequest {
  /** The web-standard request. */
  readonly request: Request;
  /** The HTTP method. */
  readonly method: string;
  /** Path and query as received, e.g. `/api/users?id=5`. */
  readonly originalUrl: string;
  /** The path and query inside the matched route (moleculer-web's `req.url`). */
  url: string;
  /** The path without the query and trailing slash. */
  parsedUrl: string;
  /** The matched route's path. */
  baseUrl = "";
  /** The parsed query string. */
  query: Record<string, unknown> = {};
  /** The parsed body (an object, or a string from the `text` parser); undefined when none ran. */
  body: unknown = undefined;
  /** The params the action is called with. */
  $params: Record<string, unknown> = {};
  /** The request's context: the parent of the action call; `ctx.meta` travels with it. */
  $ctx: Context;
  /** The gateway service. */
  $service: Service;
  /** The matched route. */
  $route: unknown = undefined;
  /** The matched alias. */
  $alias: unknown = undefined;
  /** The definition of the action about to be called. */
  $action: Record<string, unknown> | undefined = undefined;
  readonly #info: { remoteAddr?: unknown } | undefined;
  #headers: Record<string, string> | undefined;

  /**
   * Wraps a web request.
   *
   * @param request The web request.
   * @param originalUrl Its path and query.
   * @param parsedUrl Its path without query and trailing slash.
   * @param ctx The request's context.
   * @param service The gateway service.
   * @param info The server's connection facts (the client's address), if any.
   */
  constructor(
    request: Request,
    originalUrl: string,
    parsedUrl: string,
    ctx: Context,
    service: Service,
    info: { remoteAddr?: unknown } | undefined,
  ) {
    this.request = request;
    this.method = request.method;
    this.originalUrl = originalUrl;
    this.url = originalUrl;
    this.parsedUrl = parsedUrl;
    this.$ctx = ctx;
    this.$service = service;
    this.#info = info;
  }

  /** The client's address, when the server knows it (read on first use: it costs a call). */
  get remoteAddress(): string | undefined {
    const addr = this.#info?.remoteAddr as { hostname?: string } | undefined;
    return addr?.hostname;
  }

  /** Request headers by lower-case name, as Node.js gives them (`req.headers["x-token"]`). */
  get headers(): Record<string, string> {
    if (!this.#headers) {
      const out: Record<string, string> = {};
      for (const [k, v] of this.request.headers) out[k] = v;
      this.#headers = out;
    }
    return this.#headers;
  }
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// What the HTTP layer refuses in a value: line breaks, NUL, and anything past Latin-1.
// deno-lint-ignore no-control-regex
const BAD_VALUE = /[\r\n\0]|[^\u0000-\u00ff]/;

/** A body the response may carry. */
export type ResponseBody = string | Uint8Array | ReadableStream<Uint8Array> | null;

/**
 * The response being prepared. Hooks may set headers and the status; `onError` and function
 * aliases may also answer with `writeHead` and `end`, as with Node.js's response.
 */
export class GatewayResponse {
  /** The status to answer with. @default {200} */
  statusCode = 200;
  /** The status text, when not the standard one. */
  statusMessage = "";
  /** Scratch space for hooks (Express's `res.locals`). */
  readonly locals: Record<string, unknown> = {};
  // Lower-case names; a plain record is cheaper than a Headers object on the hot path.
  #headers: Record<string, string> = {};
  #ended = false;
  #body: ResponseBody = null;

  /**
   * Set a header.
   *
   * @param name Header name.
   * @param value Its value; arrays are joined with `, `.
   * @returns This response.
   */
  setHeader(name: string, value: string | number | readonly string[]): this {
    const text = Array.isArray(value) ? value.join(", ") : String(value);
    if (!TOKEN.test(name)) throw new TypeError(`Invalid header name ${JSON.stringify(name)}`);
    if (BAD_VALUE.test(text)) {
      throw new TypeError(`Invalid value of header '${name}': ${JSON.stringify(text)}`);
    }
    this.#headers[name.toLowerCase()] = text;
    return this;
  }

  /**
   * A header's value.
   *
   * @param name Header name.
   * @returns The value, or undefined.
   */
  getHeader(name: string): string | undefined {
    return this.#headers[name.toLowerCase()];
  }

  /**
   * Every header set so far.
   *
   * @returns A copy, by lower-case name.
   */
  getHeaders(): Record<string, string> {
    return { ...this.#headers };
  }

  /**
   * Remove a header.
   *
   * @param name Header name.
   */
  removeHeader(name: string): void {
    delete this.#headers[name.toLowerCase()];
  }

  /**
   * Set the status and headers at once.
   *
   * @param status The status.
   * @param headers Headers to set.
   * @returns This response.
   */
  writeHead(status: number, headers?: Record<string, string | number>): this {
    this.statusCode = status;
    for (const [k, v] of Object.entries(headers ?? {})) this.setHeader(k, v);
    return this;
  }

  /**
   * Finish the response with a body; the gateway answers with it and nothing else.
   *
   * @param body The body.
   */
  end(body?: ResponseBody): void {
    this.#body = body ?? null;
    this.#ended = true;
  }

  /** True once `end` was called. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Node.js's name for {@linkcode GatewayResponse.ended}. */
  get headersSent(): boolean {
    return this.#ended;
  }

  /**
   * The web response this object describes.
   *
   * @param head Whether the request was a HEAD (no body is sent).
   * @returns The response.
   */
  toResponse(head = false): Response {
    const init: ResponseInit = { status: this.statusCode, headers: this.#headers };
    if (this.statusMessage) init.statusText = this.statusMessage;
    const noBody = head || this.statusCode === 204 || this.statusCode === 304;
    return new Response(noBody ? null : this.#body as BodyInit | null, init);
  }
}
