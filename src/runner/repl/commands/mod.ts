/**
 * Every REPL command, in the order `help` lists them (moleculer-repl's).
 *
 * @module
 */

import type { ReplCommand } from "../command.ts";
import { actionsCommand } from "./actions.ts";
import { benchCommand } from "./bench.ts";
import { cacheCommand, clearCommand } from "./cache.ts";
import { callCommand, dcallCommand } from "./call.ts";
import { broadcastCommand, broadcastLocalCommand, emitCommand } from "./emit.ts";
import { envCommand } from "./env.ts";
import { eventsCommand } from "./events.ts";
import { infoCommand } from "./info.ts";
import { listenerCommand } from "./listener.ts";
import { metricsCommand } from "./metrics.ts";
import { nodesCommand } from "./nodes.ts";
import { servicesCommand } from "./services.ts";
import { clsCommand, exitCommand, helpCommand } from "./session.ts";

/** The built-in commands. */
export const COMMANDS: readonly ReplCommand[] = [
  actionsCommand,
  benchCommand,
  broadcastCommand,
  broadcastLocalCommand,
  cacheCommand,
  callCommand,
  clearCommand,
  clsCommand,
  dcallCommand,
  emitCommand,
  envCommand,
  eventsCommand,
  infoCommand,
  listenerCommand,
  metricsCommand,
  nodesCommand,
  servicesCommand,
  helpCommand,
  exitCommand,
];
