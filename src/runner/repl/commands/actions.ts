/**
 * `actions`: every action of the cluster with the nodes serving it (`(*)` when this node is
 * one), its state, whether it is cached and its params; `-d` adds a row per endpoint.
 *
 * @module
 */

import type { ReplCommand, ReplContext } from "../command.ts";
import type { ParsedWords } from "../line_args.ts";
import { renderTable } from "../table.ts";
import { nameFilter } from "./_filter.ts";
import { listFlags } from "./services.ts";

function paramNames(def: Record<string, unknown> | undefined): string {
  const params = def?.params;
  if (typeof params !== "object" || params === null) return "";
  return Object.keys(params).filter((k) => k !== "$$strict" && k !== "$$async").join(", ");
}

function run(ctx: ReplContext, { flags }: ParsedWords): void {
  const { style } = ctx.out;
  const show = nameFilter(flags.filter);
  const lists = [...ctx.broker.registry.actions.values()]
    .filter((l) => show(l.name))
    .filter((l) => !flags.skipinternal || !l.name.startsWith("$"))
    .filter((l) => !flags.local || l.hasLocal)
    .sort((a, b) => a.name.localeCompare(b.name));
  const rows: string[][] = [];
  const separators: number[] = [];
  let lastService: string | undefined;
  for (const list of lists) {
    const endpoints = list.items.filter((e) => flags.all || e.node.available);
    if (!flags.all && endpoints.length === 0) continue;
    const service = list.name.split(".").slice(0, -1).join(".");
    if (rows.length > 0 && (flags.details || service !== lastService)) separators.push(rows.length);
    lastService = service;
    const first = list.items[0];
    const def = first?.service.actions[list.name] ?? first?.action.schema;
    const available = endpoints.some((e) => e.node.available);
    rows.push([
      list.name,
      `${list.hasLocal ? "(*) " : ""}${endpoints.length}`,
      style.badge(available ? "OK" : "FAILED", available),
      def?.cache ? style.green("Yes") : style.gray("No"),
      paramNames(def),
    ]);
    if (flags.details) {
      for (const e of endpoints) {
        const state = ctx.broker.circuitBreaker.state(e.id, list.name);
        const ok = e.node.available && state !== "open";
        rows.push([
          "",
          e.local ? style.gray("<local>") : e.id,
          style.badge(state === "half-open" ? "TRYING" : ok ? "OK" : "FAILED", ok),
          "",
          "",
        ]);
      }
    }
  }
  ctx.out.print(
    renderTable(style, ["Action", "Nodes", "State", "Cached", "Params"], rows, {
      right: [1],
      separators,
    }),
  );
}

/** The `actions` command. */
export const actionsCommand: ReplCommand = {
  name: "actions",
  description: "List of actions",
  flags: listFlags("actions", "'users.*'"),
  run,
};
