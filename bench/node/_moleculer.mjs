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

/**
 * Answer each stdin line `sample` with {type: "sample", gc, rss, heapUsed, heapTotal, external}
 * (bytes, process.memoryUsage()), taken right after a full GC when one is available (gc: true,
 * needs --expose-gc), plus the fields of `extra()`; any other line goes to `command(line)`, awaited
 * before the next is read. Resolves when stdin closes. The mirror of answerSamples in
 * bench/deno/_transport.ts.
 */
export async function answerSamples({ extra, command } = {}) {
  // Only defined under --expose-gc.
  const gc = globalThis.gc;
  for await (const raw of stdinLines()) {
    const line = raw.trim();
    if (line !== "sample") {
      if (line) await command?.(line);
      continue;
    }
    // Twice: memory held by weak references and finalizers is only reclaimed by a later cycle.
    gc?.();
    gc?.();
    const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
    report({
      type: "sample",
      gc: gc !== undefined,
      rss,
      heapUsed,
      heapTotal,
      external,
      ...extra?.(),
    });
  }
}
