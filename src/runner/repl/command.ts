/**
 * What a REPL command is: a name, its usage and flags (for the help, the parser and the
 * completion), and what it does with the broker and the output.
 *
 * @module
 */

import type { ServiceBroker } from "../../broker/broker.ts";
import type { FlagSpec, ParsedWords } from "./line_args.ts";
import type { Style } from "./style.ts";

/** Where commands write. */
export interface ReplOutput {
  /** The output's styles. */
  readonly style: Style;
  /** Write a block of text as the answer to the command running now. */
  print(text?: string): void;
  /**
   * Write a block of text that arrived on its own (an event a listener got) without breaking
   * the line being typed: the prompt and the input are drawn again below it.
   */
  notify(text: string): void;
  /** Clear the screen. */
  clearScreen(): void;
}

/** What a command runs with. */
export interface ReplContext {
  /** The broker of the REPL. */
  readonly broker: ServiceBroker;
  /** Where to write. */
  readonly out: ReplOutput;
  /** Directory `@file.json`, `--load` and `--save` paths are relative to. */
  readonly cwd: string;
  /** The environment (`env` lists it). */
  readonly env: () => Record<string, string>;
  /** Aborted when the user presses Ctrl+C while the command runs (`bench` stops early). */
  readonly signal: AbortSignal;
  /** Every command, for `help`. */
  readonly commands: readonly ReplCommand[];
  /** Ask the session to end after this command. */
  exit(): void;
}

/** Names `call`, `emit` and `bench` complete after their command name. */
export type Completion = "actions" | "nodeActions" | "events" | "commands" | "services" | "none";

/** A REPL command. */
export interface ReplCommand {
  /** The name typed, e.g. `nodes`. */
  readonly name: string;
  /** Other names, e.g. `q` for `quit`. */
  readonly aliases?: readonly string[];
  /** Arguments after the name for the help, e.g. `<actionName> [jsonParams] [meta]`. */
  readonly usage?: string;
  /** One line for the help. */
  readonly description: string;
  /** Declared flags. */
  readonly flags?: readonly FlagSpec[];
  /** True when undeclared `--key value` words are params (`call`, `emit`, `bench`). */
  readonly freeParams?: boolean;
  /** Sub-commands (`cache keys`, `listener add`): the first word picks one. */
  readonly subcommands?: readonly ReplCommand[];
  /** What the word after the name completes to. */
  readonly completes?: Completion;
  /** Extra lines for `help <command>`. */
  readonly examples?: readonly string[];
  /**
   * Run the command.
   *
   * @param ctx The session.
   * @param words The words read against the flags.
   */
  run?(ctx: ReplContext, words: ParsedWords): Promise<void> | void;
}
