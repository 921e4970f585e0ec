/**
 * Typed calls and events: the compiler checks `broker.call`, `ctx.call`, `emit` and `broadcast`
 * against two registries the application fills by declaration merging. A name in the registry
 * gets its params checked and its result typed; any other name compiles as before (params and
 * result `unknown`), so a code base adopts types one service at a time. Types only: nothing here
 * exists at run time.
 *
 * Register local services with one line each ({@linkcode SchemaActions} for a schema typed
 * `as const satisfies ServiceSchema`, {@linkcode ClassActions} for a class with decorators), and
 * the services of other nodes with the declarations `denolecular types -t <url>` writes.
 *
 * @example Registering a schema service (tests/types/ checks this and every wrong use)
 * ```ts ignore
 * import { type Context, type SchemaActions, ServiceBroker, type ServiceSchema } from "@denolecular/denolecular";
 *
 * const math = {
 *   name: "math",
 *   actions: {
 *     add: {
 *       params: { a: "number", b: "number" },
 *       handler: (ctx: Context<{ a: number; b: number }>) => ctx.params.a + ctx.params.b,
 *     },
 *   },
 * } as const satisfies ServiceSchema;
 *
 * declare module "@denolecular/denolecular" {
 *   interface ServiceActions extends SchemaActions<typeof math> {}
 * }
 *
 * const broker = new ServiceBroker({ logger: false });
 * broker.createService(math);
 * await broker.start();
 * const sum: number = await broker.call("math.add", { a: 1, b: 2 }); // checked, typed number
 * console.log(sum); // 3
 * await broker.stop();
 * ```
 *
 * @module
 */

import type { CallOptions, Context, EmitOptions } from "./context.ts";
import type { Service } from "./service.ts";

/**
 * The actions the compiler knows, by full name: `{ params: P; result: R }` each. Empty here;
 * extend it by declaration merging (`declare module "<how you import denolecular>"`).
 *
 * @example
 * ```ts ignore
 * declare module "@denolecular/denolecular" {
 *   interface ServiceActions {
 *     "greeter.hello": { params: { name: string }; result: string };
 *   }
 * }
 * ```
 */
// deno-lint-ignore no-empty-interface
export interface ServiceActions {}

/**
 * The events the compiler knows, by name: `{ params: P }` each (the payload type). Empty here;
 * extend it as {@linkcode ServiceActions}.
 */
// deno-lint-ignore no-empty-interface
export interface ServiceEvents {}

/** What a {@linkcode ServiceActions} entry holds. */
export interface ActionTypes {
  /** The params the action accepts. */
  readonly params?: unknown;
  /** What the action resolves to (a promise is unwrapped). */
  readonly result?: unknown;
}

/** What a {@linkcode ServiceEvents} entry holds. */
export interface EventTypes {
  /** The payload the event carries. */
  readonly params?: unknown;
}

/** A full action name the compiler knows. */
export type KnownAction = keyof ServiceActions & string;

/** An event name the compiler knows. */
export type KnownEvent = keyof ServiceEvents & string;

/** The params type of an action name: the registered one, or `unknown`. */
export type ActionParams<N extends string> = N extends KnownAction
  ? ServiceActions[N] extends { readonly params: infer P } ? P : unknown
  : unknown;

/** The result type of an action name: the registered one (unwrapped), or `unknown`. */
export type ActionResult<N extends string> = N extends KnownAction
  ? ServiceActions[N] extends { readonly result: infer R } ? Awaited<R> : unknown
  : unknown;

/** The payload type of an event name: the registered one, or `unknown`. */
export type EventParams<N extends string> = N extends KnownEvent
  ? ServiceEvents[N] extends { readonly params: infer P } ? P : unknown
  : unknown;

/** True when an empty object (or nothing) satisfies `P`, so params may be left out. */
export type Omittable<P> = Record<string, never> extends P ? true
  : undefined extends P ? true
  : false;

/** The arguments after the name of a call to a known action: params required unless omittable. */
export type CallArgs<N extends string> = Omittable<ActionParams<N>> extends true
  ? [params?: ActionParams<N>, opts?: CallOptions]
  : [params: ActionParams<N>, opts?: CallOptions];

/** The arguments after the name of an event the compiler knows. */
export type EmitArgs<N extends string> = Omittable<EventParams<N>> extends true
  ? [data?: EventParams<N>, opts?: EmitOptions]
  : [data: EventParams<N>, opts?: EmitOptions];

/**
 * A name the compiler does not know, for the untyped overloads: a registered name maps to
 * `never`, so a known name cannot escape its check by falling through to them.
 */
export type UnknownName<N extends string, Known extends string> = N extends Known ? never : N;

// ---- Deriving entries from services ----------------------------------------------------------

/** Any function: a handler of any shape. */
// deno-lint-ignore no-explicit-any
export type AnyFn = (...args: any[]) => unknown;

/** The params of a handler: the `P` of its `Context<P>` parameter, `unknown` when none. */
export type HandlerParams<H> = H extends (ctx: infer C, ...rest: infer _) => unknown
  ? C extends Context<infer P, infer _M> ? P : unknown
  : unknown;

/** The handler of an action or event definition (itself when it is a function). */
export type HandlerOf<D> = D extends AnyFn ? D
  : D extends { readonly handler: infer H } ? (H extends readonly (infer F)[] ? F : H)
  : never;

/** Params declared by a definition's handler context type, else those of its `params` schema. */
export type DefinitionParams<D> = unknown extends HandlerParams<HandlerOf<D>>
  ? D extends { readonly params: infer S } ? ParamsFromSchema<S> : unknown
  : HandlerParams<HandlerOf<D>>;

/**
 * The {@linkcode ServiceActions} entry of one action: a handler, a schema action definition or a
 * class method. Params come from the handler's `Context<P>`, else from its fastest-validator
 * `params` schema; the result is the handler's return type.
 */
export type ActionOf<D> = {
  params: DefinitionParams<D>;
  result: HandlerOf<D> extends AnyFn ? Awaited<ReturnType<HandlerOf<D>>> : unknown;
};

/** The {@linkcode ServiceEvents} entry of one event handler or event definition. */
export type EventOf<D> = { params: DefinitionParams<D> };

/** The full-name prefix of a schema: `v2.`, `staging.` or nothing, as Moleculer builds it. */
export type VersionPrefix<S> = S extends { readonly settings: { readonly $noVersionPrefix: true } }
  ? ""
  : S extends { readonly version: infer V extends number } ? `v${V}.`
  : S extends { readonly version: infer V extends string } ? `${V}.`
  : "";

/** A schema's full name, e.g. `"v2.greeter"`. */
export type SchemaFullName<S> = S extends { readonly name: infer N extends string }
  ? `${VersionPrefix<S>}${N}`
  : never;

/** The name of a definition: its `name` key, else its key `K` in the schema. */
// A function's own `name` is not an action name: only a definition's `name` key renames.
export type NameOf<D, K extends string> = D extends AnyFn ? K
  : D extends { readonly name: infer N extends string } ? (string extends N ? K : N)
  : K;

/**
 * The {@linkcode ServiceActions} entries of a schema service, keyed by full action name
 * (version prefix included). The schema needs its literal types: declare it
 * `as const satisfies ServiceSchema`. An action set to `false` is left out.
 *
 * @typeParam S The schema's type (`typeof schema`).
 */
export type SchemaActions<S> = S extends { readonly actions: infer A } ? {
    -readonly [
      K in keyof A & string as A[K] extends false ? never
        : `${SchemaFullName<S>}.${NameOf<A[K], K>}`
    ]: ActionOf<A[K]>;
  }
  : Record<never, never>;

/**
 * The {@linkcode ServiceEvents} entries of a schema service's event handlers, by event name;
 * wildcard subscriptions (`user.*`) are left out, as they name no one event.
 *
 * @typeParam S The schema's type (`typeof schema`).
 */
export type SchemaEvents<S> = S extends { readonly events: infer E } ? {
    -readonly [
      K in keyof E & string as NameOf<E[K], K> extends `${string}*${string}` ? never
        : NameOf<E[K], K>
    ]: EventOf<E[K]>;
  }
  : Record<never, never>;

/** Methods of a class service that take a `Context` first: its action handlers. */
export type ContextMethods<C> = {
  [K in Exclude<keyof C, keyof Service> & string]: C[K] extends // deno-lint-ignore no-explicit-any
  (ctx: Context<any, any>, ...rest: infer _) => unknown ? K
    : never;
}[Exclude<keyof C, keyof Service> & string];

/**
 * The {@linkcode ServiceActions} entries of a class service with `@action` methods. A class's
 * name lives in its constructor, out of the compiler's reach, so it is given here; every method
 * taking a `Context` first becomes `<name>.<method>` unless `Keys` names the actions.
 *
 * @typeParam Name The service's full name, e.g. `"v2.greeter"`.
 * @typeParam C The class (`Greeter`, the instance type).
 * @typeParam Keys The action methods, when not every context-taking method is an action.
 */
export type ClassActions<
  Name extends string,
  C,
  Keys extends ContextMethods<C> = ContextMethods<C>,
> = { [K in Keys as `${Name}.${K}`]: ActionOf<C[K]> };

// ---- fastest-validator schemas as types --------------------------------------------------------

/** A string without surrounding spaces. */
export type Trim<S extends string> = S extends ` ${infer R}` ? Trim<R>
  : S extends `${infer R} ` ? Trim<R>
  : S;

/** The rule type of a shorthand rule: `"string"` of `"string|optional|min:3"`. */
export type ShorthandType<S extends string> = S extends `${infer T}|${string}` ? Trim<T> : Trim<S>;
/** True when a shorthand rule carries the `optional` flag. */
export type ShorthandOptional<S extends string> = S extends `${string}|${infer Rest}`
  ? `|${Rest}|` extends `${string}|optional|${string}` ? true : false
  : false;

/** The TypeScript type of a fastest-validator rule type name. */
export type TypeOfName<T extends string> = T extends
  "string" | "email" | "url" | "uuid" | "objectID" ? string
  : T extends "number" ? number
  : T extends "boolean" ? boolean
  : T extends "date" ? Date
  : T extends "array" ? unknown[]
  : T extends "object" ? Record<string, unknown>
  : T extends "function" ? AnyFn
  : T extends "null" ? null
  : unknown;

/**
 * The TypeScript type a fastest-validator rule accepts: the shorthand `"number"`, an object
 * rule (`{ type: "object", props }`, `{ type: "array", items }`, `{ type: "enum", values }`,
 * `{ type: "equal", value }`), or an array of rules (fastest-validator's multi rule).
 */
export type RuleType<R> = R extends string ? TypeOfName<ShorthandType<R>>
  : R extends readonly unknown[] ? RuleType<R[number]>
  : R extends { readonly type: "object"; readonly props: infer P } ? ParamsFromSchema<P>
  : R extends { readonly type: "array"; readonly items: infer I } ? RuleType<I>[]
  : R extends { readonly type: "enum"; readonly values: readonly (infer V)[] } ? V
  : R extends { readonly type: "equal"; readonly value: infer V } ? V
  : R extends { readonly type: "multi"; readonly rules: readonly (infer M)[] } ? RuleType<M>
  : R extends { readonly type: infer T extends string } ? TypeOfName<T>
  : unknown;

/** True when the caller may leave the key out: `optional: true`, a default, or `|optional`. */
export type RuleOptional<R> = R extends string ? ShorthandOptional<R>
  : R extends readonly unknown[] ? false
  : R extends { readonly optional: true } ? true
  : R extends { readonly default: unknown } ? true
  : false;

/** An intersection shown as one object type. */
export type Simplify<T> = { [K in keyof T]: T[K] } & unknown;

/**
 * The params type a fastest-validator schema accepts (keys starting `$$` are options, not
 * params); an array of required keys (`["a", "b"]`) gives those keys with any value.
 *
 * @example
 * ```ts
 * import type { ParamsFromSchema } from "./typed.ts";
 *
 * const schema = { name: "string", age: "number|optional" } as const;
 * const ok: ParamsFromSchema<typeof schema> = { name: "Ann" }; // age may be left out
 * console.log(ok.name);
 * ```
 */
export type ParamsFromSchema<S> = S extends readonly string[] ? { [K in S[number]]: unknown }
  : S extends object ? Simplify<
      & {
        -readonly [
          K in keyof S & string as K extends `$$${string}` ? never
            : RuleOptional<S[K]> extends true ? never
            : K
        ]: RuleType<S[K]>;
      }
      & {
        -readonly [
          K in keyof S & string as K extends `$$${string}` ? never
            : RuleOptional<S[K]> extends true ? K
            : never
        ]?: RuleType<S[K]>;
      }
    >
  : unknown;
