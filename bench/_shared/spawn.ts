/**
 * How the bench orchestrators start a node: a Deno script of this checkout (or of another one)
 * or a Node script, its options as JSON in the first argument. `BENCH_DENO_FLAGS` adds flags to
 * every Deno child (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`), `BENCH_NODE` picks the node
 * binary.
 *
 * @module
 */

const ROOT = new URL("../../", import.meta.url);
const NODE = Deno.env.get("BENCH_NODE") ?? "node";
const DENO_FLAGS = (Deno.env.get("BENCH_DENO_FLAGS") ?? "").split(" ").filter((f) => f !== "");

/** A command line for a bench node: what `Child`'s constructor takes after the name. */
export type NodeCommand = [cmd: string, args: string[], cwd: string];

/** A script under bench/ of this checkout, or of the checkout in `root`. */
function scriptOf(script: string, root?: string): string {
  const base = root ? new URL(`file://${root.replace(/\/?$/, "/")}`) : ROOT;
  return new URL(`bench/${script}`, base).pathname;
}

/**
 * A Deno bench node.
 *
 * @param script Its path under bench/, e.g. `deno/remote.ts`.
 * @param opts Its options.
 * @param root Another checkout whose script runs (`--baseline=`); this one when omitted.
 * @returns The command line.
 */
export function denoCommand(
  script: string,
  opts: Record<string, unknown>,
  root?: string,
): NodeCommand {
  return [
    Deno.execPath(),
    ["run", "-A", "--quiet", ...DENO_FLAGS, scriptOf(script, root), JSON.stringify(opts)],
    root ?? ROOT.pathname,
  ];
}

/**
 * A Node bench node.
 *
 * @param script Its path under bench/, e.g. `node/remote.mjs`.
 * @param opts Its options.
 * @returns The command line.
 */
export function nodeCommand(script: string, opts: Record<string, unknown>): NodeCommand {
  return [NODE, [scriptOf(script), JSON.stringify(opts)], ROOT.pathname];
}

/** The node binary the Node children run on. */
export const NODE_BIN: string = NODE;
