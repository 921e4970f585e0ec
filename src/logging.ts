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
   * here under the key `error` (logtape's convention).
   */
  props?: Record<string, unknown>;
}

/** A custom destination for log records: called synchronously, once per enabled record. */
export type LogSink = (record: LogEntry) => void;

/**
 * The logging methods one module of the broker uses. Methods of disabled levels do nothing.
 */
export interface Logger {
  /**
   * Log at `trace` level.
   *
   * @param msg The message, verbatim (no template substitution).
   * @param props Extra properties, appended as JSON.
   */
  trace(msg: string, props?: Record<string, unknown>): void;
  /**
   * Log at `debug` level.
   *
   * @param msg The message, verbatim.
   * @param props Extra properties, appended as JSON.
   */
  debug(msg: string, props?: Record<string, unknown>): void;
  /**
   * Log at `info` level.
   *
   * @param msg The message, verbatim.
   * @param props Extra properties, appended as JSON.
   */
  info(msg: string, props?: Record<string, unknown>): void;
  /**
   * Log at `warn` level.
   *
   * @param msg The message, verbatim.
   * @param props Extra properties, or an `Error` (kept as `props.error`; its stack is printed).
   */
  warn(msg: string, props?: Record<string, unknown> | unknown): void;
  /**
   * Log at `error` level.
   *
   * @param msg The message, verbatim.
   * @param props Extra properties, or an `Error` / any thrown value (kept as `props.error`; an
   *   Error's stack is printed on the following lines in PLAIN format).
   */
  error(msg: string, props?: Record<string, unknown> | unknown): void;
  /**
   * Log at `fatal` level.
   *
   * @param msg The message, verbatim.
   * @param props Extra properties, or an `Error` / any thrown value (kept as `props.error`).
   */
  fatal(msg: string, props?: Record<string, unknown> | unknown): void;
}

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
   * - a {@link LogSink} function: called with every enabled {@link LogEntry}.
   *
   * @default true
   */
  logger?: boolean | "logtape" | LogSink | undefined;
  /**
   * Lowest level that is logged. In `"logtape"` mode it is applied only when given; left out,
   * every record is forwarded and logtape's configuration alone filters.
   *
   * @default "info"
   */
  logLevel?: LogLevel | undefined;
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

type LogMethod = (msg: string, props?: unknown) => void;
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
  const mode = options.logger ?? true;
  if (
    typeof mode !== "boolean" && typeof mode !== "function" && mode !== "logtape"
  ) {
    throw new BrokerOptionsError(
      `Invalid 'logger' option: expected true, false, "logtape" or a sink function.`,
      { logger: mode },
    );
  }
  const explicitLevel = options.logLevel === undefined ? undefined : parseLevel(options.logLevel);
  const format = parseFormat(options.logFormat ?? "PLAIN");

  if (mode === false) {
    return { level: "fatal", getLogger: () => SILENT };
  }

  let level: LogLevel;
  let makeEmit: (module: string) => Emit;

  if (mode === "logtape") {
    level = explicitLevel ?? "trace";
    makeEmit = (module) => logtapeEmit(getLogtapeLogger(["denolecular", nodeID, module]));
  } else {
    level = explicitLevel ?? "info";
    const sink: LogSink = typeof mode === "function"
      ? guardSink(mode)
      : lineSink(format === "JSON" ? formatJson : formatPlain, options.write ?? defaultWrite);
    makeEmit = (module) => (lvl, message, props) => {
      const entry: LogEntry = { time: Date.now(), level: lvl, nodeID, module, message };
      if (namespace !== undefined) entry.namespace = namespace;
      if (props !== undefined) entry.props = props;
      sink(entry);
    };
  }

  const minRank = LEVEL_RANK[level];
  const cache = new Map<string, Logger>();
  return {
    level,
    getLogger(module: string): Logger {
      let logger = cache.get(module);
      if (logger === undefined) {
        logger = buildLogger(makeEmit(module), minRank);
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

function parseLevel(value: unknown): LogLevel {
  const v = typeof value === "string" ? value.toLowerCase() : value;
  if (v === "warning") return "warn";
  if (typeof v === "string" && (LEVELS as readonly string[]).includes(v)) return v as LogLevel;
  throw new BrokerOptionsError(
    `Invalid 'logLevel' option: expected one of ${LEVELS.join(", ")}.`,
    { logLevel: value },
  );
}

function parseFormat(value: unknown): LogFormat {
  const v = typeof value === "string" ? value.toUpperCase() : value;
  if (v === "PLAIN" || v === "JSON") return v;
  throw new BrokerOptionsError(`Invalid 'logFormat' option: expected "PLAIN" or "JSON".`, {
    logFormat: value,
  });
}

function buildLogger(emit: Emit, minRank: number): Logger {
  const method = (level: LogLevel): LogMethod =>
    LEVEL_RANK[level] < minRank ? noop : (msg, props) => emit(level, msg, toProps(props));
  return Object.freeze({
    trace: method("trace"),
    debug: method("debug"),
    info: method("info"),
    warn: method("warn"),
    error: method("error"),
    fatal: method("fatal"),
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
