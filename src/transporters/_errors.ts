/**
 * Errors every transporter shares.
 *
 * @module
 */

import { MoleculerError } from "../errors.ts";

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
