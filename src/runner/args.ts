/**
 * The CLI's grammar: sub-commands, flags (Pylecular's short letters), their checks and the
 * help text.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { LogFormat, LogLevel } from "../logging.ts";
import type { FlagAssignment } from "./config.ts";
import { UsageError } from "./errors.ts";

/** What the CLI was asked to do. */
export type Command = "run" | "call" | "emit" | "nodes" | "types" | "repl" | "help" | "version";

/** Parsed command line. */
export interface CliArgs {
  /** The sub-command; `run` loads services and runs a node. */
  readonly command: Command;
  /** `run`: service paths. `call`: action and params. `emit`: event and data. */
  readonly positionals: readonly string[];
  /** `-b`: the node ID. */
  readonly brokerId?: string | undefined;
  /** `-t`: the transporter. */
  readonly transporter?: string | undefined;
  /** `-l`: the log level, normalised. */
  readonly logLevel?: LogLevel | undefined;
  /** `-f`: the log format. */
  readonly logFormat?: LogFormat | undefined;
  /** `-n`: the namespace. */
  readonly namespace?: string | undefined;
  /** `-c`: the config file. */
  readonly config?: string | undefined;
  /** `--env-file`. */
  readonly envFile?: string | undefined;
  /** `--protocol`. */
  readonly protocol?: "4" | "5" | undefined;
  /** `-m`: mask for files in directories. */
  readonly mask?: string | undefined;
  /** `-H`. */
  readonly hot: boolean;
  /** `-r, --repl`: start the REPL once the node is ready. */
  readonly repl: boolean;
  /** `-s`. */
  readonly silent: boolean;
  /** `--shutdown-timeout` in ms, when given. */
  readonly shutdownTimeout?: number | undefined;
  /** `--print-config`. */
  readonly printConfig: boolean;
  /** `call --meta`. */
  readonly meta?: Record<string, unknown> | undefined;
  /** `call --timeout` in ms. */
  readonly timeout?: number | undefined;
  /** `call --node`: the node to call. */
  readonly node?: string | undefined;
  /** `--wait` in ms: how long sub-commands wait for the cluster. */
  readonly wait?: number | undefined;
  /** `emit --broadcast`. */
  readonly broadcast: boolean;
  /** `nodes --json`. */
  readonly json: boolean;
  /** `types -o`: the declarations file to write (stdout when omitted). */
  readonly out?: string | undefined;
  /** `types --module`: the specifier the declarations augment. */
  readonly module?: string | undefined;
}

/** The CLI's program name in messages. */
export const PROGRAM = "denolecular";

/** Default of `types --module`: the name `deno add jsr:@denolecular/denolecular` maps. */
export const DEFAULT_TYPES_MODULE = "@denolecular/denolecular";

/** Default of `--shutdown-timeout`, in ms. */
export const DEFAULT_SHUTDOWN_TIMEOUT = 10_000;

const OPTIONS = {
  "broker-id": { type: "string", short: "b" },
  transporter: { type: "string", short: "t" },
  "log-level": { type: "string", short: "l" },
  "log-format": { type: "string", short: "f" },
  namespace: { type: "string", short: "n" },
  config: { type: "string", short: "c" },
  "env-file": { type: "string" },
  protocol: { type: "string" },
  mask: { type: "string", short: "m" },
  hot: { type: "boolean", short: "H" },
  repl: { type: "boolean", short: "r" },
  silent: { type: "boolean", short: "s" },
  "shutdown-timeout": { type: "string" },
  "print-config": { type: "boolean" },
  meta: { type: "string" },
  timeout: { type: "string" },
  node: { type: "string" },
  wait: { type: "string" },
  broadcast: { type: "boolean" },
  json: { type: "boolean" },
  out: { type: "string", short: "o" },
  module: { type: "string" },
  version: { type: "boolean", short: "V" },
  help: { type: "boolean", short: "h" },
} as const;

const ONLY: Record<string, readonly Command[]> = {
  mask: ["run"],
  hot: ["run"],
  repl: ["run"],
  "shutdown-timeout": ["run"],
  meta: ["call"],
  timeout: ["call"],
  node: ["call"],
  wait: ["call", "emit", "nodes", "types", "repl"],
  broadcast: ["emit"],
  json: ["nodes"],
  out: ["types"],
  module: ["types"],
};

const SUBCOMMANDS = new Set(["call", "emit", "nodes", "types", "repl"]);

const LOG_LEVELS: Record<string, LogLevel> = {
  trace: "trace",
  debug: "debug",
  info: "info",
  warn: "warn",
  warning: "warn",
  error: "error",
  fatal: "fatal",
  critical: "fatal",
};

function shortError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const unknown = /Unknown option '([^']+)'/.exec(message);
  if (unknown) return `unknown option '${unknown[1]}'`;
  const missing = /Option '([^']+?)(?: <value>)?' argument missing/.exec(
    message,
  );
  if (missing) return `option '${missing[1]}' needs a value`;
  const ambiguous = /Option '([^']+)' argument is ambiguous/.exec(message);
  if (ambiguous) {
    return `option '${ambiguous[1]}' needs a value (write ${
      ambiguous[1]
    }=-… for one starting with "-")`;
  }
  const unexpected = /Unexpected argument '([^']+)'/.exec(message);
  if (unexpected) return `unexpected argument '${unexpected[1]}'`;
  return message.split(". ")[0]!.replace(/\.$/, "");
}

function ms(
  flag: string,
  value: string | undefined,
  min = 0,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < min) {
    throw new UsageError(
      `--${flag} needs a whole number of milliseconds ≥ ${min}, got '${value}'`,
    );
  }
  return n;
}

function json(what: string, value: string): unknown {
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new UsageError(
      `${what} is not valid JSON (${(err as Error).message}): ${value}`,
    );
  }
}

/**
 * Parse the command line.
 *
 * @param argv The arguments after the program name.
 * @returns The parsed command.
 * @throws {UsageError} on an unknown flag, a missing or bad value, or an argument that does
 *   not fit the sub-command.
 *
 * @example
 * ```ts
 * import { parseCliArgs } from "./args.ts";
 *
 * const args = parseCliArgs(["services", "-t", "nats://127.0.0.1:4222", "-l", "DEBUG"]);
 * // { command: "run", positionals: ["services"], transporter: "nats://…", logLevel: "debug", … }
 * ```
 */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new UsageError(shortError(err), { cause: err });
  }
  const v = parsed.values;
  let positionals = parsed.positionals;
  let command: Command = "run";
  if (v.help) command = "help";
  else if (v.version) command = "version";
  else if (positionals[0] !== undefined && SUBCOMMANDS.has(positionals[0])) {
    command = positionals[0] as Command;
    positionals = positionals.slice(1);
  }
  if (command !== "help" && command !== "version") {
    for (const [flag, commands] of Object.entries(ONLY)) {
      if (
        (v as Record<string, unknown>)[flag] !== undefined &&
        !commands.includes(command)
      ) {
        throw new UsageError(
          `--${flag} applies to ${
            commands.map((c) => c === "run" ? "running a node" : c).join(", ")
          } only`,
        );
      }
    }
  }

  let logLevel: LogLevel | undefined;
  if (v["log-level"] !== undefined) {
    logLevel = LOG_LEVELS[v["log-level"].toLowerCase()];
    if (!logLevel) {
      throw new UsageError(
        `--log-level must be one of trace, debug, info, warn, error, fatal (or DEBUG, INFO, WARNING, ERROR, CRITICAL), got '${
          v["log-level"]
        }'`,
      );
    }
  }
  let logFormat: LogFormat | undefined;
  if (v["log-format"] !== undefined) {
    const f = v["log-format"].toUpperCase();
    if (f !== "PLAIN" && f !== "JSON") {
      throw new UsageError(
        `--log-format must be PLAIN or JSON, got '${v["log-format"]}'`,
      );
    }
    logFormat = f;
  }
  const protocol = v.protocol;
  if (protocol !== undefined && protocol !== "4" && protocol !== "5") {
    throw new UsageError(
      `--protocol must be 4 (Moleculer 0.14) or 5 (Moleculer 0.15), got '${protocol}'`,
    );
  }
  for (
    const flag of ["broker-id", "namespace", "transporter", "mask"] as const
  ) {
    if (
      v[flag] !== undefined && v[flag]!.trim() === "" && flag !== "namespace"
    ) {
      throw new UsageError(`--${flag} needs a non-empty value`);
    }
  }

  let meta: Record<string, unknown> | undefined;
  if (v.meta !== undefined) {
    const m = json("--meta", v.meta);
    if (typeof m !== "object" || m === null || Array.isArray(m)) {
      throw new UsageError(`--meta must be a JSON object, got ${v.meta}`);
    }
    meta = m as Record<string, unknown>;
  }

  if (command === "call" || command === "emit") {
    const what = command === "call" ? "action" : "event";
    if (positionals.length === 0) {
      throw new UsageError(
        `${command} needs the ${what} name: ${PROGRAM} ${command} <${what}> [json]`,
      );
    }
    if (positionals.length > 2) {
      throw new UsageError(
        `${command} takes the ${what} and one JSON argument; quote the JSON: '{"a": 1}'`,
      );
    }
    if (positionals[1] !== undefined) {
      json(
        command === "call" ? "the params argument" : "the data argument",
        positionals[1],
      );
    }
  }
  if ((command === "nodes" || command === "types") && positionals.length > 0) {
    throw new UsageError(`${command} takes no arguments, got '${positionals[0]}'`);
  }
  if (command === "repl" && positionals.length > 0) {
    throw new UsageError(
      `repl takes no arguments, got '${positionals[0]}' (to run services with a REPL: ` +
        `${PROGRAM} ${positionals.join(" ")} --repl)`,
    );
  }
  for (const flag of ["out", "module"] as const) {
    if (v[flag] !== undefined && v[flag]!.trim() === "") {
      throw new UsageError(`--${flag} needs a non-empty value`);
    }
  }

  return {
    command,
    positionals,
    brokerId: v["broker-id"],
    transporter: v.transporter,
    logLevel,
    logFormat,
    namespace: v.namespace,
    config: v.config,
    envFile: v["env-file"],
    protocol,
    mask: v.mask,
    hot: v.hot ?? false,
    repl: v.repl ?? false,
    silent: v.silent ?? false,
    shutdownTimeout: ms("shutdown-timeout", v["shutdown-timeout"]),
    printConfig: v["print-config"] ?? false,
    meta,
    timeout: ms("timeout", v.timeout, 1),
    node: v.node,
    wait: ms("wait", v.wait),
    broadcast: v.broadcast ?? false,
    json: v.json ?? false,
    out: v.out,
    module: v.module,
  };
}

/**
 * The broker options the flags set, for the merge with env, config and defaults.
 *
 * @param args Parsed command line.
 * @returns The assignments, each naming its flag.
 */
export function flagAssignments(args: CliArgs): FlagAssignment[] {
  const out: FlagAssignment[] = [];
  const add = (path: string, value: unknown, flag: string) => {
    if (value !== undefined) out.push({ path: [path], value, flag });
  };
  add("nodeID", args.brokerId, "--broker-id");
  add("transporter", args.transporter, "--transporter");
  add("namespace", args.namespace, "--namespace");
  add("logLevel", args.logLevel, "--log-level");
  add("logFormat", args.logFormat, "--log-format");
  add("protocolVersion", args.protocol, "--protocol");
  if (args.silent) add("logger", false, "--silent");
  return out;
}

/** The help text. */
export const HELP = `${PROGRAM}: run Moleculer-compatible services on Deno

Usage:
  ${PROGRAM} [paths...] [options]             run a node with the services found in paths
  ${PROGRAM} call <action> [params] [options] call an action, print the result as JSON
  ${PROGRAM} emit <event> [data] [options]    emit an event to the cluster
  ${PROGRAM} nodes [options]                  list the nodes of the cluster and their services
  ${PROGRAM} types [-o file] [options]        write TypeScript declarations of the cluster's
                                             actions and events (typed broker.call)
  ${PROGRAM} repl [options]                   an interactive console on the cluster
                                             (moleculer-repl's commands; type help in it)

  From source: deno run -A cli.ts ...    (the binary: deno compile -A --output ${PROGRAM} cli.ts)

Paths:
  A directory (searched recursively for .ts, .js and .mjs modules, skipping names that start
  with "_" or ".", *_test.ts, *.test.ts, *.d.ts and node_modules), a file, a quoted glob
  ("services/**/*.service.ts") or a name (greeter → greeter.service.ts). Every exported Service
  subclass, Service instance or service schema object ({ name, actions, ... }) is registered.
  A path named call, emit, nodes, types or repl must be written ./call, ./emit, ./nodes, ./types
  or ./repl.

Node options:
  -b, --broker-id <id>         node ID (default: node-<current directory name>)
  -t, --transporter <url>      e.g. nats://127.0.0.1:4222 (default: none, a local-only node)
  -n, --namespace <ns>         namespace; nodes only see nodes of their namespace (default: "")
  -l, --log-level <level>      trace, debug, info, warn, error, fatal; DEBUG, INFO, WARNING,
                               ERROR, CRITICAL also work (default: info)
  -f, --log-format <format>    PLAIN or JSON (default: PLAIN)
  -s, --silent                 no logging (logger: false); fatal errors are still printed
      --protocol <4|5>         Moleculer protocol: 4 = Moleculer 0.14, 5 = 0.15 (default: 5)
  -c, --config <file>          options file (default: denolecular.config.ts, .js, .mjs or .json
                               in the current directory); export default an object or a function
      --env-file <file>        read KEY=VALUE lines into the environment first (set variables win)
  -m, --mask <glob>            load only matching files from directories, e.g. "*.service.ts"
                               (a mask without "/" matches the file name at any depth)
  -H, --hot                    reload a service file when it changes; a broken edit keeps the
                               running version
  -r, --repl                   start the REPL once the node is ready; leaving it (exit,
                               Ctrl+D, the end of stdin) stops the node
      --shutdown-timeout <ms>  on SIGINT/SIGTERM, wait this long for in-flight requests before
                               stopping (default: ${DEFAULT_SHUTDOWN_TIMEOUT})
      --print-config           print the merged options and where each came from, then exit
  -V, --version                print the version and exit
  -h, --help                   print this help and exit

Sub-command options (with -t, -n, -c, -b, -l, -f, --env-file and --protocol as above):
      --meta <json>            call: the meta object
      --timeout <ms>           call: request timeout (default: 10000)
      --node <id>              call: call the action on this node
      --wait <ms>              how long to wait for the cluster (default: call and emit 5000,
                               nodes, types and repl 1000)
      --broadcast              emit: deliver to every listener instead of one per group
      --json                   nodes: print JSON instead of a table
  -o, --out <file>             types: write the declarations to this file (default: stdout)
      --module <specifier>     types: the module the declarations augment, as your code imports
                               it (default: ${DEFAULT_TYPES_MODULE})

Environment:
  Any option by its path in UPPER_SNAKE: TRANSPORTER, NAMESPACE, NODEID, LOGLEVEL, LOGFORMAT,
  REQUESTTIMEOUT, HEARTBEATINTERVAL, REGISTRY_PREFERLOCAL=false, ... and any key with MOL_:
  MOL_TRANSIT__MAX_QUEUE_SIZE=100 ("__" between levels, "_" starts a camelCase word).
  "true"/"false" become booleans, numbers numbers. Precedence: flag > env > config > default.

Exit codes:
  0        success, or a graceful stop after SIGINT/SIGTERM
  1        start or runtime error: a module or the config failed to load, the transporter is
           unreachable, a service failed to start, a call failed, an event had no listener
  2        usage error: unknown flag, bad value, missing path or config file, invalid option,
           no service found in the paths
  130/143  a second SIGINT/SIGTERM during shutdown: exit at once

Examples:
  deno run -A cli.ts examples/services
  deno run -A cli.ts services -t nats://127.0.0.1:4222 -n dev --hot
  deno run -A cli.ts "services/**/*.service.ts" -b api-1 -l debug -f JSON
  TRANSPORTER=nats://127.0.0.1:4222 REQUESTTIMEOUT=5000 deno run -A cli.ts services
  deno run -A cli.ts services --env-file .env --print-config
  deno run -A cli.ts call greeter.hello '{"name": "John"}' -t nats://127.0.0.1:4222
  deno run -A cli.ts emit user.created '{"id": 1}' -t nats://127.0.0.1:4222
  deno run -A cli.ts nodes -t nats://127.0.0.1:4222
  deno run -A cli.ts types -t nats://127.0.0.1:4222 -o services.d.ts
  deno run -A cli.ts repl -t nats://127.0.0.1:4222
  deno run -A cli.ts services -t nats://127.0.0.1:4222 --repl`;
