import assert from "node:assert/strict";
import { ServiceBroker, ServiceNotFoundError } from "../../mod.ts";
import { nodeServiceSchema } from "../../src/broker/internals.ts";
import { resolveOptions } from "../../src/broker/options.ts";
import { clusterOptions, memoryBus, scoped, startCluster, until } from "../_helpers/core.ts";

// ------------------------------------------------------------------ $node

const NODE_KEYS = [
  "available",
  "client",
  "config",
  "cpu",
  "cpuSeq",
  "hostname",
  "id",
  "instanceID",
  "ipList",
  "lastHeartbeatTime",
  "local",
  "metadata",
  "offlineSince",
  "seq",
  "udpAddress",
];

Deno.test("$node.list returns Moleculer's node shape", async () => {
  await using broker = scoped({ nodeID: "n1", metadata: { region: "eu" } });
  broker.createService({ name: "x", actions: { a: () => 1 } });
  await broker.start();
  const list = await broker.call<Record<string, unknown>[]>("$node.list");
  assert.equal(list.length, 1);
  const node = list[0]!;
  assert.deepEqual(Object.keys(node).sort(), NODE_KEYS);
  assert.equal(node.id, "n1");
  assert.equal(node.instanceID, broker.instanceID);
  assert.equal(node.available, true);
  assert.equal(node.local, true);
  assert.deepEqual(node.metadata, { region: "eu" });
  assert.equal((node.client as Record<string, unknown>).type, "deno");
  assert.ok(Array.isArray(node.ipList));
  assert.equal(node.offlineSince, null);
  // Moleculer reports lastHeartbeatTime as process-uptime seconds
  const hb = node.lastHeartbeatTime as number;
  assert.ok(
    Number.isInteger(hb) && hb >= 0 &&
      hb <= Math.ceil(performance.now() / 1000),
    `${hb}`,
  );
  const withServices = await broker.call<Record<string, unknown>[]>(
    "$node.list",
    {
      withServices: true,
    },
  );
  const services = withServices[0]!.services as Record<string, unknown>[];
  assert.deepEqual(services.map((s) => s.name).sort(), ["$node", "x"]);
});

Deno.test("$node.list includes remote nodes", async () => {
  const bus = memoryBus();
  const a = new ServiceBroker(clusterOptions("a", bus));
  const b = new ServiceBroker(clusterOptions("b", bus));
  b.createService({ name: "bsvc" });
  try {
    await startCluster([a, b], ["bsvc"]);
    const list = await a.call<Record<string, unknown>[]>("$node.list");
    const byId = Object.fromEntries(list.map((n) => [n.id, n]));
    assert.deepEqual(Object.keys(byId).sort(), ["a", "b"]);
    assert.equal(byId.b!.local, false);
    assert.equal(byId.b!.instanceID, b.instanceID);
    assert.deepEqual(Object.keys(byId.b!).sort(), NODE_KEYS);
    // and it is callable remotely, like in Moleculer
    const viaB = await a.call<Record<string, unknown>[]>("$node.list", {}, {
      nodeID: "b",
    });
    assert.equal(viaB.find((n) => n.id === "b")!.local, true);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

Deno.test("$node.services returns Moleculer's service shape", async () => {
  await using broker = scoped({ nodeID: "n1" });
  broker.createService({
    name: "posts",
    version: 2,
    settings: { a: 1, secret: "s", $secureSettings: ["secret"] },
    metadata: { m: 1 },
    actions: {
      find: () => [],
      inner: { visibility: "protected", handler: () => 1 },
    },
    events: { "post.created": () => {}, "$node.connected": () => {} },
  });
  await broker.start();
  const services = await broker.call<Record<string, unknown>[]>(
    "$node.services",
    {
      skipInternal: true,
      withActions: true,
      withEvents: true,
    },
  );
  assert.equal(services.length, 1);
  const s = services[0]!;
  assert.deepEqual(Object.keys(s).sort(), [
    "actions",
    "available",
    "events",
    "fullName",
    "local",
    "metadata",
    "name",
    "nodes",
    "settings",
    "version",
  ]);
  assert.equal(s.name, "posts");
  assert.equal(s.version, 2);
  assert.equal(s.fullName, "v2.posts");
  assert.deepEqual(s.settings, { a: 1 });
  assert.deepEqual(s.metadata, { m: 1 });
  assert.equal(s.local, true);
  assert.equal(s.available, true);
  assert.deepEqual(s.nodes, ["n1"]);
  assert.deepEqual(Object.keys(s.actions as object), ["v2.posts.find"]);
  assert.deepEqual(Object.keys(s.events as object), ["post.created"]);
  const all = await broker.call<Record<string, unknown>[]>("$node.services", {
    grouping: false,
  });
  assert.deepEqual(all.map((x) => x.name).sort(), ["$node", "posts"]);
  assert.equal(all[0]!.nodeID, "n1");
  assert.equal(all[0]!.nodes, undefined);
});

Deno.test("$node.actions and $node.events return Moleculer's shapes", async () => {
  await using broker = scoped({ nodeID: "n1" });
  broker.createService({
    name: "math",
    actions: {
      add: {
        params: { a: "number" },
        hooks: { before: () => {} },
        handler: () => 1,
      },
    },
    events: { "calc.done": { group: "g", handler: () => {} } },
  });
  await broker.start();
  const actions = await broker.call<Record<string, unknown>[]>(
    "$node.actions",
    {
      skipInternal: true,
      withEndpoints: true,
    },
  );
  assert.equal(actions.length, 1);
  const add = actions[0]!;
  assert.deepEqual(Object.keys(add).sort(), [
    "action",
    "available",
    "count",
    "endpoints",
    "hasLocal",
    "name",
  ]);
  assert.equal(add.name, "math.add");
  assert.equal(add.count, 1);
  assert.equal(add.hasLocal, true);
  assert.equal(add.available, true);
  // the announced definition: JSON-safe, no handler and no hook functions
  assert.deepEqual(add.action, {
    name: "math.add",
    rawName: "add",
    params: { a: "number" },
  });
  assert.deepEqual(add.endpoints, [{
    nodeID: "n1",
    state: true,
    available: true,
  }]);
  const internal = await broker.call<Record<string, unknown>[]>(
    "$node.actions",
  );
  assert.ok(internal.some((a) => a.name === "$node.health"));

  const events = await broker.call<Record<string, unknown>[]>("$node.events", {
    onlyLocal: true,
  });
  assert.equal(events.length, 1);
  const ev = events[0]!;
  assert.deepEqual(Object.keys(ev).sort(), [
    "available",
    "count",
    "event",
    "group",
    "hasLocal",
    "name",
  ]);
  assert.equal(ev.name, "calc.done");
  assert.equal(ev.group, "g");
  assert.equal(ev.count, 1);
  assert.deepEqual(ev.event, { name: "calc.done", group: "g" });
});

Deno.test("$node.health returns Moleculer's health shape", async () => {
  await using broker = scoped();
  await broker.start();
  const h = await broker.call<Record<string, Record<string, unknown>>>(
    "$node.health",
  );
  assert.deepEqual(Object.keys(h).sort(), [
    "client",
    "cpu",
    "mem",
    "net",
    "os",
    "process",
    "time",
  ]);
  assert.deepEqual(Object.keys(h.cpu!).sort(), [
    "cores",
    "load1",
    "load15",
    "load5",
    "utilization",
  ]);
  assert.deepEqual(Object.keys(h.mem!).sort(), ["free", "percent", "total"]);
  assert.deepEqual(Object.keys(h.os!).sort(), [
    "arch",
    "hostname",
    "platform",
    "release",
    "type",
    "uptime",
    "user",
  ]);
  assert.deepEqual(Object.keys(h.process!).sort(), [
    "argv",
    "memory",
    "pid",
    "uptime",
  ]);
  assert.deepEqual(Object.keys(h.client!).sort(), [
    "langVersion",
    "type",
    "version",
  ]);
  assert.ok(Array.isArray(h.net!.ip));
  assert.deepEqual(Object.keys(h.time!).sort(), ["iso", "now", "utc"]);
  assert.equal(h.process!.pid, Deno.pid);
});

Deno.test("$node.options returns the options, JSON-safe and without secrets", async () => {
  const sink = () => {};
  await using broker = scoped({
    nodeID: "opt",
    logger: sink,
    requestTimeout: 1234,
    middlewares: [{ name: "Tagger", localAction: (next) => next }],
  });
  await broker.start();
  const o = await broker.call<Record<string, unknown>>("$node.options");
  assert.equal(o.nodeID, "opt");
  assert.equal(o.requestTimeout, 1234);
  assert.deepEqual(o.middlewares, ["Tagger"]);
  assert.equal(
    "logger" in o,
    false,
    "a function never shows up (nor its source)",
  );
  assert.deepEqual(o, JSON.parse(JSON.stringify(o)));
});

Deno.test("$node.options masks credentials in URLs", async () => {
  const bus = memoryBus();
  const broker = new ServiceBroker(clusterOptions("cred", bus));
  try {
    await broker.start();
    const o = await broker.call<Record<string, unknown>>("$node.options");
    assert.equal(o.transporter, bus);
  } finally {
    await broker.stop();
  }
  const fake = {
    options: resolveOptions({ transporter: "nats://user:pw@host:4222" }),
  };
  const schema = nodeServiceSchema(fake as unknown as ServiceBroker);
  const handler = (schema.actions!.options as { handler: () => Record<string, unknown> })
    .handler;
  assert.equal(handler().transporter, "nats://***@host:4222");
});

Deno.test("internalServices: false leaves out $node", async () => {
  await using broker = scoped({ internalServices: false });
  await broker.start();
  await assert.rejects(broker.call("$node.list"), ServiceNotFoundError);
});

Deno.test("$node.* across nodes: grouping, counts, endpoints and offline nodes", async () => {
  const bus = memoryBus();
  const a = new ServiceBroker(clusterOptions("a", bus));
  const b = new ServiceBroker(clusterOptions("b", bus));
  for (const n of [a, b]) {
    n.createService({
      name: "echo",
      actions: { hi: () => n.nodeID },
      events: { "echo.ping": () => {} },
    });
  }
  try {
    await startCluster([a, b], ["echo"]);
    await until(
      () => a.registry.actions.get("echo.hi")?.items.length === 2,
      "b's endpoint",
    );
    const services = await a.call<Record<string, unknown>[]>("$node.services", {
      skipInternal: true,
    });
    assert.equal(services.length, 1);
    assert.deepEqual((services[0]!.nodes as string[]).sort(), ["a", "b"]);
    assert.equal(services[0]!.local, true);
    const ungrouped = await a.call<Record<string, unknown>[]>(
      "$node.services",
      {
        skipInternal: true,
        grouping: false,
      },
    );
    assert.deepEqual(ungrouped.map((s) => s.nodeID).sort(), ["a", "b"]);
    assert.deepEqual(
      ungrouped.map((s) => [s.nodeID, s.local]).sort(),
      [["a", true], ["b", false]],
    );

    const actions = await a.call<Record<string, unknown>[]>("$node.actions", {
      skipInternal: true,
      withEndpoints: true,
    });
    const hi = actions.find((x) => x.name === "echo.hi")!;
    assert.equal(hi.count, 2);
    assert.equal(hi.hasLocal, true);
    assert.deepEqual(
      (hi.endpoints as Record<string, unknown>[]).map((e) => e.nodeID).sort(),
      ["a", "b"],
    );
    const events = await a.call<Record<string, unknown>[]>("$node.events", {
      skipInternal: true,
    });
    const ping = events.find((x) => x.name === "echo.ping")!;
    assert.equal(ping.count, 2);
    assert.equal(ping.group, "echo");

    await b.stop();
    await until(
      () => a.registry.nodes.get("b")?.available === false,
      "b to go offline",
    );
    const list = await a.call<Record<string, unknown>[]>("$node.list");
    const gone = list.find((n) => n.id === "b")!;
    assert.equal(gone.available, false);
    assert.equal(typeof gone.offlineSince, "number");
    const online = await a.call<Record<string, unknown>[]>("$node.list", {
      onlyAvailable: true,
    });
    assert.deepEqual(online.map((n) => n.id), ["a"]);
    const after = await a.call<Record<string, unknown>[]>("$node.actions", {
      skipInternal: true,
    });
    assert.equal(after.find((x) => x.name === "echo.hi")!.count, 1);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

Deno.test("$node actions accept string flags, as they arrive from a REST gateway", async () => {
  await using broker = scoped({ nodeID: "flags" });
  broker.createService({ name: "x", actions: { a: () => 1 } });
  await broker.start();
  const local = await broker.call<Record<string, unknown>[]>("$node.actions", {
    skipInternal: "true",
  });
  assert.deepEqual(local.map((a) => a.name), ["x.a"]);
  const list = await broker.call<Record<string, unknown>[]>("$node.list", {
    withServices: "true",
  });
  assert.ok(Array.isArray(list[0]!.services));
});
