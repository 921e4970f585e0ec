/**
 * The Redis transporter, as its own entry point: `@denolecular/denolecular/transporters/redis`.
 *
 * A broker configured with `transporter: "redis://…"` (or `"Redis"`, or
 * `{ type: "Redis", options }`) creates this transporter by itself; import it to construct one
 * directly. `ioredis` loads only when the transporter connects.
 *
 * @example
 * ```ts ignore
 * import { ServiceBroker } from "@denolecular/denolecular";
 * import { RedisTransporter } from "@denolecular/denolecular/transporters/redis";
 *
 * const broker = new ServiceBroker({
 *   nodeID: "api-1",
 *   transporter: new RedisTransporter({ host: "127.0.0.1", port: 6379 }),
 * });
 * await broker.start();
 * ```
 *
 * @module
 */

export { RedisTransporter } from "./redis.ts";
export type { RedisTransporterOptions } from "./options.ts";
