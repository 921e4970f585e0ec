/**
 * Per-broker logging: levels, Moleculer-style PLAIN and JSON lines, and pluggable sinks.
 *
 * Every broker builds its own {@link LoggerFactory} with {@link createLoggerFactory}; each part of
 * the broker (`BROKER`, `TRANSIT`, `REGISTRY`, a service name, ...) asks it for a {@link Logger}.
 * Nothing here touches global state: the built-in sink writes lines itself and never calls
 * logtape's `configure()`. An application that already uses logtape picks `logger: "logtape"`;
 * records then go to `getLogger(["denolecular", nodeID, module])` and the application's own
 * logtape configuration decides what happens to them.
 *
 * Moleculer's configurations work too: `logger: "Console"` or `{ type: "Console", options: { level,
 * formatter: "full" | "short" | "simple" | "json" | "jsonext" | template | function } }` (or an
 * array of them), and per-module levels `logLevel: { "MY-SVC": "debug", "**": "info" }`. Every
 * argument of a call is kept: `logger.info("User", { id }, "created", 42)`.
 *
 * Methods of disabled levels are one shared no-op function chosen when the logger is created,
 * so `logger.debug(...)` on the hot path costs a call and nothing more when debug is off.
 *
 * @example Capture lines from the built-in sink
 * ```ts
 * import { createLoggerFactory } from "./logging.ts";
 *
 * const lines: string[] = [];
 * const factory = createLoggerFactory({
 *   nodeID: "node-1",
 *   logLevel: "debug",
 *   write: (line) => lines.push(line),
 * });
 * const log = factory.getLogger("broker");
 * log.info("Broker started", { services: 3 });
 * // lines[0] looks like: [2026-11-28T01:02:03.456Z] INFO  node-1/BROKER: Broker started {"services":3}
 * ```
 *
 * @module
 */

import { getLogger as getLogtapeLogger, type Logger as LogtapeLogger } from "@logtape/logtape";
import { BrokerOptionsError } from "./errors.ts";
import { consoleWrite, inspectValue } from "./logging/sinks.ts";

/** Severity of a log record, lowest first. */
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal";

/** Line layout of the built-in sink: Moleculer's "full" text layout, or one JSON object per line. */
export type LogFormat = "PLAIN" | "JSON";

/**
 * One log record as handed to a {@link LogSink} and to the formatters.
 */
export interface LogEntry {
  /** When the record was made, in milliseconds since the Unix epoch. */
  time: number;
  /** Severity. */
  level: LogLevel;
  /** ID of the node (broker) that logged it. */
  nodeID: string;
  /** Broker namespace, when the broker has one. */
  namespace?: string;
  /** The part of the broker that logged it, e.g. `"broker"`, `"transit"`, a service name. */
  module: string;
  /** The message, verbatim. */
  message: string;
  /**
   * Extra properties. An `Error` passed as the second argument of `warn`/`error`/`fatal` lands
   * here under the key `error` (logtape's convention); in a longer call, each Error argument
   * lands under `error`, `error2`, ...
   */
  props?: Record<string, unknown>;
  /** Every argument of the call, as passed (what Moleculer's loggers print). */
  args?: readonly unknown[];
}

/** A custom destination for log records: called synchronously, once per enabled record. */
export type LogSink = (record: LogEntry) => void;

/**
 * The logging methods one module of the broker uses. Methods of disabled levels do nothing.
 *
 * Each takes Moleculer's call shape: any arguments, all kept. `log.info("Up", { port })` gives
 * the message `"Up"` with `port` as a property (JSON lines spread it); an `Error` argument keeps
 * its stack; in a longer call such as `log.info("User", { id: 5 }, "created", 42)` the other
 * arguments are printed in order after the message (objects as JSON). The arguments are typed
 * `any[]` as in Moleculer's typings, so a logger written for Moleculer fits here.
 */
export interface Logger {
  /**
   * Log at `trace` level.
   *
   * @param args The message, then any values.
   */
  // deno-lint-ignore no-explicit-any
  trace(...args: any[]): void;
  /**
   * Log at `debug` level.
   *
   * @param args The message, then any values.
   */
  // deno-lint-ignore no-explicit-any
  debug(...args: any[]): void;
  /**
   * Log at `info` level.
   *
   * @param args The message, then any values.
   */
  // deno-lint-ignore no-explicit-any
  info(...args: any[]): void;
  /**
   * Log at `warn` level.
   *
   * @param args The message, then any values (an `Error` keeps its stack).
   */
  // deno-lint-ignore no-explicit-any
  warn(...args: any[]): void;
  /**
   * Log at `error` level.
   *
   * @param args The message, then any values (an `Error` or thrown value is kept as
   *   `props.error`; an Error's stack is printed on the following lines in PLAIN format).
   */
  // deno-lint-ignore no-explicit-any
  error(...args: any[]): void;
  /**
   * Log at `fatal` level.
   *
   * @param args The message, then any values.
   */
  // deno-lint-ignore no-explicit-any
  fatal(...args: any[]): void;
}

/** Per-module levels, Moleculer style: `{ "MY-SVC": "debug", "TRANSIT": "warn", "**": "info" }`. */
export type LogLevelMap = Readonly<Record<string, LogLevel | false | null>>;

/** What Moleculer's formatted loggers print a record with (see {@linkcode MoleculerLoggerOptions.formatter}). */
export type MoleculerFormatter =
  | "full"
  | "short"
  | "simple"
  | "json"
  | "jsonext"
  | (string & Record<never, never>)
  | ((
    type: LogLevel,
    args: readonly unknown[],
    bindings: LogBindings,
    helpers: { printArgs(args: readonly unknown[]): unknown[] },
  ) => readonly unknown[]);

/** The fields Moleculer's formatters read about the logging module. */
export interface LogBindings {
  /** The node. */
  nodeID: string;
  /** The namespace (`""` when none). */
  ns: string;
  /** The module, e.g. `broker` or a service's full name. */
  mod: string;
}

/** `options` of a Moleculer logger configuration (`{ type: "Console", options }`). */
export interface MoleculerLoggerOptions {
  /** Lowest level, or levels per module. @default {the broker's logLevel, else "info"} */
  level?: LogLevel | LogLevelMap;
  /**
   * `"full"` (`[ISO time] INFO  node/MOD: msg`), `"short"` (`[time] INFO  MOD: msg`),
   * `"simple"` (`INFO  - msg`), `"json"`, `"jsonext"`, a template such as
   * `"{timestamp} {level} {nodeID}/{mod}: {msg}"`, or a function returning the parts of a line.
   * @default {"full"}
   */
  formatter?: MoleculerFormatter;
  /** How objects are printed. @default {util.inspect, depth 2, one line} */
  objectPrinter?: (value: unknown) => string;
  /** Accepted for Moleculer configs; lines are written without colours. */
  colors?: boolean;
  /** Accepted for Moleculer configs; lines are written without colours. */
  moduleColors?: boolean | readonly string[];
  /** Accepted for Moleculer configs; prefixes are not padded. */
  autoPadding?: boolean;
}

/** A Moleculer logger configuration: `{ type: "Console", options: { formatter: "short" } }`. */
export interface MoleculerLoggerConfig {
  /** `"Console"` or `"Formatted"`; Moleculer's other types log to the console with a warning. */
  type: string;
  /** Options of the logger. */
  options?: MoleculerLoggerOptions;
}

/** Everything the `logger` option accepts. */
export type LoggerOption =
  | boolean
  | null
  | "logtape"
  | LogSink
  | string
  | MoleculerLoggerConfig
  | ReadonlyArray<string | MoleculerLoggerConfig>;

/**
 * How a broker's logging is set up.
 */
export interface LoggerOptions {
  /** ID of the node; printed on every line and part of the logtape category. */
  nodeID: string;
  /**
   * Broker namespace; written as `ns` in JSON lines.
   *
   * @default undefined
   */
  namespace?: string | undefined;
  /**
   * Where records go:
   * - `true` or `undefined`: the built-in sink, one line per record through {@link write};
   * - `false`: nowhere (every method is a no-op);
   * - `"logtape"`: to logtape's `getLogger(["denolecular", nodeID, module])`, so the
   *   application's own logtape configuration decides; nothing is configured on its behalf;
   * - a {@link LogSink} function: called with every enabled {@link LogEntry};
   * - Moleculer's `"Console"`, `{ type: "Console", options }` or an array of such (see
   *   {@link MoleculerLoggerConfig}); `null` is `false`.
   *
   * @default true
   */
  logger?: LoggerOption | undefined;
  /**
   * Lowest level that is logged, or levels per module (`{ "GREETER": "debug", "**": "info" }`;
   * keys are upper-case module names, `*` and `**` wildcards allowed). In `"logtape"` mode it is
   * applied only when given; left out, every record is forwarded and logtape's configuration
   * alone filters.
   *
   * @default "info"
   */
  logLevel?: LogLevel | LogLevelMap | undefined;
  /**
   * Line layout of the built-in sink (ignored by the other modes).
   *
   * @default "PLAIN"
   */
  logFormat?: LogFormat | undefined;
  /**
   * Where the built-in sink writes each formatted record (a PLAIN record with an Error stack
   * spans several lines but is written in one call).
   *
   * @default (line) => console.error(line)
   */
  write?: ((line: string) => void) | undefined;
}

/**
 * Makes the {@link Logger}s of one broker. Loggers are cached per module name.
 */
export interface LoggerFactory {
  /**
   * Get the logger of one module of the broker.
   *
   * @param module Module name, e.g. `"broker"`, `"transit"` or a service's full name.
   * @returns The logger of that module (the same object on every call with the same name).
   */
  getLogger(module: string): Logger;
  /**
   * The lowest level that is passed on: the `logLevel` option (default `"info"`); `"trace"` in
   * `"logtape"` mode without an explicit `logLevel`; `"fatal"` when `logger: false` (nothing at
   * all is logged then).
   */
  readonly level: LogLevel;
}

const LEVELS: readonly LogLevel[] = ["trace", "debug", "info", "warn", "error", "fatal"];

const LEVEL_RANK: Readonly<Record<LogLevel, number>> = {
  trace: 0,
  debug: 1,
  info: 2,
  warn: 3,
  error: 4,
  fatal: 5,
};

const LEVEL_LABEL: Readonly<Record<LogLevel, string>> = {
  trace: "TRACE",
  debug: "DEBUG",
  info: "INFO ",
  warn: "WARN ",
  error: "ERROR",
  fatal: "FATAL",
};

type LogMethod = (...args: unknown[]) => void;
type Emit = (level: LogLevel, msg: string, props: Record<string, unknown> | undefined) => void;

const noop: LogMethod = () => {};

const SILENT: Logger = Object.freeze({
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  fatal: noop,
});

/**
 * Create the logger factory of one broker.
 *
 * @param options Node ID, namespace and the logger, logLevel, logFormat and write settings.
 * @returns A factory whose loggers share these settings.
 * @throws {BrokerOptionsError} when `logger`, `logLevel` or `logFormat` has an unknown value.
 *
 * @example Custom sink
 * ```ts
 * import { createLoggerFactory, type LogEntry } from "./logging.ts";
 *
 * const seen: LogEntry[] = [];
 * const factory = createLoggerFactory({ nodeID: "n1", logger: (e) => seen.push(e) });
 * factory.getLogger("transit").warn("Connection lost", new Error("ECONNRESET"));
 * ```
 *
 * @example Route to the application's logtape configuration
 * ```ts
 * import { createLoggerFactory } from "./logging.ts";
 *
 * // The application calls logtape's configure() itself; Denolecular only uses getLogger().
 * const factory = createLoggerFactory({ nodeID: "n1", logger: "logtape" });
 * factory.getLogger("broker").info("hello"); // category ["denolecular", "n1", "broker"]
 * ```
 */
export function createLoggerFactory(options: LoggerOptions): LoggerFactory {
  const { nodeID, namespace } = options;
  if (typeof nodeID !== "string") {
    throw new BrokerOptionsError("Logger options need a string 'nodeID'.", { nodeID });
  }
  const mode = options.logger === null ? false : options.logger ?? true;
  const explicitLevel = options.logLevel === undefined
    ? undefined
    : parseLevelOption(options.logLevel, "logLevel");
  const format = parseFormat(options.logFormat ?? "PLAIN");

  if (mode === false) {
    return { level: "fatal", getLogger: () => SILENT };
  }

  let targets: Target[];
  if (mode === "logtape") {
    const levelOf = levelRule(explicitLevel ?? "trace");
    const cacheTape = new Map<string, Emit>();
    targets = [{
      levelOf,
      sink: (entry) => {
        let emit = cacheTape.get(entry.module);
        if (emit === undefined) {
          emit = logtapeEmit(getLogtapeLogger(["denolecular", nodeID, entry.module]));
          cacheTape.set(entry.module, emit);
        }
        emit(entry.level, entry.message, entry.props);
      },
    }];
  } else if (mode === true) {
    targets = [{
      levelOf: levelRule(explicitLevel ?? "info"),
      sink: lineSink(format === "JSON" ? formatJson : formatPlain, options.write ?? defaultWrite),
    }];
  } else if (typeof mode === "function") {
    targets = [{ levelOf: levelRule(explicitLevel ?? "info"), sink: guardSink(mode) }];
  } else {
    const configs = Array.isArray(mode) ? mode : [mode];
    targets = configs.map((c) => moleculerTarget(c, explicitLevel, options));
  }

  const cache = new Map<string, Logger>();
  return {
    level: lowestLevel(targets, explicitLevel),
    getLogger(module: string): Logger {
      let logger = cache.get(module);
      if (logger === undefined) {
        logger = buildLogger(module, targets, nodeID, namespace);
        cache.set(module, logger);
      }
      return logger;
    },
  };
}

/**
 * Format a record in Moleculer's text layout:
 * `[2026-11-28T01:02:03.456Z] INFO  node-1/BROKER: message {"extra":1}`.
 *
 * Properties holding an `Error` are left out of the JSON part; each such error's stack
 * (followed by its extra fields as JSON, and its `cause` chain) is printed on the next lines.
 *
 * @param entry The record.
 * @returns The formatted text, without a trailing newline.
 *
 * @example
 * ```ts
 * import { formatPlain } from "./logging.ts";
 *
 * formatPlain({ time: 0, level: "warn", nodeID: "n1", module: "transit", message: "Slow" });
 * // "[1970-01-01T00:00:00.000Z] WARN  n1/TRANSIT: Slow"
 * ```
 */
export function formatPlain(entry: LogEntry): string {
  let line = `[${new Date(entry.time).toISOString()}] ${
    LEVEL_LABEL[entry.level]
  } ${entry.nodeID}/${entry.module.toUpperCase()}: ${entry.message}`;
  const props = entry.props;
  if (props === undefined) return line;
  let rest: Record<string, unknown> | undefined;
  let errors: Error[] | undefined;
  for (const key in props) {
    const value = props[key];
    if (value instanceof Error) (errors ??= []).push(value);
    else (rest ??= {})[key] = value;
  }
  if (rest !== undefined) line += " " + safeJson(rest);
  if (errors !== undefined) {
    for (const err of errors) line += "\n" + describeError(err, 0);
  }
  return line;
}

/**
 * Format a record as one JSON line: `{ts, level, nodeID, ns?, mod, msg, ...props}`.
 * `ts` is an ISO 8601 UTC string; `Error` values become `{name, message, stack, ...}`;
 * BigInts become strings and circular references `"[Circular]"`. Properties never
 * overwrite the fixed fields.
 *
 * @param entry The record.
 * @returns One line of JSON.
 *
 * @example
 * ```ts
 * import { formatJson } from "./logging.ts";
 *
 * formatJson({ time: 0, level: "info", nodeID: "n1", module: "broker", message: "Up" });
 * // '{"ts":"1970-01-01T00:00:00.000Z","level":"info","nodeID":"n1","mod":"broker","msg":"Up"}'
 * ```
 */
export function formatJson(entry: LogEntry): string {
  const out: Record<string, unknown> = {
    ts: new Date(entry.time).toISOString(),
    level: entry.level,
    nodeID: entry.nodeID,
  };
  if (entry.namespace !== undefined) out.ns = entry.namespace;
  out.mod = entry.module;
  out.msg = entry.message;
  const props = entry.props;
  if (props !== undefined) {
    for (const key in props) {
      if (!Object.hasOwn(out, key)) out[key] = props[key];
    }
  }
  return safeJson(out);
}

// ---------------------------------------------------------------------------------------------
// internals

function parseLevel(value: unknown, option = "logLevel"): LogLevel {
  const v = typeof value === "string" ? value.toLowerCase() : value;
  if (v === "warning") return "warn";
  if (typeof v === "string" && (LEVELS as readonly string[]).includes(v)) return v as LogLevel;
  throw new BrokerOptionsError(
    `Invalid '${option}' option: expected one of ${LEVELS.join(", ")}` +
      (option.startsWith("logLevel") ? ', or levels per module like { "**": "info" }.' : "."),
    { [option]: value },
  );
}

/** A level, or a map of levels per module (`false`/`null` silences a module). */
type LevelOption = LogLevel | Readonly<Record<string, LogLevel | null>>;

function parseLevelOption(value: unknown, option: string): LevelOption {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const out: Record<string, LogLevel | null> = {};
    for (const [mod, level] of Object.entries(value)) {
      out[mod.toUpperCase()] = level === false || level === null
        ? null
        : parseLevel(level, `${option}.${mod}`);
    }
    return out;
  }
  return parseLevel(value, option);
}

/** Moleculer's module pattern: `*` within one dot-separated part, `**` across parts, `?` one character. */
function matchModule(mod: string, pattern: string): boolean {
  if (!/[*?]/.test(pattern)) return mod === pattern;
  const source = pattern.split("**").map((part) =>
    part.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^.]*").replace(/\?/g, ".")
  ).join(".*");
  return new RegExp(`^${source}$`).test(mod);
}

/** The level of each module, as Moleculer's `getLogLevel`: exact name, then a pattern, then `**`. */
function levelRule(option: LevelOption): (module: string) => LogLevel | null {
  if (typeof option === "string") return () => option;
  return (module) => {
    const mod = module.toUpperCase();
    if (option[mod] !== undefined) return option[mod] ?? null;
    const key = Object.keys(option).find((k) => k !== "**" && matchModule(mod, k));
    if (key !== undefined) return option[key] ?? null;
    return option["**"] ?? null;
  };
}

function lowestLevel(targets: readonly Target[], option: LevelOption | undefined): LogLevel {
  const levels = option === undefined || typeof option === "string"
    ? targets.map((t) => t.levelOf(""))
    : Object.values(option);
  let rank = LEVEL_RANK.fatal;
  for (const level of levels) if (level) rank = Math.min(rank, LEVEL_RANK[level]);
  return LEVELS[rank] ?? "fatal";
}

/** Where one configured logger sends records, and from which level per module. */
interface Target {
  levelOf(module: string): LogLevel | null;
  sink: LogSink;
}

function buildLogger(
  module: string,
  targets: readonly Target[],
  nodeID: string,
  namespace: string | undefined,
): Logger {
  const ranks = targets.map((t) => {
    const level = t.levelOf(module);
    return level === null ? Infinity : LEVEL_RANK[level];
  });
  const method = (level: LogLevel): LogMethod => {
    const rank = LEVEL_RANK[level];
    const sinks = targets.filter((_, i) => (ranks[i] as number) <= rank).map((t) => t.sink);
    if (sinks.length === 0) return noop;
    const [only] = sinks;
    return (...args: unknown[]) => {
      const entry = toEntry(level, args, nodeID, namespace, module);
      if (sinks.length === 1) (only as LogSink)(entry);
      else for (const sink of sinks) sink(entry);
    };
  };
  return Object.freeze({
    trace: method("trace"),
    debug: method("debug"),
    info: method("info"),
    warn: method("warn"),
    error: method("error"),
    fatal: method("fatal"),
  });
}

/**
 * One record from a call's arguments. `(msg)`, `(msg, props)` and `(msg, error)` keep the seed's
 * shape (message verbatim, props or `{ error }`); any longer call prints every non-Error argument
 * in order into the message (objects as JSON) and keeps the Errors as props.
 */
function toEntry(
  level: LogLevel,
  args: unknown[],
  nodeID: string,
  namespace: string | undefined,
  module: string,
): LogEntry {
  const entry: LogEntry = { time: Date.now(), level, nodeID, module, message: "", args };
  if (namespace !== undefined) entry.namespace = namespace;
  const [first, second] = args;
  if (args.length <= 2 && typeof first === "string") {
    entry.message = first;
    const props = toProps(second);
    if (props !== undefined) entry.props = props;
    return entry;
  }
  const parts: string[] = [];
  let props: Record<string, unknown> | undefined;
  for (const arg of args) {
    if (arg instanceof Error) {
      props ??= {};
      const n = Object.keys(props).length;
      props[n === 0 ? "error" : `error${n + 1}`] = arg;
    } else {
      parts.push(typeof arg === "string" ? arg : printJson(arg));
    }
  }
  entry.message = parts.join(" ");
  if (props !== undefined) entry.props = props;
  return entry;
}

function printJson(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "function") return `[Function ${value.name || "anonymous"}]`;
  if (typeof value === "symbol") return value.toString();
  return typeof value === "object" && value !== null ? safeJson(value) : String(value);
}

/** Moleculer's logger types that print through its formatters, as they do here. */
const FORMATTED_TYPES = ["console", "formatted"];
/** Moleculer's other logger types: they need their Node libraries; here they log to the console. */
const OTHER_TYPES = ["bunyan", "datadog", "debug", "file", "log4js", "pino", "winston"];

function moleculerTarget(
  config: unknown,
  brokerLevel: LevelOption | undefined,
  options: LoggerOptions,
): Target {
  const c: MoleculerLoggerConfig | undefined = typeof config === "string"
    ? { type: config }
    : typeof config === "object" && config !== null &&
        typeof (config as { type?: unknown }).type === "string"
    ? config as MoleculerLoggerConfig
    : undefined;
  const type = c?.type.toLowerCase() ?? "";
  if (!c || (!FORMATTED_TYPES.includes(type) && !OTHER_TYPES.includes(type))) {
    throw new BrokerOptionsError(
      `Invalid 'logger' option: expected true, false, "logtape", a sink function, "Console" or ` +
        `{ type: "Console", options: { level, formatter } }.`,
      { logger: config },
    );
  }
  const opts = c.options ?? {};
  const level: LevelOption = opts.level !== undefined
    ? parseLevelOption(opts.level, "logger.options.level")
    : brokerLevel ?? "info";
  const write = options.write
    ? (_level: string, line: string) => options.write!(line)
    : consoleWrite;
  if (OTHER_TYPES.includes(type)) {
    write(
      "warn",
      `denolecular: logger type '${c.type}' needs a Node library that is not part of ` +
        `Denolecular; logging to the console instead (use logger: "logtape" to route records ` +
        `to your own sinks).`,
    );
  }
  const print = typeof opts.objectPrinter === "function" ? opts.objectPrinter : inspectValue;
  const printArgs = (args: readonly unknown[]): unknown[] =>
    args.map((a) => typeof a === "object" && a !== null ? print(a) : a);
  const format = moleculerFormat(opts.formatter ?? "full", printArgs, options);
  return {
    levelOf: levelRule(level),
    sink: (entry) => {
      let line: string;
      try {
        line = format(entry);
      } catch (err) {
        line = `${entry.level.toUpperCase()} ${entry.nodeID}/${entry.module}: ${entry.message} ` +
          `(log record could not be formatted: ${String(err)})`;
      }
      write(entry.level, line);
    },
  };
}

/** Moleculer's formatters (`loggers/formatted.js`), without colours. */
function moleculerFormat(
  formatter: MoleculerFormatter,
  printArgs: (args: readonly unknown[]) => unknown[],
  options: LoggerOptions,
): (entry: LogEntry) => string {
  const bindings = (e: LogEntry): LogBindings => ({
    nodeID: e.nodeID,
    ns: e.namespace ?? options.namespace ?? "",
    // Moleculer binds its own modules lower-case (`broker`) and services by their full name.
    mod: e.module === e.module.toUpperCase() ? e.module.toLowerCase() : e.module,
  });
  const args = (e: LogEntry): readonly unknown[] => e.args ?? [e.message];
  const text = (e: LogEntry) => printArgs(args(e)).join(" ");
  const label = (level: LogLevel) => level.toUpperCase().padEnd(5);
  if (typeof formatter === "function") {
    return (e) => formatter(e.level, args(e), bindings(e), { printArgs }).join(" ");
  }
  switch (formatter) {
    case "json":
      return (e) => JSON.stringify({ ts: e.time, level: e.level, msg: text(e), ...bindings(e) });
    case "jsonext":
      return (e) => {
        const a = args(e);
        const res: Record<string, unknown> = {
          time: new Date(e.time).toISOString(),
          level: e.level,
          message: "",
          ...bindings(e),
        };
        if (a.length > 0 && typeof a[0] === "object" && a[0] !== null) {
          Object.assign(res, a[0]);
          res.message = printArgs(a.slice(1)).join(" ");
        } else res.message = printArgs(a).join(" ");
        return JSON.stringify(res);
      };
    case "simple":
      return (e) => `${label(e.level)} - ${text(e)}`;
    case "short":
      return (e) =>
        `[${new Date(e.time).toISOString().substring(11)}] ${
          label(e.level)
        } ${e.module.toUpperCase()}: ${text(e)}`;
    case "full":
      return (e) =>
        `[${new Date(e.time).toISOString()}] ${
          label(e.level)
        } ${e.nodeID}/${e.module.toUpperCase()}: ${text(e)}`;
    default:
      // A template: "[{timestamp}] {level} {nodeID}/{mod}: {msg}".
      return (e) => {
        const timestamp = new Date(e.time).toISOString();
        const fields: Record<string, string> = {
          timestamp,
          time: timestamp.substring(11),
          level: label(e.level),
          nodeID: e.nodeID,
          mod: e.module.toUpperCase(),
          msg: text(e),
        };
        return String(formatter).replace(/\{\s?(\w+)\s?\}/g, (_m, v: string) => fields[v] ?? "");
      };
  }
}

function parseFormat(value: unknown): LogFormat {
  const v = typeof value === "string" ? value.toUpperCase() : value;
  if (v === "PLAIN" || v === "JSON") return v;
  throw new BrokerOptionsError(`Invalid 'logFormat' option: expected "PLAIN" or "JSON".`, {
    logFormat: value,
  });
}

/** Normalise the second argument: records pass through, anything else becomes `{ error }`. */
function toProps(value: unknown): Record<string, unknown> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "object" && !(value instanceof Error) && !Array.isArray(value)) {
    return value as Record<string, unknown>;
  }
  return { error: value };
}

function defaultWrite(line: string): void {
  console.error(line);
}

function lineSink(format: (entry: LogEntry) => string, write: (line: string) => void): LogSink {
  return (entry) => {
    let line: string;
    try {
      line = format(entry);
    } catch (err) {
      line = `${entry.level.toUpperCase()} ${entry.nodeID}/${entry.module}: ${entry.message} ` +
        `(log record could not be formatted: ${String(err)})`;
    }
    write(line);
  };
}

/** A throwing custom sink must not break the caller; report it on stderr instead. */
function guardSink(sink: LogSink): LogSink {
  return (entry) => {
    try {
      sink(entry);
    } catch (err) {
      console.error("denolecular: the custom log sink threw:", err);
    }
  };
}

function logtapeEmit(target: LogtapeLogger): Emit {
  return (level, msg, props) => {
    // logtape reads `{name}` in a message as a placeholder; double the braces to keep it verbatim.
    const text = msg.includes("{") ? msg.replace(/[{}]/g, "$&$&") : msg;
    if (props === undefined) target[level](text);
    else target[level](text, props);
  };
}

function describeError(err: Error, depth: number): string {
  let text = typeof err.stack === "string" && err.stack !== ""
    ? err.stack
    : `${err.name}: ${err.message}`;
  let extra: Record<string, unknown> | undefined;
  for (const key of Object.keys(err)) {
    if (key === "stack" || key === "message" || key === "cause") continue;
    (extra ??= {})[key] = (err as unknown as Record<string, unknown>)[key];
  }
  if (extra !== undefined) text += "\n    " + safeJson(extra);
  const cause = err.cause;
  if (cause !== undefined && depth < 5) {
    text += "\nCaused by: " +
      (cause instanceof Error ? describeError(cause, depth + 1) : safeJson(cause));
  }
  return text;
}

function errorToJson(err: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { name: err.name, message: err.message };
  for (const key of Object.keys(err)) {
    out[key] = (err as unknown as Record<string, unknown>)[key];
  }
  if (err.stack !== undefined) out.stack = err.stack;
  if (err.cause !== undefined) out.cause = err.cause;
  return out;
}

function baseReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return errorToJson(value);
  return value;
}

/** JSON.stringify that never throws: BigInt as string, Errors expanded, cycles cut. */
function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value, baseReplacer) ?? "null";
  } catch {
    try {
      return JSON.stringify(value, cycleSafeReplacer()) ?? "null";
    } catch {
      return '"[unserializable]"';
    }
  }
}

function cycleSafeReplacer(): (this: unknown, key: string, value: unknown) => unknown {
  const ancestors: unknown[] = [];
  return function (this: unknown, key: string, value: unknown): unknown {
    const v = baseReplacer(key, value);
    if (typeof v !== "object" || v === null) return v;
    while (ancestors.length > 0 && ancestors[ancestors.length - 1] !== this) ancestors.pop();
    if (ancestors.includes(v)) return "[Circular]";
    ancestors.push(v);
    return v;
  };
}
