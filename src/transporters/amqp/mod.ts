/**
 * The AMQP transporter, as its own entry point: `@denolecular/denolecular/transporters/amqp`.
 *
 * A broker configured with `transporter: "amqp://…"` (or `"AMQP"`, or
 * `{ type: "AMQP", options }`) creates this transporter by itself; import it to construct one
 * directly. `amqplib` loads only when the transporter connects.
 *
 * @example
 * ```ts ignore
 * import { ServiceBroker } from "@denolecular/denolecular";
 * import { AmqpTransporter } from "@denolecular/denolecular/transporters/amqp";
 *
 * const broker = new ServiceBroker({
 *   nodeID: "worker-1",
 *   disableBalancer: true, // RabbitMQ balances the requests
 *   transporter: new AmqpTransporter({ url: "amqp://guest:guest@127.0.0.1:5672", prefetch: 4 }),
 * });
 * await broker.start();
 * ```
 *
 * @module
 */

export { AmqpTransporter } from "./amqp.ts";
export type { AmqpTransporterOptions } from "./options.ts";
