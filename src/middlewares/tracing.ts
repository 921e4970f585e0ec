/**
 * Built-in middleware: tracing. Every local action call (requests from other nodes included) and,
 * with `tracing.events`, every local event handler runs inside a span made as Moleculer 0.15's
 * tracing middleware makes it: the span id is the context id, the trace id the request id, the
 * parent the caller's span, the sampling decision the chain's (`ctx.tracing`) or else the
 * tracer's; tags name the call and, by default, carry the params. An action or event may say
 * `tracing: false`, or `tracing: { enabled, tags, spanName }`.
 *
 * With an exporter that joins OpenTelemetry, requests to other nodes carry a W3C `traceparent`
 * header (protocol 5).
 *
 * @module
 */

import type { Context } from "../core/context.ts";
import type { Handler, MiddlewareHooks } from "../core/middleware.ts";
import { nextId } from "../_util/ids.ts";
import { isRecord } from "../_util/values.ts";
import type { SpanTagsOption } from "../tracing/options.ts";
import type { Tracer } from "../tracing/tracer.ts";
import type { Span, SpanOptions } from "../tracing/span.ts";
import { isPromiseLike } from "../_util/async.ts";

/** An action's or event's own `tracing` option. */
export interface HandlerTracingOptions {
  /** Trace this action or event. @default {true} */
  enabled?: boolean;
  /** Its tags; they replace the broker-wide `tracing.tags`. */
  tags?: SpanTagsOption;
  /** The span name, or a function of the context returning it. */
  spanName?: string | ((ctx: Context) => string);
}

function handlerOptions(value: unknown): HandlerTracingOptions {
  if (value === true || value === false) return { enabled: value };
  return isRecord(value) ? value as HandlerTracingOptions : {};
}

function pick(obj: unknown, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!isRecord(obj)) return out;
  for (const k of keys) if (k in obj) out[k] = obj[k];
  return out;
}

function copyOf(value: unknown): unknown {
  return isRecord(value) ? { ...value } : value;
}

/** The `options` tag of a call made without timeout or retries (most of them). */
const NO_CALL_OPTIONS = Object.freeze({ timeout: undefined, retries: undefined });

type TagsFn = (ctx: Context, response?: unknown) => Record<string, unknown> | null | undefined;

/** The tags rule of one handler: its own, else the broker-wide one, params by default. */
function tagsRule(own: SpanTagsOption | undefined, global: SpanTagsOption | null): SpanTagsOption {
  if (typeof own === "function") return own;
  if (!own && typeof global === "function") return global;
  return {
    params: true,
    ...(global as Record<string, unknown> | null),
    ...(own as Record<string, unknown> | undefined),
  };
}

function addRequestTags(tags: Record<string, unknown>, rule: SpanTagsOption, ctx: Context): void {
  if (typeof rule === "function") {
    const r = (rule as TagsFn).call(ctx.service, ctx);
    if (r) Object.assign(tags, r);
    return;
  }
  if (rule.params === true) tags.params = copyOf(ctx.params);
  else if (Array.isArray(rule.params)) tags.params = pick(ctx.params, rule.params);
  if (rule.meta === true) tags.meta = { ...ctx.meta };
  else if (Array.isArray(rule.meta)) tags.meta = pick(ctx.meta, rule.meta);
}

function spanName(opts: HandlerTracingOptions, ctx: Context, fallback: string): string {
  if (typeof opts.spanName === "string") return opts.spanName;
  if (typeof opts.spanName === "function") return opts.spanName.call(ctx.service, ctx);
  return fallback;
}

/** An action's call ended: the tags of its end (`fromCache`, the response), then its span. */
function actionDone(ctx: Context, span: Span, rule: SpanTagsOption, res: unknown): unknown {
  if (span.sampled) {
    // Straight into the span's tags: what `span.addTags({ fromCache, ... })` would do.
    const tags = span.tags;
    tags.fromCache = ctx.cachedResult;
    if (typeof rule === "function") {
      const r = (rule as TagsFn).call(ctx.service, ctx, res);
      if (r) Object.assign(tags, r);
    } else if (rule.response === true) tags.response = copyOf(res);
    else if (Array.isArray(rule.response)) tags.response = pick(res, rule.response);
  }
  ctx.finishSpan(span);
  return res;
}

/** A call or event handler failed: its span ends with the error, which goes on. */
function spanFailed(ctx: Context, span: Span, err: unknown): never {
  span.setError(err);
  ctx.finishSpan(span);
  throw err;
}

/**
 * The tracing middleware of a broker, or null when tracing is off (nothing is wrapped, so a
 * broker without tracing pays nothing for it).
 *
 * @param tracer The broker's tracer.
 * @param nodeID This node's id.
 * @param headers Whether requests carry headers (protocol 5): `traceparent` travels in them.
 * @returns The middleware, or null.
 */
export function tracingMiddleware(
  tracer: Tracer,
  nodeID: string,
  headers: boolean,
): MiddlewareHooks | null {
  if (!tracer.enabled) return null;
  const source = headers ? tracer.traceContext : null;
  const hooks: MiddlewareHooks = { name: "Tracing" };
  if (tracer.opts.actions) {
    hooks.localAction = (next: Handler, action) => {
      const opts = handlerOptions(action.schema.tracing);
      if (opts.enabled === false) return next;
      const rule = tagsRule(opts.tags, tracer.opts.tags.action);
      // The same for every call of this action: one object, not one per span.
      const actionTag = Object.freeze({ name: action.name, rawName: action.rawName });
      const fixedName = typeof opts.spanName === "function"
        ? null
        : opts.spanName ?? `action '${action.name}'`;
      return (ctx: Context) => {
        const sampled = ctx.tracing ?? tracer.sample();
        let tags: Record<string, unknown> | undefined;
        if (sampled) {
          tags = {
            callingLevel: ctx.level,
            action: actionTag,
            remoteCall: ctx.nodeID !== nodeID,
            callerNodeID: ctx.nodeID,
            nodeID,
            options: ctx.options.timeout === undefined && ctx.options.retries === undefined
              ? NO_CALL_OPTIONS
              : { timeout: ctx.options.timeout, retries: ctx.options.retries },
            requestID: ctx.requestID,
          };
          addRequestTags(tags, rule, ctx);
        }
        const spanOpts: SpanOptions = {
          id: ctx.id,
          type: "action",
          traceID: ctx.requestID,
          parentID: ctx.parentID,
          service: ctx.service,
          sampled,
        };
        if (tags) spanOpts.tags = tags;
        const span = ctx.startSpan(fixedName ?? spanName(opts, ctx, ""), spanOpts);
        ctx.tracing = span.sampled;
        let result: unknown;
        try {
          result = next(ctx);
        } catch (err) {
          return spanFailed(ctx, span, err);
        }
        // A handler that returned its value (no promise): its span ends now, without closures.
        if (!isPromiseLike(result)) return actionDone(ctx, span, rule, result);
        return Promise.resolve(result).then(
          (res) => actionDone(ctx, span, rule, res),
          (err) => spanFailed(ctx, span, err),
        );
      };
    };
  }
  if (tracer.opts.events) {
    hooks.localEvent = (next: Handler, event) => {
      const opts = handlerOptions(event.schema.tracing);
      if (opts.enabled === false) return next;
      const rule = tagsRule(opts.tags, tracer.opts.tags.event);
      const service = event.service;
      return (ctx: Context) => {
        const sampled = ctx.tracing ?? tracer.sample();
        let tags: Record<string, unknown> | undefined;
        if (sampled) {
          tags = {
            event: { name: event.name, group: event.group },
            eventName: ctx.eventName,
            eventType: ctx.eventType,
            callerNodeID: ctx.nodeID,
            callingLevel: ctx.level,
            remoteCall: ctx.nodeID !== nodeID,
            nodeID,
            requestID: ctx.requestID,
          };
          addRequestTags(tags, rule, ctx);
        }
        // Every handler of one event shares its context id: each span gets its own id.
        const spanOpts: SpanOptions = {
          id: nextId(),
          type: "event",
          traceID: ctx.requestID,
          parentID: ctx.parentID,
          service,
          sampled,
        };
        if (tags) spanOpts.tags = tags;
        const span = ctx.startSpan(
          spanName(opts, ctx, `event '${ctx.eventName}' in '${service.fullName}'`),
          spanOpts,
        );
        ctx.tracing = span.sampled;
        let result: unknown;
        try {
          result = next(ctx);
        } catch (err) {
          return spanFailed(ctx, span, err);
        }
        if (!isPromiseLike(result)) return ctx.finishSpan(span);
        return Promise.resolve(result).then(
          () => ctx.finishSpan(span),
          (err) => spanFailed(ctx, span, err),
        );
      };
    };
  }
  if (source) {
    hooks.remoteAction = (next: Handler) => (ctx: Context) => {
      const tp = ctx.parentID !== null ? source.traceparent(ctx.parentID) : undefined;
      if (tp !== undefined) ctx.headers = { ...ctx.headers, traceparent: tp };
      return next(ctx);
    };
  }
  return hooks;
}
