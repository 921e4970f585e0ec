/**
 * The gateway's HTTP errors, with moleculer-web's names, codes and types, so a client that
 * reads `{ name, message, code, type, data }` from a moleculer-web gateway reads the same here.
 *
 * @module
 */

import { MoleculerClientError, MoleculerError } from "../errors.ts";

/** `UnAuthorizedError`'s type when the request carries no token. */
export const ERR_NO_TOKEN = "NO_TOKEN";
/** `UnAuthorizedError`'s default type: the token is not valid. */
export const ERR_INVALID_TOKEN = "INVALID_TOKEN";
/** `BadRequestError`'s type when a path parameter is not valid percent-encoding. */
export const ERR_UNABLE_DECODE_PARAM = "UNABLE_DECODE_PARAM";
/** `ForbiddenError`'s type when CORS refuses the request's origin. */
export const ERR_ORIGIN_NOT_ALLOWED = "ORIGIN_NOT_ALLOWED";

/** 401: the request is not authenticated. Throw it from `authenticate`/`authorize`. */
export class UnAuthorizedError extends MoleculerError {
  /**
   * Creates the error.
   *
   * @param type `NO_TOKEN`, `INVALID_TOKEN` (the default) or your own.
   * @param data Extra data for the client.
   */
  constructor(type?: string, data?: unknown) {
    super("Unauthorized", 401, type || ERR_INVALID_TOKEN, data);
    this.name = "UnAuthorizedError";
  }
}

/** 403: the request is authenticated but not allowed. */
export class ForbiddenError extends MoleculerError {
  /**
   * Creates the error.
   *
   * @param type Why, e.g. `ORIGIN_NOT_ALLOWED`.
   * @param data Extra data for the client.
   */
  constructor(type?: string, data?: unknown) {
    super("Forbidden", 403, type, data);
    this.name = "ForbiddenError";
  }
}

/** 400: the request is malformed. */
export class BadRequestError extends MoleculerError {
  /**
   * Creates the error.
   *
   * @param type Why, e.g. `UNABLE_DECODE_PARAM`.
   * @param data Extra data for the client.
   */
  constructor(type?: string, data?: unknown) {
    super("Bad request", 400, type, data);
    this.name = "BadRequestError";
  }
}

/** 404: no route or alias answers the request. */
export class NotFoundError extends MoleculerError {
  /**
   * Creates the error.
   *
   * @param type @default {"NOT_FOUND"}
   * @param data Extra data for the client.
   */
  constructor(type?: string, data?: unknown) {
    super("Not found", 404, type || "NOT_FOUND", data);
    this.name = "NotFoundError";
  }
}

/** 503: an alias names an action that no node serves right now. */
export class ServiceUnavailableError extends MoleculerError {
  /**
   * Creates the error.
   *
   * @param type Why.
   * @param data Extra data for the client.
   */
  constructor(type?: string, data?: unknown) {
    super("Service unavailable", 503, type, data);
    this.name = "ServiceUnavailableError";
  }
}

/** 429: the route's `rateLimit` was used up in the current window. */
export class RateLimitExceeded extends MoleculerClientError {
  /**
   * Creates the error.
   *
   * @param type A machine-readable type, if any.
   * @param data Details, if any.
   */
  constructor(type?: string, data?: unknown) {
    super("Rate limit exceeded", 429, type, data);
    this.name = "RateLimitExceeded";
  }
}

/** 413: the request body is larger than the body parser's `limit`. */
export class PayloadTooLarge extends MoleculerClientError {
  /**
   * Creates the error.
   *
   * @param data The limit and the received size.
   */
  constructor(data?: unknown) {
    super("Payload too large", 413, "PAYLOAD_TOO_LARGE", data);
    this.name = "PayloadTooLarge";
  }
}

/**
 * An error a body parser reports, shaped as moleculer-web reports body-parser's errors: name
 * `MoleculerError`, the HTTP status as `code`, body-parser's `type` (`entity.parse.failed`,
 * `entity.too.large`, `request.aborted`, `request.timeout`).
 */
export class BodyParseError extends MoleculerError {
  /**
   * Creates the error.
   *
   * @param message What is wrong with the body.
   * @param code The HTTP status.
   * @param type body-parser's error type.
   * @param data Extra data for the client.
   */
  constructor(message: string, code: number, type: string, data?: unknown) {
    super(message, code, type, data);
    this.name = "MoleculerError";
  }
}

/**
 * 501: the request needs a feature this gateway does not have. Answered at once, so the
 * client does not wait for nothing.
 */
export class NotImplementedError extends MoleculerError {
  /**
   * Creates the error.
   *
   * @param message What is missing.
   * @param data Extra data for the client.
   */
  constructor(message: string, data?: unknown) {
    super(message, 501, "NOT_IMPLEMENTED", data);
    this.name = "NotImplementedError";
  }
}
