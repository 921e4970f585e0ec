/**
 * The Denolecular command line: run a node with the services found in directories, files or
 * globs, or join a cluster briefly to `call` an action, `emit` an event, list its `nodes` or
 * write the `types` of its actions and events (declarations that type `broker.call`), or open a
 * `repl` on it (moleculer-repl's commands; `--repl` opens one on a node once it is ready).
 * A thin layer over `src/runner/`: parse the flags, run, exit with the code.
 *
 * Options come from flags, the environment (`TRANSPORTER`, `NODEID`, `MOL_…`), a
 * `denolecular.config.ts|js|mjs|json` file and defaults, in that order of precedence. Run with
 * `--help` for every flag and `--print-config` to see the merged options and their origins.
 *
 * Exit codes: 0 success (also a graceful stop on SIGINT/SIGTERM), 1 start or runtime error,
 * 2 usage error, 130/143 a second SIGINT/SIGTERM during shutdown.
 *
 * @example Run the example services on a NATS cluster
 * ```sh
 * deno run -A cli.ts examples/services -t nats://127.0.0.1:4222 --hot
 * deno run -A cli.ts call greeter.hello '{"name": "John"}' -t nats://127.0.0.1:4222
 * deno run -A cli.ts nodes -t nats://127.0.0.1:4222
 * deno run -A cli.ts types -t nats://127.0.0.1:4222 -o services.d.ts
 * deno run -A cli.ts repl -t nats://127.0.0.1:4222
 * ```
 *
 * @example Run the CLI from code
 * ```ts ignore
 * import { runCli } from "./cli.ts";
 *
 * const code = await runCli(["examples/services", "--print-config"]);
 * console.log(code); // 0
 * ```
 *
 * @module
 */

import { runCli } from "./src/runner/runner.ts";

export { runCli };
export type { RunCliOptions } from "./src/runner/runner.ts";

if (import.meta.main) {
  Deno.exit(await runCli(Deno.args, { baseDir: import.meta.dirname }));
}
