/**
 * `info`: this process and its broker — host, memory, runtime and versions; the node, its
 * services, strategy and cacher; the transporter and serializer; the broker's options (secrets
 * masked).
 *
 * @module
 */

import { VERSION } from "../../../broker/broker.ts";
import { showValue } from "../../config.ts";
import type { ReplCommand, ReplContext } from "../command.ts";
import { count } from "../format.ts";

function bytes(n: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

function gauge(used: number, total: number, width = 20): string {
  const filled = total > 0 ? Math.max(0, Math.min(width, Math.round((used / total) * width))) : 0;
  return `[${"|".repeat(filled)}${" ".repeat(width - filled)}]`;
}

function nameOf(value: unknown): string {
  if (value === null || value === undefined || value === false) return "<None>";
  if (typeof value === "string") return value;
  if (typeof value === "function") return value.name || "<function>";
  if (typeof value === "object") {
    const type = (value as { type?: unknown }).type;
    if (typeof type === "string") return type;
    return (value as object).constructor?.name ?? "Object";
  }
  return String(value);
}

function run(ctx: ReplContext): void {
  const { broker, out } = ctx;
  const { style } = out;
  const lines: string[] = [];
  const header = (title: string) => {
    const text = `  ${title}  `;
    lines.push(
      style.yellow("=".repeat(text.length)),
      style.yellow(text),
      style.yellow("=".repeat(text.length)),
      "",
    );
  };
  const row = (caption: string, value?: string) =>
    lines.push(`    ${caption.padEnd(25)}${value === undefined ? "" : `: ${style.bold(value)}`}`);
  const objectRows = (obj: Record<string, unknown>, level = 0) => {
    for (const [key, value] of Object.entries(obj).sort(([a], [b]) => a.localeCompare(b))) {
      if (value === undefined) continue;
      const caption = `${"  ".repeat(level)}${key}`;
      const plain = value !== null && typeof value === "object" && !Array.isArray(value) &&
        Object.getPrototypeOf(value) === Object.prototype;
      if (plain && level < 1 && Object.keys(value as object).length > 0) {
        row(caption);
        objectRows(value as Record<string, unknown>, level + 1);
      } else {
        row(caption, showValue(value, key));
      }
    }
  };

  const rt = broker.runtime;
  const host = rt.hostInfo();
  const mem = rt.memoryUsage();
  const used = host.mem.total - host.mem.free;
  lines.push("");
  header("General information");
  row("CPU", `Arch: ${host.os.arch || "?"}, Cores: ${host.cores}`);
  row(
    "Memory",
    `${gauge(used, host.mem.total)} ${bytes(host.mem.free)} free of ${bytes(host.mem.total)}`,
  );
  if (mem) {
    row(
      "Heap",
      `${gauge(mem.heapUsed, mem.heapTotal)} ${bytes(mem.heapUsed)} of ${bytes(mem.heapTotal)}`,
    );
  }
  row("OS", `${host.os.platform || "?"} (${host.os.type || "?"} ${host.os.release})`.trim());
  row("IP", broker.registry.localNode.ipList.join(", ") || "?");
  row("Hostname", broker.registry.localNode.hostname ?? rt.hostname());
  lines.push("");
  row(`${rt.name[0]!.toUpperCase()}${rt.name.slice(1)} version`, rt.version());
  row("Denolecular version", VERSION);
  row("Protocol version", String(broker.options.protocolVersion));
  lines.push("");
  row("Current time", new Date().toString());
  lines.push("");

  header("Broker information");
  row("Namespace", broker.namespace || "<None>");
  row("Node ID", broker.nodeID);
  row("Services", String(broker.services.length));
  row("Actions", String([...broker.registry.actions.values()].filter((l) => l.hasLocal).length));
  row(
    "Events",
    String(
      [...broker.registry.events.values()].reduce(
        (n, groups) => n + [...groups.values()].filter((l) => l.hasLocal).length,
        0,
      ),
    ),
  );
  lines.push("");
  row("Strategy", nameOf(broker.options.registry.strategy));
  row("Cacher", broker.cacher ? nameOf(broker.cacher) : "<None>");
  if (broker.transit) {
    row("Nodes", String(broker.registry.nodes.size));
    lines.push("");
    header("Transport information");
    row("Transporter", showValue(broker.options.transporter).replace(/^"|"$/g, ""));
    row("Serializer", nameOf(broker.options.serializer));
    row("Connected", String(broker.transit.connected));
    row("Pending requests", count(broker.transit.pendingCount));
  }
  lines.push("");
  header("Broker options");
  objectRows(broker.options as unknown as Record<string, unknown>);
  lines.push("");
  out.print(lines.join("\n"));
}

/** The `info` command. */
export const infoCommand: ReplCommand = {
  name: "info",
  description: "Information about the broker and this process",
  run,
};
