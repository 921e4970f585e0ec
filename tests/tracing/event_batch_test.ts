import assert from "node:assert/strict";
import { EventTraceExporter } from "../../src/tracing/exporters/event.ts";
import type { ExporterTracer } from "../../src/tracing/exporters/exporter.ts";
import { NO_TRACER, Span } from "../../src/tracing/span.ts";

type Rec = Record<string, unknown>;

/** An exporter fed by hand, and what it emitted. */
function exporter(options: ConstructorParameters<typeof EventTraceExporter>[0]) {
  const sent: Rec[][] = [];
  const tracer = {
    errorFields: ["name", "message", "code"],
    logger: { warn() {} },
    host: {
      nodeID: "n",
      emit: (_event: string, data: unknown) => (sent.push(data as Rec[]), Promise.resolve()),
      broadcast: () => Promise.resolve(),
      getLogger: () => ({}),
    },
  } as unknown as ExporterTracer;
  const e = new EventTraceExporter({ interval: 60, ...options });
  e.init(tracer);
  return { e, sent };
}

/** What Moleculer's Event exporter sends of a span: its own fields, the error as its fields. */
function moleculerPayload(span: Span, defaultTags?: Rec): Rec {
  const copy: Rec = { ...span };
  if (span.error) copy.error = { name: "Error", message: "boom" };
  if (defaultTags) copy.tags = { ...defaultTags, ...span.tags };
  return copy;
}

function spans(): Span[] {
  const a = new Span(NO_TRACER, "a", { type: "action", service: "svc", tags: { x: 1 } }).start();
  const child = a.startSpan("child", { tags: { y: { z: 2 } } });
  child.log("step", { k: 1 });
  child.finish();
  a.setError(new Error("boom"));
  a.finish();
  // Finished without being started: its start times stay null.
  const unstarted = new Span(NO_TRACER, "unstarted").finish();
  return [child, a, unstarted];
}

Deno.test("Event exporter batch: each span sent as its own fields, in their order, as they were when it finished", () => {
  for (const defaultTags of [undefined, { env: "test" }]) {
    const { e, sent } = exporter(defaultTags ? { defaultTags } : {});
    const finished = spans();
    for (const s of finished) e.spanFinished(s);
    e.stop();
    assert.equal(sent.length, 1);
    const expected = finished.map((s) => moleculerPayload(s, defaultTags));
    assert.deepEqual(sent[0], expected);
    for (let i = 0; i < expected.length; i++) {
      assert.deepEqual(Object.keys(sent[0]![i]!), Object.keys(expected[i]!));
    }
    assert.equal(sent[0]![2]!.startTime, null);
  }
});

Deno.test("Event exporter batch: started spans and span converters see the span when the batch goes out", () => {
  const { e, sent } = exporter({ sendStartSpan: true });
  const span = new Span(NO_TRACER, "s").start();
  e.spanStarted(span);
  span.finish();
  e.spanFinished(span);
  e.stop();
  // The started entry is read when sent: the span has finished by then (as Moleculer's).
  assert.deepEqual(sent[0], [moleculerPayload(span), moleculerPayload(span)]);

  const converted = exporter({ spanConverter: (s: Span) => ({ only: s.name, d: s.duration }) });
  const t = new Span(NO_TRACER, "t").start();
  t.finish();
  converted.e.spanFinished(t);
  converted.e.stop();
  assert.deepEqual(converted.sent[0], [{ only: "t", d: t.duration }]);
});

Deno.test("Event exporter batch: a batch larger than a chunk keeps every span, in order", () => {
  // No limit (Moleculer's behaviour): every span waits for the interval.
  const { e, sent } = exporter({ maxBatchSize: 0 });
  const n = 5000;
  for (let i = 0; i < n; i++) {
    const s = new Span(NO_TRACER, `s${i}`).start();
    if (i % 1000 === 0) e.spanStarted(s); // ignored: sendStartSpan is off
    s.finish();
    e.spanFinished(s);
  }
  e.flush();
  assert.equal(sent[0]!.length, n);
  assert.deepEqual(sent[0]!.map((s) => s.name), Array.from({ length: n }, (_, i) => `s${i}`));
  e.flush();
  assert.equal(sent.length, 1, "nothing left to send");
});

/** Finish `n` spans named `<prefix><i>` into the exporter. */
function finishSpans(e: EventTraceExporter, prefix: string, n: number): void {
  for (let i = 0; i < n; i++) e.spanFinished(new Span(NO_TRACER, `${prefix}${i}`).start().finish());
}

Deno.test("Event exporter batch: a batch goes out early once it holds maxBatchSize spans (1000 by default)", () => {
  const { e, sent } = exporter({});
  finishSpans(e, "s", 2500);
  assert.deepEqual(sent.map((b) => b.length), [1000, 1000], "two full batches went out early");
  e.flush();
  assert.deepEqual(sent.map((b) => b.length), [1000, 1000, 500]);
  // In order, none twice, none lost.
  assert.deepEqual(
    sent.flat().map((s) => s.name),
    Array.from({ length: 2500 }, (_, i) => `s${i}`),
  );

  const small = exporter({ maxBatchSize: 3 });
  finishSpans(small.e, "t", 7);
  small.e.stop();
  assert.deepEqual(small.sent.map((b) => b.map((s) => s.name)), [
    ["t0", "t1", "t2"],
    ["t3", "t4", "t5"],
    ["t6"],
  ]);
});

Deno.test("Event exporter batch: a reused chunk sends only the spans of its own batch", () => {
  const { e, sent } = exporter({ maxBatchSize: 0 });
  finishSpans(e, "first", 5);
  e.flush();
  finishSpans(e, "second", 2);
  const started = new Span(NO_TRACER, "started").start();
  e.spanFinished(started.finish());
  e.flush();
  assert.deepEqual(sent[1]!.map((s) => s.name), ["second0", "second1", "started"]);
  assert.deepEqual(Object.keys(sent[1]![0]!), Object.keys(moleculerPayload(started)));
});

Deno.test("Event exporter batch: a bad maxBatchSize names the option and the fix", () => {
  for (const bad of [-1, 1.5, "10", Number.NaN]) {
    assert.throws(
      () => new EventTraceExporter({ maxBatchSize: bad as number }),
      (err: Error) =>
        err.name === "BrokerOptionsError" &&
        err.message.includes("'tracing.exporter.options.maxBatchSize'") &&
        err.message.includes("0: no limit"),
    );
  }
});
