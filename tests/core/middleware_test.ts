import assert from "node:assert/strict";
import {
  type ActionInfo,
  BrokerOptionsError,
  type CallHandler,
  type Context,
  type EmitHandler,
  type EventInfo,
  type Handler,
  Middleware,
  type MiddlewareHooks,
  type Service,
  ServiceBroker,
} from "../../mod.ts";
import { MiddlewareRegistry } from "../../src/core/middleware.ts";
import {
  clusterOptions,
  collector,
  memoryBus,
  scoped,
  startCluster,
  until,
} from "../_helpers/core.ts";

/** A localAction/localEvent middleware that records before/after around `next`. */
function tracer(tag: string, order: string[]): MiddlewareHooks {
  const wrap = (next: Handler): Handler => async (ctx) => {
    order.push(`${tag} before`);
    try {
      return await next(ctx);
    } finally {
      order.push(`${tag} after`);
    }
  };
  return { name: tag, localAction: wrap, localEvent: wrap };
}

class ClassTracer extends Middleware {
  readonly #order: string[];
  constructor(order: string[]) {
    super();
    this.#order = order;
  }
  localAction(next: Handler): Handler {
    return async (ctx) => {
      this.#order.push("mw1 before");
      const res = await next(ctx);
      this.#order.push("mw1 after");
      return res;
    };
  }
}

Deno.test("localAction: class and plain-object middlewares wrap in order, first outermost", async () => {
  const order: string[] = [];
  await using broker = scoped({
    middlewares: [new ClassTracer(order), tracer("mw2", order)],
  });
  broker.createService({
    name: "s",
    actions: {
      go: () => {
        order.push("handler");
        return "result";
      },
    },
  });
  await broker.start();
  assert.equal(await broker.call("s.go"), "result");
  assert.deepEqual(order, [
    "mw1 before",
    "mw2 before",
    "handler",
    "mw2 after",
    "mw1 after",
  ]);
});

Deno.test("Middleware subclasses are named after their class", () => {
  assert.equal(new ClassTracer([]).name, "ClassTracer");
});

Deno.test("localAction sees the action and is applied once per action, not per call", async () => {
  const infos: ActionInfo[] = [];
  let calls = 0;
  await using broker = scoped({
    middlewares: [{
      localAction(next, action) {
        if (action.service?.name === "s") infos.push(action);
        return (ctx) => {
          calls++;
          return next(ctx);
        };
      },
    }],
  });
  broker.createService({
    name: "s",
    version: 2,
    actions: {
      go: {
        params: { a: "number" },
        visibility: "public",
        timeout: 99,
        custom: 1,
        handler: () => 1,
      },
    },
  });
  await broker.start();
  for (let i = 0; i < 3; i++) await broker.call("v2.s.go", { a: 1 });
  assert.equal(infos.length, 1);
  assert.equal(calls, 3);
  const info = infos[0]!;
  assert.equal(info.name, "v2.s.go");
  assert.equal(info.rawName, "go");
  assert.equal(info.service?.fullName, "v2.s");
  assert.deepEqual(info.params, { a: "number" });
  assert.equal(info.visibility, "public");
  assert.equal(info.timeout, 99);
  assert.equal(info.schema.custom, 1);
});

Deno.test("localAction may short-circuit, change params and map errors", async () => {
  await using broker = scoped({
    middlewares: [{
      localAction: (next, action) => (ctx: Context<Record<string, number>>) => {
        if (action.rawName === "cached") return "from cache";
        ctx.params.n = (ctx.params.n ?? 0) + 1;
        try {
          const res = next(ctx);
          return res instanceof Promise ? res.catch((e) => `mapped: ${e.message}`) : res;
        } catch (e) {
          return `mapped: ${(e as Error).message}`;
        }
      },
    }],
  });
  let cachedRan = false;
  broker.createService({
    name: "s",
    actions: {
      cached: () => (cachedRan = true),
      inc: (ctx: Context<{ n: number }>) => ctx.params.n,
      fail: () => {
        throw new Error("bad");
      },
    },
  });
  await broker.start();
  assert.equal(await broker.call("s.cached"), "from cache");
  assert.equal(cachedRan, false);
  assert.equal(await broker.call("s.inc", { n: 1 }), 2);
  assert.equal(await broker.call("s.fail"), "mapped: bad");
});

Deno.test("a wrapping hook that returns nothing leaves the handler as it was", async () => {
  await using broker = scoped({
    middlewares: [{ localAction: () => undefined as unknown as Handler }],
  });
  broker.createService({ name: "s", actions: { go: () => "ok" } });
  await broker.start();
  assert.equal(await broker.call("s.go"), "ok");
});

Deno.test("localEvent wraps local event handlers in order", async () => {
  const order: string[] = [];
  const infos: EventInfo[] = [];
  await using broker = scoped({
    middlewares: [
      tracer("mw1", order),
      {
        localEvent(next, event) {
          infos.push(event);
          return next;
        },
      },
      tracer("mw2", order),
    ],
  });
  broker.createService({
    name: "s",
    events: {
      "x.y": {
        group: "grp",
        params: { id: "number" },
        handler: () => void order.push("handler"),
      },
    },
  });
  await broker.start();
  await broker.emit("x.y", { id: 1 });
  assert.deepEqual(order, [
    "mw1 before",
    "mw2 before",
    "handler",
    "mw2 after",
    "mw1 after",
  ]);
  order.length = 0;
  await broker.broadcast("x.y", { id: 2 });
  await broker.broadcastLocal("x.y", { id: 3 });
  assert.equal(order.filter((o) => o === "handler").length, 2);
  const info = infos.find((i) => i.name === "x.y")!;
  assert.equal(info.group, "grp");
  assert.equal(info.service.name, "s");
  assert.deepEqual(info.params, { id: "number" });
});

Deno.test("call / emit / broadcast / broadcastLocal hooks wrap the broker methods", async () => {
  const seen: string[] = [];
  const mw: MiddlewareHooks = {
    call: (next: CallHandler): CallHandler => (name, params, opts) => {
      seen.push(`call ${name}`);
      return next(name, { ...(params as object), added: true }, opts);
    },
    emit: (next: EmitHandler): EmitHandler => (name, data, opts) => {
      seen.push(`emit ${name}`);
      return next(name, data, { ...opts, meta: { ...opts.meta, fromMw: 1 } });
    },
    broadcast: (next: EmitHandler): EmitHandler => (name, data, opts) => {
      seen.push(`broadcast ${name}`);
      return next(name, data, opts);
    },
    broadcastLocal: (next: EmitHandler): EmitHandler => (name, data, opts) => {
      if (!name.startsWith("$")) seen.push(`broadcastLocal ${name}`);
      return next(name, data, opts);
    },
  };
  await using broker = scoped({ middlewares: [mw] });
  const events: unknown[] = [];
  broker.createService({
    name: "s",
    actions: { echo: (ctx: Context) => ctx.params },
    events: { "e.x": (ctx: Context) => void events.push(ctx.meta) },
  });
  await broker.start();
  assert.deepEqual(await broker.call("s.echo", { a: 1 }), {
    a: 1,
    added: true,
  });
  await broker.emit("e.x");
  await broker.broadcast("e.x");
  await broker.broadcastLocal("e.x");
  assert.deepEqual(seen, [
    "call s.echo",
    "emit e.x",
    "broadcast e.x",
    "broadcastLocal e.x",
  ]);
  assert.deepEqual(events, [{ fromMw: 1 }, {}, {}]);
});

Deno.test("ctx.call() goes through the call hook too", async () => {
  const calls: string[] = [];
  await using broker = scoped({
    middlewares: [{
      call: (next: CallHandler): CallHandler => (name, params, opts) => {
        calls.push(`${name}@${opts.parentCtx ? "child" : "root"}`);
        return next(name, params, opts);
      },
    }],
  });
  broker.createService({
    name: "s",
    actions: {
      outer: (ctx: Context) => ctx.call("s.inner"),
      inner: () => "in",
    },
  });
  await broker.start();
  assert.equal(await broker.call("s.outer"), "in");
  assert.deepEqual(calls, ["s.outer@root", "s.inner@child"]);
});

Deno.test("lifecycle hooks by both names: brokerCreated/created, brokerStarted/started, ...", async () => {
  const seen: string[] = [];
  const isMine = (s: Service) => s.name === "mine";
  const plain: MiddlewareHooks = {
    created: (b) => void seen.push(`created:${b.nodeID}`),
    started: () => void seen.push("started"),
    stopped: () => void seen.push("stopped"),
    serviceCreated: (s) => void (isMine(s) && seen.push("serviceCreated")),
    serviceStarted: (s) => void (isMine(s) && seen.push("serviceStarted")),
    serviceStopped: (s) => void (isMine(s) && seen.push("serviceStopped")),
  };
  const broker = new ServiceBroker({
    nodeID: "lc",
    logger: false,
    middlewares: [plain],
  });
  try {
    await broker.register({ name: "mine" });
    await broker.start();
    await broker.stop();
  } finally {
    await broker.stop();
  }
  assert.deepEqual(seen, [
    "created:lc",
    "serviceCreated",
    "serviceStarted",
    "started",
    "serviceStopped",
    "stopped",
  ]);
});

Deno.test("serviceStopped runs on destroyService() as well", async () => {
  const stopped: string[] = [];
  await using broker = scoped({
    middlewares: [{ serviceStopped: (s) => void stopped.push(s.fullName) }],
  });
  await broker.register({ name: "temp", version: 3 });
  await broker.start();
  await broker.destroyService("v3.temp");
  assert.deepEqual(stopped, ["v3.temp"]);
});

Deno.test("a middleware with no known hook is rejected with BrokerOptionsError", () => {
  const bad: unknown[] = [
    {},
    { name: "only-a-name" },
    { localActon: () => {} },
    new (class Empty extends Middleware {})(),
    null,
    "Timeout",
    () => {},
  ];
  for (const mw of bad) {
    assert.throws(
      () =>
        new ServiceBroker({
          logger: false,
          middlewares: [mw as MiddlewareHooks],
        }),
      BrokerOptionsError,
      String(mw),
    );
  }
  assert.throws(
    () =>
      new ServiceBroker({
        logger: false,
        middlewares: [{ name: "Typo", locAction() {} } as never],
      }),
    (err: unknown) => err instanceof BrokerOptionsError && err.message.includes("'Typo'"),
  );
});

Deno.test("MiddlewareRegistry: count, has() and aliases", () => {
  const reg = new MiddlewareRegistry();
  assert.equal(reg.count, 0);
  reg.add({ started: () => {} });
  reg.add(new ClassTracer([]));
  assert.equal(reg.count, 2);
  assert.equal(
    reg.has("brokerStarted"),
    true,
    "`started` counts as brokerStarted",
  );
  assert.equal(reg.has("localAction"), true);
  assert.equal(reg.has("localEvent"), false);
});

// ------------------------------------------------------------------ across nodes

Deno.test("remoteAction wraps calls to other nodes; the callee runs its localAction chain", async () => {
  const bus = memoryBus();
  const callerSide: string[] = [];
  const calleeSide: string[] = [];
  const a = new ServiceBroker(clusterOptions("a", bus, {
    middlewares: [{
      remoteAction(next, action) {
        return async (ctx) => {
          callerSide.push(`remote before ${action.name} → ${ctx.nodeID}`);
          const res = await next(ctx);
          callerSide.push(`remote after ${JSON.stringify(res)}`);
          return res;
        };
      },
      localAction(next, action) {
        return (ctx) => {
          if (action.service?.name === "math") callerSide.push("local on a");
          return next(ctx);
        };
      },
    }],
  }));
  const b = new ServiceBroker(clusterOptions("b", bus, {
    middlewares: [tracer("b-mw", calleeSide), {
      remoteAction: (next) => (ctx) => {
        calleeSide.push("remote on b");
        return next(ctx);
      },
    }],
  }));
  b.createService({
    name: "math",
    actions: {
      add: (ctx: Context<{ a: number; b: number }>) => ctx.params.a + ctx.params.b,
    },
  });
  try {
    await startCluster([a, b], ["math"]);
    assert.equal(
      await a.call("math.add", { a: 2, b: 3 }, { timeout: 1000 }),
      5,
    );
    assert.deepEqual(callerSide, [
      "remote before math.add → b",
      "remote after 5",
    ]);
    assert.deepEqual(calleeSide, ["b-mw before", "b-mw after"]);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

Deno.test("events from another node run through the receiver's localEvent chain", async () => {
  const bus = memoryBus();
  const order: string[] = [];
  const got = collector<string>(2);
  const a = new ServiceBroker(clusterOptions("a", bus));
  const b = new ServiceBroker(
    clusterOptions("b", bus, { middlewares: [tracer("b-mw", order)] }),
  );
  b.createService({
    name: "listener",
    events: {
      "job.*"(ctx: Context) {
        order.push(`handler ${ctx.eventType}`);
        got.push(ctx.eventName!);
      },
    },
  });
  try {
    await startCluster([a, b], ["listener"]);
    await a.emit("job.done");
    await a.broadcast("job.new");
    await got.done;
    // the last middleware "after" step follows the handler by a microtask or two
    await until(() => order.length === 6, "the last after step");
    assert.deepEqual(order, [
      "b-mw before",
      "handler emit",
      "b-mw after",
      "b-mw before",
      "handler broadcast",
      "b-mw after",
    ]);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});
