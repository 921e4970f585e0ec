/**
 * The raw floor for bench/compare.ts on nats.js: the request pattern of a Moleculer call written
 * directly on the NATS client, no framework (bench/deno/_raw_pattern.ts). Options: JSON in the
 * first argument; `transport` picks nats.js's node transport or DenoTransport.
 *
 * @module
 */

import { connect as connectNode } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect as connectDeno } from "../../src/transporters/nats/deno_transport.ts";
import { rawOptions, runRawPattern } from "./_raw_pattern.ts";
import type { TransportKind } from "./_transport.ts";

const o = rawOptions();
const kind = (o as { transport?: TransportKind }).transport;
const connect = kind === "deno" ? connectDeno : connectNode;
const nc: NatsConnection = await connect({ servers: o.url });
await runRawPattern({
  subscribe: (subject, handler) =>
    nc.subscribe(subject, { callback: (_err, msg) => handler(msg.data) }),
  publish: (subject, data) => nc.publish(subject, data),
  flush: () => nc.flush(),
}, o);
await nc.drain();
Deno.exit(0);
