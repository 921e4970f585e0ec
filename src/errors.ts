/**
 * Moleculer-compatible error classes and the helpers that move them across the wire.
 *
 * Every class keeps Moleculer's `name`, `code`, `type`, `data` shape and `retryable` flag, so a
 * Node.js Moleculer node rebuilds the same class from what a Denolecular node sends, and the other
 * way round. {@linkcode toPlain} turns an error into the plain object carried by a `RES` packet,
 * and {@linkcode fromPlain} rebuilds an error from such an object following Moleculer's
 * `Regenerator.restore` rules.
 *
 * Only web-standard APIs are used, so this module runs anywhere.
 *
 * @example Throw, send and rebuild an error
 * ```ts
 * import { fromPlain, RequestTimeoutError, toPlain } from "./errors.ts";
 *
 * const err = new RequestTimeoutError({ action: "math.add", nodeID: "node-2" });
 * const plain = toPlain(err, "node-1"); // what goes into the RES packet
 * const rebuilt = fromPlain(JSON.parse(JSON.stringify(plain)), "node-1");
 *
 * console.log(rebuilt instanceof RequestTimeoutError); // true
 * console.log(rebuilt.message); // "Request is timed out when call 'math.add' action on 'node-2' node."
 * ```
 *
 * @module
 */

import { isRecord } from "./_util/values.ts";

// ---------------------------------------------------------------------------
// Internal helpers
// ---------------------------------------------------------------------------

/** A string view of any value that never throws (template literals can). */
function str(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return String(value);
  } catch {
    try {
      return Object.prototype.toString.call(value);
    } catch {
      return "[unprintable]";
    }
  }
}

/** Reads an own property only, so nothing is picked up from a (possibly polluted) prototype. */
function own(record: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/**
 * Copies the listed own properties of an untrusted value into a prototype-less object. Used to
 * feed constructors with remote data without reading anything inherited.
 */
function pick(value: unknown, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  if (!isRecord(value)) return out;
  for (const key of keys) {
    const v = own(value, key);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** The classes of this module, filled once they are defined (see the end of the file). */
const BUILT_IN = new WeakSet<object>();

/**
 * Sets `name` like Moleculer does: writable, configurable and not enumerable. A built-in class
 * gets its fixed name (safe from minifiers); a user's subclass gets its own class name, as
 * Moleculer's `ExtendableError` gives it (`class NotFound extends MoleculerError {}` is
 * `"NotFound"`, on the wire too).
 */
function setName(error: Error, name: string): void {
  const ctor = error.constructor;
  const value = BUILT_IN.has(ctor) || typeof ctor?.name !== "string" || ctor.name === ""
    ? name
    : ctor.name;
  Object.defineProperty(error, "name", {
    value,
    writable: true,
    configurable: true,
    enumerable: false,
  });
}

// ---------------------------------------------------------------------------
// Base classes
// ---------------------------------------------------------------------------

/**
 * An `Error` that subclasses cleanly, as Moleculer's `ExtendableError`: `name` is the class name
 * and `message` is not enumerable. Every Moleculer error extends it.
 *
 * @example
 * ```ts
 * import { ExtendableError } from "./errors.ts";
 *
 * class QuotaError extends ExtendableError {}
 * const err = new QuotaError("Quota exceeded");
 * console.log(err.name, err instanceof Error); // "QuotaError" true
 * ```
 */
export class ExtendableError extends Error {
  /**
   * Creates the error.
   *
   * @param message The error message.
   * @param options Standard error options, e.g. `{ cause }`.
   */
  constructor(message = "", options?: ErrorOptions) {
    super(message, options);
    Object.defineProperty(this, "message", {
      value: message,
      writable: true,
      configurable: true,
      enumerable: false,
    });
    setName(this, "ExtendableError");
  }
}

/**
 * A generic timeout, as Moleculer's `TimeoutError` (what its `Promise.timeout` helper rejects
 * with). Calls that time out fail with {@linkcode RequestTimeoutError} instead.
 *
 * @example
 * ```ts
 * import { TimeoutError } from "./errors.ts";
 *
 * const err = new TimeoutError("Timed out after 100 ms");
 * console.log(err.name); // "TimeoutError"
 * ```
 */
export class TimeoutError extends ExtendableError {
  /**
   * Creates the error.
   *
   * @param message The error message.
   * @param options Standard error options, e.g. `{ cause }`.
   */
  constructor(message = "", options?: ErrorOptions) {
    super(message, options);
    setName(this, "TimeoutError");
  }
}

/**
 * The base class of every Moleculer error.
 *
 * @example Throw a custom error from an action
 * ```ts
 * import { MoleculerError } from "./errors.ts";
 *
 * const err = new MoleculerError("Something happened", 501, "ERR_SOMETHING", { a: 5 });
 * console.log(err.code, err.type, err.retryable); // 501 "ERR_SOMETHING" false
 * ```
 */
export class MoleculerError extends ExtendableError {
  /** HTTP-like status code, e.g. 500 or 404. */
  code: number;
  /** Machine-readable error type, e.g. `"SERVICE_NOT_FOUND"`; `""` when not given. */
  type: string;
  /** Any extra data describing the error. */
  data: unknown;
  /** Whether the call that failed with this error may be retried. */
  retryable: boolean;
  /** The ID of the node where the error happened, when known. */
  nodeID: string | undefined;

  /**
   * Creates a MoleculerError.
   *
   * @param message The error message.
   * @param code HTTP-like status code. Like Moleculer, a missing or falsy code (`0`) becomes 500.
   * @param type Machine-readable error type.
   * @param data Any extra data describing the error.
   * @param options Standard error options, e.g. `{ cause }`.
   */
  constructor(
    message: string,
    code?: number,
    type?: string,
    data?: unknown,
    options?: ErrorOptions,
  ) {
    super(message, options);
    setName(this, "MoleculerError");
    this.code = code || 500;
    this.type = type ?? "";
    this.data = data;
    this.retryable = false;
    this.nodeID = undefined;
  }
}

/**
 * A Moleculer error that may be retried: the retry policy calls the action again.
 *
 * @example
 * ```ts
 * import { MoleculerRetryableError } from "./errors.ts";
 *
 * const err = new MoleculerRetryableError("DB is busy", 503, "DB_BUSY");
 * ```
 */
export class MoleculerRetryableError extends MoleculerError {
  /**
   * Creates a retryable error.
   *
   * @param message The error message.
   * @param code HTTP-like status code; a missing or falsy code becomes 500.
   * @param type Machine-readable error type.
   * @param data Any extra data describing the error.
   * @param options Standard error options, e.g. `{ cause }`.
   */
  constructor(
    message: string,
    code?: number,
    type?: string,
    data?: unknown,
    options?: ErrorOptions,
  ) {
    super(message, code, type, data, options);
    setName(this, "MoleculerRetryableError");
    this.retryable = true;
  }
}

/** A retryable error caused by the server side of a call (code 500 unless given). */
export class MoleculerServerError extends MoleculerRetryableError {
  /**
   * Creates a server error.
   *
   * @param message The error message.
   * @param code HTTP-like status code; a missing or falsy code becomes 500.
   * @param type Machine-readable error type.
   * @param data Any extra data describing the error.
   * @param options Standard error options, e.g. `{ cause }`.
   */
  constructor(
    message: string,
    code?: number,
    type?: string,
    data?: unknown,
    options?: ErrorOptions,
  ) {
    super(message, code, type, data, options);
    setName(this, "MoleculerServerError");
  }
}

/**
 * An error caused by the caller (bad input and the like). Not retryable; code 400 unless given.
 *
 * @example
 * ```ts
 * import { MoleculerClientError } from "./errors.ts";
 *
 * const err = new MoleculerClientError("Email is already taken", 409, "EMAIL_TAKEN", { email: "a@b.c" });
 * ```
 */
export class MoleculerClientError extends MoleculerError {
  /**
   * Creates a client error.
   *
   * @param message The error message.
   * @param code HTTP-like status code; a missing or falsy code becomes 400.
   * @param type Machine-readable error type.
   * @param data Any extra data describing the error.
   * @param options Standard error options, e.g. `{ cause }`.
   */
  constructor(
    message: string,
    code: number = 400,
    type: string = "",
    data?: unknown,
    options?: ErrorOptions,
  ) {
    super(message, code || 400, type, data, options);
    setName(this, "MoleculerClientError");
  }
}

// ---------------------------------------------------------------------------
// Data shapes
// ---------------------------------------------------------------------------

/** The `data` of a {@linkcode ServiceNotFoundError}. */
export interface ServiceNotFoundErrorData {
  /** The full action name, e.g. `"v2.posts.find"`. */
  action?: string | undefined;
  /** The node that was asked, when the call targeted one node. */
  nodeID?: string | undefined;
  /** The service name, when a whole service was looked up. */
  service?: string | undefined;
  /** The service version, used with `service`. */
  version?: string | number | undefined;
}

/** The `data` of a {@linkcode ServiceNotAvailableError}. */
export interface ServiceNotAvailableErrorData {
  /** The full action name. */
  action?: string | undefined;
  /** The node that was asked, if any. */
  nodeID?: string | undefined;
}

/**
 * The `data` of {@linkcode RequestTimeoutError}, {@linkcode RequestSkippedError} and
 * {@linkcode RequestRejectedError}.
 */
export interface RequestErrorData {
  /** The full action name. */
  action: string;
  /** The node the request went to (or, for a skipped call, the local node). */
  nodeID: string;
}

/** The `data` of a {@linkcode QueueIsFullError}. */
export interface QueueIsFullErrorData {
  /** The full action name. */
  action: string;
  /** The node whose queue is full. */
  nodeID: string;
  /** The current queue size. */
  size: number;
  /** The queue limit. */
  limit: number;
}

/** The `data` of a {@linkcode MaxCallLevelError}. */
export interface MaxCallLevelErrorData {
  /** The node where the limit was reached. */
  nodeID: string;
  /** The call level that hit the limit. */
  level: number;
}

/** The argument of {@linkcode GracefulStopTimeoutError}. */
export interface GracefulStopTimeoutErrorData {
  /** The service that could not stop in time; leave out when the whole broker timed out. */
  service?: { name: string; version?: string | number | undefined } | undefined;
}

/** The `data` of a {@linkcode ProtocolVersionMismatchError}. */
export interface ProtocolVersionMismatchErrorData {
  /** The node that sent the packet. */
  nodeID: string;
  /** The protocol version of this node. */
  actual: string;
  /** The protocol version found in the packet. */
  received: string;
}

/** The `data` of an {@linkcode InvalidPacketDataError}. */
export interface InvalidPacketDataErrorData {
  /** The packet type, e.g. `"REQ"`. */
  type?: string | undefined;
  /** The offending packet or payload. */
  packet?: unknown;
}

// ---------------------------------------------------------------------------
// Specific errors
// ---------------------------------------------------------------------------

/**
 * No node serves the requested action or service (404 `SERVICE_NOT_FOUND`). Retryable.
 *
 * @example Messages
 * ```ts
 * import { ServiceNotFoundError } from "./errors.ts";
 *
 * new ServiceNotFoundError({ action: "posts.find" }).message;
 * // "Service 'posts.find' is not found."
 * new ServiceNotFoundError({ action: "posts.find", nodeID: "node-2" }).message;
 * // "Service 'posts.find' is not found on 'node-2' node."
 * new ServiceNotFoundError({ service: "posts", version: 2 }).message;
 * // "Service '2.posts' not found."
 * ```
 */
export class ServiceNotFoundError extends MoleculerRetryableError {
  /**
   * Creates the error; the message is built from `data` exactly as Moleculer builds it.
   *
   * @param data Which action or service was not found, and on which node.
   * @param options Standard error options, e.g. `{ cause }`.
   */
  constructor(data: ServiceNotFoundErrorData = {}, options?: ErrorOptions) {
    let message = "";
    if (data.nodeID && data.action) {
      message = `Service '${str(data.action)}' is not found on '${str(data.nodeID)}' node.`;
    } else if (data.action) {
      message = `Service '${str(data.action)}' is not found.`;
    }
    if (data.service && data.version) {
      message = `Service '${str(data.version)}.${str(data.service)}' not found.`;
    } else if (data.service) {
      message = `Service '${str(data.service)}' not found.`;
    }
    super(message, 404, "SERVICE_NOT_FOUND", data, options);
    setName(this, "ServiceNotFoundError");
  }
}

/**
 * The action exists but its endpoint cannot take calls now (404 `SERVICE_NOT_AVAILABLE`).
 * Retryable.
 */
export class ServiceNotAvailableError extends MoleculerRetryableError {
  /**
   * Creates the error.
   *
   * @param data The action and, if known, the node.
   * @param options Standard error options, e.g. `{ cause }`.
   */
  constructor(data: ServiceNotAvailableErrorData = {}, options?: ErrorOptions) {
    const message = data.nodeID
      ? `Service '${str(data.action)}' is not available on '${str(data.nodeID)}' node.`
      : `Service '${str(data.action)}' is not available.`;
    super(message, 404, "SERVICE_NOT_AVAILABLE", data, options);
    setName(this, "ServiceNotAvailableError");
  }
}

/**
 * The call did not get a response in time (504 `REQUEST_TIMEOUT`). Retryable.
 *
 * @example
 * ```ts
 * import { RequestTimeoutError } from "./errors.ts";
 *
 * const err = new RequestTimeoutError({ action: "math.add", nodeID: "node-2" });
 * console.log(err.message); // "Request is timed out when call 'math.add' action on 'node-2' node."
 * ```
 */
export class RequestTimeoutError extends MoleculerRetryableError {
  /**
   * Creates the error.
   *
   * @param data The action and the node that did not answer.
   * @param options Standard error options, e.g. `{ cause }`.
   */
  constructor(data: RequestErrorData, options?: ErrorOptions) {
    super(
      `Request is timed out when call '${str(data.action)}' action on '${str(data.nodeID)}' node.`,
      504,
      "REQUEST_TIMEOUT",
      data,
      options,
    );
    setName(this, "RequestTimeoutError");
  }
}

/**
 * A child call was not made because the distributed timeout had already run out
 * (514 `REQUEST_SKIPPED`). Not retryable.
 */
export class RequestSkippedError extends MoleculerError {
  /**
   * Creates the error.
   *
   * @param data The action and the node where the call was skipped.
   * @param options Standard error options, e.g. `{ cause }`.
   */
  constructor(data: RequestErrorData, options?: ErrorOptions) {
    super(
      `Calling '${str(data.action)}' is skipped because timeout reached on '${
        str(data.nodeID)
      }' node.`,
      514,
      "REQUEST_SKIPPED",
      data,
      options,
    );
    setName(this, "RequestSkippedError");
    this.retryable = false;
  }
}

/**
 * The request was rejected, e.g. because the target node disconnected while it was pending
 * (503 `REQUEST_REJECTED`). Retryable.
 */
export class RequestRejectedError extends MoleculerRetryableError {
  /**
   * Creates the error.
   *
   * @param data The action and the node that rejected it.
   * @param options Standard error options, e.g. `{ cause }`.
   */
  constructor(data: RequestErrorData, options?: ErrorOptions) {
    super(
      `Request is rejected when call '${str(data.action)}' action on '${str(data.nodeID)}' node.`,
      503,
      "REQUEST_REJECTED",
      data,
      options,
    );
    setName(this, "RequestRejectedError");
  }
}

/** A request queue (transit or bulkhead) is full (429 `QUEUE_FULL`). Retryable. */
export class QueueIsFullError extends MoleculerRetryableError {
  /**
   * Creates the error.
   *
   * @param data The action, node, current queue size and limit.
   * @param options Standard error options, e.g. `{ cause }`.
   */
  constructor(data: QueueIsFullErrorData, options?: ErrorOptions) {
    super(
      `Queue is full. Request '${str(data.action)}' action on '${
        str(data.nodeID)
      }' node is rejected.`,
      429,
      "QUEUE_FULL",
      data,
      options,
    );
    setName(this, "QueueIsFullError");
  }
}

/**
 * Parameter validation failed (code 422, type `VALIDATION_ERROR` unless given). Not retryable.
 * `data` is usually the validator's list of problems.
 *
 * @example
 * ```ts
 * import { ValidationError } from "./errors.ts";
 *
 * const err = new ValidationError("Parameters validation error!", undefined, [
 *   { type: "string", field: "name", message: "The 'name' field must be a string.", actual: 5 },
 * ]);
 * ```
 */
export class ValidationError extends MoleculerClientError {
  /**
   * Creates the error.
   *
   * @param message The error message.
   * @param type Machine-readable error type; a missing or empty type becomes `"VALIDATION_ERROR"`.
   * @param data The validation problems.
   * @param options Standard error options, e.g. `{ cause }`.
   */
  constructor(
    message: string,
    type: string = "VALIDATION_ERROR",
    data?: unknown,
    options?: ErrorOptions,
  ) {
    super(message, 422, type || "VALIDATION_ERROR", data, options);
    setName(this, "ValidationError");
  }
}

/** The nesting of calls reached `maxCallLevel` (500 `MAX_CALL_LEVEL`). Not retryable. */
export class MaxCallLevelError extends MoleculerError {
  /**
   * Creates the error.
   *
   * @param data The node and the call level that hit the limit.
   * @param options Standard error options, e.g. `{ cause }`.
   */
  constructor(data: MaxCallLevelErrorData, options?: ErrorOptions) {
    super(
      `Request level is reached the limit (${str(data.level)}) on '${str(data.nodeID)}' node.`,
      500,
      "MAX_CALL_LEVEL",
      data,
      options,
    );
    setName(this, "MaxCallLevelError");
    this.retryable = false;
  }
}

/** A service schema is invalid (500 `SERVICE_SCHEMA_ERROR`). */
export class ServiceSchemaError extends MoleculerError {
  /**
   * Creates the error.
   *
   * @param message What is wrong with the schema.
   * @param data Any extra data, e.g. the schema name.
   * @param options Standard error options, e.g. `{ cause }`.
   */
  constructor(message: string, data?: unknown, options?: ErrorOptions) {
    super(message, 500, "SERVICE_SCHEMA_ERROR", data, options);
    setName(this, "ServiceSchemaError");
  }
}

/** The broker options are invalid (500 `BROKER_OPTIONS_ERROR`). */
export class BrokerOptionsError extends MoleculerError {
  /**
   * Creates the error.
   *
   * @param message What is wrong with the options.
   * @param data Any extra data, e.g. the offending option.
   * @param options Standard error options, e.g. `{ cause }`.
   */
  constructor(message: string, data?: unknown, options?: ErrorOptions) {
    super(message, 500, "BROKER_OPTIONS_ERROR", data, options);
    setName(this, "BrokerOptionsError");
  }
}

/**
 * A service (or the whole broker) did not stop in time (500 `GRACEFUL_STOP_TIMEOUT`).
 *
 * As in Moleculer, `data` becomes `{ name, version }` of the service, or stays `undefined` when
 * no service is given.
 */
export class GracefulStopTimeoutError extends MoleculerError {
  /**
   * Creates the error.
   *
   * @param data The service that did not stop in time; leave it out for the broker itself.
   * @param options Standard error options, e.g. `{ cause }`.
   */
  constructor(data: GracefulStopTimeoutErrorData = {}, options?: ErrorOptions) {
    const service = data.service;
    let info: { name: string; version?: string | number } | undefined;
    if (service) {
      info = { name: service.name };
      if (service.version !== undefined) info.version = service.version;
    }
    super(
      info
        ? `Unable to stop '${str(info.name)}' service gracefully.`
        : "Unable to stop ServiceBroker gracefully.",
      500,
      "GRACEFUL_STOP_TIMEOUT",
      info,
      options,
    );
    setName(this, "GracefulStopTimeoutError");
  }
}

/** A packet came with another protocol version (500 `PROTOCOL_VERSION_MISMATCH`). */
export class ProtocolVersionMismatchError extends MoleculerError {
  /**
   * Creates the error.
   *
   * @param data The sender and both protocol versions.
   * @param options Standard error options, e.g. `{ cause }`.
   */
  constructor(data: ProtocolVersionMismatchErrorData, options?: ErrorOptions) {
    super("Protocol version mismatch.", 500, "PROTOCOL_VERSION_MISMATCH", data, options);
    setName(this, "ProtocolVersionMismatchError");
  }
}

/** A packet could not be decoded or is malformed (500 `INVALID_PACKET_DATA`). */
export class InvalidPacketDataError extends MoleculerError {
  /**
   * Creates the error.
   *
   * @param data The packet type and the offending packet.
   * @param options Standard error options, e.g. `{ cause }`.
   */
  constructor(data: InvalidPacketDataErrorData = {}, options?: ErrorOptions) {
    super("Invalid packet data.", 500, "INVALID_PACKET_DATA", data, options);
    setName(this, "InvalidPacketDataError");
  }
}

/** The default message of {@linkcode BrokerDisconnectedError}. */
const BROKER_DISCONNECTED_MESSAGE =
  "The broker's transporter has disconnected. Please try again when a connection is reestablished.";

/**
 * A request, event or ping was sent while the transporter was disconnected (502 `BAD_GATEWAY`).
 * Retryable. As in Moleculer, the stack is emptied: it would only add noise to the logs.
 */
export class BrokerDisconnectedError extends MoleculerRetryableError {
  /**
   * Creates the error.
   *
   * @param message The error message; Moleculer's wording when not given.
   * @param data Any extra data.
   * @param options Standard error options, e.g. `{ cause }`.
   */
  constructor(message?: string, data?: unknown, options?: ErrorOptions) {
    super(message || BROKER_DISCONNECTED_MESSAGE, 502, "BAD_GATEWAY", data, options);
    setName(this, "BrokerDisconnectedError");
    this.stack = "";
  }
}

// ---------------------------------------------------------------------------
// Wire helpers
// ---------------------------------------------------------------------------

/** The plain error object in a RES packet / on the wire. */
export interface PlainError {
  /** The error class name, e.g. `"ValidationError"`. */
  name: string;
  /** The error message. */
  message: string;
  /** The node where the error happened. */
  nodeID?: string;
  /** HTTP-like status code. */
  code?: number;
  /** Machine-readable error type. */
  type?: string;
  /** Whether the call may be retried. */
  retryable?: boolean;
  /** The stack trace on the node where the error happened. */
  stack?: string;
  /** Any extra data. */
  data?: unknown;
}

/**
 * Turns an error into the plain object sent in a `RES` packet (Moleculer's `extractPlainError`).
 *
 * `nodeID` is the error's own `nodeID` when it has one, else the given one. Keys whose value
 * would be `undefined` are left out. A thrown value that is not an `Error` becomes a plain
 * `MoleculerError` (code 500, not retryable, no stack) whose message is the value as a string
 * (or its own `message` string, for error-like objects).
 *
 * @param error The thrown value.
 * @param nodeID The local node ID, used when the error has none.
 * @returns The plain error object.
 *
 * @example
 * ```ts
 * import { MoleculerClientError, toPlain } from "./errors.ts";
 *
 * const plain = toPlain(new MoleculerClientError("bad thing", 418, "TEAPOT", { x: 1 }), "node-b");
 * // { name: "MoleculerClientError", message: "bad thing", nodeID: "node-b", code: 418,
 * //   type: "TEAPOT", retryable: false, stack: "...", data: { x: 1 } }
 * ```
 */
export function toPlain(error: unknown, nodeID: string): PlainError {
  if (!(error instanceof Error)) {
    let message: string;
    if (error === undefined || error === null) message = "Unknown error";
    else if (isRecord(error) && typeof own(error, "message") === "string") {
      message = own(error, "message") as string;
    } else message = str(error);
    return { name: "MoleculerError", message, nodeID, code: 500, type: "", retryable: false };
  }

  // Error instances carry `name`/`message` on their prototype, so read them normally.
  const fields = error as Error & Partial<Record<keyof MoleculerError, unknown>>;
  const name = typeof fields.name === "string" && fields.name !== "" ? fields.name : "Error";
  const message = typeof fields.message === "string" ? fields.message : str(fields.message);
  const ownNodeID = fields.nodeID;

  const plain: PlainError = {
    name,
    message,
    nodeID: typeof ownNodeID === "string" && ownNodeID !== "" ? ownNodeID : nodeID,
  };
  if (typeof fields.code === "number") plain.code = fields.code;
  if (typeof fields.type === "string") plain.type = fields.type;
  if (typeof fields.retryable === "boolean") plain.retryable = fields.retryable;
  if (typeof fields.stack === "string") plain.stack = fields.stack;
  if (fields.data !== undefined) plain.data = fields.data;
  return plain;
}

/** Rebuilds a built-in class from the sanitized fields of a plain error. */
type Rebuilder = (
  message: string,
  code: number | undefined,
  type: string,
  data: unknown,
) => MoleculerError;

const REQUEST_KEYS: readonly string[] = ["action", "nodeID"];

/** Built-in classes by wire name. A `Map`, so names like `__proto__` cannot hit anything. */
const REBUILDERS: ReadonlyMap<string, Rebuilder> = new Map<string, Rebuilder>([
  ["MoleculerError", (m, c, t, d) => new MoleculerError(m, c, t, d)],
  ["MoleculerRetryableError", (m, c, t, d) => new MoleculerRetryableError(m, c, t, d)],
  ["MoleculerServerError", (m, c, t, d) => new MoleculerServerError(m, c, t, d)],
  ["MoleculerClientError", (m, c, t, d) => new MoleculerClientError(m, c, t, d)],
  ["ValidationError", (m, _c, t, d) => new ValidationError(m, t, d)],
  [
    "ServiceNotFoundError",
    (_m, _c, _t, d) =>
      new ServiceNotFoundError(
        pick(d, ["action", "nodeID", "service", "version"]) as ServiceNotFoundErrorData,
      ),
  ],
  [
    "ServiceNotAvailableError",
    (_m, _c, _t, d) =>
      new ServiceNotAvailableError(pick(d, REQUEST_KEYS) as ServiceNotAvailableErrorData),
  ],
  [
    "RequestTimeoutError",
    (_m, _c, _t, d) =>
      new RequestTimeoutError(pick(d, REQUEST_KEYS) as unknown as RequestErrorData),
  ],
  [
    "RequestSkippedError",
    (_m, _c, _t, d) =>
      new RequestSkippedError(pick(d, REQUEST_KEYS) as unknown as RequestErrorData),
  ],
  [
    "RequestRejectedError",
    (_m, _c, _t, d) =>
      new RequestRejectedError(pick(d, REQUEST_KEYS) as unknown as RequestErrorData),
  ],
  [
    "QueueIsFullError",
    (_m, _c, _t, d) =>
      new QueueIsFullError(
        pick(d, ["action", "nodeID", "size", "limit"]) as unknown as QueueIsFullErrorData,
      ),
  ],
  [
    "MaxCallLevelError",
    (_m, _c, _t, d) =>
      new MaxCallLevelError(pick(d, ["nodeID", "level"]) as unknown as MaxCallLevelErrorData),
  ],
  [
    "GracefulStopTimeoutError",
    (_m, _c, _t, d) => {
      // On the wire the data is `{ name, version }` (see the class); Moleculer's own restore
      // loses the service here, we rebuild it.
      const info = pick(d, ["name", "version"]);
      const version = info["version"];
      return new GracefulStopTimeoutError(
        typeof info["name"] === "string"
          ? {
            service: {
              name: info["name"],
              version: typeof version === "string" || typeof version === "number"
                ? version
                : undefined,
            },
          }
          : {},
      );
    },
  ],
  [
    "ProtocolVersionMismatchError",
    (_m, _c, _t, d) =>
      new ProtocolVersionMismatchError(
        pick(d, ["nodeID", "actual", "received"]) as unknown as ProtocolVersionMismatchErrorData,
      ),
  ],
  [
    "InvalidPacketDataError",
    (_m, _c, _t, d) => new InvalidPacketDataError(pick(d, ["type", "packet"])),
  ],
  ["ServiceSchemaError", (m, _c, _t, d) => new ServiceSchemaError(m, d)],
  ["BrokerOptionsError", (m, _c, _t, d) => new BrokerOptionsError(m, d)],
  ["BrokerDisconnectedError", (m, _c, _t, d) => new BrokerDisconnectedError(m, d)],
]);

/**
 * Rebuilds an error received from another node (Moleculer's `Regenerator.restore`).
 *
 * - A built-in class name rebuilds that class with Moleculer's constructor arguments: messages of
 *   the data-only classes (`ServiceNotFoundError`, `RequestTimeoutError`, ...) are regenerated
 *   from `data`, while `code`/`type` are fixed by the class.
 * - Any other name gives a {@linkcode MoleculerError} that keeps the sent `name`, `code`, `type`
 *   and `data`.
 * - Then `retryable` is taken from the payload (when it is a boolean), `nodeID` is the payload's
 *   `nodeID` or else `senderNodeID`, and a non-empty `stack` is copied.
 *
 * The rebuilt error's `data` is the payload's `data` as sent (by reference, never merged), and
 * only own properties of the payload are read, so `__proto__` keys cannot pollute anything. A
 * value that is not an error object gives `MoleculerError("Unknown remote error", 500,
 * "UNKNOWN_ERROR")` with the value as `data`. This function never throws.
 *
 * @param plain The `error` field of a `RES` packet (untrusted).
 * @param senderNodeID The node that sent the packet.
 * @returns The rebuilt error.
 *
 * @example
 * ```ts
 * import { fromPlain, ValidationError } from "./errors.ts";
 *
 * const err = fromPlain(
 *   { name: "ValidationError", message: "Parameters validation error!", code: 422, data: [] },
 *   "node-2",
 * );
 * console.log(err instanceof ValidationError, (err as ValidationError).nodeID); // true "node-2"
 * ```
 */
export function fromPlain(plain: unknown, senderNodeID: string): Error {
  if (!isRecord(plain)) {
    const err = new MoleculerError("Unknown remote error", 500, "UNKNOWN_ERROR", plain);
    err.nodeID = senderNodeID;
    return err;
  }

  const rawName = own(plain, "name");
  const rawMessage = own(plain, "message");
  const rawCode = own(plain, "code");
  const rawType = own(plain, "type");
  const rawRetryable = own(plain, "retryable");
  const rawNodeID = own(plain, "nodeID");
  const rawStack = own(plain, "stack");
  const data = own(plain, "data");

  const named = typeof rawName === "string" && rawName !== "";
  const name = named ? rawName : "MoleculerError";
  const message = typeof rawMessage === "string" ? rawMessage : named ? "" : "Unknown remote error";
  const code = typeof rawCode === "number" && Number.isFinite(rawCode) ? rawCode : undefined;
  const type = typeof rawType === "string" ? rawType : named ? "" : "UNKNOWN_ERROR";

  let err: MoleculerError;
  const rebuild = REBUILDERS.get(name);
  if (rebuild) {
    err = rebuild(message, code, type, data);
    // Keep the data exactly as sent: data-only constructors only got a sanitized copy to build
    // their message from. ServiceNotFoundError defaults its data to `{}`, as in Moleculer.
    err.data = data === undefined && name === "ServiceNotFoundError" ? {} : data;
  } else {
    err = new MoleculerError(message, code, type, data);
    setName(err, name);
  }

  if (typeof rawRetryable === "boolean") err.retryable = rawRetryable;
  err.nodeID = typeof rawNodeID === "string" && rawNodeID !== "" ? rawNodeID : senderNodeID;
  if (typeof rawStack === "string" && rawStack !== "") err.stack = rawStack;
  return err;
}

/** What a received error travels with: the packet's fields, `sender` first of all. */
export interface RegeneratorPayload {
  /** The node that sent the packet. */
  sender?: string;
  /** Other packet fields. */
  [key: string]: unknown;
}

/**
 * Turns errors into plain wire objects and back, as Moleculer's `Errors.Regenerator`: extend it
 * and override {@linkcode Regenerator.restoreCustomError} (and {@linkcode
 * Regenerator.extractPlainError}) to carry your own error classes across nodes, then pass an
 * instance as the broker's `errorRegenerator` option.
 *
 * @example Rebuild a custom error class
 * ```ts
 * import { MoleculerError, Regenerator } from "./errors.ts";
 *
 * class QuotaError extends MoleculerError {}
 * class MyRegenerator extends Regenerator {
 *   override restoreCustomError(plain: { name: string; message: string }) {
 *     return plain.name === "QuotaError" ? new QuotaError(plain.message, 429) : undefined;
 *   }
 * }
 * const err = new MyRegenerator().restore({ name: "QuotaError", message: "Slow down" }, {
 *   sender: "node-2",
 * });
 * console.log(err instanceof QuotaError); // true
 * ```
 */
export class Regenerator {
  /** The broker it serves, once {@linkcode Regenerator.init} ran. */
  broker: { readonly nodeID: string } | undefined;

  /**
   * Bind to a broker (called by the broker).
   *
   * @param broker The broker.
   */
  init(broker: { readonly nodeID: string }): void {
    this.broker = broker;
  }

  /**
   * Rebuild an error received from another node: {@linkcode Regenerator.restoreCustomError}
   * first, else the built-in classes by Moleculer's rules (see {@linkcode fromPlain}).
   *
   * @param plainError The `error` field of a `RES` packet (untrusted).
   * @param payload The packet (its `sender` is the fallback `nodeID`).
   * @returns The rebuilt error.
   */
  restore(plainError: unknown, payload: RegeneratorPayload = {}): Error {
    const sender = typeof payload.sender === "string" ? payload.sender : "";
    const custom = isRecord(plainError)
      ? this.restoreCustomError(plainError as unknown as PlainError, payload)
      : undefined;
    if (!custom) return fromPlain(plainError, sender);
    const plain = plainError as Record<string, unknown>;
    const target = custom as Error & { retryable?: unknown; nodeID?: unknown };
    if (typeof own(plain, "retryable") === "boolean") target.retryable = own(plain, "retryable");
    const nodeID = own(plain, "nodeID");
    target.nodeID = typeof nodeID === "string" && nodeID !== "" ? nodeID : sender;
    const stack = own(plain, "stack");
    if (typeof stack === "string" && stack !== "") custom.stack = stack;
    return custom;
  }

  /**
   * The plain object sent for an error (see {@linkcode toPlain}).
   *
   * @param error The thrown value.
   * @param _payload The packet being built (unused here; for subclasses).
   * @returns The plain error.
   */
  extractPlainError(error: unknown, _payload?: RegeneratorPayload): PlainError {
    return toPlain(error, this.broker?.nodeID ?? "");
  }

  /**
   * Hook for subclasses: rebuild your own error classes; return `undefined` to fall back to the
   * built-in rules.
   *
   * @param _plainError The received plain error.
   * @param _payload The packet.
   * @returns The rebuilt error, or undefined.
   */
  restoreCustomError(_plainError: PlainError, _payload: RegeneratorPayload): Error | undefined {
    return undefined;
  }
}

/**
 * The regenerator of the broker's `errorRegenerator` option: the one given, else a plain
 * {@linkcode Regenerator} (Moleculer's `resolveRegenerator`).
 *
 * @param option The option's value.
 * @returns A regenerator.
 */
export function resolveRegenerator(option?: unknown): Regenerator {
  return option instanceof Regenerator ? option : new Regenerator();
}

/**
 * Tells whether a failed call may be retried: `true` only when the error's `retryable` is `true`.
 *
 * @param error Any thrown value.
 * @returns `true` for retryable errors.
 *
 * @example
 * ```ts
 * import { isRetryableError, RequestTimeoutError, ValidationError } from "./errors.ts";
 *
 * isRetryableError(new RequestTimeoutError({ action: "a", nodeID: "n" })); // true
 * isRetryableError(new ValidationError("bad")); // false
 * ```
 */
export function isRetryableError(error: unknown): boolean {
  return typeof error === "object" && error !== null &&
    (error as { retryable?: unknown }).retryable === true;
}

/**
 * Every error class by name, like Moleculer's `require("moleculer").Errors`.
 *
 * @example
 * ```ts
 * import { Errors } from "./errors.ts";
 *
 * const err = new Errors.MoleculerClientError("Not allowed", 403, "FORBIDDEN");
 * ```
 */
export const Errors: {
  readonly ExtendableError: typeof ExtendableError;
  readonly TimeoutError: typeof TimeoutError;
  readonly Regenerator: typeof Regenerator;
  readonly MoleculerError: typeof MoleculerError;
  readonly MoleculerRetryableError: typeof MoleculerRetryableError;
  readonly MoleculerServerError: typeof MoleculerServerError;
  readonly MoleculerClientError: typeof MoleculerClientError;
  readonly ServiceNotFoundError: typeof ServiceNotFoundError;
  readonly ServiceNotAvailableError: typeof ServiceNotAvailableError;
  readonly RequestTimeoutError: typeof RequestTimeoutError;
  readonly RequestSkippedError: typeof RequestSkippedError;
  readonly RequestRejectedError: typeof RequestRejectedError;
  readonly QueueIsFullError: typeof QueueIsFullError;
  readonly ValidationError: typeof ValidationError;
  readonly MaxCallLevelError: typeof MaxCallLevelError;
  readonly ServiceSchemaError: typeof ServiceSchemaError;
  readonly BrokerOptionsError: typeof BrokerOptionsError;
  readonly GracefulStopTimeoutError: typeof GracefulStopTimeoutError;
  readonly ProtocolVersionMismatchError: typeof ProtocolVersionMismatchError;
  readonly InvalidPacketDataError: typeof InvalidPacketDataError;
  readonly BrokerDisconnectedError: typeof BrokerDisconnectedError;
} = Object.freeze({
  ExtendableError,
  TimeoutError,
  Regenerator,
  MoleculerError,
  MoleculerRetryableError,
  MoleculerServerError,
  MoleculerClientError,
  ServiceNotFoundError,
  ServiceNotAvailableError,
  RequestTimeoutError,
  RequestSkippedError,
  RequestRejectedError,
  QueueIsFullError,
  ValidationError,
  MaxCallLevelError,
  ServiceSchemaError,
  BrokerOptionsError,
  GracefulStopTimeoutError,
  ProtocolVersionMismatchError,
  InvalidPacketDataError,
  BrokerDisconnectedError,
});

for (const cls of Object.values(Errors)) BUILT_IN.add(cls);
