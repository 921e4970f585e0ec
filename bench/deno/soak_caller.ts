/**
 * The Denolecular caller of bench/idle_soak.ts `--load=RATE`: a node with no services that, once
 * the 10 services of bench/deno/idle.ts are discovered, calls their actions over NATS at `rate`
 * calls/s and emits `svcN.changed` at `rate / 10` events/s (the loop and the mix of
 * ../_shared/soak_load.mjs; every call has a 5 s timeout).
 *
 * Prints `{type: "ready"}` once the services are discovered, then reads stdin lines: `start`
 * starts the load; `sample` is answered with the memory after a full GC (`answerSamples` in
 * ./_transport.ts) and the load's counters (`load`); `stop` stops the load, waits for the calls in
 * flight and prints `{type: "done", load}` with the totals. Exits when stdin closes.
 *
 * ```sh
 * deno run -A --v8-flags=--expose-gc bench/deno/soak_caller.ts \
 *   '{"url":"nats://127.0.0.1:4222","namespace":"soak-deno","nodeID":"caller","rate":500}'
 * ```
 *
 * @module
 */

import { ServiceBroker } from "../../mod.ts";
// @ts-types="../_shared/soak_load.d.mts"
import { type Load, startLoad } from "../_shared/soak_load.mjs";
import { answerSamples, natsTransporter, options, report } from "./_transport.ts";

const o = options<{ url: string; namespace: string; nodeID: string; rate: number }>();
const broker = new ServiceBroker({
  nodeID: o.nodeID,
  namespace: o.namespace,
  logger: false,
  transporter: natsTransporter(o.url, "wire"),
});
await broker.start();
await broker.waitForServices(Array.from({ length: 10 }, (_, i) => `svc${i}`), 30_000);
report({ type: "ready" });

let load: Load | undefined;
await answerSamples({
  extra: () => (load ? { load: load.counts() } : {}),
  command: async (line) => {
    if (line === "start" && !load) {
      load = startLoad({
        call: (action, params, opts) => broker.call(action, params, opts),
        emit: (event, payload) => broker.emit(event, payload),
        rate: o.rate,
      });
    } else if (line === "stop" && load) {
      report({ type: "done", load: await load.stop() });
    }
  },
});
await broker.stop();
Deno.exit(0);
