/**
 * ANSI styles for the REPL's output: on when the output is a terminal and `NO_COLOR` is unset,
 * plain text otherwise (pipes, files, tests).
 *
 * @module
 */

/** The styles a command can apply; each returns its text unchanged when colours are off. */
export interface Style {
  /** True when colours are on. */
  readonly enabled: boolean;
  /** Bold. */
  bold(text: string): string;
  /** Dim grey: borders, the local node, "none". */
  gray(text: string): string;
  /** Headings and ">>" lines. */
  yellow(text: string): string;
  /** Timings. */
  cyan(text: string): string;
  /** Files written and read. */
  magenta(text: string): string;
  /** Success. */
  green(text: string): string;
  /** Errors. */
  red(text: string): string;
  /** A state badge: OK (green), FAILED or OFFLINE (red), ONLINE (green). */
  badge(text: string, good: boolean): string;
}

const sgr = (open: string, close: string) => (text: string) => `\x1b[${open}m${text}\x1b[${close}m`;

/**
 * The styles for an output.
 *
 * @param enabled Whether to emit ANSI codes.
 * @returns The styles.
 */
export function makeStyle(enabled: boolean): Style {
  if (!enabled) {
    const plain = (t: string) => t;
    return {
      enabled,
      bold: plain,
      gray: plain,
      yellow: plain,
      cyan: plain,
      magenta: plain,
      green: plain,
      red: plain,
      badge: plain,
    };
  }
  const green = sgr("32", "39");
  const red = sgr("31", "39");
  return {
    enabled,
    bold: sgr("1", "22"),
    gray: sgr("90", "39"),
    yellow: (t) => sgr("1", "22")(sgr("33", "39")(t)),
    cyan: sgr("36", "39"),
    magenta: sgr("35", "39"),
    green,
    red: (t) => sgr("1", "22")(red(t)),
    badge: (t, good) => good ? sgr("42;30", "49;39")(` ${t} `) : sgr("41;97", "49;39")(` ${t} `),
  };
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * The width of a text on screen: ANSI codes take none.
 *
 * @param text The text.
 * @returns Its visible length.
 */
export function visibleLength(text: string): number {
  return text.replace(ANSI, "").length;
}
