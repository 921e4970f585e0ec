/**
 * Errors of the runner and the exit codes they map to.
 *
 * @module
 */

/** Exit codes of the CLI. */
export const ExitCode = {
  /** Success, including a graceful stop on SIGINT/SIGTERM. */
  OK: 0,
  /** A start or runtime error: a module failed to import, the transporter is unreachable, a call failed. */
  ERROR: 1,
  /** A usage error: bad flags or values, a missing path or config file, an invalid option, no services found. */
  USAGE: 2,
} as const;

/** A mistake in how the CLI was invoked or configured; exits with {@linkcode ExitCode.USAGE}. */
export class UsageError extends Error {
  /** The process exit code. */
  readonly exitCode: number = ExitCode.USAGE;

  /**
   * @param message What is wrong and how to fix it, on one line.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UsageError";
  }
}

/** A failure while loading or starting the node; exits with {@linkcode ExitCode.ERROR}. */
export class StartError extends Error {
  /** The process exit code. */
  readonly exitCode: number = ExitCode.ERROR;

  /**
   * @param message What failed and why, on one line.
   * @param options Standard error options (`cause`).
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StartError";
  }
}

// deno-lint-ignore no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/**
 * A one-line reason for a thrown value: the message without ANSI colours, code frames or stack;
 * a source location (`at file:///…:3:5`) is kept in parentheses.
 *
 * @param err Anything thrown.
 * @param withName Prefix the error's class name (`TypeError: …`) unless it is plain `Error` or
 *   already in the message.
 * @returns The reason.
 */
export function reasonOf(err: unknown, withName = false): string {
  if (!(err instanceof Error)) return String(err);
  const text = err.message.replace(ANSI, "");
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  let first = lines[0] ?? err.name;
  if (withName && err.name !== "Error" && !/^\w*Error\b/.test(first)) {
    first = `${err.name}: ${first}`;
  }
  const at = lines.slice(1).find((l) => l.startsWith("at "));
  return at ? `${first} (${at})` : first;
}
