/**
 * Errors every transporter shares.
 *
 * @module
 */

import { BrokerDisconnectedError, MoleculerError } from "../errors.ts";

/**
 * What a transporter without queue groups answers a balanced subscribe or publish with (the
 * broker never asks one: `disableBalancer` is turned off for it, as in Moleculer).
 *
 * @param name The transporter's name, e.g. `"TCP"`.
 * @returns A 500 `NOT_BALANCING` error.
 */
export function noBalancedQueues(name: string): MoleculerError {
  return new MoleculerError(
    `The ${name} transporter has no balanced queues: the broker balances ` +
      `(disableBalancer is ignored on ${name}, as in Moleculer)`,
    500,
    "NOT_BALANCING",
  );
}

/**
 * What a transporter's client answers a publish (or another command) with while it has no
 * connection: the message says whether it is reconnecting.
 *
 * @param what What was asked, e.g. `publish to "MOL.INFO"`.
 * @param protocol The protocol's name, e.g. `"NATS"`.
 * @param url The server URL(s), without credentials.
 * @param reconnecting True while the client is reconnecting.
 * @returns The error, with `data.url`.
 */
export function notConnected(
  what: string,
  protocol: string,
  url: string,
  reconnecting: boolean,
): BrokerDisconnectedError {
  return new BrokerDisconnectedError(
    `Cannot ${what}: ${
      reconnecting ? "reconnecting to" : "not connected to"
    } ${protocol} at ${url}`,
    { url },
  );
}
