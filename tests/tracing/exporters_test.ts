import assert from "node:assert/strict";
import {
  ConsoleTraceExporter,
  type Context,
  MoleculerClientError,
  ServiceBroker,
  Span,
  type ZipkinSpan,
  ZipkinTraceExporter,
} from "../../mod.ts";
import { clusterOptions, memoryBus, scoped, startCluster, until } from "../_helpers/core.ts";
import { NO_TRACER } from "../../src/tracing/span.ts";

type Rec = Record<string, unknown>;

Deno.test("Event exporter: finished spans reach another node as $tracing.spans, errors as their fields", async () => {
  const bus = memoryBus();
  const spans: Rec[] = [];
  const traced = new ServiceBroker(clusterOptions("t1", bus, {
    tracing: {
      enabled: true,
      exporter: { type: "Event", options: { interval: 0 } },
    },
  }));
  const sink = new ServiceBroker(clusterOptions("t2", bus));
  traced.createService({
    name: "a",
    actions: {
      ok: () => 1,
      bad: () => {
        throw new MoleculerClientError("nope", 400, "BAD", { x: 1 });
      },
    },
  });
  sink.createService({
    name: "collector",
    events: {
      "$tracing.spans": (ctx: Context<Rec[]>) => void spans.push(...ctx.params),
    },
  });
  try {
    await startCluster([traced, sink], ["a", "collector"]);
    await traced.call("a.ok");
    await assert.rejects(traced.call("a.bad"));
    await until(() => spans.length >= 2, "two spans");
    const ok = spans.find((s) => s.name === "action 'a.ok'")!;
    const bad = spans.find((s) => s.name === "action 'a.bad'")!;
    assert.equal(ok.sampled, true);
    assert.equal(ok.error, null);
    assert.deepEqual(bad.error, {
      name: "MoleculerClientError",
      message: "nope",
      code: 400,
      type: "BAD",
      data: { x: 1 },
    });
    // The spans of the $tracing.spans event itself are never sent (they would feed themselves).
    assert.equal(
      spans.some((s) => (s.tags as Rec).eventName === "$tracing.spans"),
      false,
    );
  } finally {
    await Promise.all([traced.stop(), sink.stop()]);
  }
});

Deno.test("Event exporter: batches every interval, and sends what is left when the broker stops", async () => {
  const batches: Rec[][] = [];
  const broker = scoped({
    tracing: {
      enabled: true,
      exporter: {
        type: "Event",
        options: { interval: 60, sendStartSpan: true },
      },
    },
  });
  broker.createService({
    name: "c",
    events: {
      "$tracing.spans": (ctx: Context<Rec[]>) => void batches.push(ctx.params),
    },
  });
  broker.createService({ name: "a", actions: { run: () => 1 } });
  await broker.start();
  await broker.call("a.run");
  await broker.call("a.run");
  assert.equal(batches.length, 0, "held until the interval");
  await broker.stop();
  assert.equal(batches.length, 1);
  assert.equal(batches[0]!.length, 4, "two started, two finished");
});

Deno.test("Zipkin exporter: uploads Moleculer's v2 payload to <baseURL>/api/v2/spans", async () => {
  const received: ZipkinSpan[] = [];
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
  }, async (req) => {
    assert.equal(new URL(req.url).pathname, "/api/v2/spans");
    assert.equal(req.headers.get("content-type"), "application/json");
    received.push(...await req.json() as ZipkinSpan[]);
    return new Response(null, { status: 202 });
  });
  try {
    const broker = scoped({
      tracing: {
        enabled: true,
        exporter: {
          type: "Zipkin",
          options: {
            baseURL: `http://127.0.0.1:${server.addr.port}`,
            interval: 0,
          },
        },
      },
    });
    broker.createService({
      name: "a",
      version: 2,
      actions: {
        run: (ctx: Context) => ctx.call("v2.a.fail").catch(() => 1),
        fail: () => {
          throw new MoleculerClientError("nope", 400, "BAD");
        },
      },
    });
    await broker.start();
    await broker.call("v2.a.run", { n: 1 });
    await broker.stop();
    assert.equal(received.length, 2);
    const run = received.find((s) => s.name === "action 'v2.a.run'")!;
    const fail = received.find((s) => s.name === "action 'v2.a.fail'")!;
    assert.equal(run.kind, "SERVER");
    assert.match(run.id!, /^[0-9a-f]{16}$/);
    assert.equal(run.traceId, run.id);
    assert.equal(run.parentId, null);
    assert.equal(fail.parentId, run.id);
    assert.equal(fail.traceId, run.id);
    assert.deepEqual(run.localEndpoint, { serviceName: "v2.a" });
    assert.equal(run.tags["params.n"], "1");
    assert.equal(run.tags["span.type"], "action");
    assert.equal(run.tags["callingLevel"], "1");
    assert.ok(
      Number.isInteger(run.timestamp) && run.timestamp! > 1e15,
      "µs since the epoch",
    );
    assert.equal(fail.tags["error"], "nope");
    assert.equal(fail.tags["error.code"], "400");
    assert.equal(fail.annotations[0]?.value, "error");
  } finally {
    await server.shutdown();
  }
});

Deno.test("Zipkin exporter: a server that fails is logged, never thrown", async () => {
  const exporter = new ZipkinTraceExporter({
    baseURL: "http://127.0.0.1:9",
    interval: 0,
  });
  const warnings: string[] = [];
  const broker = scoped({
    tracing: { enabled: true, exporter },
    logger: (e) => void (e.level === "warn" && warnings.push(e.message)),
  });
  broker.createService({ name: "a", actions: { run: () => 1 } });
  await broker.start();
  await broker.call("a.run");
  await broker.stop();
  assert.ok(
    warnings.some((w) => w.includes("Unable to upload tracing spans to Zipkin")),
  );
});

Deno.test("Console exporter: prints the span tree of a finished trace", async () => {
  const lines: string[] = [];
  const broker = scoped({
    tracing: {
      enabled: true,
      exporter: {
        type: "Console",
        options: { logger: (l: string) => lines.push(l), width: 80 },
      },
    },
  });
  broker.createService({
    name: "a",
    actions: { run: (ctx: Context) => ctx.call("b.run") },
  });
  broker.createService({ name: "b", actions: { run: () => 1 } });
  await broker.start();
  await broker.call("a.run");
  await broker.stop();
  assert.ok(lines[0]!.startsWith("┌"));
  assert.ok(lines.at(-1)!.startsWith("└"));
  assert.ok(lines.every((l) => [...l].length === 80), lines.join("\n"));
  assert.match(lines[1]!, /ID: .* Depth: 2 Total: 2/);
  const a = lines.findIndex((l) => l.includes("action 'a.run'"));
  const b = lines.findIndex((l) => l.includes("  action 'b.run'"));
  assert.ok(a > 0 && b > a, lines.join("\n"));
  assert.match(lines[b]!, /\d+\.\d\dms \[[.■]+\]/);
});

Deno.test("Console exporter: a child that ends after its root keeps every line at the width", () => {
  const lines: string[] = [];
  const exp = new ConsoleTraceExporter({ logger: (l) => lines.push(l), width: 60 });
  const root = new Span(NO_TRACER, "root", { sampled: true }).start(1000);
  exp.spanStarted(root);
  const child = root.startSpan("late child");
  child.startTime = 1009.9;
  exp.spanStarted(child);
  child.finish(1010.4);
  exp.spanFinished(child);
  root.finish(1010);
  exp.spanFinished(root);
  assert.ok(lines.length > 0);
  for (const l of lines) assert.equal([...l].length, 60, l);
});
