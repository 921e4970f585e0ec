/**
 * The session's own commands: `help [command]`, `cls` (clear the screen) and `exit` (also
 * `quit` and `q`), which ends the session and stops its node.
 *
 * @module
 */

import type { ReplCommand, ReplContext } from "../command.ts";
import type { FlagSpec, ParsedWords } from "../line_args.ts";

function flagLine(f: FlagSpec): [string, string] {
  const names = `${f.short ? `-${f.short}, ` : "    "}--${f.name}${f.value ? ` ${f.value}` : ""}`;
  return [names, f.description];
}

function usageOf(c: ReplCommand, prefix = ""): string {
  return `${prefix}${c.name}${c.usage ? ` ${c.usage}` : ""}${c.flags?.length ? " [options]" : ""}`;
}

function columns(pairs: readonly [string, string][], indent: string): string[] {
  const width = Math.max(0, ...pairs.map(([a]) => a.length));
  return pairs.map(([a, b]) => `${indent}${a.padEnd(width)}  ${b}`);
}

function detail(c: ReplCommand): string {
  const lines = [`Usage: ${usageOf(c)}`, "", c.description];
  if (c.aliases?.length) lines.push(`Aliases: ${c.aliases.join(", ")}`);
  if (c.subcommands?.length) {
    lines.push(
      "",
      "Commands:",
      ...columns(c.subcommands.map((s) => [usageOf(s, `${c.name} `), s.description]), "  "),
    );
    for (const s of c.subcommands) {
      if (s.flags?.length) {
        lines.push("", `Options of ${c.name} ${s.name}:`, ...columns(s.flags.map(flagLine), "  "));
      }
    }
  }
  if (c.flags?.length) lines.push("", "Options:", ...columns(c.flags.map(flagLine), "  "));
  if (c.freeParams) {
    lines.push(
      "",
      "Params: --key value words (--a 5 --b.c x, --flag for true, --no-flag for false), a JSON",
      "argument, or @file.json; --#key value sets meta, --$key value sets an option (--$timeout 500).",
    );
  }
  if (c.examples?.length) lines.push("", "Examples:", ...c.examples.map((e) => `  ${e}`));
  return lines.join("\n");
}

function help(ctx: ReplContext, { positionals }: ParsedWords): void {
  const [name] = positionals;
  if (name !== undefined) {
    const found = ctx.commands.find((c) => c.name === name || c.aliases?.includes(name));
    ctx.out.print(
      found
        ? detail(found)
        : ctx.out.style.red(`Unknown command '${name}'. Type 'help' for the list.`),
    );
    return;
  }
  const pairs: [string, string][] = [];
  for (const c of ctx.commands) {
    if (c.subcommands) {
      for (const s of c.subcommands) pairs.push([usageOf(s, `${c.name} `), s.description]);
    } else pairs.push([usageOf(c), c.description]);
  }
  ctx.out.print(
    [
      "",
      "  Commands:",
      "",
      ...columns(pairs, "    "),
      "",
      "  help <command> shows a command's options and examples.",
      "",
    ].join("\n"),
  );
}

/** The `help` command. */
export const helpCommand: ReplCommand = {
  name: "help",
  usage: "[command]",
  description: "Provides help for a given command",
  completes: "commands",
  run: help,
};

/** The `cls` command. */
export const clsCommand: ReplCommand = {
  name: "cls",
  description: "Clear the console",
  run: (ctx) => ctx.out.clearScreen(),
};

/** The `exit` command. */
export const exitCommand: ReplCommand = {
  name: "exit",
  aliases: ["quit", "q"],
  description: "Exit the REPL (and stop this node)",
  run: (ctx) => ctx.exit(),
};
