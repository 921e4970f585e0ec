import assert from "node:assert/strict";
import { type Context, PrometheusReporter } from "../../mod.ts";
import { scoped } from "../_helpers/core.ts";
import { startPrometheus } from "../_helpers/prometheus_server.ts";
import { waitFor } from "../transit/_util.ts";

function node(reporter: PrometheusReporter) {
  const broker = scoped({
    nodeID: "prom-node",
    namespace: "prod",
    metrics: { enabled: true, collectProcessMetrics: false, reporter },
  });
  broker.createService({
    name: "math",
    actions: {
      add: (ctx: Context<{ a: number; b: number }>) => ctx.params.a + ctx.params.b,
    },
  });
  return broker;
}

Deno.test("Prometheus endpoint: Moleculer's text format, 404 elsewhere, gzip on request", async () => {
  const reporter = new PrometheusReporter({ host: "127.0.0.1", port: 0 });
  await using broker = node(reporter);
  await broker.start();
  for (let i = 0; i < 3; i++) await broker.call("math.add", { a: 1, b: i });
  const base = `http://127.0.0.1:${reporter.port}`;
  const res = await fetch(`${base}/metrics`);
  assert.equal(
    res.headers.get("content-type"),
    "text/plain; version=0.0.4; charset=utf-8",
  );
  const text = await res.text();
  assert.match(text, /^# HELP moleculer_request_total Number of requests$/m);
  assert.match(text, /^# TYPE moleculer_request_total counter$/m);
  assert.match(
    text,
    /^moleculer_request_total\{namespace="prod",nodeID="prom-node",service="math",action="math\.add",type="local",caller="null"\} 3$/m,
  );
  assert.match(text, /^# TYPE moleculer_request_time histogram$/m);
  assert.match(
    text,
    /^moleculer_request_time_bucket\{.*action="math\.add".*le="\+Inf"\} 3$/m,
  );
  assert.match(
    text,
    /^moleculer_request_time_count\{.*action="math\.add".*\} 3$/m,
  );
  const missing = await fetch(`${base}/other`);
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
  const gz = await fetch(`${base}/metrics`, {
    headers: { "accept-encoding": "gzip" },
  });
  assert.equal(gz.status, 200);
  assert.match(await gz.text(), /moleculer_request_total/);
});

Deno.test("a real Prometheus scrapes a Deno node: moleculer_request_total by PromQL", async () => {
  const reporter = new PrometheusReporter({ host: "127.0.0.1", port: 0 });
  await using broker = node(reporter);
  await broker.start();
  for (let i = 0; i < 5; i++) await broker.call("math.add", { a: i, b: 1 });
  await using prometheus = await startPrometheus([
    `127.0.0.1:${reporter.port}`,
  ]);
  const result = await waitFor(
    async () => {
      const r = await prometheus.query(
        'moleculer_request_total{action="math.add"}',
      );
      return r.length > 0 ? r : null;
    },
    "Prometheus to scrape the node",
    20_000,
    250,
  );
  assert.equal(result.length, 1);
  assert.equal(result[0]!.value[1], "5");
  assert.equal(result[0]!.metric.nodeID, "prom-node");
  assert.equal(result[0]!.metric.service, "math");
  assert.equal(result[0]!.metric.job, "denolecular");
  // The histogram is a histogram to Prometheus: its quantile function works on the buckets.
  const p95 = await prometheus.query(
    'histogram_quantile(0.95, sum by (le) (moleculer_request_time_bucket{action="math.add"}))',
  );
  assert.equal(p95.length, 1);
  assert.ok(Number(p95[0]!.value[1]) <= 1, `p95 ${p95[0]!.value[1]} ms`);
});
