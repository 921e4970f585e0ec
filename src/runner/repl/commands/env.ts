/**
 * `env`: the process's environment variables in a table, sorted, with secrets masked (values of
 * `…PASSWORD`, `…TOKEN`, `…SECRET`, `…KEY` variables, and credentials in URLs).
 *
 * @module
 */

import { maskSecrets } from "../../config.ts";
import type { ReplCommand, ReplContext } from "../command.ts";
import type { ParsedWords } from "../line_args.ts";
import { renderTable } from "../table.ts";
import { nameFilter } from "./_filter.ts";

const SECRET_NAME = /(PASS|PASSWORD|PASSWD|TOKEN|SECRET|KEY|CREDENTIALS|JWT|NKEY|AUTH)$/i;

/**
 * A variable's value as `env` shows it.
 *
 * @param name The variable.
 * @param value Its value.
 * @returns The value, or `***` for a secret.
 */
export function shownEnvValue(name: string, value: string): string {
  if (value !== "" && SECRET_NAME.test(name)) return "***";
  return maskSecrets(value);
}

function run(ctx: ReplContext, { flags }: ParsedWords): void {
  const show = nameFilter(
    typeof flags.filter === "string" ? flags.filter.toUpperCase() : undefined,
  );
  const rows = Object.entries(ctx.env())
    .filter(([k]) => show(k.toUpperCase()))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => [k, shownEnvValue(k, v)]);
  ctx.out.print(renderTable(ctx.out.style, ["Variable", "Value"], rows));
}

/** The `env` command. */
export const envCommand: ReplCommand = {
  name: "env",
  description: "List of environment variables (secrets masked)",
  flags: [{
    name: "filter",
    short: "f",
    kind: "string",
    value: "<match>",
    description: "filter by name (e.g. 'MOL_*')",
  }],
  run,
};
