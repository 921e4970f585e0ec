// A Moleculer 0.15.2 node for bench/compare.ts, one role per process: `responder` (serves
// `math.add` and `math.echo`, counts `bench.event` and acknowledges), `caller` (sequential and
// N-in-flight remote calls, and N-in-flight `math.echo` calls for each size of `payloads`) or
// `emitter` (fire-and-forget events). Callers and emitters print `ready`, then run the
// measurements the orchestrator asks for on stdin. The mirror of bench/deno/remote.ts.

import process from "node:process";
import { Moleculer, options as o, report, stdinClosed, stdinLines } from "./_moleculer.mjs";
import { echoParams, flood, handshake, latency, serve } from "../_shared/measure.mjs";

const broker = new Moleculer.ServiceBroker({
  nodeID: o.nodeID,
  namespace: o.namespace,
  // `tcp`: TCP transporter options (bench/tcp_compare.ts); NATS otherwise.
  transporter: o.tcp ? { type: "TCP", options: o.tcp } : o.url,
  // `serializer`: bench/compare.ts `--serializer=`; JSON when omitted.
  ...(o.serializer ? { serializer: o.serializer } : {}),
  logger: false,
});
const params = { a: 1, b: 2 };

if (o.role === "responder") {
  let received = 0;
  broker.createService({
    name: "math",
    actions: {
      add: (ctx) => ctx.params.a + ctx.params.b,
      echo: (ctx) => ctx.params.data,
    },
  });
  broker.createService({
    name: "receiver",
    events: {
      "bench.event"() {
        received++;
        if ((received & 511) === 0) broker.emit("bench.ack", { count: received });
      },
      "bench.sync"() {
        broker.emit("bench.ack", { count: received });
      },
    },
  });
  await broker.start();
  report({ type: "ready" });
  await stdinClosed();
} else if (o.role === "caller") {
  await broker.start();
  await broker.waitForServices("math", 10_000);
  const call = () => broker.call("math.add", params);
  if ((await call()) !== 3) throw new Error("math.add returned a wrong sum");
  const echoes = {};
  for (const size of o.payloads ?? []) {
    const echo = echoParams(size);
    const call = () => broker.call("math.echo", echo);
    if ((await call()).length !== size) throw new Error("math.echo lost characters");
    echoes[`payload${size}`] = (ms) => latency(call, o.inFlight, ms);
  }
  report({ type: "ready" });
  await serve(stdinLines(), {
    seq: (ms) => latency(call, 1, ms),
    [`conc${o.inFlight}`]: (ms) => latency(call, o.inFlight, ms),
    ...echoes,
  }, report);
} else if (o.role === "emitter") {
  let acked = 0;
  let wake;
  broker.createService({
    name: "emitter",
    events: {
      "bench.ack"(ctx) {
        if (ctx.params.count > acked) acked = ctx.params.count;
        wake?.(true);
      },
    },
  });
  await broker.start();
  await broker.waitForServices("receiver", 10_000);
  let base = 0;
  const io = {
    send: () => {
      broker.emit("bench.event", params);
    },
    acked: () => acked - base,
    waitAck: (ms) =>
      new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), ms);
        wake = (v) => {
          clearTimeout(timer);
          resolve(v);
        };
      }),
    sync: () => {
      broker.emit("bench.sync", {});
    },
  };
  await handshake(io);
  report({ type: "ready" });
  await serve(stdinLines(), {
    events: (ms) => {
      base = acked;
      return flood(io, ms);
    },
  }, report);
}
await broker.stop();
process.exit(0);
