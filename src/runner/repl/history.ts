/**
 * The REPL's history file: one command a line, oldest first, the last 1000 kept. It lives in
 * `~/.denolecular_repl_history` (moleculer-repl's is `~/.moleculer_repl_history`), or where
 * `DENOLECULAR_REPL_HISTORY` says; an empty `DENOLECULAR_REPL_HISTORY` turns it off.
 *
 * @module
 */

import { join } from "node:path";

/** Commands kept in the file. */
export const HISTORY_SIZE = 1000;

/**
 * The history file of an environment.
 *
 * @param env The environment.
 * @returns The path, or undefined when history is off or there is no home directory.
 */
export function historyPath(env: Record<string, string | undefined>): string | undefined {
  const set = env.DENOLECULAR_REPL_HISTORY;
  if (set !== undefined) return set === "" ? undefined : set;
  const home = env.HOME ?? env.USERPROFILE;
  return home ? join(home, ".denolecular_repl_history") : undefined;
}

/**
 * Read a history file.
 *
 * @param path The file.
 * @returns The commands, newest first (as node:readline takes them); none when it is missing.
 */
export async function loadHistory(path: string | undefined): Promise<string[]> {
  if (path === undefined) return [];
  try {
    const text = await Deno.readTextFile(path);
    return text.split("\n").filter((l) => l.trim() !== "").slice(-HISTORY_SIZE).reverse();
  } catch {
    return [];
  }
}

/**
 * Write a history file; a failure (a read-only home) is ignored: history is a convenience.
 *
 * @param path The file.
 * @param newestFirst The commands as node:readline holds them.
 */
export async function saveHistory(
  path: string | undefined,
  newestFirst: readonly string[],
): Promise<void> {
  if (path === undefined) return;
  // A completion leaves a space after a word: store the command as it reads.
  const lines = [...new Set(newestFirst.map((l) => l.trim()).filter((l) => l !== ""))]
    .slice(0, HISTORY_SIZE)
    .reverse();
  try {
    await Deno.writeTextFile(path, lines.length ? `${lines.join("\n")}\n` : "", { mode: 0o600 });
  } catch { /* not writable: keep going without */ }
}
