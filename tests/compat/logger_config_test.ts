/**
 * A Moleculer logger configuration (from a `moleculer.config.js`) runs unedited: the same
 * `logger`/`logLevel` options and calls give the lines a real Moleculer 0.15 broker writes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createLoggerFactory, type LoggerOptions } from "../../mod.ts";
import { nodeBinary, requirePeers } from "../_helpers/moleculer_peer.ts";

/** The lines Moleculer 0.15 writes for the calls of `_moleculer_logger.mjs`. */
async function moleculerLines(options: Record<string, unknown>): Promise<string[]> {
  requirePeers();
  const { code, stdout, stderr } = await new Deno.Command(nodeBinary(), {
    args: [
      new URL("./_moleculer_logger.mjs", import.meta.url).pathname,
      JSON.stringify(options),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(new TextDecoder().decode(stderr));
  return JSON.parse(new TextDecoder().decode(stdout));
}

/** The same calls on Denolecular's logger factory. */
function denoLines(options: Pick<LoggerOptions, "logger" | "logLevel">): string[] {
  const lines: string[] = [];
  const factory = createLoggerFactory({ nodeID: "n1", ...options, write: (l) => lines.push(l) });
  const svc = factory.getLogger("my-svc");
  const other = factory.getLogger("other");
  svc.info("User", { id: 5 }, "created", 42);
  svc.debug("debug of my-svc");
  other.debug("debug of other");
  other.warn("Careful", [1, 2]);
  return lines;
}

/** Time stamps differ between two runs: compare the rest of each line. */
const untimed = (line: string) =>
  line.replace(/^\[[^\]]+\]/, "[time]").replace(/"ts":\d+/, '"ts":0').replace(
    /"time":"[^"]+"/,
    '"time":"t"',
  );

// A config as Moleculer's docs show it (0.15, "Logging" → "Console logger", "Log level setting").
const LEVELS = { "MY-SVC": "debug", "**": "info" };

for (const formatter of ["full", "short", "simple", "json", "jsonext", "{level} [{mod}] {msg}"]) {
  Deno.test(`logger { type: "Console", formatter: "${formatter}" } writes Moleculer's lines`, async () => {
    const logger = { type: "Console", options: { formatter, colors: false } };
    const expected = await moleculerLines({ logger, logLevel: LEVELS });
    assert.equal(expected.length, 3, "Moleculer: my-svc info + debug, other warn");
    const ours = denoLines({ logger, logLevel: LEVELS as LoggerOptions["logLevel"] });
    assert.deepEqual(ours.map(untimed), expected.map(untimed));
  });
}

Deno.test('logger: "Console" with a level per module in options.level, as Moleculer', async () => {
  const logger = { type: "Console", options: { level: { "OTHER": "debug", "*": "warn" } } };
  const expected = await moleculerLines({ logger, colors: false });
  const ours = denoLines({ logger: logger as LoggerOptions["logger"] });
  assert.deepEqual(ours.map(untimed), expected.map(untimed));
});
