/**
 * Telling a transporter's owner about its connection: the callbacks of a
 * {@linkcode TransporterListener}, called so that a throwing listener never breaks the client.
 *
 * @module
 */

import type { TransporterListener } from "./transporter.ts";
import { toError } from "../_util/values.ts";

/**
 * Report a non-fatal error to the listener.
 *
 * @param listener The owner's callbacks.
 * @param error What went wrong.
 */
export function reportError(listener: TransporterListener, error: unknown): void {
  try {
    listener.onError?.(toError(error));
  } catch {
    // A throwing listener must not break the client.
  }
}

/**
 * Tell the listener the connection was lost or came back; what it throws goes to `onError`.
 *
 * @param listener The owner's callbacks.
 * @param event Which callback.
 */
export function notifyListener(
  listener: TransporterListener,
  event: "onDisconnect" | "onReconnect",
): void {
  try {
    listener[event]?.();
  } catch (error) {
    reportError(listener, error);
  }
}
