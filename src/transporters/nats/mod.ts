/**
 * The NATS transporter, as its own entry point: `@denolecular/denolecular/transporters/nats`.
 *
 * A broker configured with `transporter: "nats://…"` (or `"NATS"`, or
 * `{ type: "NATS", options }`) creates this transporter by itself; import it to construct one
 * directly, e.g. to share an instance or to keep a handle on its `url` and `maxPayload`. The NATS
 * client library loads only when the transporter connects.
 *
 * @example A broker on an explicit NATS transporter
 * ```ts ignore
 * import { ServiceBroker } from "@denolecular/denolecular";
 * import { NatsTransporter } from "@denolecular/denolecular/transporters/nats";
 *
 * const transporter = new NatsTransporter({ servers: "nats://127.0.0.1:4222", token: "s3cret" });
 * const broker = new ServiceBroker({ nodeID: "api-1", transporter });
 * await broker.start();
 * console.log(transporter.url, transporter.maxPayload); // nats://127.0.0.1:4222 1048576
 * await broker.stop();
 * ```
 *
 * @module
 */

export { NatsTransporter } from "./nats.ts";
export { parseNatsUrl } from "./options.ts";
export type { NatsTransporterOptions, NatsTransportKind } from "./options.ts";
