import assert from "node:assert/strict";
import {
  BrokerOptionsError,
  type HistogramMetric,
  type HistogramSnapshot,
  MetricRegistry,
  ServiceBroker,
  type ValueSnapshot,
} from "../../mod.ts";
import { resolveMetricsOptions } from "../../src/metrics/options.ts";
import { scoped } from "../_helpers/core.ts";

function registry(extra: Record<string, unknown> = {}) {
  return new MetricRegistry(
    resolveMetricsOptions({
      enabled: true,
      collectProcessMetrics: false,
      ...extra,
    }),
    scoped() as unknown as ConstructorParameters<typeof MetricRegistry>[1],
  );
}

Deno.test("counters and gauges: series by labels, Moleculer's label hash, snapshots", () => {
  const m = registry();
  m.register({
    name: "jobs.done",
    type: "counter",
    labelNames: ["queue", "ok"],
  });
  m.register({ name: "jobs.running", type: "gauge", labelNames: ["queue"] });
  m.increment("jobs.done", { queue: "a", ok: true });
  m.increment("jobs.done", { queue: "a", ok: true }, 2);
  m.increment("jobs.done", { queue: "b", ok: false, other: 1 });
  m.increment("jobs.running", { queue: "a" }, 5);
  m.decrement("jobs.running", { queue: "a" }, 2);
  m.set("jobs.running", 9, { queue: "b" });
  const done = m.getMetric("jobs.done")!.snapshot() as ValueSnapshot[];
  assert.deepEqual(done.map((s) => [s.key, s.value, s.labels]), [
    ['"a"|true', 3, { queue: "a", ok: true }],
    ['"b"|false', 1, { queue: "b", ok: false }],
  ]);
  const running = m.getMetric("jobs.running")!.snapshot() as ValueSnapshot[];
  assert.deepEqual(running.map((s) => s.value), [3, 9]);
  assert.throws(
    () => m.decrement("jobs.done", { queue: "a" }),
    /decrementing works with gauges/,
  );
  assert.throws(() => m.increment("nope"), /Unknown metric 'nope'/);
});

Deno.test("histograms: cumulative buckets, quantiles and statistics over the window", () => {
  const m = registry();
  m.register({
    name: "t",
    type: "histogram",
    buckets: [1, 5, 10],
    quantiles: [0.5, 0.9],
  });
  for (const v of [0.5, 2, 3, 7, 20]) m.observe("t", v);
  const [s] = m.getMetric("t")!.snapshot() as HistogramSnapshot[];
  assert.equal(s!.count, 5);
  assert.equal(s!.sum, 32.5);
  assert.equal(s!.lastValue, 20);
  assert.deepEqual(s!.buckets, { 1: 1, 5: 3, 10: 4 });
  assert.equal(s!.min, 0.5);
  assert.equal(s!.max, 20);
  assert.equal(s!.mean, 6.5);
  assert.deepEqual(s!.quantiles, { 0.5: 3, 0.9: 20 });
  m.register({
    name: "lin",
    type: "histogram",
    linearBuckets: { start: 1, width: 2, count: 3 },
  });
  m.register({
    name: "exp",
    type: "histogram",
    exponentialBuckets: { start: 1, factor: 10, count: 3 },
  });
  m.register({
    name: "def",
    type: "histogram",
    buckets: true,
    quantiles: true,
  });
  assert.deepEqual((m.getMetric("lin") as HistogramMetric).buckets, [1, 3, 5]);
  assert.deepEqual((m.getMetric("exp") as HistogramMetric).buckets, [
    1,
    10,
    100,
  ]);
  assert.deepEqual(
    (m.getMetric("def") as HistogramMetric).buckets,
    [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
  );
});

Deno.test("histogram quantiles keep a bounded sample under any load", () => {
  const m = registry();
  m.register({ name: "big", type: "histogram", quantiles: [0.5] });
  for (let i = 0; i < 50_000; i++) m.observe("big", i % 100);
  const [s] = m.getMetric("big")!.snapshot() as HistogramSnapshot[];
  assert.equal(s!.count, 50_000);
  const median = s!.quantiles!["0.5"]!;
  assert.ok(median >= 40 && median <= 60, `median ${median}`);
});

Deno.test("the bounded quantile sample is uniform over every observation, not the first ones", () => {
  const m = registry();
  m.register({ name: "rising", type: "histogram", quantiles: [0.5, 0.9] });
  const n = 200_000;
  for (let i = 0; i < n; i++) m.observe("rising", i);
  const [s] = m.getMetric("rising")!.snapshot() as HistogramSnapshot[];
  const q = s!.quantiles!;
  // 1024 uniform samples of 0..n-1: each quantile within ~5 standard errors of its value.
  assert.ok(Math.abs(q["0.5"]! / n - 0.5) < 0.08, `median ${q["0.5"]}`);
  assert.ok(Math.abs(q["0.9"]! / n - 0.9) < 0.05, `p90 ${q["0.9"]}`);
  assert.ok(s!.max! > n * 0.99, `max ${s!.max}`);
});

Deno.test("timer, info, list filters, reset", async () => {
  const m = registry();
  m.register({ name: "op.time", type: "histogram", quantiles: true });
  m.register({ name: "app.version", type: "info" });
  const end = m.timer("op.time");
  await new Promise((r) => setTimeout(r, 5));
  assert.ok(end() >= 4);
  m.set("app.version", "1.2.3");
  assert.deepEqual(m.list({ types: "info" }).map((x) => x.name), [
    "app.version",
  ]);
  assert.deepEqual(m.list({ includes: "op.*" }).map((x) => x.name), [
    "op.time",
  ]);
  assert.deepEqual(m.list({ excludes: ["op.*"] }).map((x) => x.name), [
    "app.version",
  ]);
  m.reset("op.time");
  assert.equal(
    (m.getMetric("op.time")!.snapshot() as HistogramSnapshot[])[0]!.count,
    0,
  );
});

Deno.test("register checks names, labels and types; while off nothing is registered", () => {
  const m = registry();
  assert.throws(
    () => m.register({ name: "1bad", type: "counter" }),
    /'name' is not valid/,
  );
  assert.throws(
    () => m.register({ name: "x", type: "counter", labelNames: ["a b"] }),
    /label name is not valid/,
  );
  assert.throws(
    () => m.register({ name: "x", type: "meter" as never }),
    /Unknown metric type 'meter'/,
  );
  const off = new MetricRegistry(
    resolveMetricsOptions(false),
    scoped() as unknown as ConstructorParameters<typeof MetricRegistry>[1],
  );
  assert.equal(off.register({ name: "x", type: "counter" }), null);
  off.increment("x");
  assert.deepEqual(off.list(), []);
});

Deno.test("a bad metrics option names the option and what it must be", () => {
  const bad: Array<[unknown, RegExp]> = [
    [{ enabled: 1 }, /'metrics.enabled' must be true or false/],
    [{ collectInterval: 0 }, /'metrics.collectInterval' must be a number > 0/],
    [
      { defaultBuckets: ["a"] },
      /'metrics.defaultBuckets' must be an array of numbers/,
    ],
    [{ colour: 1 }, /Unknown broker option 'metrics.colour'/],
    [
      { enabled: true, reporter: "Datadog" },
      /Unknown metric reporter 'Datadog'.*Prometheus/,
    ],
    [{ reporter: 3 }, /'metrics.reporter' must be a reporter name/],
  ];
  for (const [metrics, re] of bad) {
    assert.throws(
      () => new ServiceBroker({ logger: false, metrics: metrics as never }),
      (err: unknown) => err instanceof BrokerOptionsError && re.test(err.message),
      JSON.stringify(metrics),
    );
  }
});
