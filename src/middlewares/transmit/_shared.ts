/**
 * What the transmit middlewares share: the lazy load of their codecs, the error a packet that
 * cannot be read is dropped with, and Moleculer's byte sizes (`"1kb"`).
 *
 * @module
 */

import type { TransporterReceiveHandler, TransporterSendHandler } from "../../core/middleware.ts";
import { MoleculerError } from "../../errors.ts";

/** The codecs module (`src/runtime/transmit.ts`), loaded by `import()`. */
export type TransmitCodecs = typeof import("../../runtime/transmit.ts");

let codecs: Promise<TransmitCodecs> | undefined;

/**
 * Load the codecs once: a broker without a transmit middleware never loads `node:zlib` and
 * `node:crypto`.
 *
 * @returns The module.
 */
export function loadCodecs(): Promise<TransmitCodecs> {
  codecs ??= import("../../runtime/transmit.ts").catch((err) => {
    codecs = undefined;
    throw err;
  });
  return codecs;
}

/**
 * A received packet a transmit middleware cannot read (500 `TRANSMIT_UNREADABLE`): transit
 * drops it and says what the bytes look like.
 */
export class TransmitUnreadableError extends MoleculerError {
  /**
   * @param middleware `"Compression"` or `"Encryption"`.
   * @param reason What failed, e.g. `"cannot decrypt it (bad decrypt)"`.
   * @param options Standard error options, e.g. `{ cause }`.
   */
  constructor(middleware: string, reason: string, options?: ErrorOptions) {
    super(`${middleware}: ${reason}`, 500, "TRANSMIT_UNREADABLE", { middleware }, options);
    this.name = "TransmitUnreadableError";
  }
}

/**
 * Send and receive hooks that wait for `ready` the first time: packets that come before the
 * codecs are loaded wait, in order, and the hooks are direct calls afterwards.
 *
 * @param ready Resolves with what the hooks need.
 * @param makeSend The send hook, given what `ready` resolved with.
 * @param makeReceive The receive hook, likewise.
 * @returns The two `(next) => handler` hooks.
 */
export function readyHooks<T>(
  ready: Promise<T>,
  makeSend: (state: T, next: TransporterSendHandler) => TransporterSendHandler,
  makeReceive: (state: T, next: TransporterReceiveHandler) => TransporterReceiveHandler,
): {
  transporterSend(next: TransporterSendHandler): TransporterSendHandler;
  transporterReceive(next: TransporterReceiveHandler): TransporterReceiveHandler;
} {
  let state: { value: T } | undefined;
  const loaded = ready.then((value) => {
    state = { value };
    return value;
  });
  // A failed load is reported by every packet that waited for it; never as an unhandled one.
  loaded.catch(() => {});
  return {
    transporterSend(next) {
      let send: TransporterSendHandler | undefined;
      return (topic, data, meta) => {
        if (send) return send(topic, data, meta);
        if (state) return (send = makeSend(state.value, next))(topic, data, meta);
        return loaded.then((value) => (send ??= makeSend(value, next))(topic, data, meta));
      };
    },
    transporterReceive(next) {
      let receive: TransporterReceiveHandler | undefined;
      return (cmd, data, s) => {
        if (receive) return receive(cmd, data, s);
        if (state) return (receive = makeReceive(state.value, next))(cmd, data, s);
        return loaded.then((value) => (receive ??= makeReceive(value, next))(cmd, data, s));
      };
    },
  };
}

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1 << 10,
  mb: 1 << 20,
  gb: 1 << 30,
  tb: 1024 ** 4,
  pb: 1024 ** 5,
};

/**
 * A size as Moleculer's `parseByteString` reads it: a number is bytes, `"1kb"` / `"1.5 MB"` a
 * size with a unit, `"100"` bytes; anything else is no size at all.
 *
 * @param value The user's value.
 * @returns Bytes, or null.
 */
export function parseByteSize(value: unknown): number | null {
  if (typeof value === "number") return Number.isNaN(value) ? null : value;
  if (typeof value !== "string") return null;
  const m = /^([-+]?\d+(?:\.\d+)?) *(kb|mb|gb|tb|pb)$/i.exec(value);
  if (!m) {
    const n = parseInt(value, 10);
    return Number.isNaN(n) ? null : n;
  }
  return Math.floor(UNITS[m[2]!.toLowerCase()]! * parseFloat(m[1]!));
}
