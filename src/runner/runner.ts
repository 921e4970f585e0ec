/**
 * The runner behind the CLI: options from flags, env and config; service loading; start;
 * graceful shutdown (the broker's `tracking` drains in-flight requests); hot reload; operator
 * sub-commands.
 *
 * @module
 */

import { basename, resolve } from "node:path";
import { ServiceBroker, VERSION } from "../broker/broker.ts";
import { BrokerOptionsError } from "../errors.ts";
import type { Logger } from "../logging.ts";
import type { MiddlewareOption } from "../core/middleware.ts";
import { type BrokerOptions, resolveOptions } from "../broker/options.ts";
import type { Service } from "../core/service.ts";
import {
  type CliArgs,
  DEFAULT_SHUTDOWN_TIMEOUT,
  flagAssignments,
  HELP,
  parseCliArgs,
  PROGRAM,
} from "./args.ts";
import {
  callCommand,
  type CommandOutput,
  emitCommand,
  nodesCommand,
  typesCommand,
  waitForNodes,
} from "./commands.ts";
import {
  configRows,
  findConfigFile,
  formatRows,
  loadConfigFile,
  maskSecrets,
  type MergedOptions,
  mergeOptions,
  showValue,
} from "./config.ts";
import { DotenvSyntaxError, parseDotenv } from "./dotenv.ts";
import { ExitCode, reasonOf, StartError, UsageError } from "./errors.ts";
import { HotReloader } from "./hot.ts";
import { startRepl } from "./repl/repl.ts";
import {
  displayPath,
  importServices,
  listModules,
  MODULE_EXTENSIONS,
  resolveSources,
} from "./loader.ts";
import { onShutdownSignal, signalExitCode } from "../runtime/signals.ts";
import { resolveCacher } from "../cachers/resolve.ts";
import { resolveSerializer } from "../serializers/resolve.ts";
import { resolveStrategy } from "../strategies/resolve.ts";
import { resolveTransporter } from "../transporters/resolve.ts";
import { resolveValidator } from "../validators/resolve.ts";

/** Options of {@linkcode runCli}. */
export interface RunCliOptions {
  /**
   * The CLI module's directory (`import.meta.dirname` of cli.ts). Relative service paths
   * missing from the current directory are looked up here, which is where a binary made by
   * `deno compile --include <dir>` finds its embedded files.
   */
  readonly baseDir?: string | undefined;
  /** The current directory. @default {Deno.cwd()} */
  readonly cwd?: string | undefined;
  /** Standard output. @default {console.log} */
  readonly stdout?: ((text: string) => void) | undefined;
  /** Standard error. @default {console.error} */
  readonly stderr?: ((text: string) => void) | undefined;
}

/**
 * A node ID made from a directory name: `node-<name>`, with characters a node ID may not hold
 * (whitespace, `.`, `*`, `>`, `/`, `+`, `#`, `|`) replaced by `-`.
 *
 * @param dir A directory path.
 * @returns The node ID.
 */
export function nodeIDFromDir(dir: string): string {
  const name = basename(dir).replace(/[\s.*>/+#|]+/g, "-").replace(
    /^-+|-+$/g,
    "",
  );
  return `node-${name || "root"}`;
}

function cloneDefaults(nodeID: string): Record<string, unknown> {
  const d = resolveOptions({ nodeID });
  return {
    ...d,
    registry: { ...d.registry },
    transit: { ...d.transit },
    metadata: { ...d.metadata },
    middlewares: [...d.middlewares],
    validator: d.validator ?? true,
  };
}

interface Prepared {
  readonly merged: MergedOptions;
  readonly configPath: string | undefined;
  readonly cwd: string;
}

async function loadEnvFile(file: string, cwd: string): Promise<void> {
  let text: string;
  try {
    text = await Deno.readTextFile(resolve(cwd, file));
  } catch {
    throw new UsageError(`env file not found: ${file}`);
  }
  let vars: Record<string, string>;
  try {
    vars = parseDotenv(text, (k) => Deno.env.get(k));
  } catch (err) {
    if (err instanceof DotenvSyntaxError) {
      throw new UsageError(`${file}: ${err.message}`);
    }
    throw err;
  }
  for (const [key, value] of Object.entries(vars)) {
    if (Deno.env.get(key) === undefined) Deno.env.set(key, value);
  }
}

async function prepare(args: CliArgs, cwd: string): Promise<Prepared> {
  if (args.envFile !== undefined) await loadEnvFile(args.envFile, cwd);
  const env = Deno.env.toObject();
  const configPath = await findConfigFile(cwd, args.config);
  const config = configPath === undefined
    ? undefined
    : await loadConfigFile(configPath, { cwd, paths: args.positionals, env });
  const operator = args.command !== "run";
  const defaults = cloneDefaults(
    operator ? `cli-${Deno.pid}-${crypto.randomUUID().slice(0, 4)}` : nodeIDFromDir(cwd),
  );
  const flags = flagAssignments(args);
  if (operator) {
    // A short-lived node with no services: quiet, quick to start (the commands wait for what
    // they need) and quick to leave.
    defaults.logLevel = "warn";
    (defaults.registry as Record<string, unknown>).stopDelay = 0;
    (defaults.transit as Record<string, unknown>).discoverWaitTime = 0;
  } else {
    // A node run by the CLI stops gracefully: the broker tracks in-flight requests and `stop()`
    // waits for them, up to `--shutdown-timeout` (or `tracking.shutdownTimeout` of the config).
    defaults.tracking = { enabled: true, shutdownTimeout: DEFAULT_SHUTDOWN_TIMEOUT };
    if (args.shutdownTimeout !== undefined) {
      flags.push({
        path: ["tracking", "shutdownTimeout"],
        value: args.shutdownTimeout,
        flag: "--shutdown-timeout",
      });
    }
  }
  const merged = mergeOptions({
    defaults,
    config: config as Record<string, unknown> | undefined,
    configName: configPath === undefined ? undefined : displayPath(configPath, cwd),
    env,
    flags,
  });
  return { merged, configPath, cwd };
}

/**
 * Check the merged options as the broker will read them: every option, and the transporter,
 * serializer, strategy, cacher and validator they name (which the broker resolves only when it
 * is built), so `--print-config` validates what it prints and a bad value is a usage error.
 */
function checkOptions(options: Record<string, unknown>): void {
  try {
    const o = resolveOptions(options as BrokerOptions);
    if (o.transporter !== null) {
      resolveTransporter(o.transporter);
      resolveSerializer(o.serializer);
    }
    resolveStrategy(o.registry.strategy);
    resolveCacher(o.cacher);
    resolveValidator(o.validator);
  } catch (err) {
    if (err instanceof BrokerOptionsError) {
      throw new UsageError(`invalid option: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

function printConfig(
  args: CliArgs,
  p: Prepared,
  out: (t: string) => void,
): void {
  const rows = configRows(p.merged);
  if (args.command === "run") {
    rows.push(
      {
        key: "runner.paths",
        value: showValue(args.positionals),
        from: args.positionals.length ? "argument" : "default",
      },
      {
        key: "runner.mask",
        value: args.mask === undefined
          ? `(every ${MODULE_EXTENSIONS.join(", ")} module)`
          : showValue(args.mask),
        from: args.mask === undefined ? "default" : "flag --mask",
      },
      {
        key: "runner.hot",
        value: String(args.hot),
        from: args.hot ? "flag --hot" : "default",
      },
    );
  }
  out([
    `# ${PROGRAM} ${VERSION} options (precedence: flag > env > config > default)`,
    `# config file: ${p.configPath ? displayPath(p.configPath, p.cwd) : "none"}`,
    ...p.merged.ignoredEnv.map((v) => `# ignored: ${v}`),
    formatRows(rows),
  ].join("\n"));
}

function transporterText(value: unknown): string {
  return typeof value === "string" ? maskSecrets(value) : showValue(value);
}

/** Reports through the broker's logger, or plainly when there is none or it is silent. */
class Reporter {
  logger: Logger | undefined;
  silent = false;
  constructor(readonly stderr: (text: string) => void) {}

  fatal(message: string): void {
    if (this.logger && !this.silent) this.logger.fatal(message);
    else this.stderr(`${PROGRAM}: error: ${message}`);
  }
}

/**
 * Run the CLI.
 *
 * @param argv The arguments after the program name.
 * @param options Base directory (for embedded files), cwd and output streams.
 * @returns The exit code: 0 success, 1 start or runtime error, 2 usage error, 130/143 a second
 *   SIGINT/SIGTERM during shutdown.
 */
export async function runCli(
  argv: readonly string[],
  options: RunCliOptions = {},
): Promise<number> {
  const stdout = options.stdout ?? ((t: string) => console.log(t));
  const stderr = options.stderr ?? ((t: string) => console.error(t));
  const cwd = options.cwd ?? Deno.cwd();
  const reporter = new Reporter(stderr);
  try {
    const args = parseCliArgs(argv);
    if (args.command === "help") {
      stdout(HELP);
      return ExitCode.OK;
    }
    if (args.command === "version") {
      const build = Deno.build.standalone ? ", compiled" : "";
      stdout(
        `${PROGRAM} ${VERSION} (deno ${Deno.version.deno}${build}, Moleculer protocol 4 and 5)`,
      );
      return ExitCode.OK;
    }
    const prepared = await prepare(args, cwd);
    if (args.printConfig) {
      printConfig(args, prepared, stdout);
      checkOptions(prepared.merged.options);
      return ExitCode.OK;
    }
    checkOptions(prepared.merged.options);
    const io: CommandOutput = { out: stdout, err: stderr };
    return args.command === "run"
      ? await runNode(args, prepared, options.baseDir, reporter, stderr)
      : await runOperator(args, prepared, reporter, io);
  } catch (err) {
    if (err instanceof UsageError) {
      stderr(`${PROGRAM}: ${err.message} (see ${PROGRAM} --help)`);
      return ExitCode.USAGE;
    }
    reporter.fatal(err instanceof StartError ? err.message : reasonOf(err));
    return ExitCode.ERROR;
  }
}

/** A broker, with a bad option (one only the broker resolves) reported as a usage error. */
function newBroker(options: BrokerOptions): ServiceBroker {
  try {
    return new ServiceBroker(options);
  } catch (err) {
    if (err instanceof BrokerOptionsError) {
      throw new UsageError(`invalid option: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

async function startOrFail(
  broker: ServiceBroker,
  reporter: Reporter,
): Promise<boolean> {
  try {
    await broker.start();
    return true;
  } catch (err) {
    const clash = (err as { type?: unknown }).type === "NODE_ID_CONFLICT"
      ? ` (use -b <nodeID>, or NODEID=…, to start this one under another nodeID)`
      : "";
    reporter.fatal(`Cannot start node '${broker.nodeID}': ${reasonOf(err)}${clash}`);
    return false;
  }
}

async function runOperator(
  args: CliArgs,
  p: Prepared,
  reporter: Reporter,
  io: CommandOutput,
): Promise<number> {
  const options = p.merged.options as BrokerOptions;
  if (options.transporter === null || options.transporter === undefined) {
    const alone = args.command === "repl" ? " (or run services with a REPL: --repl)" : "";
    throw new UsageError(
      `${args.command} needs a cluster: pass -t nats://127.0.0.1:4222 or set TRANSPORTER${alone}`,
    );
  }
  const broker = newBroker(options);
  reporter.logger = broker.getLogger("CLI");
  reporter.silent = options.logger === false;
  if (!(await startOrFail(broker, reporter))) return ExitCode.ERROR;
  try {
    if (args.command === "call") return await callCommand(broker, args, io);
    if (args.command === "repl") {
      await waitForNodes(broker, args);
      await startRepl(broker, { cwd: p.cwd });
      return ExitCode.OK;
    }
    if (args.command === "emit") return await emitCommand(broker, args, io);
    if (args.command === "types") {
      return await typesCommand(
        broker,
        args,
        io,
        (path, text) => Deno.writeTextFile(resolve(p.cwd, path), text),
      );
    }
    return await nodesCommand(broker, args, io);
  } finally {
    await broker.stop().catch(() => {});
  }
}

async function runNode(
  args: CliArgs,
  p: Prepared,
  baseDir: string | undefined,
  reporter: Reporter,
  stderr: (text: string) => void,
): Promise<number> {
  const { cwd } = p;
  if (args.hot && Deno.build.standalone) {
    stderr(
      `${PROGRAM}: --hot is ignored in a compiled binary, which cannot import changed files; ` +
        "use deno run -A cli.ts --hot",
    );
  }
  const hotReload = args.hot && !Deno.build.standalone;
  // A compiled binary can import only the files embedded with `deno compile --include`,
  // which live under the binary's own directory: look there first.
  const standalone = Deno.build.standalone && baseDir !== undefined;
  const sources = await resolveSources(args.positionals, {
    cwd,
    mask: args.mask,
    searchDirs: standalone ? [baseDir, cwd] : [cwd],
  });
  const files: string[] = [];
  for (const source of sources) {
    const found = await listModules(source);
    if (found.length === 0 && !hotReload) {
      const mask = args.mask === undefined ? "" : ` matching --mask ${args.mask}`;
      throw new UsageError(
        `no service modules (${MODULE_EXTENSIONS.join(", ")})${mask} in ${source.input}`,
      );
    }
    for (const f of found) if (!files.includes(f)) files.push(f);
  }

  let stopping = false;
  let finish: (code: number) => void = () => {};
  const exited = new Promise<number>((r) => finish = r);
  const watchdog: MiddlewareOption = {
    name: "Runner",
    // The transit announces its connection as the local `$transporter.connected` event.
    broadcastLocal: (next) => (event, data, opts) => {
      if (event === "$transporter.connected") {
        const again = (data as { wasReconnect?: unknown } | undefined)?.wasReconnect === true;
        log.info(
          `Transporter ${again ? "reconnected" : "connected"}: ` +
            transporterText(broker.options.transporter),
        );
      }
      return next(event, data, opts);
    },
    brokerStopped: () => {
      if (stopping) return;
      reporter.fatal(
        "The broker stopped on its own (see the log above): exiting",
      );
      finish(ExitCode.ERROR);
    },
  };
  const merged = p.merged.options as BrokerOptions;
  const options: BrokerOptions = {
    ...merged,
    middlewares: [watchdog, ...(merged.middlewares ?? [])],
  };
  const broker = newBroker(options);
  const log = broker.getLogger("RUNNER");
  reporter.logger = log;
  reporter.silent = broker.options.logger === false;

  // Import every module before the broker starts; report every failure.
  const modules = new Map<string, Service[]>();
  const failures: string[] = [];
  for (const file of files) {
    try {
      const m = await importServices(file, undefined, cwd);
      const shown = displayPath(file, cwd);
      for (const r of m.rejected) {
        log.warn(`${shown}: export '${r.name}' skipped: ${r.reason}`);
      }
      if (m.services.length === 0) {
        log.warn(
          `${shown} exports no service (a Service subclass, a Service instance or a schema ` +
            "object with a name); skipped",
        );
        continue;
      }
      modules.set(file, m.services);
      log.debug(
        `Loaded ${shown}: ${m.services.map((s) => s.fullName).join(", ")}`,
      );
    } catch (err) {
      let message = err instanceof StartError ? err.message : reasonOf(err);
      if (Deno.build.standalone && /Module not found/.test(message)) {
        message += " (a compiled binary loads only files embedded with deno compile --include)";
      }
      failures.push(message);
    }
  }
  if (failures.length) {
    for (const f of failures) reporter.fatal(f);
    return ExitCode.ERROR;
  }
  const total = [...modules.values()].reduce((n, s) => n + s.length, 0);
  if (sources.length > 0 && total === 0 && !hotReload) {
    throw new UsageError(`no services found in ${args.positionals.join(", ")}`);
  }
  for (const [file, services] of modules) {
    for (const service of services) {
      try {
        await broker.register(service);
      } catch (err) {
        reporter.fatal(
          `cannot register the services of ${displayPath(file, cwd)}: ${reasonOf(err)}`,
        );
        return ExitCode.ERROR;
      }
    }
  }
  if (sources.length === 0) {
    log.warn(
      "No service paths given: this node runs with no services of its own",
    );
  }
  if (!broker.transit) {
    log.info(
      "No transporter: this node runs local-only. Join a cluster with -t nats://127.0.0.1:4222 " +
        "(or TRANSPORTER=nats://…)",
    );
  }

  let hot: HotReloader | undefined;
  let ready = false;
  const off = onShutdownSignal((signal) => {
    if (stopping) {
      log.warn(`Received ${signal} again: exiting at once`);
      finish(signalExitCode(signal));
      return;
    }
    stopping = true;
    if (!ready) {
      log.warn(`Received ${signal} while starting: exiting`);
      finish(signalExitCode(signal));
      return;
    }
    shutdown(signal).then(finish);
  });

  // Stops on a signal, or when the REPL of `--repl` ends.
  const shutdown = async (signal: Deno.Signal | "repl"): Promise<number> => {
    const { enabled, shutdownTimeout: timeout } = broker.options.tracking;
    log.info(
      `${signal === "repl" ? "The REPL was closed" : `Received ${signal}`}: stopping; ` +
        (enabled
          ? `${broker.tracker.size} request(s) in flight, waiting up to ${timeout} ms for them`
          : "tracking is off, in-flight requests are not waited for") +
        (signal === "repl" ? "" : ` (send ${signal} again to exit at once)`),
    );
    hot?.close();
    // stop() announces no services, refuses new requests, lets running ones finish (up to
    // the timeout: then they fail with GracefulStopTimeoutError) and stops the services.
    // Stopping the services gets as long again (5 s at least) before the runner gives up.
    const limit = timeout + Math.max(timeout, 5000);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const gaveUp = new Promise<boolean>((r) => timer = setTimeout(() => r(false), limit));
    try {
      const done = await Promise.race([broker.stop().then(() => true), gaveUp]);
      if (!done) {
        reporter.fatal(`The broker did not stop within ${limit} ms: exiting`);
        return ExitCode.ERROR;
      }
      return ExitCode.OK;
    } catch (err) {
      reporter.fatal(`Stopping failed: ${reasonOf(err)}`);
      return ExitCode.ERROR;
    } finally {
      clearTimeout(timer);
    }
  };

  if (!(await startOrFail(broker, reporter))) {
    off();
    return ExitCode.ERROR;
  }
  ready = true;
  if (!stopping) {
    // The same services the broker's "started with N service(s)" line counts, `$node` included.
    const names = broker.services.map((s) => s.fullName)
      .sort((a, b) => Number(a.startsWith("$")) - Number(b.startsWith("$")));
    const where = broker.transit
      ? `on ${transporterText(broker.options.transporter)}`
      : "local only";
    const ns = broker.namespace ? `, namespace '${broker.namespace}'` : "";
    log.info(
      `Node '${broker.nodeID}' is ready with ${names.length} service(s)` +
        `${names.length ? ` (${names.join(", ")})` : ""} ${where}${ns}. Ctrl+C stops it.`,
    );
    if (hotReload) {
      hot = new HotReloader({ broker, sources, modules, cwd, logger: log });
      hot.start();
    }
    if (args.repl) {
      // Leaving the REPL stops the node, as moleculer-runner's --repl does.
      startRepl(broker, { cwd }).then(() => {
        if (stopping) return;
        stopping = true;
        shutdown("repl").then(finish);
      }, (err) => {
        reporter.fatal(`The REPL failed: ${reasonOf(err)}`);
        if (!stopping) {
          stopping = true;
          shutdown("repl").then(finish);
        }
      });
    }
  }
  const code = await exited;
  off();
  hot?.close();
  return code;
}
