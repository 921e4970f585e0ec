/**
 * The call path of a broker: endpoint choice (balancer, `nodeID`, circuit breaker,
 * `disableBalancer`), the call's context and timeout, meta merged back, and the handler of
 * remote endpoints. `ServiceBroker.call` runs the `call` middleware chain around it.
 *
 * @module
 */

import type { CallOptions, Context } from "../core/context.ts";
import type { ActionInfo, Handler } from "../core/middleware.ts";
import {
  MaxCallLevelError,
  RequestSkippedError,
  ServiceNotAvailableError,
  ServiceNotFoundError,
} from "../errors.ts";
import { withFallbackResponse } from "../middlewares/fallback.ts";
import type { CircuitBreaker } from "../middlewares/circuit_breaker.ts";
import type { ActionEndpoint, Registry } from "../registry/registry.ts";
import { isPromiseLike } from "../_util/async.ts";
import type { BrokerParts, ServiceBroker } from "./broker.ts";

/** Calls of one broker. Internal: the broker owns one. */
export class ActionCalls {
  readonly #broker: ServiceBroker;
  readonly #parts: BrokerParts;
  // Read on every call: kept here rather than looked up through the broker.
  readonly #registry: Registry;
  readonly #breaker: CircuitBreaker;
  readonly #maxCallLevel: number;
  readonly #requestTimeout: number;
  /** `disableBalancer` in effect: calls without a target go through the transporter's queue groups. */
  readonly #noBalancer: boolean;
  /** `disableBalancer`: local action endpoints with the remote chain, which publishes to `REQB`. */
  readonly #balancedEndpoints = new WeakMap<ActionEndpoint, ActionEndpoint>();
  /** The `ContextFactory` option. */
  readonly #factory: typeof Context;
  /** The `uidGenerator` option. */
  readonly #uid: (() => string) | undefined;
  /** The `contextParamsCloning` option. */
  readonly #cloneParams: boolean;

  /**
   * @param broker The broker the calls are made on.
   * @param parts Its registry, breaker, middlewares and transit.
   * @param noBalancer Whether `disableBalancer` is in effect.
   */
  constructor(broker: ServiceBroker, parts: BrokerParts, noBalancer: boolean) {
    this.#broker = broker;
    this.#parts = parts;
    this.#registry = parts.registry;
    this.#breaker = parts.circuitBreaker;
    this.#maxCallLevel = broker.options.maxCallLevel;
    this.#requestTimeout = broker.options.requestTimeout;
    this.#noBalancer = noBalancer;
    this.#factory = broker.options.ContextFactory;
    this.#uid = broker.options.uidGenerator;
    this.#cloneParams = broker.options.contextParamsCloning;
  }

  /**
   * A new call context, by the `ContextFactory`, with the `uidGenerator`'s id and cloned params
   * when those options are set.
   *
   * @param params Params of the call.
   * @param opts Call options.
   * @returns The context.
   */
  context(params: unknown, opts: CallOptions): Context {
    const ctx = this.#factory.create(
      this.#broker,
      this.#cloneParams ? structuredClone(params) : params,
      opts,
    );
    if (this.#uid) withUid(ctx, this.#uid);
    return ctx;
  }

  #findEndpoint(name: string, opts: CallOptions, ctx: Context): ActionEndpoint {
    const list = this.#registry.actions.get(name);
    // While some circuit is open, the balancer skips the endpoints it refuses.
    const breaker = this.#breaker;
    const available = breaker.openCount > 0 ? breaker.isAvailable : undefined;
    if (opts.nodeID !== undefined) {
      const ep = list?.byNode(opts.nodeID);
      if (!ep) {
        throw new ServiceNotFoundError({ action: name, nodeID: opts.nodeID });
      }
      if (available && !available(ep)) {
        throw new ServiceNotAvailableError({ action: name, nodeID: opts.nodeID });
      }
      return ep;
    }
    const ep = list?.next(this.#registry.preferLocal, ctx, available);
    if (!ep) {
      throw list?.items.length
        ? new ServiceNotAvailableError({ action: name })
        : new ServiceNotFoundError({ action: name });
    }
    return ep;
  }

  /**
   * Run one call: pick the endpoint, build the context, apply the timeout rules, run the
   * endpoint's chain, merge the callee's meta back. The `call` middleware chain wraps this.
   *
   * @param name Full action name.
   * @param params Params of the call.
   * @param opts Call options.
   * @returns The action's result.
   */
  call(
    name: string,
    params: unknown,
    opts: CallOptions,
  ): Promise<unknown> {
    let ep: ActionEndpoint;
    let ctx: Context | undefined;
    const parent = opts.parentCtx;
    try {
      const level = parent ? parent.level + 1 : 1;
      if (this.#maxCallLevel > 0 && level > this.#maxCallLevel) {
        throw new MaxCallLevelError({ nodeID: this.#broker.nodeID, level });
      }
      // The context exists before the endpoint is picked: the Shard strategy reads it.
      ctx = this.#factory.create(
        this.#broker,
        this.#cloneParams ? structuredClone(params ?? {}) : params ?? {},
        opts,
      );
      if (this.#uid !== undefined) withUid(ctx, this.#uid);
      // disableBalancer: without opts.nodeID the request goes to REQB (ctx.nodeID null).
      let balanced = false;
      if (this.#noBalancer && opts.nodeID === undefined) {
        ep = this.#balancedEndpoint(name);
        balanced = !ep.local;
      } else ep = this.#findEndpoint(name, opts, ctx);
      let timeout = opts.timeout ?? ep.action.timeout ?? this.#requestTimeout;
      if (parent) {
        const remaining = parent.remainingTime();
        if (remaining !== null) {
          if (remaining <= 0) {
            throw new RequestSkippedError({ action: name, nodeID: ep.id });
          }
          if (timeout <= 0 || remaining < timeout) timeout = remaining;
        }
      }
      ctx.nodeID = balanced ? null : ep.id;
      ctx.timeout = timeout > 0 ? timeout : null;
      ctx.service = ep.local ? ep.service.service : null;
      ctx.action = ep.action;
    } catch (err) {
      if (this.#broker.options.errorHandler) {
        // Moleculer hands a call that found no endpoint to the broker's errorHandler.
        const handled = Promise.reject(err).catch((e) =>
          this.#broker.errorHandler(e, { actionName: name, params, opts })
        );
        if (opts.fallbackResponse === undefined) return handled;
        ctx ??= this.context(params ?? {}, opts);
        ctx.action ??= { name };
        return withFallbackResponse(handled, ctx, opts.fallbackResponse);
      }
      if (opts.fallbackResponse === undefined) return Promise.reject(err);
      ctx ??= this.context(params ?? {}, opts);
      ctx.action ??= { name };
      return withFallbackResponse(Promise.reject(err), ctx, opts.fallbackResponse);
    }
    let result: unknown;
    try {
      result = ep.handler(ctx);
    } catch (err) {
      result = Promise.reject(err);
    }
    if (opts.fallbackResponse !== undefined) {
      result = withFallbackResponse(Promise.resolve(result), ctx, opts.fallbackResponse);
    }
    const target = parent ? parent.meta : opts.meta;
    if (!target) {
      return isPromiseLike(result) ? result as Promise<unknown> : Promise.resolve(result);
    }
    const merge = () => Object.assign(target, ctx.meta);
    return Promise.resolve(result).then(
      (res) => {
        merge();
        return res;
      },
      (err) => {
        merge();
        throw err;
      },
    );
  }

  /**
   * `disableBalancer`: the endpoint of a call without `opts.nodeID`. Any endpoint of the action
   * serves (Moleculer takes the first) as long as its chain publishes to `REQB`: a local one gets
   * the remote chain. A local action that no node can be asked for (visibility `protected`) is
   * called directly; Moleculer would publish it to a `REQB` nobody serves.
   */
  #balancedEndpoint(name: string): ActionEndpoint {
    const ep = this.#registry.actions.get(name)?.items[0];
    if (!ep) throw new ServiceNotFoundError({ action: name });
    if (!ep.local) return ep;
    const visibility = ep.action.visibility;
    if (visibility !== undefined && visibility !== "published" && visibility !== "public") {
      return ep;
    }
    let remote = this.#balancedEndpoints.get(ep);
    if (!remote) {
      remote = { ...ep, local: false, handler: this.remoteHandler(ep.action) };
      this.#balancedEndpoints.set(ep, remote);
    }
    return remote;
  }

  /**
   * The handler of a remote endpoint: the `remoteAction` chain around a transit request.
   *
   * @param info The action.
   * @returns The wrapped handler.
   */
  remoteHandler(info: ActionInfo): Handler {
    return this.#parts.middlewares.wrap("remoteAction", (ctx) => {
      const transit = this.#parts.transit;
      if (!transit) {
        return Promise.reject(
          new ServiceNotAvailableError({ action: info.name }),
        );
      }
      return transit.request(ctx, info.name);
    }, info);
  }
}

/**
 * Give a new context the `uidGenerator`'s id; a context that starts a chain takes it as its
 * requestID too.
 *
 * @param ctx The context, just made.
 * @param uid The generator.
 */
export function withUid(ctx: Context, uid: () => string): void {
  const id = uid();
  if (ctx.requestID === ctx.id) ctx.requestID = id;
  ctx.id = id;
}
