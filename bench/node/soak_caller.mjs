// The Moleculer 0.15.2 caller of bench/idle_soak.ts `--load=RATE`: a node with no services that,
// once the 10 services of bench/node/idle.mjs are discovered, calls their actions over NATS at
// `rate` calls/s and emits `svcN.changed` at `rate / 10` events/s (the loop and the mix of
// ../_shared/soak_load.mjs; every call has a 5 s timeout). The mirror of bench/deno/soak_caller.ts.
//
// Prints {type: "ready"} once the services are discovered, then reads stdin lines: `start` starts
// the load; `sample` is answered with the memory after a full GC (answerSamples in
// ./_moleculer.mjs) and the load's counters (`load`); `stop` stops the load, waits for the calls
// in flight and prints {type: "done", load} with the totals. Exits when stdin closes.
//
//   node --expose-gc bench/node/soak_caller.mjs \
//     '{"url":"nats://127.0.0.1:4222","namespace":"soak-moleculer","nodeID":"caller","rate":500}'

import process from "node:process";
import { answerSamples, Moleculer, options as o, report } from "./_moleculer.mjs";
import { startLoad } from "../_shared/soak_load.mjs";

const broker = new Moleculer.ServiceBroker({
  nodeID: o.nodeID,
  namespace: o.namespace,
  transporter: o.url,
  logger: false,
});
await broker.start();
await broker.waitForServices(Array.from({ length: 10 }, (_, i) => `svc${i}`), 30_000);
report({ type: "ready" });

let load;
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
process.exit(0);
