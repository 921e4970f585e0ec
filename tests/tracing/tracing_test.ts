import assert from "node:assert/strict";
import { BrokerOptionsError, type Context, MoleculerClientError, type Span } from "../../mod.ts";
import { clusterOptions, memoryBus, scoped, startCluster } from "../_helpers/core.ts";
import { ServiceBroker } from "../../mod.ts";
import { CollectingExporter } from "./_spans.ts";

function traced(
  exporter: CollectingExporter,
  extra: Record<string, unknown> = {},
) {
  return scoped({ tracing: { enabled: true, exporter, ...extra } });
}

Deno.test("action spans of a local chain: one trace, parent links, Moleculer's tags", async () => {
  const exp = new CollectingExporter();
  await using broker = traced(exp);
  broker.createService({
    name: "a",
    actions: {
      run: (ctx: Context<{ x: number }>) => ctx.call("b.run", { y: ctx.params.x }),
    },
  });
  broker.createService({
    name: "b",
    actions: { run: (ctx: Context<{ y: number }>) => ctx.params.y },
  });
  await broker.start();
  assert.equal(await broker.call("a.run", { x: 7 }), 7);
  const a = exp.byName("action 'a.run'");
  const b = exp.byName("action 'b.run'");
  assert.equal(a.parentID, null);
  assert.equal(a.traceID, a.id);
  assert.equal(b.traceID, a.id);
  assert.equal(b.parentID, a.id);
  assert.equal(b.type, "action");
  assert.deepEqual(b.service, { name: "b", version: undefined, fullName: "b" });
  assert.equal(a.tags.callingLevel, 1);
  assert.equal(b.tags.callingLevel, 2);
  assert.deepEqual(b.tags.params, { y: 7 });
  assert.deepEqual(b.tags.action, { name: "b.run", rawName: "run" });
  assert.equal(b.tags.remoteCall, false);
  assert.equal(b.tags.requestID, a.id);
  assert.equal(b.tags.fromCache, false);
  assert.ok(typeof a.duration === "number" && a.duration >= 0);
  assert.ok(a.finishTime! >= a.startTime!);
  // The span's fields are Moleculer's, and only those are enumerable.
  assert.deepEqual(Object.keys({ ...a }), [
    "name",
    "type",
    "id",
    "traceID",
    "parentID",
    "service",
    "priority",
    "sampled",
    "startTime",
    "startTicks",
    "finishTime",
    "duration",
    "error",
    "logs",
    "tags",
  ]);
});

Deno.test("ctx.startSpan/finishSpan: custom spans nest, and calls made inside have them as parent", async () => {
  const exp = new CollectingExporter();
  await using broker = traced(exp);
  broker.createService({
    name: "a",
    actions: {
      async run(ctx: Context) {
        const outer = ctx.startSpan("load", { tags: { table: "users" } });
        const inner = ctx.startSpan("query");
        await ctx.call("b.run");
        ctx.finishSpan(inner);
        assert.equal(ctx.span, outer);
        ctx.finishSpan(outer);
        return ctx.span?.name;
      },
    },
  });
  broker.createService({ name: "b", actions: { run: () => 1 } });
  await broker.start();
  assert.equal(await broker.call("a.run"), "action 'a.run'");
  const a = exp.byName("action 'a.run'");
  const load = exp.byName("load");
  const query = exp.byName("query");
  const b = exp.byName("action 'b.run'");
  assert.equal(load.parentID, a.id);
  assert.equal(query.parentID, load.id);
  assert.equal(b.parentID, query.id);
  assert.equal(new Set([a, load, query, b].map((s) => s.traceID)).size, 1);
  assert.equal(load.tags.table, "users");
  assert.equal(load.type, "custom");
});

Deno.test("sampling: rate 0 keeps nothing; rate 0.5 keeps every second trace, children follow", async () => {
  {
    const exp = new CollectingExporter();
    await using broker = traced(exp, { sampling: { rate: 0 } });
    broker.createService({ name: "a", actions: { run: () => 1 } });
    await broker.start();
    for (let i = 0; i < 4; i++) await broker.call("a.run");
    assert.equal(exp.finished.length, 0);
  }
  const exp = new CollectingExporter();
  await using broker = traced(exp, { sampling: { rate: 0.5 } });
  const seen: Array<boolean | null> = [];
  broker.createService({
    name: "a",
    actions: {
      run: (ctx: Context) => {
        seen.push(ctx.tracing);
        return ctx.call("b.run");
      },
    },
  });
  broker.createService({ name: "b", actions: { run: () => 1 } });
  await broker.start();
  for (let i = 0; i < 6; i++) await broker.call("a.run");
  assert.deepEqual(seen, [false, true, false, true, false, true]);
  // Three traces kept, each whole: the root and its child.
  assert.equal(exp.finished.length, 6);
  for (const s of exp.finished.filter((x) => x.name === "action 'b.run'")) {
    assert.ok(exp.finished.some((x) => x.id === s.parentID));
  }
});

Deno.test("sampling: minPriority and tracesPerSecond", async () => {
  const exp = new CollectingExporter();
  await using broker = traced(exp, { sampling: { minPriority: 6 } });
  await broker.start();
  broker.tracer.startSpan("low").finish();
  broker.tracer.startSpan("high", { priority: 7 }).finish();
  assert.deepEqual(exp.finished.map((s) => s.name), ["high"]);

  const exp2 = new CollectingExporter();
  await using limited = traced(exp2, { sampling: { tracesPerSecond: 1 } });
  await limited.start();
  await new Promise((r) => setTimeout(r, 1050));
  for (let i = 0; i < 5; i++) limited.tracer.startSpan(`s${i}`).finish();
  assert.equal(exp2.finished.length, 1);
});

Deno.test("action-level tracing: off, own tags (params list, meta, response), own span name", async () => {
  const exp = new CollectingExporter();
  await using broker = traced(exp);
  broker.createService({
    name: "a",
    actions: {
      hidden: { tracing: false, handler: () => 1 },
      tagged: {
        tracing: {
          tags: { params: ["id"], meta: ["user"], response: true },
          spanName: (ctx: Context) => `tagged ${(ctx.params as { id: number }).id}`,
        },
        handler: () => ({ ok: true }),
      },
      fn: {
        tracing: {
          tags: (ctx: Context, res?: unknown) => ({ custom: res ?? ctx.level }),
        },
        handler: () => "done",
      },
    },
  });
  await broker.start();
  await broker.call("a.hidden");
  await broker.call("a.tagged", { id: 3, secret: "x" }, {
    meta: { user: "u", token: "t" },
  });
  await broker.call("a.fn");
  assert.equal(exp.finished.some((s) => s.name === "action 'a.hidden'"), false);
  const t = exp.byName("tagged 3");
  assert.deepEqual(t.tags.params, { id: 3 });
  assert.deepEqual(t.tags.meta, { user: "u" });
  assert.deepEqual(t.tags.response, { ok: true });
  const f = exp.byName("action 'a.fn'");
  assert.equal(f.tags.custom, "done");
  assert.equal(f.tags.params, undefined);
});

Deno.test("errors: the span fails with the error fields of errorFields (and stack with stackTrace)", async () => {
  const exp = new CollectingExporter();
  await using broker = traced(exp, { stackTrace: true, exporter: exp });
  broker.createService({
    name: "a",
    actions: {
      fail: () => {
        throw new MoleculerClientError("nope", 422, "BAD", { f: 1 });
      },
    },
  });
  await broker.start();
  await assert.rejects(broker.call("a.fail"), /nope/);
  const s = exp.byName("action 'a.fail'");
  assert.ok(s.error instanceof MoleculerClientError);
  assert.deepEqual(broker.tracer.errorFields, [
    "name",
    "message",
    "code",
    "type",
    "data",
    "stack",
  ]);
});

Deno.test("event spans with tracing.events: each handler its own span, parented to the emitter", async () => {
  const exp = new CollectingExporter();
  await using broker = traced(exp, { events: true });
  const done: string[] = [];
  broker.createService({
    name: "a",
    actions: {
      run: async (ctx: Context) => {
        await ctx.emit("user.created", { id: 1 });
        return true;
      },
    },
  });
  for (const name of ["l1", "l2"]) {
    broker.createService({
      name,
      events: { "user.created": () => void done.push(name) },
    });
  }
  await broker.start();
  await broker.call("a.run");
  const a = exp.byName("action 'a.run'");
  const e1 = exp.byName("event 'user.created' in 'l1'");
  const e2 = exp.byName("event 'user.created' in 'l2'");
  assert.notEqual(e1.id, e2.id);
  for (const e of [e1, e2]) {
    assert.equal(e.parentID, a.id);
    assert.equal(e.traceID, a.id);
    assert.equal(e.type, "event");
    assert.equal(e.tags.eventName, "user.created");
    assert.deepEqual(e.tags.params, { id: 1 });
  }
});

Deno.test("tracing off: no tracer work, ctx.startSpan still works (spans go nowhere)", async () => {
  await using broker = scoped();
  let name: string | undefined;
  broker.createService({
    name: "a",
    actions: {
      run(ctx: Context) {
        const s: Span = ctx.startSpan("custom");
        name = s.name;
        ctx.finishSpan(s);
        return ctx.tracing;
      },
    },
  });
  await broker.start();
  assert.equal(broker.tracer.enabled, false);
  assert.equal(await broker.call("a.run"), null);
  assert.equal(name, "custom");
});

Deno.test("a bad tracing option names the option and what it must be", () => {
  const bad: Array<[unknown, RegExp]> = [
    [{ enabled: "yes" }, /'tracing.enabled' must be true or false/],
    [
      { sampling: { rate: 2 } },
      /'tracing.sampling.rate' must be a number from 0 to 1/,
    ],
    [
      { sampling: { every: 1 } },
      /Unknown broker option 'tracing.sampling.every'/,
    ],
    [{ colour: true }, /Unknown broker option 'tracing.colour'/],
    [
      { enabled: true, exporter: "Jaeger" },
      /Unknown trace exporter 'Jaeger'.*Console, Event, Zipkin/,
    ],
    [{ exporter: 5 }, /'tracing.exporter' must be an exporter name/],
    [7, /'tracing' must be true, false or an object/],
  ];
  for (const [tracing, re] of bad) {
    assert.throws(
      () => new ServiceBroker({ logger: false, tracing: tracing as never }),
      (err: unknown) => err instanceof BrokerOptionsError && re.test(err.message),
      JSON.stringify(tracing),
    );
  }
});

Deno.test("over the wire: the callee's span is the child of the caller's, and a node that does not trace carries the decision on", async () => {
  const bus = memoryBus();
  const exp1 = new CollectingExporter();
  const exp3 = new CollectingExporter();
  const n1 = new ServiceBroker(
    clusterOptions("n1", bus, { tracing: { enabled: true, exporter: exp1 } }),
  );
  // n2 does not trace: it only relays.
  const n2 = new ServiceBroker(clusterOptions("n2", bus));
  const n3 = new ServiceBroker(
    clusterOptions("n3", bus, {
      tracing: { enabled: true, sampling: { rate: 0 }, exporter: exp3 },
    }),
  );
  n1.createService({
    name: "front",
    actions: { run: (ctx: Context) => ctx.call("relay.run") },
  });
  const relayed: Array<boolean | null> = [];
  n2.createService({
    name: "relay",
    actions: {
      run: (ctx: Context) => {
        relayed.push(ctx.tracing);
        return ctx.call("back.run");
      },
    },
  });
  n3.createService({
    name: "back",
    actions: { run: (ctx: Context) => ctx.tracing },
  });
  try {
    await startCluster([n1, n2, n3], ["front", "relay", "back"]);
    // n3 samples nothing of its own (rate 0), yet honours the decision n1 made, through n2.
    assert.equal(await n1.call("front.run"), true);
    assert.deepEqual(relayed, [true]);
    const front = exp1.byName("action 'front.run'");
    const back = exp3.byName("action 'back.run'");
    assert.equal(back.traceID, front.traceID);
    assert.equal(back.tags.remoteCall, true);
    assert.equal(back.tags.callerNodeID, "n2");
    assert.equal(back.tags.callingLevel, 3);
    // The relay's context (no span on n2) is back's parent: its id, sent by n2 as parentID.
    assert.notEqual(back.parentID, front.id);
    assert.ok(back.parentID);
  } finally {
    await Promise.all([n1.stop(), n2.stop(), n3.stop()]);
  }
});
