/**
 * `nodes`: the nodes of the cluster in a table (id, services, version, client, IP, state, CPU);
 * `-d` adds each node's services, `-a` the nodes that left, `--raw` prints the registry's nodes
 * as JSON and `--save` writes them to a file.
 *
 * @module
 */

import { resolve } from "node:path";
import type { NodeInfo } from "../../../registry/registry.ts";
import type { ReplCommand, ReplContext } from "../command.ts";
import type { ParsedWords } from "../line_args.ts";
import { renderTable } from "../table.ts";
import { filterFlag, nameFilter } from "./_filter.ts";

/** A node as `--raw` and `--save` print it: what its INFO said, and its state. */
function rawNode(ctx: ReplContext, node: NodeInfo): Record<string, unknown> {
  return {
    id: node.id,
    instanceID: node.instanceID,
    available: node.available,
    local: node.local,
    lastHeartbeatTime: node.lastHeartbeatTime,
    offlineSince: node.offlineSince,
    cpu: node.cpu,
    client: node.client,
    hostname: node.hostname,
    ipList: node.ipList,
    metadata: node.metadata,
    seq: node.seq,
    services: node.local ? ctx.broker.registry.localServicesInfo() : node.services.map((s) => ({
      name: s.name,
      version: s.version,
      fullName: s.fullName,
      settings: s.settings,
      metadata: s.metadata,
      actions: s.actions,
      events: s.events,
    })),
  };
}

function cpuBar(cpu: number | null): string {
  if (cpu === null) return "?";
  const width = 20;
  const filled = Math.max(0, Math.min(width, Math.round(cpu / (100 / width))));
  return `[${"■".repeat(filled)}${".".repeat(width - filled)}] ${cpu.toFixed(0)}%`;
}

function ipText(node: NodeInfo): string {
  const [first, ...rest] = node.ipList;
  if (first === undefined) return "?";
  return rest.length ? `${first}  (+${rest.length})` : first;
}

async function run(ctx: ReplContext, { flags }: ParsedWords): Promise<void> {
  const { style } = ctx.out;
  const show = nameFilter(flags.filter);
  const nodes = [...ctx.broker.registry.nodes.values()]
    .filter((n) => (flags.all || n.available) && show(n.id))
    .sort((a, b) => a.id.localeCompare(b.id));
  if (flags.save !== undefined) {
    const file = resolve(ctx.cwd, typeof flags.save === "string" ? flags.save : "nodes.json");
    await Deno.writeTextFile(file, JSON.stringify(nodes.map((n) => rawNode(ctx, n)), null, 4));
    ctx.out.print(style.magenta(`>> Node list has been saved to '${file}' file.`));
    return;
  }
  if (flags.raw) {
    ctx.out.print(JSON.stringify(nodes.map((n) => rawNode(ctx, n)), null, 2));
    return;
  }
  const rows: string[][] = [];
  const separators: number[] = [];
  for (const node of nodes) {
    const services = node.services.map((s) => ({ name: s.fullName, version: s.version }));
    if (flags.details && rows.length > 0) separators.push(rows.length);
    rows.push([
      node.local ? style.gray(`${node.id} (*)`) : node.id,
      String(services.length),
      String(node.client.version ?? "?"),
      String(node.client.type ?? "?"),
      ipText(node),
      style.badge(node.available ? "ONLINE" : "OFFLINE", node.available),
      cpuBar(node.cpu),
    ]);
    if (flags.details) {
      for (const s of services.sort((a, b) => a.name.localeCompare(b.name))) {
        rows.push([
          "",
          s.name,
          s.version === undefined || s.version === null ? "-" : String(s.version),
          "",
          "",
          "",
          "",
        ]);
      }
    }
  }
  ctx.out.print(
    renderTable(style, ["Node ID", "Services", "Version", "Client", "IP", "State", "CPU"], rows, {
      right: [1, 2],
      separators,
    }),
  );
}

/** The `nodes` command. */
export const nodesCommand: ReplCommand = {
  name: "nodes",
  description: "List of nodes",
  flags: [
    { name: "all", short: "a", kind: "boolean", description: "list all (offline) nodes" },
    {
      name: "details",
      short: "d",
      kind: "boolean",
      description: "detailed list: each node's services",
    },
    filterFlag("'node-*'"),
    { name: "raw", kind: "boolean", description: "print the registry's nodes as JSON" },
    {
      name: "save",
      kind: "optional",
      value: "[filename]",
      description: "save the registry's nodes to a JSON file (default nodes.json)",
    },
  ],
  run,
};
