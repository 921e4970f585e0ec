/**
 * Shutdown signals (SIGINT, SIGTERM) as a small subscription API.
 *
 * @module
 */

/** The signals that ask a node to stop. */
export const SHUTDOWN_SIGNALS: readonly Deno.Signal[] = Deno.build.os === "windows"
  ? ["SIGINT"]
  : ["SIGINT", "SIGTERM"];

/**
 * Call `handler` on SIGINT or SIGTERM.
 *
 * @param handler Receives the signal name.
 * @returns A function that removes the listeners.
 */
export function onShutdownSignal(
  handler: (signal: Deno.Signal) => void,
): () => void {
  const listeners = SHUTDOWN_SIGNALS.map((signal) => {
    const fn = () => handler(signal);
    Deno.addSignalListener(signal, fn);
    return [signal, fn] as const;
  });
  return () => {
    for (const [signal, fn] of listeners) {
      try {
        Deno.removeSignalListener(signal, fn);
      } catch { /* already removed */ }
    }
  };
}

const SIGNAL_NUMBERS: Partial<Record<Deno.Signal, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGTERM: 15,
};

/**
 * The conventional exit code of a process ended by a signal: 128 + the signal's number
 * (SIGINT → 130, SIGTERM → 143); 1 for a signal without a known number.
 *
 * @param signal The signal.
 * @returns The exit code.
 */
export function signalExitCode(signal: Deno.Signal): number {
  const n = SIGNAL_NUMBERS[signal];
  return n === undefined ? 1 : 128 + n;
}
