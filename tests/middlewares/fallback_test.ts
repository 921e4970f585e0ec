import assert from "node:assert/strict";
import {
  type ActionInfo,
  type Context,
  MoleculerServerError,
  Service,
  ServiceNotFoundError,
  ServiceSchemaError,
} from "../../mod.ts";
import { fallbackMiddleware } from "../../src/middlewares/fallback.ts";
import { scoped } from "../_helpers/core.ts";
import { cluster, whoService } from "./_cluster.ts";

const boom = (): never => {
  throw new MoleculerServerError("boom", 500, "BOOM");
};

Deno.test("fallbackResponse: a value replaces the error of a failed call", async () => {
  await using broker = scoped();
  broker.createService({ name: "s", actions: { fail: boom, ok: () => "real" } });
  await broker.start();
  assert.deepEqual(await broker.call("s.fail", {}, { fallbackResponse: { cached: true } }), {
    cached: true,
  });
  assert.equal(await broker.call("s.ok", {}, { fallbackResponse: "fb" }), "real");
  // Any value but undefined is a fallback.
  assert.equal(await broker.call("s.fail", {}, { fallbackResponse: null }), null);
  assert.equal(await broker.call("s.fail", {}, { fallbackResponse: 0 }), 0);
  await assert.rejects(broker.call("s.fail"), MoleculerServerError);
});

Deno.test("fallbackResponse: a function gets the call's context and the error", async () => {
  await using c = await cluster([
    { id: "caller" },
    { id: "server", services: [{ name: "s", actions: { fail: boom } }] },
  ], { caller: ["s.fail", 1] });
  const seen: unknown[] = [];
  const result = await c.nodes.caller!.call("s.fail", { id: 7 }, {
    meta: { user: "u1" },
    fallbackResponse: (ctx: Context<{ id: number }>, err: unknown) => {
      seen.push(ctx.action?.name, ctx.params.id, ctx.meta.user, ctx.nodeID, (err as Error).message);
      return Promise.resolve(`fallback for ${ctx.params.id}`);
    },
  });
  assert.equal(result, "fallback for 7");
  assert.deepEqual(seen, ["s.fail", 7, "u1", "server", "boom"]);
});

Deno.test("fallbackResponse: also when no node serves the action", async () => {
  await using broker = scoped();
  await broker.start();
  const seen: unknown[] = [];
  const result = await broker.call("nowhere.go", { a: 1 }, {
    fallbackResponse: (ctx: Context, err: unknown) => {
      seen.push(ctx.action?.name, err instanceof ServiceNotFoundError);
      return "nobody";
    },
  });
  assert.equal(result, "nobody");
  assert.deepEqual(seen, ["nowhere.go", true]);
});

Deno.test("fallbackResponse: applies once, after the retries", async () => {
  let attempts = 0;
  await using broker = scoped({
    retryPolicy: { enabled: true, retries: 2, delay: 1 },
  });
  broker.createService({
    name: "s",
    actions: {
      flaky() {
        if (++attempts < 3) boom();
        return "third time lucky";
      },
      fail() {
        attempts++;
        boom();
      },
    },
  });
  await broker.start();
  assert.equal(await broker.call("s.flaky", {}, { fallbackResponse: "fb" }), "third time lucky");
  attempts = 0;
  assert.equal(await broker.call("s.fail", {}, { fallbackResponse: "fb" }), "fb");
  assert.equal(attempts, 3);
});

Deno.test("fallbackResponse: when every circuit is open, callers get the fallback", async () => {
  await using c = await cluster([
    { id: "caller", options: { circuitBreaker: { enabled: true, minRequestCount: 1 } } },
    { id: "bad", services: [whoService({ failing: true }, boom)] },
  ], { caller: ["who.ami", 1] });
  const caller = c.nodes.caller!;
  assert.equal(await caller.call("who.ami", {}, { fallbackResponse: "fb" }), "fb");
  assert.equal(caller.circuitBreaker.state("bad", "who.ami"), "open");
  assert.equal(await caller.call("who.ami", {}, { fallbackResponse: "fb" }), "fb");
});

Deno.test("action fallback: a function or a method name, with the service as `this`", async () => {
  class Users extends Service {
    constructor() {
      super({
        name: "users",
        settings: { guest: "guest" },
        actions: {
          get: {
            fallback: "guestUser",
            handler: boom,
          },
          list: {
            fallback(this: Service, ctx: Context, err: unknown) {
              return [`${this.settings.guest}`, ctx.params, (err as Error).message];
            },
            handler: boom,
          },
        },
      });
    }
    guestUser(ctx: Context<{ id: number }>, err: unknown) {
      return { id: ctx.params.id, name: this.settings.guest, why: (err as Error).message };
    }
  }
  await using c = await cluster([
    { id: "server" },
    { id: "caller" },
  ]);
  await c.nodes.server!.register(new Users());
  await c.nodes.caller!.waitForServices("users", 2000, 5);
  // From another node: the serving node answers with its fallback.
  assert.deepEqual(await c.nodes.caller!.call("users.get", { id: 3 }), {
    id: 3,
    name: "guest",
    why: "boom",
  });
  assert.deepEqual(await c.nodes.server!.call("users.list", { page: 1 }), [
    "guest",
    { page: 1 },
    "boom",
  ]);
});

Deno.test("action fallback: naming a method that does not exist is a schema error", () => {
  const broker = scoped();
  assert.throws(
    () =>
      broker.createService({
        name: "s",
        actions: { go: { fallback: "nope", handler: () => 1 } },
      }),
    ServiceSchemaError,
  );
});

Deno.test("action fallback: actions without one are left untouched", () => {
  const mw = fallbackMiddleware();
  const next = () => 1;
  const info = { name: "s.a", schema: {}, service: null } as unknown as ActionInfo;
  assert.equal(mw.localAction!(next, info), next);
});
