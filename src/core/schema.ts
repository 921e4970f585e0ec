/**
 * The service schema language: what a Moleculer-style service definition may say (actions,
 * events, hooks, lifecycle handlers, dependencies) and the per-action options of the features
 * that read it (params, cache, retry policy, circuit breaker, bulkhead). The features own their
 * defaults and checks; the words live here so that services and features share one vocabulary.
 *
 * @module
 */

import type { Context } from "./context.ts";
import type { StrategyOption, StrategyOptions } from "./strategy.ts";

/** Who may call an action: `published`/`public` from anywhere, `protected`/`private` only locally. */
export type Visibility = "published" | "public" | "protected" | "private";

/** An action handler. `this` is the service. */
// deno-lint-ignore no-explicit-any
export type ActionHandler<S = any> = (this: S, ctx: Context<any, any>) => unknown;

/** An event handler. `this` is the service. */
// deno-lint-ignore no-explicit-any
export type EventHandler<S = any> = (this: S, ctx: Context<any, any>) => unknown;

/** A hook: a function, or the name of a service method. */
// deno-lint-ignore no-explicit-any
export type Hook = string | ((this: any, ctx: Context<any, any>, value?: any) => unknown);

/** Per-action hooks on an action definition. */
export interface ActionHooks {
  /** Run before the handler with `(ctx)`. */
  before?: Hook | Hook[];
  /** Run after the handler with `(ctx, result)`; each returns the (new) result. */
  after?: Hook | Hook[];
  /** Run on failure with `(ctx, error)`; return a value to recover, or throw. */
  error?: Hook | Hook[];
}

/** Service-level hooks, keyed by action name (`*` for all, `a|b` and wildcards allowed). */
export interface ServiceHooks {
  /** Hooks run before matching actions, with `(ctx)`. */
  before?: Record<string, Hook | Hook[]>;
  /** Hooks run after matching actions, with `(ctx, result)`. */
  after?: Record<string, Hook | Hook[]>;
  /** Hooks run when matching actions fail, with `(ctx, error)`. */
  error?: Record<string, Hook | Hook[]>;
}

/** An action in a schema: a handler plus options. */
export interface ActionSchema {
  /** Action name; defaults to the key. */
  name?: string;
  /** The handler. */
  handler?: ActionHandler | ActionHandler[];
  /** Params schema (fastest-validator rules or required keys). */
  params?: ParamsSchema;
  /** Visibility. @default {"published"} */
  visibility?: Visibility;
  /** Timeout in ms. */
  timeout?: number;
  /** Hooks of this action. */
  hooks?: ActionHooks;
  /** Balancing strategy of this action's endpoint list (announced: callers use it too). */
  strategy?: StrategyOption;
  /** Options of that strategy, e.g. `{ shardKey: "#tenant" }`. */
  strategyOptions?: StrategyOptions;
  /** Retry policy of this action, over the broker's `retryPolicy` (announced: callers use it). */
  retryPolicy?: RetryPolicyOptions | boolean;
  /** Circuit breaker of this action, over the broker's `circuitBreaker` (announced). */
  circuitBreaker?: CircuitBreakerOptions | boolean;
  /** Concurrency limit of this action on this node, over the broker's `bulkhead`. */
  bulkhead?: BulkheadOptions | boolean;
  /** Answer with this when the handler fails: a function `(ctx, err)` or a method name. */
  // deno-lint-ignore no-explicit-any
  fallback?: string | ((this: any, ctx: Context<any, any>, error: unknown) => unknown);
  /** Track calls of this action for a graceful stop, whatever the broker's `tracking.enabled`. */
  tracking?: boolean;
  /**
   * Cache results through the broker's `cacher` (ignored without one): `true` keys them by all
   * params; `{ keys: ["id", "#user.id", "@tenant"], ttl: 30 }` by those params, meta (`#`) and
   * header (`@`) values, for `ttl` seconds; `enabled: false` or a function `(ctx) => boolean`
   * turns it off.
   */
  cache?: boolean | ActionCacheOptions;
  /** Other keys pass through to the action definition other nodes see. */
  [key: string]: unknown;
}

/** An event subscription in a schema. */
export interface EventSchema {
  /** Event name; defaults to the key. */
  name?: string;
  /** The handler (a mixin merge may give several). */
  handler?: EventHandler | EventHandler[];
  /** Balancing group. @default {service name} */
  group?: string;
  /** Params schema for the event data. */
  params?: ParamsSchema;
  /** Run the handler at most once per this many ms; events in between are dropped. */
  throttle?: number;
  /** Run the handler once, this many ms after the last event of a burst, with that event. */
  debounce?: number;
  /** Concurrency limit of this handler, over the broker's `bulkhead`. */
  bulkhead?: BulkheadOptions | boolean;
  /** Track runs of this handler for a graceful stop, whatever the broker's `tracking.enabled`. */
  tracking?: boolean;
  /** Other keys pass through. */
  [key: string]: unknown;
}

/** A lifecycle handler; `this` is the service. */
// deno-lint-ignore no-explicit-any
export type LifecycleHandler = (this: any) => void | Promise<void>;

/**
 * A `merged` handler: called once the mixins are merged, with `this` the service and the merged
 * schema, which it may still change (Moleculer's `merged(schema)`).
 */
// deno-lint-ignore no-explicit-any
export type MergedHandler = (this: any, schema: ServiceSchema) => void;

/** A method in a schema: a function, or `{ handler, ...custom keys }` read by middlewares. */
export type MethodSchema =
  // deno-lint-ignore no-explicit-any
  | ((this: any, ...args: any[]) => unknown)
  // deno-lint-ignore no-explicit-any
  | { handler: (this: any, ...args: any[]) => unknown; [key: string]: unknown };

/** A dependency: a service name (`"v2.users"`) or `{ name, version }`. */
export type ServiceDependency = string | {
  name: string;
  version?: string | number;
};

/** A Moleculer-style service schema. */
export interface ServiceSchema {
  /** Service name. Required. */
  name: string;
  /** Version: `2` gives full name `v2.<name>`, `"staging"` gives `staging.<name>`. */
  version?: string | number;
  /** Settings; `$secureSettings` keys are not announced to other nodes. */
  settings?: Record<string, unknown>;
  /** Metadata announced to other nodes. */
  metadata?: Record<string, unknown>;
  /** Schemas merged under this one (a single schema is accepted too, as in Moleculer). */
  mixins?: MixinSchema | MixinSchema[];
  /** Services to wait for before `started` runs. */
  dependencies?: ServiceDependency | ServiceDependency[];
  /**
   * Actions by name: a handler, a definition, or `false` to drop a mixin's action (typed
   * `boolean` so that plain JavaScript schemas, where `false` widens, type-check too).
   */
  actions?: Record<string, ActionHandler | ActionSchema | boolean>;
  /** Event subscriptions by name. */
  events?: Record<string, EventHandler | EventSchema>;
  /** Methods bound to the service: functions, or `{ handler }` objects. */
  methods?: Record<string, MethodSchema>;
  /** Action hooks. */
  hooks?: ServiceHooks;
  /** Called after the mixins are merged, with the merged schema. */
  merged?: MergedHandler | MergedHandler[];
  /** Called when the service is created. */
  created?: LifecycleHandler | LifecycleHandler[];
  /** Called when the service starts. */
  started?: LifecycleHandler | LifecycleHandler[];
  /** Called when the service stops (handlers of mixins after the service's own). */
  stopped?: LifecycleHandler | LifecycleHandler[];
  /** Other keys are kept on the schema. */
  [key: string]: unknown;
}

/** A mixin: any part of a service schema; its `name` is optional (the service's wins). */
export type MixinSchema = Partial<ServiceSchema>;

/** Everything `new Service(...)` accepts besides a plain name. */
export type ServiceInit = ServiceSchema;

/**
 * A params schema: a fastest-validator schema object, or an array of required keys
 * (Pylecular style: `["name", "age"]` means both keys must be present, with any value).
 */
export type ParamsSchema = Record<string, unknown> | readonly string[];

/**
 * The `cache` property of an action definition (or `cache: true`, which caches by all params
 * with the cacher's ttl).
 */
export interface ActionCacheOptions {
  /**
   * Build the key from these values only, joined with `|`: params paths (`"id"`, `"user.id"`),
   * meta paths after `#` (`"#user.id"`), header paths after `@` (`"@tenant"`). Without `keys`,
   * every param is part of the key.
   */
  keys?: readonly string[];
  /** Seconds a result lives, over the cacher's `ttl`; `0` = no expiry. */
  ttl?: number;
  /**
   * `false` turns caching off for the action; a function decides per call (`this` is the
   * service). @default {true}
   */
  // deno-lint-ignore no-explicit-any
  enabled?: boolean | ((this: any, ctx: Context<any, any>) => boolean);
  /**
   * Concurrent misses of one key wait for a single handler run (Moleculer's `cache.lock`):
   * `true`, or `{ ttl }` (ms the lock lives, default the cacher's 15000) and `{ staleTime }`
   * (seconds of ttl left under which a hit is refreshed in the background). The Redis cacher
   * locks across nodes; other cachers lock within this process. @default {false}
   */
  lock?: boolean | { enabled?: boolean; ttl?: number; staleTime?: number };
}

/** Retry policy, broker-wide (`retryPolicy`) or per action (`retryPolicy` in the definition). */
export interface RetryPolicyOptions {
  /** Turn retries on. @default {false} */
  enabled?: boolean;
  /** Most retries after the first attempt; a call's `opts.retries` overrides it. @default {5} */
  retries?: number;
  /** Ms before the first retry. @default {100} */
  delay?: number;
  /** Longest wait between retries in ms. @default {1000} */
  maxDelay?: number;
  /** Each wait is the previous one times this. @default {2} */
  factor?: number;
  /** Which errors are retried. @default {errors whose `retryable` is true} */
  check?: (error: unknown) => boolean;
}

/** Circuit-breaker options, broker-wide (`circuitBreaker`) or per action (`circuitBreaker` in the definition). */
export interface CircuitBreakerOptions {
  /** Turn the breaker on. @default {false} */
  enabled?: boolean;
  /** Failure rate (0–1) in the window that opens the circuit. @default {0.5} */
  threshold?: number;
  /** Window length in seconds; counts start over after it. @default {60} */
  windowTime?: number;
  /** Fewest calls in the window before the rate is looked at. @default {20} */
  minRequestCount?: number;
  /** Ms an open circuit waits before letting a probe call through. @default {10000} */
  halfOpenTime?: number;
  /**
   * Which errors count as failures; others count as successes (the endpoint
   * answered). @default {errors with a code ≥ 500, or no numeric code}
   */
  check?: (error: unknown) => boolean;
}

/** Bulkhead options, broker-wide (`bulkhead`) or per action / event (`bulkhead` in the definition). */
export interface BulkheadOptions {
  /** Turn the bulkhead on. @default {false} */
  enabled?: boolean;
  /** Most calls of one action running at once. @default {10} */
  concurrency?: number;
  /** Most calls waiting; past it calls fail with QueueIsFullError. `0` = no limit. @default {100} */
  maxQueueSize?: number;
}
