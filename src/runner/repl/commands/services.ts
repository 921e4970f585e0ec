/**
 * `services`: the services of the cluster, one row per name and version, with their state,
 * action and event counts and how many nodes run them (`(*)` when this node is one); `-d` adds
 * a row per node.
 *
 * @module
 */

import type { ReplCommand, ReplContext } from "../command.ts";
import type { ParsedWords } from "../line_args.ts";
import { renderTable } from "../table.ts";
import { filterFlag, nameFilter } from "./_filter.ts";

interface Row {
  name: string;
  fullName: string;
  version: string | number | undefined;
  available: boolean;
  actions: number;
  events: number;
  nodes: { id: string; available: boolean; local: boolean }[];
}

function run(ctx: ReplContext, { flags }: ParsedWords): void {
  const { style } = ctx.out;
  const show = nameFilter(flags.filter);
  const rows = new Map<string, Row>();
  for (const node of ctx.broker.registry.nodes.values()) {
    if (!flags.all && !node.available) continue;
    if (flags.local && !node.local) continue;
    for (const s of node.services) {
      if (flags.skipinternal && s.name.startsWith("$")) continue;
      if (!show(s.name) && !show(s.fullName)) continue;
      let row = rows.get(s.fullName);
      if (!row) {
        row = {
          name: s.name,
          fullName: s.fullName,
          version: s.version,
          available: false,
          actions: Object.keys(s.actions).length,
          events: Object.keys(s.events).length,
          nodes: [],
        };
        rows.set(s.fullName, row);
      }
      row.available ||= node.available;
      row.nodes.push({ id: node.id, available: node.available, local: node.local });
    }
  }
  const cells: string[][] = [];
  const separators: number[] = [];
  for (const row of [...rows.values()].sort((a, b) => a.fullName.localeCompare(b.fullName))) {
    if (flags.details && cells.length > 0) separators.push(cells.length);
    const local = row.nodes.some((n) => n.local);
    cells.push([
      row.name,
      row.version === undefined || row.version === null ? "-" : String(row.version),
      style.badge(row.available ? "OK" : "FAILED", row.available),
      String(row.actions),
      String(row.events),
      `${local ? "(*) " : ""}${row.nodes.length}`,
    ]);
    if (flags.details) {
      for (const n of row.nodes) {
        cells.push([
          "",
          "",
          style.badge(n.available ? "OK" : "FAILED", n.available),
          "",
          "",
          n.local ? style.gray("<local>") : n.id,
        ]);
      }
    }
  }
  ctx.out.print(
    renderTable(style, ["Service", "Version", "State", "Actions", "Events", "Nodes"], cells, {
      right: [1, 3, 4, 5],
      separators,
    }),
  );
}

/** The flags `services`, `actions` and `events` share. */
export const listFlags = (what: string, example: string) =>
  [
    { name: "all", short: "a", kind: "boolean", description: `list all (offline) ${what}` },
    { name: "details", short: "d", kind: "boolean", description: "print endpoints" },
    filterFlag(example),
    { name: "skipinternal", short: "i", kind: "boolean", description: `skip internal ${what}` },
    { name: "local", short: "l", kind: "boolean", description: `only local ${what}` },
  ] as const;

/** The `services` command. */
export const servicesCommand: ReplCommand = {
  name: "services",
  description: "List of services",
  flags: listFlags("services", "'user*'"),
  run,
};
