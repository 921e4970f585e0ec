/**
 * The `-f, --filter <match>` flag the list commands share: Moleculer's wildcards (`*` a run
 * without a dot, `**` any run, `?` one character), as in event names.
 *
 * @module
 */

import { matchEventName } from "../../../core/event_match.ts";
import type { FlagSpec } from "../line_args.ts";

/**
 * The filter flag, with an example pattern for the help.
 *
 * @param example e.g. `'users.*'`.
 * @returns The flag.
 */
export function filterFlag(example: string): FlagSpec {
  return {
    name: "filter",
    short: "f",
    kind: "string",
    value: "<match>",
    description: `filter by name (e.g. ${example})`,
  };
}

/**
 * A predicate for the filter flag's value.
 *
 * @param pattern The flag's value, or undefined/`true` when not given.
 * @returns True for the names to show.
 */
export function nameFilter(pattern: string | boolean | undefined): (name: string) => boolean {
  if (typeof pattern !== "string" || pattern === "") return () => true;
  return (name) => matchEventName(name, pattern);
}
