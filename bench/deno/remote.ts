/**
 * A Denolecular node for bench/compare.ts, one role per process: `responder` (serves `math.add`
 * and `math.echo`, counts `bench.event` and acknowledges), `caller` (sequential and N-in-flight
 * remote calls, and N-in-flight `math.echo` calls for each size of `payloads`) or `emitter`
 * (fire-and-forget events). Options: JSON in the first argument. Callers and emitters print
 * `ready`, then run the measurements the orchestrator asks for on stdin.
 *
 * @module
 */

import { type Context, ServiceBroker } from "../../mod.ts";
// @ts-types="../_shared/measure.d.mts"
import { echoParams, flood, handshake, latency, serve } from "../_shared/measure.mjs";
import type { Result } from "../_shared/measure.d.mts";
import {
  denoTransportsMade,
  natsTransporter,
  options,
  report,
  stdinClosed,
  stdinLines,
  type TransportKind,
} from "./_transport.ts";

const o = options<{
  role: "responder" | "caller" | "emitter";
  nodeID: string;
  url: string;
  namespace: string;
  transport: TransportKind;
  inFlight: number;
  /** TCP transporter options: run over TCP (bench/tcp_compare.ts) instead of NATS. */
  tcp?: Record<string, unknown>;
  /** The serializer of every node (bench/compare.ts `--serializer=`); JSON when omitted. */
  serializer?: string;
  /** Caller: the sizes (characters of `data`) of the echo measurements, `payload<size>`. */
  payloads?: number[];
}>();
type AB = { a: number; b: number };

const broker = new ServiceBroker({
  nodeID: o.nodeID,
  namespace: o.namespace,
  logger: false,
  ...(o.serializer ? { serializer: o.serializer } : {}),
  // TCP options, or another transporter's URL (compare.ts --transporter=…), go to the broker as
  // they are.
  transporter: o.tcp
    ? { type: "TCP", options: o.tcp }
    : o.url.startsWith("nats://")
    ? natsTransporter(o.url, o.transport)
    : o.url,
});
const params = { a: 1, b: 2 };
const ready = () =>
  report({
    type: "ready",
    transport: o.tcp ? "tcp" : o.transport,
    denoTransports: denoTransportsMade(),
  });

if (o.role === "responder") {
  let received = 0;
  broker.createService({
    name: "math",
    actions: {
      add: (ctx: Context<AB>) => ctx.params.a + ctx.params.b,
      echo: (ctx: Context<AB & { data: string }>) => ctx.params.data,
    },
  });
  broker.createService({
    name: "receiver",
    events: {
      "bench.event": () => {
        received++;
        if ((received & 511) === 0) broker.emit("bench.ack", { count: received });
      },
      "bench.sync": () => {
        broker.emit("bench.ack", { count: received });
      },
    },
  });
  await broker.start();
  ready();
  await stdinClosed();
} else if (o.role === "caller") {
  await broker.start();
  await broker.waitForServices("math", 10_000);
  const call = () => broker.call("math.add", params);
  if ((await call()) !== 3) throw new Error("math.add returned a wrong sum");
  const echoes: Record<string, (ms: number) => Promise<Result>> = {};
  for (const size of o.payloads ?? []) {
    const echo = echoParams(size);
    const call = () => broker.call("math.echo", echo);
    if ((await call() as string).length !== size) throw new Error("math.echo lost characters");
    echoes[`payload${size}`] = (ms) => latency(call, o.inFlight, ms);
  }
  ready();
  await serve(stdinLines(), {
    seq: (ms) => latency(call, 1, ms),
    [`conc${o.inFlight}`]: (ms) => latency(call, o.inFlight, ms),
    ...echoes,
  }, report);
} else if (o.role === "emitter") {
  let acked = 0;
  let wake: ((v: boolean) => void) | undefined;
  broker.createService({
    name: "emitter",
    events: {
      "bench.ack": (ctx: Context<{ count: number }>) => {
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
    waitAck: (ms: number) =>
      new Promise<boolean>((resolve) => {
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
  ready();
  await serve(stdinLines(), {
    events: (ms) => {
      base = acked;
      return flood(io, ms);
    },
  }, report);
}
await broker.stop();
Deno.exit(0);
