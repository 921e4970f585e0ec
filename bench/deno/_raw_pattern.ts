/**
 * The raw floor's request pattern, shared by bench/deno/raw.ts (nats.js) and
 * bench/deno/raw_wire.ts (a minimal client): the caller publishes a REQ-shaped JSON packet to
 * `RAW.REQ.<responder>`, the responder answers with a RES-shaped packet on `RAW.RES.<caller>`, and
 * the caller correlates by id in a Map. No framework; only the client differs between the two.
 * A REQ for `math.echo` (the payload measurements, `payloads` option) is answered with its
 * `params.data`, as the framework's responders do.
 *
 * @module
 */

// @ts-types="../_shared/measure.d.mts"
import { echoParams, latency, serve } from "../_shared/measure.mjs";
import type { Result } from "../_shared/measure.d.mts";
import { options, report, stdinClosed, stdinLines } from "./_transport.ts";

/** What the pattern needs of a NATS client. */
export interface RawClient {
  subscribe(subject: string, handler: (data: Uint8Array) => void): void;
  publish(subject: string, data: Uint8Array): void;
  /** Resolves once the server has processed everything sent so far. */
  flush(): Promise<void>;
}

/** The options the orchestrator passes as the first argument. */
export interface RawOptions {
  role: "responder" | "caller";
  nodeID: string;
  peer: string;
  url: string;
  inFlight: number;
  /** Caller: the sizes (characters of `data`) of the echo measurements, `payload<size>`. */
  payloads?: number[];
}

/** The options of this process (JSON in the first argument). */
export function rawOptions(): RawOptions {
  return options<RawOptions>();
}

/**
 * Play `o.role` on `client` until the orchestrator closes stdin.
 *
 * @param client A connected client.
 * @param o This process's options.
 */
export async function runRawPattern(client: RawClient, o: RawOptions): Promise<void> {
  const te = new TextEncoder();
  const td = new TextDecoder();
  if (o.role === "responder") {
    client.subscribe(`RAW.REQ.${o.nodeID}`, (data) => {
      const req = JSON.parse(td.decode(data));
      const res = {
        id: req.id,
        meta: {},
        headers: {},
        success: true,
        data: req.action === "math.echo" ? req.params.data : req.params.a + req.params.b,
        ver: "5",
        sender: o.nodeID,
      };
      client.publish(`RAW.RES.${req.sender}`, te.encode(JSON.stringify(res)));
    });
    await client.flush();
    report({ type: "ready" });
    await stdinClosed();
    return;
  }
  const pending = new Map<string, (value: unknown) => void>();
  client.subscribe(`RAW.RES.${o.nodeID}`, (data) => {
    const res = JSON.parse(td.decode(data));
    const resolve = pending.get(res.id);
    if (resolve) {
      pending.delete(res.id);
      resolve(res.data);
    }
  });
  await client.flush();
  const prefix = crypto.randomUUID().slice(0, 18);
  let seq = 0;
  const subject = `RAW.REQ.${o.peer}`;
  const request = (action: string, params: Record<string, unknown>) =>
    new Promise((resolve) => {
      const id = prefix + (++seq).toString(36);
      pending.set(id, resolve);
      const req = {
        id,
        action,
        params,
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
      client.publish(subject, te.encode(JSON.stringify(req)));
    });
  const add = { a: 1, b: 2 };
  const call = () => request("math.add", add);
  if ((await call()) !== 3) throw new Error("the raw responder returned a wrong sum");
  const echoes: Record<string, (ms: number) => Promise<Result>> = {};
  for (const size of o.payloads ?? []) {
    const echo = echoParams(size);
    const call = () => request("math.echo", echo);
    if ((await call() as string).length !== size) throw new Error("math.echo lost characters");
    echoes[`payload${size}`] = (ms) => latency(call, o.inFlight, ms);
  }
  report({ type: "ready" });
  await serve(stdinLines(), {
    seq: (ms) => latency(call, 1, ms),
    [`conc${o.inFlight}`]: (ms) => latency(call, o.inFlight, ms),
    ...echoes,
  }, report);
}
