/**
 * OpenTelemetry, native: two Denolecular nodes in their own processes, with Deno's built-in
 * OpenTelemetry (`OTEL_DENO=true`, OTLP/HTTP JSON) and the `OpenTelemetry` trace exporter, call
 * each other over NATS; an OTLP receiver on loopback gets both spans, in one trace, the callee's
 * parented to the caller's through the `traceparent` header the request carried.
 */

import assert from "node:assert/strict";
import { startNatsServer } from "../_helpers/nats_server.ts";
import { waitFor } from "../transit/_util.ts";

type Rec = Record<string, unknown>;
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: Rec }>;
}

interface OtlpMetric {
  name: string;
  sum?: {
    dataPoints: Array<
      { asInt?: string; asDouble?: number; attributes: OtlpSpan["attributes"] }
    >;
  };
  histogram?: {
    dataPoints: Array<{ count: string; attributes: OtlpSpan["attributes"] }>;
  };
}

/** An OTLP/HTTP JSON receiver: keeps the spans of /v1/traces and the metrics of /v1/metrics. */
function otlpReceiver() {
  const spans: OtlpSpan[] = [];
  const metrics: OtlpMetric[] = [];
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
  }, async (req) => {
    const body = await req.text();
    if (new URL(req.url).pathname === "/v1/traces") {
      const data = JSON.parse(body) as {
        resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
      };
      for (const rs of data.resourceSpans) {
        for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      }
    } else if (new URL(req.url).pathname === "/v1/metrics") {
      const data = JSON.parse(body) as {
        resourceMetrics: Array<{ scopeMetrics: Array<{ metrics: OtlpMetric[] }> }>;
      };
      for (const rm of data.resourceMetrics) {
        for (const sm of rm.scopeMetrics) metrics.push(...sm.metrics);
      }
    }
    return Response.json({});
  });
  return { spans, metrics, url: `http://127.0.0.1:${server.addr.port}`, server };
}

function node(options: Rec, endpoint: string): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--config",
      new URL("../../deno.json", import.meta.url).pathname,
      new URL("./_otel_node.ts", import.meta.url).pathname,
      JSON.stringify(options),
    ],
    env: {
      OTEL_DENO: "true",
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_SERVICE_NAME: String(options.nodeID),
      OTEL_METRIC_EXPORT_INTERVAL: "200",
      OTEL_BSP_SCHEDULE_DELAY: "200",
    },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function firstLine(child: Deno.ChildProcess): Promise<string> {
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    reader.releaseLock();
  }
  return text.split("\n")[0]!;
}

Deno.test("OTel: a Deno → Deno chain reaches an OTLP receiver as one trace, parented correctly, with its metrics", async () => {
  await using nats = await startNatsServer();
  const otlp = otlpReceiver();
  await using _otlp = { [Symbol.asyncDispose]: () => otlp.server.shutdown() };
  const back = node({ nodeID: "otel-back", nats: nats.url, role: "back" }, otlp.url);
  const front = node({ nodeID: "otel-front", nats: nats.url, role: "front" }, otlp.url);
  const exited = async (child: Deno.ChildProcess) => {
    await child.stdin.close().catch(() => {});
    const out = await child.output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  };
  // Both nodes stay up until the spans and the metrics have arrived (Deno exports on intervals).
  await using _nodes = {
    [Symbol.asyncDispose]: async () => {
      await exited(front);
      await exited(back);
    },
  };
  assert.equal(await firstLine(back), "ready");
  const result = JSON.parse(await firstLine(front)) as { traceparent: string | null };
  assert.match(String(result.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  const frontSpan = await waitFor(
    () => otlp.spans.find((s) => s.name === "action 'front.run'"),
    "the front span",
    10_000,
  );
  const backSpan = await waitFor(
    () => otlp.spans.find((s) => s.name === "action 'back.run'"),
    "the back span",
    10_000,
  );
  assert.equal(backSpan.traceId, frontSpan.traceId);
  assert.equal(backSpan.parentSpanId, frontSpan.spanId);
  assert.ok(!frontSpan.parentSpanId, "the front span is a root");
  assert.equal(frontSpan.kind, 2, "SERVER");
  const attr = (s: OtlpSpan, key: string) => s.attributes.find((a) => a.key === key)?.value;
  assert.deepEqual(attr(backSpan, "remoteCall"), { boolValue: true });
  assert.deepEqual(attr(backSpan, "callerNodeID"), {
    stringValue: "otel-front",
  });
  assert.ok(attr(frontSpan, "moleculer.span.id"));

  // The metrics went the same way, through the OpenTelemetry metrics API.
  const total = await waitFor(
    () =>
      otlp.metrics.find((m) =>
        m.name === "moleculer.request.total" &&
        m.sum?.dataPoints.some((p) =>
          p.attributes.some((a) => a.key === "action" && a.value.stringValue === "front.run")
        )
      ),
    "moleculer.request.total of front.run",
    10_000,
  );
  const point = total.sum!.dataPoints.find((p) =>
    p.attributes.some((a) => a.key === "action" && a.value.stringValue === "front.run")
  )!;
  assert.equal(Number(point.asInt ?? point.asDouble), 1);
  assert.ok(
    otlp.metrics.some((m) => m.name === "moleculer.request.time" && m.histogram),
  );
});
