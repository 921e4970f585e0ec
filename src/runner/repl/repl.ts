/**
 * The REPL session: an interactive console on a running broker, with moleculer-repl's commands
 * (`help` lists them), history, tab completion and readable tables. Built on `node:readline`:
 * with a terminal it edits lines, completes, recalls history and colours its output; on a pipe
 * it reads one command a line, so scripts can drive it.
 *
 * Commands run one after another in the order typed. Ctrl+C stops a running `bench` (and
 * clears the line being typed; twice on an empty line exits); Ctrl+D, `exit`, `quit` or the
 * end of the input end the session.
 *
 * @module
 */

import process from "node:process";
import readline from "node:readline";
import type { ServiceBroker } from "../../broker/broker.ts";
import type { ReplCommand, ReplContext, ReplOutput } from "./command.ts";
import { COMMANDS } from "./commands/mod.ts";
import { complete, findCommand } from "./completion.ts";
import { errorBlock } from "./format.ts";
import { HISTORY_SIZE, historyPath, loadHistory, saveHistory } from "./history.ts";
import { parseWords, ReplUsageError, splitLine } from "./line_args.ts";
import { makeStyle } from "./style.ts";

/** moleculer-repl's prompt. */
export const DEFAULT_PROMPT = "mol $ ";

/** Options of {@linkcode startRepl}. */
export interface ReplOptions {
  /** Directory `@file.json`, `--load` and `--save` paths are relative to. @default {Deno.cwd()} */
  readonly cwd?: string;
  /** The prompt. @default {"mol $ "} */
  readonly prompt?: string;
  /**
   * The history file; `null` for none. @default {`DENOLECULAR_REPL_HISTORY`, else
   * ~/.denolecular_repl_history}
   */
  readonly historyFile?: string | null;
  /** Reads the environment (for `env`). @default {Deno.env.toObject} */
  readonly env?: () => Record<string, string>;
}

/**
 * Run a REPL on the process's stdin and stdout until the user leaves it.
 *
 * @param broker A started broker.
 * @param options Working directory, prompt, history file.
 * @returns When the session ended (`exit`, Ctrl+D, end of input). The broker is left running:
 *   the caller stops it.
 */
export async function startRepl(broker: ServiceBroker, options: ReplOptions = {}): Promise<void> {
  const input = process.stdin;
  const output = process.stdout;
  const terminal = Boolean(input.isTTY && output.isTTY);
  const env = options.env ?? (() => Deno.env.toObject());
  const style = makeStyle(Boolean(output.isTTY) && !Deno.noColor);
  const historyFile = options.historyFile === null
    ? undefined
    : options.historyFile ?? historyPath(Deno.env.toObject());
  const history = terminal ? await loadHistory(historyFile) : [];

  const rl = readline.createInterface({
    input,
    output,
    terminal,
    prompt: options.prompt ?? DEFAULT_PROMPT,
    history,
    historySize: HISTORY_SIZE,
    removeHistoryDuplicates: true,
    completer: (line: string) => complete(line, COMMANDS, broker),
  });
  if (terminal) rl.on("history", (h: string[]) => void saveHistory(historyFile, h));

  let busy = false;
  let closed = false;
  let exiting = false;
  let lastInterrupt = 0;
  let abort = new AbortController();
  const write = (text: string) => output.write(`${text}\n`);
  const out: ReplOutput = {
    style,
    print: (text = "") => write(text),
    notify(text) {
      if (!terminal || busy || closed) {
        write(text);
        return;
      }
      // Clear the line being typed, print above it, then draw the prompt and the input again.
      readline.clearLine(output, 0);
      readline.cursorTo(output, 0);
      write(text);
      rl.prompt(true);
    },
    clearScreen() {
      readline.cursorTo(output, 0, 0);
      readline.clearScreenDown(output);
      output.write("\x1b[3J\x1b[2J\x1b[H");
    },
  };
  const ctx = (): ReplContext => ({
    broker,
    out,
    cwd: options.cwd ?? Deno.cwd(),
    env,
    signal: abort.signal,
    commands: COMMANDS,
    exit() {
      exiting = true;
    },
  });

  const queue: string[] = [];
  let ended!: () => void;
  const done = new Promise<void>((r) => ended = r);
  // `prompt(true)` keeps the cursor where it is in what was typed ahead while a command ran.
  const prompt = () => {
    if (!closed && !exiting) rl.prompt(true);
  };
  const pump = async () => {
    if (busy) return;
    busy = true;
    while (queue.length && !exiting) {
      abort = new AbortController();
      await execute(ctx(), queue.shift()!);
      if (!exiting && queue.length === 0) {
        busy = false;
        prompt();
        busy = true;
      }
    }
    busy = false;
    if (exiting && !closed) rl.close();
    if (closed) ended();
  };

  rl.on("line", (line: string) => {
    queue.push(line);
    void pump();
  });
  rl.on("close", () => {
    closed = true;
    if (!busy) ended();
  });
  rl.on("SIGINT", () => {
    if (busy) {
      abort.abort();
      write(style.gray("^C (stopping the running command)"));
      return;
    }
    if (rl.line !== "") {
      // Drop the line being typed (as a shell does): end of line, then delete to its start.
      write("");
      rl.write(null, { ctrl: true, name: "e" });
      rl.write(null, { ctrl: true, name: "u" });
      return;
    }
    const now = Date.now();
    if (now - lastInterrupt < 2000) {
      write("");
      rl.close();
      return;
    }
    lastInterrupt = now;
    write(`\n${style.gray("(To exit, press Ctrl+C again, Ctrl+D or type exit)")}`);
    prompt();
  });

  const where = broker.transit ? "" : " (local only: no transporter)";
  write(
    style.gray(
      `Denolecular REPL on node '${broker.nodeID}'${
        broker.namespace ? ` in namespace '${broker.namespace}'` : ""
      }${where}. ` +
        "Type 'help' for the commands, 'exit' to leave.",
    ),
  );
  prompt();
  await done;
}

/**
 * Run one line.
 *
 * @param ctx The session.
 * @param line What was typed.
 */
async function execute(ctx: ReplContext, line: string): Promise<void> {
  const { style } = ctx.out;
  let name = line.trim().split(/\s+/)[0] ?? "";
  try {
    const words = splitLine(line);
    if (words.length === 0) return;
    name = words[0]!;
    let command: ReplCommand | undefined = findCommand(ctx.commands, name);
    if (!command) {
      ctx.out.print(style.red(`Unknown command '${name}'. Type 'help' to see the commands.`));
      return;
    }
    let rest = words.slice(1);
    if (command.subcommands) {
      const sub = command.subcommands.find((s) => s.name === rest[0]);
      if (!sub) {
        const names = command.subcommands.map((s) => s.name).join(", ");
        throw new ReplUsageError(
          rest[0] === undefined
            ? `needs one of: ${names}`
            : `unknown sub-command '${rest[0]}' (one of: ${names})`,
        );
      }
      name = `${command.name} ${sub.name}`;
      command = sub;
      rest = rest.slice(1);
    }
    const parsed = parseWords(rest, command.flags ?? [], command.freeParams ?? false);
    await command.run?.(ctx, parsed);
  } catch (err) {
    if (err instanceof ReplUsageError) {
      const base = name.split(" ")[0];
      ctx.out.print(style.red(`${name}: ${err.message} (see help ${base})`));
    } else {
      ctx.out.print(errorBlock(err, style));
    }
  }
}
