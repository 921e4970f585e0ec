/**
 * `metrics`: this node's metrics. Denolecular has no metrics module yet, so the command says
 * so, as moleculer-repl does for a broker whose metrics are off.
 *
 * @module
 */

import type { ReplCommand } from "../command.ts";
import { filterFlag } from "./_filter.ts";

/** The `metrics` command. */
export const metricsCommand: ReplCommand = {
  name: "metrics",
  description: "List metrics",
  flags: [filterFlag("'moleculer.**'")],
  run(ctx) {
    ctx.out.print(
      ctx.out.style.red(
        "Metrics feature is disabled: metrics are not enabled (this broker has no metrics module yet).",
      ),
    );
  },
};
