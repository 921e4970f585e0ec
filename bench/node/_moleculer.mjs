// Shared bits of the Moleculer (Node) nodes of bench/compare.ts: the Moleculer package and the line
// protocol with the orchestrator (JSON lines on stdout, commands on stdin).

import { createRequire } from "node:module";
import process from "node:process";
import readline from "node:readline";

const require = createRequire(import.meta.url);

/** Moleculer 0.15.2, as installed for the interop tests (tests/package.json). */
export const Moleculer = require("../../tests/node_modules/moleculer-015");

/** Options: JSON in argv[2]. */
export const options = JSON.parse(process.argv[2] ?? "{}");

/** Print one JSON line for the orchestrator (stdout to a pipe is synchronous on Linux). */
export function report(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

/** Lines of stdin; ends when the orchestrator closes it. */
export function stdinLines() {
  return readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
}

/** Resolves when stdin closes: the orchestrator went away or is done with us. */
export async function stdinClosed() {
  for await (const _ of stdinLines()) { /* ignore input */ }
}
