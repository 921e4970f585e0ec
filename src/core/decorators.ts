/**
 * TC39 standard decorators for class-style services: `@action`, `@event`, `@method`.
 *
 * They only record what was decorated; the broker reads the records when the
 * service is registered.
 *
 * @module
 */

import type { ParamsSchema } from "./schema.ts";
import type { Visibility } from "./schema.ts";
import type { ActionCacheOptions } from "./schema.ts";

/** Options of {@linkcode action}. Extra keys are kept and announced to other nodes, as Moleculer does. */
export interface ActionOptions {
  /** Action name (without the service prefix); defaults to the method name. */
  name?: string;
  /** Params schema: fastest-validator rules, or an array of required keys. */
  params?: ParamsSchema;
  /** Who may call it. @default {"published"} */
  visibility?: Visibility;
  /** Timeout in ms for calls of this action. */
  timeout?: number;
  /**
   * Cache results through the broker's `cacher`: `true`, or `{ keys, ttl, enabled }` (see
   * `ActionSchema.cache`).
   */
  cache?: boolean | ActionCacheOptions;
  /** Any other definition key (e.g. `rest`), passed through. */
  [key: string]: unknown;
}

/** Options of {@linkcode event}. */
export interface EventOptions {
  /** Event name, wildcards allowed (`user.*`, `**`); defaults to the method name. */
  name?: string;
  /** Group for balanced delivery; defaults to the service name. */
  group?: string;
  /** Params schema for the event data. */
  params?: ParamsSchema;
  /** Any other definition key, passed through. */
  [key: string]: unknown;
}

/** One decorated member of a service instance. */
export interface DecoratedMember {
  readonly kind: "action" | "event" | "method";
  readonly key: string;
  readonly options: ActionOptions | EventOptions;
}

const MEMBERS: unique symbol = Symbol("denolecular.decorated");

type Decorated = { [MEMBERS]?: DecoratedMember[] };

/**
 * The members of `instance` marked with `@action`, `@event` or `@method`,
 * in declaration order (base classes first; a subclass that re-decorates an
 * overridden method replaces the base class's entry in place).
 *
 * @param instance A service instance.
 * @returns The decorated members.
 */
export function decoratedMembers(instance: object): readonly DecoratedMember[] {
  return (instance as Decorated)[MEMBERS] ?? [];
}

/** A class method, as TC39 decorators receive it. */
// deno-lint-ignore no-explicit-any
export type Method = (this: any, ...args: any[]) => any;
/** A TC39 method decorator, as `@action(...)` and `@event(...)` return. */
export type MethodDecorator = (value: Method, context: ClassMethodDecoratorContext) => void;

function record(
  kind: DecoratedMember["kind"],
  options: ActionOptions | EventOptions,
): MethodDecorator {
  return (_value, context) => {
    if (context.kind !== "method" || context.static || context.private) {
      throw new TypeError(
        `@${kind} decorates public instance methods only; '${String(context.name)}' is not one`,
      );
    }
    const key = String(context.name);
    context.addInitializer(function (this: unknown) {
      const list = (this as Decorated)[MEMBERS] ??= [];
      // A subclass re-decorating an overridden method replaces the base class's record.
      const i = list.findIndex((m) => m.kind === kind && m.key === key);
      if (i === -1) list.push({ kind, key, options });
      else list[i] = { kind, key, options };
    });
  };
}

function isDecoratorCall(
  args: unknown[],
): args is [Method, ClassMethodDecoratorContext] {
  return typeof args[0] === "function" && typeof args[1] === "object" &&
    args[1] !== null &&
    "kind" in args[1];
}

/**
 * Mark a method as an action. The method receives a {@linkcode Context}.
 *
 * @param options Action options, or none for `@action` bare.
 * @returns The decorator.
 * @throws {TypeError} when put on a static or private member.
 *
 * @example
 * ```ts ignore
 * class Greeter extends Service {
 *   constructor() { super("greeter"); }
 *   @action({ params: { name: "string" } })
 *   hello(ctx: Context<{ name: string }>) { return `Hello, ${ctx.params.name}!`; }
 * }
 * ```
 */
export function action(options?: ActionOptions): MethodDecorator;
/** Bare form: `@action` with no options. */
export function action(
  value: Method,
  context: ClassMethodDecoratorContext,
): void;
export function action(...args: unknown[]): MethodDecorator | void {
  if (isDecoratorCall(args)) return record("action", {})(...args);
  return record("action", (args[0] as ActionOptions | undefined) ?? {});
}

/**
 * Mark a method as an event handler. The method receives a {@linkcode Context}
 * whose `params` is the event data.
 *
 * @param options Event options, or none for `@event` bare (the method name is the event name).
 * @returns The decorator.
 * @throws {TypeError} when put on a static or private member.
 *
 * @example
 * ```ts ignore
 * class Audit extends Service {
 *   constructor() { super("audit"); }
 *   @event({ name: "user.*", group: "audit" })
 *   onUser(ctx: Context<{ id: number }>) { console.log(ctx.eventName, ctx.params.id); }
 * }
 * ```
 */
export function event(options?: EventOptions): MethodDecorator;
/** Bare form: `@event` with no options. */
export function event(
  value: Method,
  context: ClassMethodDecoratorContext,
): void;
export function event(...args: unknown[]): MethodDecorator | void {
  if (isDecoratorCall(args)) return record("event", {})(...args);
  return record("event", (args[0] as EventOptions | undefined) ?? {});
}

/**
 * Mark a method as a service method: callable as `this.name(...)` and usable
 * by name in hooks (`hooks: { before: { "*": "checkAuth" } }`).
 *
 * @param value The method.
 * @param context The decorator context.
 */
export function method(
  value: Method,
  context: ClassMethodDecoratorContext,
): void {
  record("method", {})(value, context);
}
