/**
 * The service API Moleculer code calls, item by item, each from Moleculer 0.15's documented
 * behaviour: ES6 classes, `new Service(broker, schema)`, methods as `{ handler }`, `this.Promise`,
 * `this.waitForServices`, `this.emitLocalEventHandler`, parallel mixin event handlers,
 * `settings.$cache`, and a failing `started()` that names its service.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type Context,
  MoleculerError,
  Service,
  type ServiceBroker,
  ServiceSchemaError,
} from "../../mod.ts";
import { buildServiceSpec } from "../../src/core/service.ts";
import { captureLogs, deferred, scoped } from "../_helpers/core.ts";

Deno.test("ES6 class: super(broker) then parseServiceSchema(), registered by createService(Class)", async () => {
  class Greeter extends Service {
    constructor(broker: ServiceBroker) {
      super(broker);
      this.parseServiceSchema({
        name: "greeter",
        actions: { hello: this.hello },
        created: this.serviceCreated,
      });
    }
    hello(ctx: Context<{ name?: string }>) {
      return `Hello ${ctx.params.name ?? "Moleculer"}`;
    }
    serviceCreated() {
      // The broker and the logger are there from the constructor on, as in Moleculer.
      this.logger.info("ES6 Service created.");
    }
  }
  await using broker = scoped();
  const svc = broker.createService(Greeter);
  assert.ok(svc instanceof Greeter);
  assert.equal(svc.broker, broker);
  await broker.start();
  assert.equal(await broker.call("greeter.hello", { name: "John" }), "Hello John");
});

Deno.test("ES6 class that never calls parseServiceSchema() gets a clear error", () => {
  class Empty extends Service {
    constructor(broker: ServiceBroker) {
      super(broker);
    }
  }
  const broker = scoped();
  assert.throws(() => broker.createService(Empty), (err: unknown) => {
    assert.ok(err instanceof ServiceSchemaError);
    assert.match(err.message, /'Empty' has no schema: call this\.parseServiceSchema/);
    return true;
  });
});

Deno.test("new Service(broker, schema) builds a service the broker registers", async () => {
  await using broker = scoped();
  const svc = new Service(broker, {
    name: "math",
    actions: { add: (ctx: Context<{ a: number; b: number }>) => ctx.params.a + ctx.params.b },
  });
  assert.equal(svc.fullName, "math");
  broker.createService(svc);
  await broker.start();
  assert.equal(await broker.call("math.add", { a: 2, b: 3 }), 5);
});

Deno.test("methods as { handler } objects: bound to the service, custom keys kept for middlewares", async () => {
  await using broker = scoped();
  const svc = broker.createService({
    name: "text",
    settings: { suffix: "!" },
    methods: {
      shout: {
        handler(this: Service, s: string) {
          return s.toUpperCase() + this.settings.suffix;
        },
        cached: true,
      },
      plain(s: string) {
        return s;
      },
    },
    actions: {
      go(this: Service & { shout(s: string): string }, ctx: Context<{ s: string }>) {
        return this.shout(ctx.params.s);
      },
    },
  });
  await broker.start();
  assert.equal(await broker.call("text.go", { s: "hi" }), "HI!");
  const spec = buildServiceSpec(svc);
  assert.deepEqual(spec.methods.map((m) => [m.name, m.schema.cached]), [["shout", true], [
    "plain",
    undefined,
  ]]);
  assert.throws(
    () => new Service({ name: "bad", methods: { mergeSchemaFoo: () => 1 } }),
    /clashes with a built-in member/,
  );
  assert.throws(
    () => new Service({ name: "bad", methods: { x: { handler: 5 } as never } }),
    /methods\.x of service 'bad' must be a function or an object with a handler/,
  );
});

Deno.test("this.Promise, this.waitForServices and this.emitLocalEventHandler", async () => {
  await using broker = scoped();
  const seen: unknown[] = [];
  const svc = broker.createService({
    name: "listener",
    events: {
      "user.created": {
        group: "users",
        handler(ctx: Context<{ id: number }>) {
          seen.push([ctx.params.id, ctx.eventName, ctx.eventType, ctx.eventGroups]);
          return "done";
        },
      },
    },
  });
  await broker.start();
  assert.equal(svc.Promise, broker.Promise, "the broker's promise class");
  assert.ok(svc.Promise.resolve(1) instanceof Promise, "its promises are promises");
  await svc.waitForServices(["listener"], 1000);
  assert.equal(await svc.emitLocalEventHandler("user.created", { id: 3 }), "done");
  assert.deepEqual(seen, [[3, "user.created", "emit", ["users"]]]);
  await assert.rejects(svc.emitLocalEventHandler("nope"), (err: unknown) => {
    assert.ok(err instanceof MoleculerError);
    assert.equal(err.type, "NOT_FOUND_EVENT");
    assert.deepEqual(err.data, { eventName: "nope" });
    return true;
  });
});

Deno.test("event handlers merged from mixins run in parallel, as Moleculer's Promise.all", async () => {
  await using broker = scoped();
  const gate = deferred();
  const order: string[] = [];
  broker.createService({
    name: "both",
    mixins: [{
      events: {
        async "job.done"() {
          order.push("mixin waits");
          await gate.promise; // released by the service's own handler: only in parallel
          order.push("mixin done");
        },
      },
    }],
    events: {
      "job.done"() {
        order.push("own runs");
        gate.resolve();
      },
    },
  });
  await broker.start();
  await broker.emit("job.done");
  await gate.promise;
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(order, ["mixin waits", "own runs", "mixin done"]);
});

Deno.test("settings.$cache is the default cache option of every action", () => {
  const svc = new Service({
    name: "c",
    settings: { $cache: { keys: ["id"] } },
    actions: { a: () => 1, b: { cache: false, handler: () => 2 } },
  });
  const broker = scoped();
  svc.attach(broker, broker.getLogger("c"));
  const spec = buildServiceSpec(svc);
  assert.deepEqual(spec.actions.map((a) => a.schema.cache), [{ keys: ["id"] }, false]);
});

Deno.test("a failing started() names its service; the error itself is passed on", async () => {
  const logs = captureLogs();
  const broker = scoped({ logger: logs.sink });
  const boom = new Error("DB unreachable");
  broker.createService({
    name: "posts",
    started() {
      throw boom;
    },
  });
  await assert.rejects(broker.start(), (err) => err === boom);
  const entry = logs.entries.find((e) => e.level === "error");
  assert.equal(entry?.message, "Service 'posts' failed in started()");
  assert.equal(entry?.module, "posts");
  assert.equal(entry?.props?.error, boom);
  await broker.stop();
});
