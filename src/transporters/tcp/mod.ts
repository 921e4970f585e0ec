/**
 * The TCP transporter, as its own entry point: `@denolecular/denolecular/transporters/tcp`.
 *
 * A broker configured with `transporter: "TCP"` (or `"tcp://host:port/nodeID,…"`, or
 * `{ type: "TCP", options }`) creates this transporter by itself; import it to construct one
 * directly, e.g. to read the port it listens on. UDP discovery loads `node:dgram` only when it
 * is on.
 *
 * @example A serverless node on a fixed port
 * ```ts ignore
 * import { ServiceBroker } from "@denolecular/denolecular";
 * import { TcpTransporter } from "@denolecular/denolecular/transporters/tcp";
 *
 * const transporter = new TcpTransporter({ port: 6000, urls: ["127.0.0.1:6001/other"] });
 * const broker = new ServiceBroker({ nodeID: "api-1", transporter });
 * await broker.start();
 * console.log(transporter.port); // 6000
 * await broker.stop();
 * ```
 *
 * @module
 */

export { TcpTransporter } from "./tcp.ts";
export { parseTcpUrls } from "./options.ts";
export type { TcpEndpoint, TcpTransporterOptions } from "./options.ts";
