import assert from "node:assert/strict";
import { ConsoleReporter, type Context, CSVReporter, EventReporter } from "../../mod.ts";
import { scoped } from "../_helpers/core.ts";

type Rec = Record<string, unknown>;

function node(reporter: unknown, extra: Record<string, unknown> = {}) {
  const broker = scoped({
    metrics: {
      enabled: true,
      collectProcessMetrics: false,
      reporter: reporter as never,
    },
    ...extra,
  });
  broker.createService({ name: "math", actions: { add: () => 3 } });
  return broker;
}

Deno.test("Event reporter: $metrics.snapshot carries the metric list, only changes on request", async () => {
  const got: Rec[][] = [];
  const reporter = new EventReporter({
    interval: 0,
    includes: "moleculer.request.*",
  });
  await using broker = node(reporter);
  broker.createService({
    name: "sink",
    events: {
      "$metrics.snapshot": (ctx: Context<Rec[]>) => void got.push(ctx.params),
    },
  });
  await broker.start();
  await broker.call("math.add");
  reporter.sendEvent();
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(got.length, 1);
  const names = got[0]!.map((m) => m.name);
  assert.ok(names.includes("moleculer.request.total"));
  assert.ok(names.every((n) => String(n).startsWith("moleculer.request.")));
  const total = got[0]!.find((m) => m.name === "moleculer.request.total")!;
  assert.equal((total.values as Rec[])[0]!.value, 1);

  const changes: Rec[][] = [];
  // Only request metrics: sending the event changes the event metrics themselves.
  const only = new EventReporter({
    interval: 0,
    onlyChanges: true,
    eventName: "m.changes",
    includes: "moleculer.request.**",
  });
  await using b2 = node(only);
  b2.createService({
    name: "sink",
    events: {
      "m.changes": (ctx: Context<Rec[]>) => void changes.push(ctx.params),
    },
  });
  await b2.start();
  await b2.call("math.add");
  only.sendEvent();
  only.sendEvent(); // nothing changed since: no event
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(changes.length, 1);
});

Deno.test("CSV reporter: one file per metric, Moleculer's columns, a row per changed series", async () => {
  const folder = await Deno.makeTempDir({ prefix: "csv-metrics-" });
  try {
    const reporter = new CSVReporter({
      folder,
      interval: 0,
      includes: "moleculer.request.**",
    });
    await using broker = node(reporter);
    await broker.start();
    await broker.call("math.add");
    await reporter.flush();
    await broker.call("math.add");
    await broker.stop();
    const total = await Deno.readTextFile(
      `${folder}/moleculer.request.total.csv`,
    );
    const rows = total.trim().split("\n");
    assert.equal(
      rows[0],
      "Timestamp,Metric,Label service,Label action,Label type,Label caller,Value",
    );
    assert.equal(rows.length, 3);
    assert.match(
      rows[1]!,
      /^\d+,moleculer\.request\.total,math,math\.add,local,,1$/,
    );
    assert.match(rows[2]!, /,2$/);
    const time = await Deno.readTextFile(
      `${folder}/moleculer.request.time.csv`,
    );
    assert.match(
      time.split("\n")[0]!,
      /,Count,Sum,Bucket_1,.*,Min,Mean,Var,StdDev,Max,Quantile_0.5/,
    );
  } finally {
    await Deno.remove(folder, { recursive: true });
  }
});

Deno.test("Console reporter: a line per changed series", async () => {
  const lines: string[] = [];
  const reporter = new ConsoleReporter({
    interval: 0,
    logger: (l) => lines.push(l),
    includes: ["moleculer.request.total", "moleculer.request.time"],
  });
  await using broker = node(reporter);
  await broker.start();
  await broker.call("math.add");
  reporter.print();
  assert.match(lines[0]!, /METRICS START \(2 metrics\)/);
  assert.ok(
    lines.some((l) =>
      l.startsWith(
        "moleculer.request.total{service: math, action: math.add, type: local, caller: null}: " +
          "1 request | rate: ",
      )
    ),
    lines.join("\n"),
  );
  assert.ok(
    lines.some((l) => /^moleculer\.request\.time\{.*\}: count: 1 \| sum: /.test(l)),
  );
  lines.length = 0;
  reporter.print();
  assert.equal(lines.length, 0, "nothing changed");
});
