/**
 * Moleculer 0.15's broker options: implemented ones work, not-built ones warn once naming the
 * key, unknown ones fail with a suggestion.
 */
import assert from "node:assert/strict";
import {
  BrokerOptionsError,
  Context,
  MoleculerError,
  Service,
  type ServiceSchema,
} from "../../mod.ts";
import { captureLogs, scoped } from "../_helpers/core.ts";

Deno.test("unknown options keep their error, with a did-you-mean", () => {
  assert.throws(
    () => scoped({ requestTimout: 5 } as never),
    (err: unknown) =>
      err instanceof BrokerOptionsError &&
      /Unknown broker option 'requestTimout'\. Did you mean 'requestTimeout'\?/
        .test(err.message),
  );
  assert.throws(
    () => scoped({ zzzzzzzz: 1 } as never),
    /Unknown broker option 'zzzzzzzz'\. Known/,
  );
});

Deno.test("options whose feature is not built are accepted with one warning naming the key", async () => {
  const logs = captureLogs();
  await using _broker = scoped({
    logger: logs.sink,
    hotReload: true,
    maxSafeObjectSize: 1024,
    skipProcessEventRegistration: true,
    replOptions: { delimiter: "mol $" },
    registry: { discoverer: "Redis" },
    transit: { disableReconnect: true },
    circuitBreaker: { failureOnReject: true } as never,
  });
  const warnings = logs.messages("warn");
  for (
    const key of [
      "hotReload",
      "maxSafeObjectSize",
      "registry.discoverer",
      "transit.disableReconnect",
      "circuitBreaker.failureOnReject",
    ]
  ) {
    assert.equal(warnings.filter((w) => w.includes(`'${key}'`)).length, 1, key);
  }
  assert.equal(warnings.some((w) => w.includes("replOptions")), false);
});

Deno.test("errorHandler (Moleculer's example): the broker's handler sees action errors and may answer", async () => {
  const seen: string[] = [];
  await using broker = scoped({
    errorHandler(err, info) {
      const where = info.action?.name ?? `call of ${info.actionName}`;
      seen.push(`${err.message} in ${where} (this=broker: ${this === broker})`);
      if (err.message === "recover") return "recovered";
      throw err;
    },
  });
  broker.createService({
    name: "s",
    actions: {
      recover: () => {
        throw new Error("recover");
      },
      fail: () => {
        throw new Error("fail");
      },
    },
  });
  await broker.start();
  assert.equal(await broker.call("s.recover"), "recovered");
  await assert.rejects(broker.call("s.fail"), /fail/);
  // A call that finds no endpoint reaches it too, with { actionName, params, opts }.
  await assert.rejects(broker.call("nope.x"), /nope\.x/);
  assert.deepEqual(seen, [
    "recover in s.recover (this=broker: true)",
    "fail in s.fail (this=broker: true)",
    "Service 'nope.x' is not found. in call of nope.x (this=broker: true)",
  ]);
});

Deno.test("errorHandler at service level runs first, with the service as this", async () => {
  const seen: string[] = [];
  await using broker = scoped({
    errorHandler(err) {
      seen.push(`broker: ${err.message}`);
      return "broker answer";
    },
  });
  broker.createService({
    name: "own",
    errorHandler(this: Service, err: Error) {
      seen.push(`${this.name}: ${err.message}`);
      throw new Error("rethrown");
    },
    actions: {
      go: () => {
        throw new Error("boom");
      },
    },
  } as ServiceSchema);
  await broker.start();
  assert.equal(await broker.call("own.go"), "broker answer");
  assert.deepEqual(seen, ["own: boom", "broker: rethrown"]);
});

Deno.test("uidGenerator makes context ids and request ids", async () => {
  let n = 0;
  await using broker = scoped({ uidGenerator: () => `id-${++n}` });
  const ids: string[] = [];
  broker.createService({
    name: "s",
    actions: {
      outer: (ctx: Context) => {
        ids.push(`${ctx.id}/${ctx.requestID}`);
        return ctx.call("s.inner");
      },
      inner: (ctx: Context) => void ids.push(`${ctx.id}/${ctx.requestID}`),
    },
  });
  await broker.start();
  await broker.call("s.outer");
  // The outer call starts a chain: its id is its requestID; the inner one keeps that requestID.
  const [outer, inner] = ids.map((s) => s.split("/"));
  assert.match(outer![0]!, /^id-\d+$/);
  assert.equal(outer![1], outer![0]);
  assert.match(inner![0]!, /^id-\d+$/);
  assert.notEqual(inner![0], outer![0]);
  assert.equal(inner![1], outer![0]);
});

Deno.test("internalMiddlewares: false leaves only the user's middlewares (no validation, no hooks)", async () => {
  await using broker = scoped({ internalMiddlewares: false });
  let before = 0;
  broker.createService({
    name: "s",
    hooks: { before: { "*": () => void before++ } },
    actions: {
      go: { params: { a: "number" }, handler: (ctx: Context) => ctx.params },
    },
  });
  await broker.start();
  assert.deepEqual(await broker.call("s.go", { a: "not a number" }), {
    a: "not a number",
  });
  assert.equal(before, 0);
  assert.equal(broker.middlewares.count, 0);
});

Deno.test("broker-level created, started and stopped run after the middlewares' hooks", async () => {
  const order: string[] = [];
  const broker = scoped({
    middlewares: [{
      created: () => void order.push("mw created"),
      started: () => void order.push("mw started"),
      stopped: () => void order.push("mw stopped"),
    }],
    created: (b) => void order.push(`created ${b.nodeID}`),
    started: async () => {
      await new Promise((r) => setTimeout(r, 5));
      order.push("started");
    },
    stopped: () => void order.push("stopped"),
  });
  await broker.start();
  order.push("start() resolved");
  await broker.stop();
  assert.deepEqual(order, [
    "mw created",
    `created ${broker.nodeID}`,
    "mw started",
    "started",
    "start() resolved",
    "mw stopped",
    "stopped",
  ]);
});

Deno.test("ContextFactory and ServiceFactory: the broker makes its contexts and services with them", async () => {
  class MyContext extends Context {
    get user(): string {
      return String(this.meta.user ?? "anonymous");
    }
  }
  const created: string[] = [];
  class MyService extends Service {
    constructor(schema: ServiceSchema) {
      super(schema);
      created.push(this.name);
    }
  }
  await using broker = scoped({
    ContextFactory: MyContext,
    ServiceFactory: MyService,
  });
  broker.createService({
    name: "who",
    actions: { ami: (ctx: Context) => (ctx as MyContext).user },
    events: {
      "hi": (ctx: Context) => void created.push(`event in ${ctx.constructor.name}`),
    },
  });
  await broker.start();
  assert.equal(
    await broker.call("who.ami", {}, { meta: { user: "john" } }),
    "john",
  );
  await broker.emit("hi");
  assert.ok(broker.getLocalService("who") instanceof MyService);
  assert.deepEqual(created.filter((c) => c !== "$node"), [
    "who",
    "event in MyContext",
  ]);
  assert.throws(
    () => scoped({ ContextFactory: class {} as never }),
    /ContextFactory.*extending Context/,
  );
});

Deno.test("contextParamsCloning: the callee cannot change the caller's params", async () => {
  await using broker = scoped({ contextParamsCloning: true });
  broker.createService({
    name: "s",
    actions: {
      mutate: (ctx: Context<{ n: number }>) => void (ctx.params.n = 99),
    },
  });
  await broker.start();
  const params = { n: 1 };
  await broker.call("s.mutate", params);
  assert.equal(params.n, 1);
});

Deno.test("bad values of the new options name the option", () => {
  assert.throws(
    () => scoped({ errorHandler: 5 as never }),
    /'errorHandler' must be a function/,
  );
  assert.throws(
    () => scoped({ dependencyTimeout: -1 }),
    /'dependencyTimeout' must be a number/,
  );
  assert.throws(
    () => scoped({ Promise: {} as never }),
    /'Promise' must be a Promise class/,
  );
  assert.ok(new MoleculerError("x") instanceof Error);
});
