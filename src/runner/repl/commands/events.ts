/**
 * `events`: every event subscription of the cluster by name and group, its state, how many
 * nodes listen (`(*)` when this node does) and its params; `-d` adds a row per endpoint.
 *
 * @module
 */

import type { ReplCommand, ReplContext } from "../command.ts";
import type { ParsedWords } from "../line_args.ts";
import { renderTable } from "../table.ts";
import { nameFilter } from "./_filter.ts";
import { listFlags } from "./services.ts";

function run(ctx: ReplContext, { flags }: ParsedWords): void {
  const { style } = ctx.out;
  const show = nameFilter(flags.filter);
  const rows: string[][] = [];
  const separators: number[] = [];
  const names = [...ctx.broker.registry.events.keys()].sort((a, b) => a.localeCompare(b));
  for (const name of names) {
    if (!show(name)) continue;
    if (flags.skipinternal && name.startsWith("$")) continue;
    const groups = ctx.broker.registry.events.get(name)!;
    for (const [group, list] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
      if (flags.local && !list.hasLocal) continue;
      const endpoints = list.items.filter((e) => flags.all || e.node.available);
      if (!flags.all && endpoints.length === 0) continue;
      if (flags.details && rows.length > 0) separators.push(rows.length);
      const def = list.items[0]?.service.events[name];
      const params = typeof def?.params === "object" && def.params !== null
        ? Object.keys(def.params).join(", ")
        : "";
      const available = endpoints.some((e) => e.node.available);
      rows.push([
        name,
        group,
        style.badge(available ? "OK" : "FAILED", available),
        `${list.hasLocal ? "(*) " : ""}${endpoints.length}`,
        params,
      ]);
      if (flags.details) {
        for (const e of endpoints) {
          rows.push([
            "",
            "",
            style.badge(e.node.available ? "OK" : "FAILED", e.node.available),
            e.local ? style.gray("<local>") : e.id,
            "",
          ]);
        }
      }
    }
  }
  ctx.out.print(
    renderTable(style, ["Event", "Group", "State", "Nodes", "Params"], rows, {
      right: [3],
      separators,
    }),
  );
}

/** The `events` command. */
export const eventsCommand: ReplCommand = {
  name: "events",
  description: "List of event listeners",
  flags: listFlags("event listeners", "'user.*'"),
  run,
};
