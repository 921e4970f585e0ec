/**
 * Tab completion: command names first, then what each command takes — sub-commands
 * (`cache keys`), action names (`call`, `bench`), a node then one of its actions (`dcall`),
 * event names (`emit`, `listener add`), command names (`help`) and every command's flags.
 *
 * @module
 */

import type { ServiceBroker } from "../../broker/broker.ts";
import type { ReplCommand } from "./command.ts";

/** Find a command by name or alias. */
export function findCommand(
  commands: readonly ReplCommand[],
  name: string,
): ReplCommand | undefined {
  return commands.find((c) => c.name === name || c.aliases?.includes(name));
}

function actionNames(broker: ServiceBroker, nodeID?: string): string[] {
  const out: string[] = [];
  for (const [name, list] of broker.registry.actions) {
    const items = list.items.filter((e) =>
      e.node.available && (nodeID === undefined || e.id === nodeID)
    );
    if (items.length) out.push(name);
  }
  return out.sort();
}

function eventNames(broker: ServiceBroker): string[] {
  return [...broker.registry.events.keys()].filter((n) => !n.startsWith("$")).sort();
}

function nodeIDs(broker: ServiceBroker): string[] {
  return [...broker.registry.nodes.values()].filter((n) => n.available).map((n) => n.id).sort();
}

function flagWords(c: ReplCommand): string[] {
  return (c.flags ?? []).flatMap((f) => [`--${f.name}`, ...(f.short ? [`-${f.short}`] : [])]);
}

/**
 * Complete a line as typed so far (node:readline's completer).
 *
 * @param line The line up to the cursor.
 * @param commands The commands.
 * @param broker The broker whose registry names actions, events and nodes.
 * @returns The candidates for the last word, and that word.
 */
export function complete(
  line: string,
  commands: readonly ReplCommand[],
  broker: ServiceBroker,
): [string[], string] {
  const words = line.trimStart().split(/\s+/);
  const current = words.pop() ?? "";
  let candidates: string[];
  if (words.length === 0) {
    candidates = commands.flatMap((c) => [c.name, ...(c.aliases ?? [])]);
  } else {
    let command = findCommand(commands, words[0]!);
    let rest = words.slice(1);
    if (command?.subcommands) {
      if (rest.length === 0) {
        candidates = command.subcommands.map((s) => s.name);
        return answer(candidates, current);
      }
      command = command.subcommands.find((s) => s.name === rest[0]);
      rest = rest.slice(1);
    }
    if (!command) return [[], current];
    const positionals = rest.filter((w) => !w.startsWith("-"));
    if (current.startsWith("-")) candidates = flagWords(command);
    else if (command.completes === "actions" && positionals.length === 0) {
      candidates = actionNames(broker);
    } else if (command.completes === "events" && positionals.length === 0) {
      candidates = eventNames(broker);
    } else if (command.completes === "commands" && positionals.length === 0) {
      candidates = commands.map((c) => c.name);
    } else if (command.completes === "nodeActions" && positionals.length === 0) {
      candidates = nodeIDs(broker);
    } else if (command.completes === "nodeActions" && positionals.length === 1) {
      candidates = actionNames(broker, positionals[0]);
    } else candidates = [];
  }
  return answer(candidates, current);
}

function answer(candidates: string[], current: string): [string[], string] {
  const hits = [...new Set(candidates)].filter((c) => c.startsWith(current));
  // A single match is complete: a space after it lets the next word follow at once.
  return [hits.length === 1 ? [`${hits[0]} `] : hits, current];
}
