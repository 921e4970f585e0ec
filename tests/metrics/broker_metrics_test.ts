import assert from "node:assert/strict";
import {
  type Context,
  type HistogramSnapshot,
  MoleculerClientError,
  ServiceBroker,
  type ValueSnapshot,
} from "../../mod.ts";
import { clusterOptions, memoryBus, scoped, startCluster } from "../_helpers/core.ts";

type Rec = Record<string, unknown>;
const values = (b: ServiceBroker, name: string) =>
  (b.metrics.getMetric(name)?.snapshot() ?? []) as Array<
    ValueSnapshot & HistogramSnapshot
  >;

Deno.test("calls: moleculer.request.* with Moleculer's names and labels", async () => {
  await using broker = scoped({
    metrics: { enabled: true, collectProcessMetrics: false },
  });
  broker.createService({
    name: "a",
    actions: {
      run: (ctx: Context) => ctx.call("b.run"),
      fail: () => {
        throw new MoleculerClientError("no", 422, "NOPE");
      },
    },
  });
  broker.createService({ name: "b", actions: { run: () => 1 } });
  await broker.start();
  await broker.call("a.run");
  await broker.call("a.run");
  await assert.rejects(broker.call("a.fail"));
  const total = values(broker, "moleculer.request.total");
  assert.deepEqual(
    total.map((s) => [s.labels, s.value]),
    [
      [{ service: "a", action: "a.run", caller: null, type: "local" }, 2],
      [{ service: "b", action: "b.run", caller: "a", type: "local" }, 2],
      [{ service: "a", action: "a.fail", caller: null, type: "local" }, 1],
    ],
  );
  assert.ok(
    values(broker, "moleculer.request.active").every((s) => s.value === 0),
  );
  const errors = values(broker, "moleculer.request.error.total");
  assert.deepEqual(errors.map((s) => [s.labels, s.value]), [[{
    service: "a",
    action: "a.fail",
    caller: null,
    type: "local",
    errorName: "MoleculerClientError",
    errorCode: 422,
    errorType: "NOPE",
  }, 1]]);
  const time = values(broker, "moleculer.request.time");
  assert.equal(time[0]!.count, 2);
  assert.ok(time[0]!.buckets && time[0]!.quantiles);
  const levels = values(broker, "moleculer.request.levels");
  assert.deepEqual(levels.map((s) => [s.labels, s.value]), [[{ level: 1 }, 3], [
    { level: 2 },
    2,
  ]]);
});

Deno.test("events: emitted, broadcast and received counts, times and errors", async () => {
  await using broker = scoped({
    metrics: { enabled: true, collectProcessMetrics: false },
  });
  broker.createService({
    name: "l",
    events: {
      "user.created": () => {},
      "user.failed": () => {
        throw new Error("bad");
      },
    },
  });
  await broker.start();
  await broker.emit("user.created", {});
  await broker.broadcast("user.created", {});
  await broker.broadcastLocal("user.failed", {});
  assert.deepEqual(
    values(broker, "moleculer.event.emit.total").map((
      s,
    ) => [s.labels, s.value]),
    [[{ event: "user.created" }, 1]],
  );
  assert.deepEqual(
    values(broker, "moleculer.event.broadcast.total").map((
      s,
    ) => [s.labels, s.value]),
    [[{ event: "user.created" }, 1]],
  );
  assert.equal(
    values(broker, "moleculer.event.broadcast-local.total")[0]!.value,
    1,
  );
  const received = values(broker, "moleculer.event.received.total");
  assert.deepEqual(received.map((s) => [s.labels, s.value]), [
    [{ service: "l", event: "user.created", group: "l", caller: null }, 2],
    [{ service: "l", event: "user.failed", group: "l", caller: null }, 1],
  ]);
  assert.equal(
    values(broker, "moleculer.event.received.error.total")[0]!.labels.errorName,
    "Error",
  );
  assert.equal(values(broker, "moleculer.event.received.time")[0]!.count, 2);
});

Deno.test("remote calls and packets: moleculer.transit.* and moleculer.transporter.*", async () => {
  const bus = memoryBus();
  const caller = new ServiceBroker(clusterOptions("m1", bus, {
    metrics: { enabled: true, collectProcessMetrics: false },
  }));
  const callee = new ServiceBroker(clusterOptions("m2", bus));
  callee.createService({ name: "far", actions: { run: () => 1 } });
  try {
    await startCluster([caller, callee], ["far"]);
    for (let i = 0; i < 3; i++) await caller.call("far.run");
    const remote = values(caller, "moleculer.request.total");
    assert.deepEqual(remote.map((s) => [s.labels, s.value]), [
      [{ service: "far", action: "far.run", caller: null, type: "remote" }, 3],
    ]);
    const pub = values(caller, "moleculer.transit.publish.total");
    const req = pub.find((s) => s.labels.type === "REQ");
    assert.equal(req?.value, 3);
    const recv = values(caller, "moleculer.transit.receive.total");
    assert.equal(recv.find((s) => s.labels.type === "RES")?.value, 3);
    const sent = values(caller, "moleculer.transporter.packets.sent.total")[0]!
      .value as number;
    const sentBytes = values(
      caller,
      "moleculer.transporter.packets.sent.bytes",
    )[0]!
      .value as number;
    assert.ok(
      sent >= 3 && sentBytes > sent * 20,
      `${sent} packets, ${sentBytes} bytes`,
    );
  } finally {
    await Promise.all([caller.stop(), callee.stop()]);
  }
});

Deno.test("process, os and node metrics from the Runtime port; $node.metrics lists them", async () => {
  await using broker = scoped({ nodeID: "pm", metrics: true });
  await broker.start();
  const one = (name: string) => values(broker, name)[0]?.value;
  assert.ok((one("process.memory.heap.size.used") as number) > 0);
  assert.ok((one("process.memory.rss") as number) > 0);
  assert.ok((one("os.memory.total") as number) > 0);
  assert.equal(one("process.pid"), Deno.pid);
  assert.equal(one("moleculer.node.type"), "deno");
  assert.equal(one("moleculer.broker.started"), 1);
  assert.equal(one("moleculer.registry.nodes.total"), 1);
  assert.equal(one("moleculer.transit.requests.active"), 0);
  const listed = await broker.call<Rec[]>("$node.metrics", {
    includes: "process.memory.**",
  });
  assert.deepEqual(
    listed.map((m) => m.name).sort(),
    [
      "process.memory.external",
      "process.memory.heap.size.total",
      "process.memory.heap.size.used",
      "process.memory.rss",
    ],
  );
  await using off = scoped();
  await off.start();
  await assert.rejects(
    off.call("$node.metrics"),
    /Metrics feature is disabled/,
  );
});
