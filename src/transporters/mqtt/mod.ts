/**
 * The MQTT transporter, as its own entry point: `@denolecular/denolecular/transporters/mqtt`.
 *
 * A broker configured with `transporter: "mqtt://…"` (or `"MQTT"`, or `{ type: "MQTT", options }`)
 * creates this transporter by itself; import it to construct one directly. The `mqtt` client
 * loads only when the transporter connects.
 *
 * @example
 * ```ts ignore
 * import { ServiceBroker } from "@denolecular/denolecular";
 * import { MqttTransporter } from "@denolecular/denolecular/transporters/mqtt";
 *
 * const broker = new ServiceBroker({
 *   nodeID: "api-1",
 *   transporter: new MqttTransporter({ host: "127.0.0.1", qos: 1 }),
 * });
 * await broker.start();
 * ```
 *
 * @module
 */

export { MqttTransporter } from "./mqtt.ts";
export type { MqttTransporterOptions } from "./options.ts";
