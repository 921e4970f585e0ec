/** The broker API Moleculer code calls, with Moleculer's documented results. */
import assert from "node:assert/strict";
import { ServiceBroker, type ServiceSchema } from "../../mod.ts";
import { clusterOptions, memoryBus, scoped, startCluster } from "../_helpers/core.ts";

Deno.test("broker.localBus gets the broker's $ events; patterns work", async () => {
  await using broker = scoped();
  const got: string[] = [];
  broker.localBus.on("$broker.started", () => void got.push("started"));
  broker.localBus.on("$services.*", (_payload, name) => void got.push(name));
  await broker.start();
  broker.createService({ name: "late" });
  await broker.waitForServices("late", 1000, 10);
  assert.ok(got.includes("started"));
  assert.ok(got.includes("$services.changed"));
});

Deno.test("broker.Promise has Moleculer's helpers; the global Promise is untouched", async () => {
  await using broker = scoped();
  const P = broker.Promise;
  assert.equal(
    typeof (Promise as unknown as Record<string, unknown>).delay,
    "undefined",
  );
  assert.equal(
    typeof (Promise.prototype as unknown as Record<string, unknown>).timeout,
    "undefined",
  );
  const t0 = Date.now();
  await P.delay(20);
  assert.ok(Date.now() - t0 >= 15);
  assert.deepEqual(await P.map([1, 2, 3], (x) => x * 2, { concurrency: 2 }), [
    2,
    4,
    6,
  ]);
  assert.deepEqual(await P.mapSeries([1, 2], (x) => Promise.resolve(x + 1)), [2, 3]);
  await assert.rejects(
    P.method(() => {
      throw new Error("sync throw");
    })(),
    /sync throw/,
  );
  const slow = P.resolve(1) as Promise<number> & {
    delay(ms: number): Promise<number>;
  };
  const never = new P(() => {}) as Promise<never> & {
    timeout(ms: number): Promise<never>;
  };
  assert.equal(await slow.delay(1), 1);
  await assert.rejects(never.timeout(10), { name: "TimeoutError" });
});

Deno.test("the Promise option opts in: that class gets the helpers", async () => {
  class MyPromise<T> extends Promise<T> {}
  await using broker = scoped({ Promise: MyPromise as PromiseConstructor });
  assert.equal(broker.Promise, MyPromise);
  assert.equal(
    typeof (MyPromise as unknown as Record<string, unknown>).delay,
    "function",
  );
});

Deno.test("a stopped broker starts again; its services start again", async () => {
  await using broker = scoped();
  let starts = 0;
  broker.createService({
    name: "s",
    started: () => void starts++,
    actions: { ok: () => "ok" },
  });
  await broker.start();
  await broker.stop();
  await broker.start();
  assert.equal(starts, 2);
  assert.equal(await broker.call("s.ok"), "ok");
});

Deno.test("loadService and loadServices import service files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const mod = new URL("../../mod.ts", import.meta.url).href;
    await Deno.mkdir(`${dir}/services/sub`, { recursive: true });
    await Deno.writeTextFile(
      `${dir}/services/math.service.ts`,
      `export default { name: "math", actions: { add: (ctx) => ctx.params.a + ctx.params.b } };`,
    );
    await Deno.writeTextFile(
      `${dir}/services/sub/greeter.service.ts`,
      `import { Service } from ${JSON.stringify(mod)};\n` +
        `export default class Greeter extends Service {\n` +
        `  constructor() { super({ name: "greeter", actions: { hi: () => "hi" } }); }\n}`,
    );
    await Deno.writeTextFile(`${dir}/services/notes.md`, "not a service");
    await using broker = scoped();
    assert.equal(await broker.loadServices(`${dir}/services`), 2);
    await using other = scoped();
    const svc = await other.loadService(`${dir}/services/math.service.ts`);
    assert.equal(svc.name, "math");
    await broker.start();
    assert.equal(await broker.call("math.add", { a: 1, b: 2 }), 3);
    assert.equal(await broker.call("greeter.hi"), "hi");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("hasEventListener, getEventListeners, getLocalNodeInfo, getHealthStatus", async () => {
  await using broker = scoped({ nodeID: "api-1" });
  broker.createService({ name: "l", events: { "user.*": () => {} } });
  await broker.start();
  assert.equal(broker.hasEventListener("user.created"), true);
  assert.equal(broker.hasEventListener("order.created"), false);
  const [ep] = broker.getEventListeners("user.created");
  assert.equal(ep?.id, "api-1");
  assert.equal(ep?.event.name, "user.*");
  const info = broker.getLocalNodeInfo();
  assert.equal(info.instanceID, broker.instanceID);
  assert.ok((info.services as { name: string }[]).some((s) => s.name === "l"));
  const health = broker.getHealthStatus();
  for (const key of ["cpu", "mem", "os", "process", "client", "net", "time"]) {
    assert.ok(key in health, key);
  }
});

Deno.test("registry read API with Moleculer's filters, across two nodes", async () => {
  const bus = memoryBus();
  const a = new ServiceBroker(clusterOptions("reg-a", bus));
  const b = new ServiceBroker(clusterOptions("reg-b", bus));
  a.createService({
    name: "alpha",
    actions: { one: () => 1 },
    events: { "x.y": () => {} },
  });
  b.createService({ name: "beta", actions: { two: () => 2 } });
  await startCluster([a, b], ["alpha", "beta"]);
  try {
    const nodes = a.registry.getNodeList({ onlyAvailable: true });
    assert.deepEqual(nodes.map((n) => n.id).sort(), ["reg-a", "reg-b"]);
    const services = a.registry.getServiceList({
      skipInternal: true,
      withActions: true,
    });
    assert.deepEqual(services.map((s) => s.name).sort(), ["alpha", "beta"]);
    assert.ok(
      "beta.two" in
        (services.find((s) => s.name === "beta")!.actions as object),
    );
    const local = a.registry.getServiceList({
      onlyLocal: true,
      skipInternal: true,
    });
    assert.deepEqual(local.map((s) => s.name), ["alpha"]);
    const actions = a.registry.getActionList({
      skipInternal: true,
      withEndpoints: true,
    });
    assert.deepEqual(actions.map((x) => x.name).sort(), [
      "alpha.one",
      "beta.two",
    ]);
    assert.deepEqual(
      (actions.find((x) => x.name === "beta.two")!.endpoints as {
        nodeID: string;
      }[])
        .map((e) => e.nodeID),
      ["reg-b"],
    );
    const events = a.registry.getEventList({ skipInternal: true });
    assert.deepEqual(events.map((e) => `${e.name}/${e.group}`), ["x.y/alpha"]);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

Deno.test("waitForServices resolves { services, statuses }; a version list is any of them", async () => {
  await using broker = scoped();
  broker.createService({ name: "posts", version: 2 });
  broker.createService({ name: "users" });
  await broker.start();
  assert.deepEqual(
    await broker.waitForServices(["users", { name: "posts", version: [1, 2] }]),
    {
      services: ["users", "v1.posts", "v2.posts"],
      statuses: [
        { name: "users", available: true },
        { name: "v1.posts", available: false },
        { name: "v2.posts", available: true },
      ],
    },
  );
  const err = await broker.waitForServices("nothing", 30, 5).catch((e) => e);
  assert.equal(err.type, "WAITFOR_SERVICES");
  assert.deepEqual(err.data.statuses, [{ name: "nothing", available: false }]);
});

Deno.test("destroyService({ name, version }) and createService(schema, schemaMods)", async () => {
  await using broker = scoped();
  const base: ServiceSchema = {
    name: "greeter",
    settings: { greeting: "Hello" },
    actions: {
      hi: function (this: { settings: { greeting: string } }) {
        return this.settings.greeting;
      },
    },
  };
  broker.createService(base, { version: 2, settings: { greeting: "Hi" } });
  await broker.start();
  assert.equal(await broker.call("v2.greeter.hi"), "Hi");
  await broker.destroyService({ name: "greeter", version: 2 });
  assert.equal(broker.getLocalService("v2.greeter"), undefined);
  await assert.rejects(
    broker.destroyService({ name: "greeter", version: 2 }),
    /greeter/,
  );
});

Deno.test("emit(event, payload, 'group') and ['g1', 'g2'] are Moleculer's groups shorthand", async () => {
  await using broker = scoped();
  const got: string[] = [];
  for (const name of ["a", "b", "c"]) {
    broker.createService({
      name,
      events: { "ping": () => void got.push(name) },
    });
  }
  await broker.start();
  await broker.emit("ping", {}, "b");
  assert.deepEqual(got, ["b"]);
  got.length = 0;
  await broker.broadcast("ping", {}, ["a", "c"]);
  assert.deepEqual(got.sort(), ["a", "c"]);
});
