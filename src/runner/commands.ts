/**
 * Operator sub-commands: join the cluster briefly with a service-less node, do one thing,
 * print and leave. `call` and `emit` print JSON on stdout; `nodes` a table (or JSON).
 *
 * @module
 */

import type { ServiceBroker } from "../broker/broker.ts";
import { type CliArgs, DEFAULT_TYPES_MODULE, PROGRAM } from "./args.ts";
import { type AnnouncedNode, declarationsFor } from "./typegen.ts";

/** Default `--wait` of `call` and `emit`, in ms. */
export const DEFAULT_WAIT = 5_000;
/** Default `--wait` of `nodes`, in ms. */
export const DEFAULT_NODES_WAIT = 1_000;
/** Default `call --timeout`, in ms. */
export const DEFAULT_CALL_TIMEOUT = 10_000;

/** Where a command writes. */
export interface CommandOutput {
  /** A line (or block) on stdout. */
  out(text: string): void;
  /** A line on stderr. */
  err(text: string): void;
}

async function until(check: () => boolean, timeout: number): Promise<boolean> {
  const deadline = Date.now() + timeout;
  while (!check()) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}

/**
 * An error on one line: `Name: message (code 404, type SERVICE_NOT_FOUND) data: {...}`.
 *
 * @param err Anything thrown.
 * @returns The line.
 */
export function formatError(err: unknown): string {
  if (!(err instanceof Error)) return `Error: ${String(err)}`;
  const e = err as Error & { code?: unknown; type?: unknown; data?: unknown };
  const tags: string[] = [];
  if (e.code !== undefined && e.code !== null) tags.push(`code ${e.code}`);
  if (typeof e.type === "string" && e.type !== "") tags.push(`type ${e.type}`);
  let line = `${e.name}: ${e.message}${tags.length ? ` (${tags.join(", ")})` : ""}`;
  if (e.data !== undefined && e.data !== null) {
    try {
      line += ` data: ${JSON.stringify(e.data)}`;
    } catch { /* not serialisable */ }
  }
  return line;
}

/**
 * `call <action> [params]`: wait for the action to be served, call it, print the result.
 *
 * @param broker A started broker.
 * @param args The command line.
 * @param io Output.
 * @returns The exit code: 0, or 1 when the call failed.
 */
export async function callCommand(
  broker: ServiceBroker,
  args: CliArgs,
  io: CommandOutput,
): Promise<number> {
  const [action, paramsText] = args.positionals as [string, string | undefined];
  const params = paramsText === undefined ? {} : JSON.parse(paramsText);
  await until(() => {
    const list = broker.registry.actions.get(action);
    if (!list) return false;
    return args.node !== undefined ? list.byNode(args.node) !== undefined : list.available;
  }, args.wait ?? DEFAULT_WAIT);
  try {
    const result = await broker.call(action, params, {
      timeout: args.timeout ?? DEFAULT_CALL_TIMEOUT,
      ...(args.meta ? { meta: args.meta } : {}),
      ...(args.node !== undefined ? { nodeID: args.node } : {}),
    });
    io.out(JSON.stringify(result ?? null, null, 2));
    return 0;
  } catch (err) {
    io.err(formatError(err));
    return 1;
  }
}

/**
 * `emit <event> [data]`: wait until some node listens, emit (or broadcast), print what was
 * done as JSON.
 *
 * @param broker A started broker.
 * @param args The command line.
 * @param io Output.
 * @returns The exit code: 0, or 1 when no node listens to the event.
 */
export async function emitCommand(
  broker: ServiceBroker,
  args: CliArgs,
  io: CommandOutput,
): Promise<number> {
  const [event, dataText] = args.positionals as [string, string | undefined];
  const data = dataText === undefined ? {} : JSON.parse(dataText);
  const remote = () =>
    broker.registry.matchingEventLists(event).filter((l) => l.items.some((ep) => !ep.local));
  await until(() => remote().length > 0, args.wait ?? DEFAULT_WAIT);
  const lists = remote();
  if (lists.length === 0) {
    io.err(`No node listens to '${event}': nothing was sent`);
    return 1;
  }
  const nodes = [
    ...new Set(
      lists.flatMap((l) => l.items.filter((e) => !e.local).map((e) => e.id)),
    ),
  ]
    .sort();
  const groups = [
    ...new Set(lists.map((l) => l.group).filter((g) => g !== undefined)),
  ].sort();
  if (args.broadcast) await broker.broadcast(event, data);
  else await broker.emit(event, data);
  io.out(
    JSON.stringify(
      { event, broadcast: args.broadcast, groups, nodes },
      null,
      2,
    ),
  );
  return 0;
}

/**
 * Wait for the other nodes' INFO: the first within `--wait`, then the rest of that round.
 *
 * @param broker A started broker.
 * @param args The command line (its `--wait`).
 */
export async function waitForNodes(broker: ServiceBroker, args: CliArgs): Promise<void> {
  const others = () => [...broker.registry.nodes.values()].filter((n) => !n.local).length;
  if (await until(() => others() > 0, args.wait ?? DEFAULT_NODES_WAIT)) {
    // Let the other nodes' INFO replies to the same DISCOVER arrive.
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface NodeRow {
  id: string;
  available: boolean;
  local: boolean;
  client?: { type?: string; version?: string; langVersion?: string };
  hostname?: string | null;
  ipList?: string[];
  cpu?: number | null;
  services?: Array<{ name: string; fullName?: string; version?: unknown }>;
}

/**
 * Render nodes as a table: node, status, client, host and services.
 *
 * @param nodes `$node.list` rows with services.
 * @returns The table.
 */
export function nodesTable(nodes: readonly NodeRow[]): string {
  const rows = nodes.map((n) => [
    n.id,
    n.available ? "online" : "offline",
    [n.client?.type, n.client?.version].filter(Boolean).join(" ") || "?",
    n.hostname ?? n.ipList?.[0] ?? "",
    typeof n.cpu === "number" ? `${Math.round(n.cpu)}%` : "",
    (n.services ?? []).map((s) => s.fullName ?? s.name).filter((s) => !s.startsWith("$"))
      .join(", ") || "-",
  ]);
  const head = ["NODE", "STATUS", "CLIENT", "HOST", "CPU", "SERVICES"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r.map((c, i) => i === r.length - 1 ? c : c.padEnd(widths[i]!)).join("  ")
      .trimEnd();
  return [line(head), ...rows.map(line)].join("\n");
}

/**
 * `nodes`: wait for the cluster to answer, then print `$node.list` (with services) without
 * this operator node.
 *
 * @param broker A started broker.
 * @param args The command line.
 * @param io Output.
 * @returns The exit code: 0.
 */
export async function nodesCommand(
  broker: ServiceBroker,
  args: CliArgs,
  io: CommandOutput,
): Promise<number> {
  await waitForNodes(broker, args);
  const list = await broker.call<NodeRow[]>("$node.list", {
    withServices: true,
  });
  const nodes = list.filter((n) => !n.local).sort((a, b) => a.id < b.id ? -1 : 1);
  if (args.json) {
    io.out(JSON.stringify(nodes, null, 2));
  } else if (nodes.length === 0) {
    io.err("No other node answered");
  } else {
    io.out(nodesTable(nodes));
  }
  return 0;
}

/**
 * `types [-o file]`: read every other node's INFO and write the declarations of their actions
 * and events (see `typegen.ts`), to the file or to stdout.
 *
 * @param broker A started broker.
 * @param args The command line.
 * @param io Output.
 * @param write Writes the file (injected for tests).
 * @returns The exit code: 0, or 1 when no other node answered.
 */
export async function typesCommand(
  broker: ServiceBroker,
  args: CliArgs,
  io: CommandOutput,
  write: (path: string, text: string) => Promise<void>,
): Promise<number> {
  await waitForNodes(broker, args);
  const nodes: AnnouncedNode[] = [...broker.registry.nodes.values()]
    .filter((n) => !n.local && n.available)
    .sort((a, b) => a.id < b.id ? -1 : 1)
    .map((n) => ({ id: n.id, client: n.client, services: n.services }));
  if (nodes.length === 0) {
    io.err("No other node answered: nothing to declare (is -t the cluster's transporter?)");
    return 1;
  }
  const module = args.module ?? DEFAULT_TYPES_MODULE;
  const command = [
    PROGRAM,
    "types",
    ...(args.transporter ? ["-t", args.transporter.replace(/\/\/[^@/]*@/, "//")] : []),
    ...(args.namespace ? ["-n", args.namespace] : []),
    ...(args.out ? ["-o", args.out] : []),
    ...(args.module ? ["--module", args.module] : []),
  ].join(" ");
  const text = declarationsFor(nodes, { module, command });
  if (args.out === undefined) {
    io.out(text.trimEnd());
    return 0;
  }
  await write(args.out, text);
  const count = (re: RegExp) => (text.match(re) ?? []).length;
  io.err(
    `Wrote ${args.out}: ${count(/^ {4}"[^"]+": \{$/gm)} declaration(s) from ${nodes.length} ` +
      `node(s); import it once (import type {} from "./${
        args.out.split("/").pop()
      }") to type calls`,
  );
  return 0;
}
