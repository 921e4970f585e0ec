/**
 * The raw floor for bench/compare.ts: the request pattern of a Moleculer call written directly on
 * the NATS client, no framework. The caller publishes a REQ-shaped JSON packet to
 * `RAW.REQ.<responder>`, the responder answers with a RES-shaped packet on `RAW.RES.<caller>`,
 * and the caller correlates by id in a Map. Roles `responder` / `caller`; options: JSON in the
 * first argument; `transport` picks nats.js's node transport or DenoTransport.
 *
 * @module
 */

import { connect as connectNode } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect as connectDeno } from "../../src/transporters/nats_deno.ts";
// @ts-types="../_shared/measure.d.mts"
import { latency, serve } from "../_shared/measure.mjs";
import { options, report, stdinClosed, stdinLines, type TransportKind } from "./_transport.ts";

const o = options<{
  role: "responder" | "caller";
  nodeID: string;
  peer: string;
  url: string;
  transport: TransportKind;
  inFlight: number;
}>();
const te = new TextEncoder();
const td = new TextDecoder();
const connect = o.transport === "deno" ? connectDeno : connectNode;
const nc: NatsConnection = await connect({ servers: o.url });

if (o.role === "responder") {
  nc.subscribe(`RAW.REQ.${o.nodeID}`, {
    callback: (_err, msg) => {
      const req = JSON.parse(td.decode(msg.data));
      const res = {
        id: req.id,
        meta: {},
        headers: {},
        success: true,
        data: req.params.a + req.params.b,
        ver: "5",
        sender: o.nodeID,
      };
      nc.publish(`RAW.RES.${req.sender}`, te.encode(JSON.stringify(res)));
    },
  });
  await nc.flush();
  report({ type: "ready" });
  await stdinClosed();
} else {
  const pending = new Map<string, (value: unknown) => void>();
  nc.subscribe(`RAW.RES.${o.nodeID}`, {
    callback: (_err, msg) => {
      const res = JSON.parse(td.decode(msg.data));
      const resolve = pending.get(res.id);
      if (resolve) {
        pending.delete(res.id);
        resolve(res.data);
      }
    },
  });
  await nc.flush();
  const prefix = crypto.randomUUID().slice(0, 18);
  let seq = 0;
  const subject = `RAW.REQ.${o.peer}`;
  const call = () =>
    new Promise((resolve) => {
      const id = prefix + (++seq).toString(36);
      pending.set(id, resolve);
      const req = {
        id,
        action: "math.add",
        params: { a: 1, b: 2 },
        meta: {},
        headers: {},
        timeout: 0,
        level: 1,
        tracing: null,
        parentID: null,
        requestID: id,
        caller: null,
        stream: false,
        ver: "5",
        sender: o.nodeID,
      };
      nc.publish(subject, te.encode(JSON.stringify(req)));
    });
  if ((await call()) !== 3) throw new Error("the raw responder returned a wrong sum");
  report({ type: "ready" });
  await serve(stdinLines(), {
    seq: (ms) => latency(call, 1, ms),
    [`conc${o.inFlight}`]: (ms) => latency(call, o.inFlight, ms),
  }, report);
}
await nc.drain();
Deno.exit(0);
