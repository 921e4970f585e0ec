import assert from "node:assert/strict";
import {
  action,
  type Context,
  event,
  method,
  Service,
  ServiceBroker,
  serviceFullName,
  ServiceSchemaError,
  ValidationError,
} from "../../mod.ts";
import { captureLogs, clusterOptions, memoryBus, scoped, startCluster } from "../_helpers/core.ts";

// ------------------------------------------------------------------ class style

class Greeter extends Service {
  readonly log: string[] = [];
  constructor() {
    super("greeter");
  }

  @action({ params: ["name"] })
  hello(ctx: Context<{ name: string }>): string {
    return `Hello, ${ctx.params.name}!`;
  }

  @action({ params: { a: "number", b: { type: "number", min: 0 } } })
  add(ctx: Context<{ a: number; b: number }>): number {
    return this.sum(ctx.params.a, ctx.params.b);
  }

  @action({ name: "custom" })
  real(): string {
    return "real";
  }

  @action
  bare(): string {
    return "bare";
  }

  @action({ visibility: "private" })
  secret(): string {
    return "s3cret";
  }

  @action
  async reveal(): Promise<unknown> {
    return await this.actions.secret!();
  }

  @event({ name: "user.created" })
  onUserCreated(ctx: Context<{ id: number }>): void {
    this.log.push(`user.created:${ctx.params.id}`);
  }

  @event
  "order.paid"(ctx: Context): void {
    this.log.push(`order.paid:${ctx.eventName}`);
  }

  @method
  sum(a: number, b: number): number {
    return a + b;
  }

  async created(): Promise<void> {
    await Promise.resolve();
    this.log.push("created");
  }

  async started(): Promise<void> {
    await Promise.resolve();
    this.log.push("started");
  }

  async stopped(): Promise<void> {
    await Promise.resolve();
    this.log.push("stopped");
  }
}

Deno.test("class style: @action, @event, @method and async lifecycle methods", async () => {
  const svc = new Greeter();
  const broker = new ServiceBroker({ nodeID: "cls", logger: false });
  try {
    await broker.register(svc);
    assert.equal(svc.name, "greeter");
    assert.equal(svc.fullName, "greeter");
    assert.equal(svc.broker, broker);
    await broker.start();
    assert.equal(
      await broker.call("greeter.hello", { name: "John" }),
      "Hello, John!",
    );
    assert.equal(await broker.call("greeter.add", { a: 2, b: 3 }), 5);
    assert.equal(await broker.call("greeter.custom"), "real");
    assert.equal(await broker.call("greeter.bare"), "bare");
    assert.equal(await broker.call("greeter.reveal"), "s3cret");
    await assert.rejects(broker.call("greeter.real"), /not found/);
    await assert.rejects(broker.call("greeter.secret"), /not found/);
    await broker.emit("user.created", { id: 7 });
    await broker.emit("order.paid");
    await broker.stop();
    assert.deepEqual(svc.log, [
      "created",
      "started",
      "user.created:7",
      "order.paid:order.paid",
      "stopped",
    ]);
  } finally {
    await broker.stop();
  }
});

Deno.test("class style: @action({ name }) is announced under the custom name", async () => {
  await using broker = scoped();
  await broker.register(new Greeter());
  await broker.start();
  const info = broker.registry.localServicesInfo().find((s) => s.name === "greeter")!;
  const actions = Object.keys(info.actions as object).sort();
  assert.deepEqual(actions, [
    "greeter.add",
    "greeter.bare",
    "greeter.custom",
    "greeter.hello",
    "greeter.reveal",
  ]);
  const custom = (info.actions as Record<string, Record<string, unknown>>)[
    "greeter.custom"
  ]!;
  assert.equal(custom.name, "greeter.custom");
  assert.equal(custom.rawName, "custom");
  assert.deepEqual((info.events as Record<string, unknown>)["user.created"], {
    name: "user.created",
  });
});

Deno.test("class style: a peer calls the custom name of a decorated action", async () => {
  const bus = memoryBus();
  const a = new ServiceBroker(clusterOptions("a", bus));
  const b = new ServiceBroker(clusterOptions("b", bus));
  await b.register(new Greeter());
  try {
    await startCluster([a, b], ["greeter"]);
    assert.equal(await a.call("greeter.custom", {}, { timeout: 1000 }), "real");
    assert.equal(
      await a.call("greeter.hello", { name: "Remote" }, { timeout: 1000 }),
      "Hello, Remote!",
    );
    // private actions are never announced
    assert.equal(a.registry.actions.has("greeter.secret"), false);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

class Posts extends Service {
  constructor() {
    super({
      name: "posts",
      version: 2,
      settings: { pageSize: 10, token: "t0k3n", $secureSettings: ["token"] },
      metadata: { owner: "team-a" },
      dependencies: ["users"],
    });
  }

  @action
  size(): unknown {
    return [this.settings.pageSize, this.settings.token];
  }
}

Deno.test("class style: super({ name, version, settings, metadata, dependencies })", async () => {
  await using broker = scoped();
  const posts = new Posts();
  assert.equal(posts.fullName, "v2.posts");
  assert.equal(posts.version, 2);
  assert.deepEqual(posts.metadata, { owner: "team-a" });
  assert.deepEqual(posts.dependencies, ["users"]);
  await broker.register(posts);
  broker.createService({ name: "users" });
  await broker.start();
  assert.deepEqual(await broker.call("v2.posts.size"), [10, "t0k3n"]);
  const info = broker.registry.localServicesInfo().find((s) => s.name === "posts")!;
  assert.equal(info.version, 2);
  assert.equal(info.fullName, "v2.posts");
  assert.deepEqual(
    info.settings,
    { pageSize: 10 },
    "$secureSettings stay local",
  );
  assert.deepEqual(info.metadata, { owner: "team-a" });
  assert.deepEqual(Object.keys(info.actions as object), ["v2.posts.size"]);
});

Deno.test("class style: super({ mixins }) merges the mixin's actions and lifecycle", async () => {
  const order: string[] = [];
  class WithMixin extends Service {
    constructor() {
      super({
        name: "mixed",
        mixins: [{
          name: "base",
          settings: { a: 1, nested: { x: 1 } },
          actions: { ping: () => "pong" },
          started() {
            order.push("mixin.started");
          },
        }],
        settings: { nested: { y: 2 } },
      });
    }
    @action
    both(): unknown {
      return this.settings;
    }
    started(): void {
      order.push("own.started");
    }
  }
  await using broker = scoped();
  await broker.register(new WithMixin());
  await broker.start();
  assert.equal(await broker.call("mixed.ping"), "pong");
  assert.deepEqual(await broker.call("mixed.both"), {
    a: 1,
    nested: { x: 1, y: 2 },
  });
  assert.deepEqual(order, ["mixin.started", "own.started"]);
});

// ------------------------------------------------------------------ schema style

Deno.test("schema style: actions as functions or definitions, events, methods", async () => {
  await using broker = scoped({ nodeID: "sch" });
  const seen: string[] = [];
  broker.createService({
    name: "math",
    settings: { factor: 10 },
    actions: {
      add: (ctx: Context<{ a: number; b: number }>) => ctx.params.a + ctx.params.b,
      times: {
        params: { a: "number" },
        visibility: "public",
        timeout: 500,
        rest: "GET /times",
        handler(
          this: Service & { scale(n: number): number },
          ctx: Context<{ a: number }>,
        ) {
          return this.scale(ctx.params.a);
        },
      },
    },
    events: {
      "calc.done": (ctx: Context) => {
        seen.push(`fn:${ctx.eventName}`);
      },
      "calc.*": {
        group: "audit",
        handler(ctx: Context) {
          seen.push(`obj:${ctx.eventName}:${ctx.event?.group}`);
        },
      },
    },
    methods: {
      scale(this: Service, n: number) {
        return n * (this.settings.factor as number);
      },
    },
  });
  await broker.start();
  assert.equal(await broker.call("math.add", { a: 1, b: 2 }), 3);
  assert.equal(await broker.call("math.times", { a: 4 }), 40);
  await broker.emit("calc.done");
  assert.deepEqual(seen.sort(), ["fn:calc.done", "obj:calc.done:audit"]);
  const info = broker.registry.localServicesInfo().find((s) => s.name === "math")!;
  const times = (info.actions as Record<string, Record<string, unknown>>)["math.times"]!;
  assert.deepEqual(times, {
    name: "math.times",
    rawName: "times",
    params: { a: "number" },
    visibility: "public",
    timeout: 500,
    rest: "GET /times",
  });
  assert.deepEqual((info.events as Record<string, unknown>)["calc.*"], {
    name: "calc.*",
    group: "audit",
  });
});

Deno.test("schema style: version 2 gives v2.<name>, a string version <ver>.<name>", async () => {
  assert.equal(serviceFullName("posts", 2), "v2.posts");
  assert.equal(serviceFullName("posts", "staging"), "staging.posts");
  assert.equal(serviceFullName("posts"), "posts");
  assert.equal(
    serviceFullName("posts", 2, { $noVersionPrefix: true }),
    "posts",
  );
  await using broker = scoped();
  broker.createService({
    name: "posts",
    version: 2,
    actions: { find: () => "v2" },
  });
  broker.createService({
    name: "posts",
    version: "staging",
    actions: { find: () => "stg" },
  });
  broker.createService({ name: "posts", actions: { find: () => "plain" } });
  await broker.start();
  assert.equal(await broker.call("v2.posts.find"), "v2");
  assert.equal(await broker.call("staging.posts.find"), "stg");
  assert.equal(await broker.call("posts.find"), "plain");
});

Deno.test("schema style: async created/started/stopped run with `this` = the service", async () => {
  const order: string[] = [];
  const broker = new ServiceBroker({ logger: false });
  try {
    broker.createService({
      name: "life",
      settings: { tag: "L" },
      async created(this: Service) {
        await Promise.resolve();
        order.push(`created:${this.settings.tag}`);
      },
      async started(this: Service) {
        await Promise.resolve();
        order.push(`started:${this.fullName}`);
      },
      async stopped(this: Service) {
        await Promise.resolve();
        order.push(`stopped:${this.name}`);
      },
    });
    await broker.start();
    await broker.stop();
    assert.deepEqual(order, ["created:L", "started:life", "stopped:life"]);
  } finally {
    await broker.stop();
  }
});

Deno.test("schema style: dependencies delay started() until they are available", async () => {
  await using broker = scoped();
  const order: string[] = [];
  broker.createService({
    name: "api",
    dependencies: [{ name: "db", version: 1 }, "cache"],
    started: () => {
      order.push("api");
    },
  });
  // start() waits for every service, api included, so it settles only once the deps exist
  const starting = broker.start();
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(order.length, 0, "api waits while db and cache are missing");
  await broker.register({
    name: "db",
    version: 1,
    started: () => void order.push("db"),
  });
  await broker.register({
    name: "cache",
    started: () => void order.push("cache"),
  });
  await starting;
  assert.deepEqual(order, ["db", "cache", "api"]);
  assert.equal(broker.registry.actions.size > 0, true);
});

Deno.test("schema style: $secureSettings are hidden from INFO and $node.services", async () => {
  await using broker = scoped();
  broker.createService({
    name: "mailer",
    settings: {
      host: "smtp",
      password: "pw",
      apiKey: "k",
      $secureSettings: ["password", "apiKey"],
    },
    actions: { settings: (ctx: Context) => ctx.service!.settings },
  });
  await broker.start();
  const info = broker.registry.localServicesInfo().find((s) => s.name === "mailer")!;
  assert.deepEqual(info.settings, { host: "smtp" });
  const listed = await broker.call<Record<string, unknown>[]>("$node.services");
  assert.deepEqual(listed.find((s) => s.name === "mailer")!.settings, {
    host: "smtp",
  });
  const local = await broker.call<Record<string, unknown>>("mailer.settings");
  assert.equal(local.password, "pw", "the service itself still sees them");
});

// ------------------------------------------------------------------ hooks

Deno.test("hooks: before/after/error run in Moleculer's order", async () => {
  const order: string[] = [];
  const h = (tag: string) => (_ctx: Context, res?: unknown) => {
    order.push(tag);
    return res;
  };
  await using broker = scoped();
  broker.createService({
    name: "hk",
    hooks: {
      before: {
        "*": [h("before * 1"), h("before * 2")],
        "run|other": h("before run|other"),
        "r*": ["beforeMethod", h("before r*")],
      },
      after: {
        "*": [h("after * 1"), h("after * 2")],
        run: [h("after run 1"), h("after run 2")],
      },
    },
    methods: {
      beforeMethod() {
        order.push("before method");
      },
    },
    actions: {
      run: {
        hooks: {
          before: [h("action before 1"), h("action before 2")],
          after: h("action after"),
        },
        handler: () => {
          order.push("handler");
          return "ok";
        },
      },
      plain: () => order.push("plain handler"),
    },
  });
  await broker.start();
  assert.equal(await broker.call("hk.run"), "ok");
  assert.deepEqual(order, [
    "before * 1",
    "before * 2",
    "before run|other",
    "before method",
    "before r*",
    "action before 1",
    "action before 2",
    "handler",
    "action after",
    "after run 1",
    "after run 2",
    "after * 1",
    "after * 2",
  ]);
  order.length = 0;
  await broker.call("hk.plain");
  assert.deepEqual(order, [
    "before * 1",
    "before * 2",
    "plain handler",
    "after * 1",
    "after * 2",
  ]);
});

Deno.test("hooks: after hooks can change the result, before hooks the params", async () => {
  await using broker = scoped();
  broker.createService({
    name: "hk",
    hooks: {
      before: {
        "*": (ctx: Context<{ n: number }>) => void (ctx.params.n += 1),
      },
      after: { "*": (_ctx: Context, res: unknown) => (res as number) * 10 },
    },
    actions: {
      double: {
        hooks: { after: (_ctx: Context, res: unknown) => (res as number) + 1 },
        handler: (ctx: Context<{ n: number }>) => ctx.params.n * 2,
      },
    },
  });
  await broker.start();
  // n=1 → before: 2 → handler: 4 → action after: 5 → service after: 50
  assert.equal(await broker.call("hk.double", { n: 1 }), 50);
});

Deno.test("hooks: error hooks run action → named → *, and may recover", async () => {
  const order: string[] = [];
  await using broker = scoped();
  broker.createService({
    name: "hk",
    hooks: {
      error: {
        "*": (_ctx: Context, err: unknown) => {
          order.push(`* got ${(err as Error).message}`);
          return "recovered";
        },
        fail: (_ctx: Context, err: unknown) => {
          order.push(`named got ${(err as Error).message}`);
          throw new Error("rethrown by named");
        },
      },
    },
    actions: {
      fail: {
        hooks: {
          error: (_ctx: Context, err: unknown) => {
            order.push(`action got ${(err as Error).message}`);
            throw err;
          },
        },
        handler: () => {
          throw new Error("original");
        },
      },
    },
  });
  await broker.start();
  assert.equal(await broker.call("hk.fail"), "recovered");
  assert.deepEqual(order, [
    "action got original",
    "named got original",
    "* got rethrown by named",
  ]);
});

Deno.test("hooks: an error in a before hook skips the handler and reaches error hooks", async () => {
  let handled = false;
  await using broker = scoped();
  broker.createService({
    name: "hk",
    hooks: {
      before: {
        "*": () => {
          throw new Error("denied");
        },
      },
    },
    actions: { go: () => (handled = true) },
  });
  await broker.start();
  await assert.rejects(broker.call("hk.go"), /denied/);
  assert.equal(handled, false);
});

// ------------------------------------------------------------------ validation

Deno.test("validation: a failure is ValidationError 422 with field, nodeID and action", async () => {
  await using broker = scoped({ nodeID: "val" });
  let called = 0;
  broker.createService({
    name: "v",
    actions: {
      keys: { params: ["name", "age"], handler: () => ++called },
      typed: {
        params: { id: { type: "number", positive: true } },
        handler: () => ++called,
      },
    },
  });
  await broker.start();
  const err = await broker.call("v.keys", { name: "x" }).catch((e) => e);
  assert.ok(err instanceof ValidationError, String(err));
  assert.equal(err.code, 422);
  assert.equal(err.type, "VALIDATION_ERROR");
  assert.equal(err.message, "Parameters validation error!");
  const issues = err.data as Record<string, unknown>[];
  assert.equal(issues.length, 1);
  assert.equal(issues[0]!.field, "age");
  assert.equal(issues[0]!.nodeID, "val");
  assert.equal(issues[0]!.action, "v.keys");

  const err2 = await broker.call("v.typed", { id: -1 }).catch((e) => e);
  assert.ok(err2 instanceof ValidationError);
  const issue = (err2.data as Record<string, unknown>[])[0]!;
  assert.equal(issue.field, "id");
  assert.equal(issue.type, "numberPositive");
  assert.equal(issue.action, "v.typed");
  assert.equal(issue.nodeID, "val");
  assert.equal(called, 0);
  assert.equal(await broker.call("v.keys", { name: "x", age: 0 }), 1);
  assert.equal(await broker.call("v.typed", { id: 3 }), 2);
});

Deno.test("validation runs before hooks and handler; validator: false turns it off", async () => {
  const order: string[] = [];
  const schema = {
    name: "v",
    hooks: { before: { "*": () => void order.push("hook") } },
    actions: {
      a: { params: { x: "number" }, handler: () => order.push("handler") },
    },
  };
  {
    await using broker = scoped();
    broker.createService(schema);
    await broker.start();
    await assert.rejects(broker.call("v.a", { x: "no" }), ValidationError);
    assert.deepEqual(order, []);
  }
  {
    await using broker = scoped({ validator: false });
    broker.createService(schema);
    await broker.start();
    await broker.call("v.a", { x: "no" });
    assert.deepEqual(order, ["hook", "handler"]);
  }
});

Deno.test("validation: event params are validated too; a bad event is logged, not handled", async () => {
  const logs = captureLogs();
  await using broker = scoped({ nodeID: "ev", logger: logs.sink });
  const got: unknown[] = [];
  broker.createService({
    name: "ev",
    events: {
      "user.created": {
        params: { id: "number" },
        handler: (ctx: Context) => void got.push(ctx.params),
      },
    },
  });
  await broker.start();
  await broker.emit("user.created", { id: "not-a-number" });
  assert.deepEqual(got, []);
  const errors = logs.entries.filter((e) => e.level === "error");
  assert.equal(errors.length, 1);
  await broker.emit("user.created", { id: 1 });
  assert.deepEqual(got, [{ id: 1 }]);
});

Deno.test("validation: an event failure is tagged with the event name, not as an action", async () => {
  let failure: unknown;
  // read the error through a localEvent middleware, which sits outside the validator
  await using broker = scoped({
    nodeID: "ev2",
    middlewares: [{
      localEvent: (next) => async (ctx) => {
        try {
          return await next(ctx);
        } catch (err) {
          failure = err;
        }
      },
    }],
  });
  broker.createService({
    name: "ev",
    events: { "thing.done": { params: { id: "number" }, handler: () => {} } },
  });
  await broker.start();
  await broker.emit("thing.done", { id: "x" });
  assert.ok(failure instanceof ValidationError);
  const issue = (failure.data as Record<string, unknown>[])[0]!;
  assert.equal(issue.field, "id");
  assert.equal(issue.event, "thing.done");
  assert.equal(issue.nodeID, "ev2");
  assert.equal("action" in issue, false);
});

Deno.test("validation: a remote caller gets a ValidationError too", async () => {
  const bus = memoryBus();
  const a = new ServiceBroker(clusterOptions("a", bus));
  const b = new ServiceBroker(clusterOptions("b", bus));
  b.createService({
    name: "v",
    actions: { k: { params: ["name"], handler: () => 1 } },
  });
  try {
    await startCluster([a, b], ["v"]);
    const err = await a.call("v.k", {}, { timeout: 1000 }).catch((e) => e);
    assert.ok(err instanceof ValidationError, String(err));
    assert.equal(err.code, 422);
    const issue = (err.data as Record<string, unknown>[])[0]!;
    assert.equal(issue.field, "name");
    assert.equal(issue.action, "v.k");
    assert.equal(
      issue.nodeID,
      "a",
      "Moleculer tags ctx.nodeID: the caller's node",
    );
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

// ------------------------------------------------------------------ schema errors

function schemaError(fn: () => unknown, ...parts: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(
      err instanceof ServiceSchemaError,
      `expected ServiceSchemaError, got ${err}`,
    );
    assert.equal(err.type, "SERVICE_SCHEMA_ERROR");
    for (const p of parts) {
      assert.ok(err.message.includes(p), `'${err.message}' lacks '${p}'`);
    }
    return true;
  });
}

Deno.test("bad schemas throw ServiceSchemaError naming the field", () => {
  const broker = new ServiceBroker({ logger: false });
  schemaError(() => broker.createService({} as never), "name");
  schemaError(() => broker.createService({ name: "" }), "name");
  schemaError(() => new Service({ version: 1 } as never), "name");
  schemaError(() => new Service(null as never));
  schemaError(
    () =>
      broker.createService({
        name: "s",
        actions: { a: { handler: 5 as never } },
      }),
    "actions.a",
    "handler",
  );
  schemaError(
    () => broker.createService({ name: "s", actions: { a: {} } }),
    "actions.a",
  );
  schemaError(
    () => broker.createService({ name: "s", actions: { a: 5 as never } }),
    "actions.a",
  );
  schemaError(
    () => broker.createService({ name: "s", events: { "e.x": { group: "g" } } }),
    "events.e.x",
  );
  schemaError(
    () =>
      broker.createService({
        name: "s",
        actions: { a: { visibility: "secret" as never, handler: () => {} } },
      }),
    "actions.a.visibility",
  );
  schemaError(
    () =>
      broker.createService({
        name: "s",
        actions: { a: { timeout: -1, handler: () => {} } },
      }),
    "actions.a.timeout",
  );
  schemaError(
    () =>
      broker.createService({
        name: "s",
        hooks: { before: { "*": "nope" } },
        actions: { a: () => {} },
      }),
    "hooks.before.*",
    "'nope'",
  );
  schemaError(
    () =>
      broker.createService({
        name: "s",
        actions: { a: { hooks: { after: "missing" }, handler: () => {} } },
      }),
    "actions.a.hooks.after",
    "'missing'",
  );
  schemaError(
    () => broker.createService({ name: "s", methods: { m: 5 as never } }),
    "methods.m",
  );
  schemaError(
    () => broker.createService({ name: "s", methods: { broker: () => {} } }),
    "'broker'",
  );
  schemaError(
    () => broker.createService({ name: "s", started: 5 as never }),
    "started",
  );
  schemaError(
    () =>
      broker.createService({
        name: "s",
        actions: { a: () => 1, b: { name: "a", handler: () => 2 } },
      }),
    "s.a",
    "twice",
  );
  // nothing half-registered is left behind
  assert.deepEqual(broker.services.map((s) => s.name), ["$node"]);
});

Deno.test("a Service instance can be registered on one broker only", async () => {
  const svc = new Service({ name: "solo" });
  await using one = scoped();
  await using two = scoped();
  await one.register(svc);
  await assert.rejects(two.register(svc), ServiceSchemaError);
});

Deno.test("service.broker and service.logger throw before registration", () => {
  const svc = new Service("loose");
  assert.throws(() => svc.broker, /not registered/);
  assert.throws(() => svc.logger, /not registered/);
});
