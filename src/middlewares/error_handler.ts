/**
 * Built-in middleware: Moleculer's `ErrorHandler`. A failed local action, remote call or event
 * handler hands its error to the service's `errorHandler(err, info)` (when its schema has one,
 * with the service as `this`), then to the broker option `errorHandler(err, info)` (with the
 * broker as `this`). A handler that returns a value answers the call with it; one that throws
 * passes the (new) error on. Handlers are wrapped only when one of them exists.
 *
 * @module
 */

import type { Context, ContextAction } from "../core/context.ts";
import type { ActionInfo, EventInfo, Handler, MiddlewareHooks } from "../core/middleware.ts";
import type { Service } from "../core/service.ts";
import { MoleculerError } from "../errors.ts";
import { isPromiseLike } from "../_util/async.ts";

/** What an error handler is told about the failure, as in Moleculer. */
export interface ErrorHandlerInfo {
  /** The context of the call or event, when there is one. */
  readonly ctx?: Context;
  /** The local service, when there is one. */
  readonly service?: Service | null;
  /** The action, for a call. */
  readonly action?: ContextAction | null;
  /** The event, for an event handler. */
  readonly event?: unknown;
  /** The called action's name, for a call that found no endpoint. */
  readonly actionName?: string;
  /** The params of that call. */
  readonly params?: unknown;
  /** The options of that call. */
  readonly opts?: unknown;
}

/** An error handler: returns a value to recover, throws to fail. */
export type ErrorHandler = (this: unknown, err: Error, info: ErrorHandlerInfo) => unknown;

type Owner = { readonly errorHandler?: unknown };

function serviceHandler(service: Service | null | undefined): ErrorHandler | undefined {
  const fn = (service?.schema as Owner | undefined)?.errorHandler;
  return typeof fn === "function" ? fn as ErrorHandler : undefined;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new MoleculerError(String(err), 500);
}

/**
 * The error handler middleware.
 *
 * @param broker The broker, `this` of its handler.
 * @param brokerHandler The `errorHandler` broker option, if any.
 * @returns The middleware.
 */
export function errorHandlerMiddleware(
  broker: unknown,
  brokerHandler: ErrorHandler | undefined,
): MiddlewareHooks {
  const handle = (
    own: ErrorHandler | undefined,
    service: Service | null | undefined,
    err: unknown,
    info: ErrorHandlerInfo,
  ): unknown => {
    const error = asError(err);
    Object.defineProperty(error, "ctx", {
      value: info.ctx,
      writable: true,
      configurable: true,
      enumerable: false,
    });
    if (!own) return brokerHandler!.call(broker, error, info);
    if (!brokerHandler) return own.call(service, error, info);
    return Promise.resolve()
      .then(() => own.call(service, error, info))
      .catch((next) => brokerHandler.call(broker, asError(next), info));
  };
  const wrap =
    (next: Handler, own: ErrorHandler | undefined, info: (ctx: Context) => ErrorHandlerInfo) =>
    (ctx: Context) => {
      const service = ctx.service;
      let result: unknown;
      try {
        result = next(ctx);
      } catch (err) {
        return Promise.resolve().then(() => handle(own, service, err, info(ctx)));
      }
      if (!isPromiseLike(result)) return result;
      return (result as Promise<unknown>).then(
        undefined,
        (err) => handle(own, service, err, info(ctx)),
      );
    };
  const action = (next: Handler, def: ActionInfo): Handler => {
    const own = serviceHandler(def.service);
    if (!own && !brokerHandler) return next;
    return wrap(next, own, (ctx) => ({ ctx, service: ctx.service, action: ctx.action }));
  };
  return {
    name: "ErrorHandler",
    localAction: action,
    remoteAction: action,
    localEvent(next: Handler, def: EventInfo): Handler {
      const own = serviceHandler(def.service);
      if (!own && !brokerHandler) return next;
      return wrap(next, own, (ctx) => ({ ctx, service: ctx.service, event: ctx.event }));
    },
  };
}
