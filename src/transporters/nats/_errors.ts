/**
 * The errors both NATS clients raise (`wire/client.ts` and the nats.js one in `client.ts`), so
 * that switching `transport` changes no message a user or a test reads.
 *
 * @module
 */

import { BrokerDisconnectedError, MoleculerError } from "../../errors.ts";
import type { NatsSettings } from "./options.ts";

/** Why a connection attempt failed, as each client tells it from its own errors. */
export type ConnectFailure =
  /** The server rejected the credentials; `message` is its own words. */
  | { readonly auth: string }
  /** The handshake took longer than `timeout` ms. */
  | { readonly timeout: number }
  /** Anything else: the socket's or the client's message. */
  | { readonly message: string };

/**
 * The error of a connection attempt that failed: what went wrong, and for a TLS failure what to
 * check.
 *
 * @param settings The client's URL, credentials and TLS options.
 * @param failure Why it failed.
 * @param cause The client's own error.
 * @returns `Cannot connect to NATS at <url>: <reason>`, the reason in `data.reason`.
 */
export function connectError(
  settings: {
    readonly url: string;
    readonly credentials: NatsSettings["credentials"];
    readonly tls: { readonly caFile?: unknown; readonly ca?: unknown } | undefined;
  },
  failure: ConnectFailure,
  cause: Error,
): BrokerDisconnectedError {
  let reason: string;
  if ("auth" in failure) {
    const { credentials } = settings;
    const given = credentials.token !== undefined
      ? "the token was rejected"
      : credentials.user !== undefined
      ? `user "${credentials.user}" and its password were rejected`
      : "no credentials were given";
    reason = `authorization failed (${failure.auth}): ${given}`;
  } else if ("timeout" in failure) {
    reason = `timed out after ${failure.timeout} ms`;
  } else {
    reason = failure.message;
    if (/certificate|self[- ]signed|\bSSL\b|\bTLS\b|handshake/i.test(reason)) {
      reason += settings.tls?.caFile === undefined && settings.tls?.ca === undefined
        ? " (TLS: give the CA that signed the server's certificate as tls: { caFile })"
        : " (TLS: check tls.caFile and the server's certificate)";
    }
  }
  return new BrokerDisconnectedError(`Cannot connect to NATS at ${settings.url}: ${reason}`, {
    url: settings.url,
    reason,
  }, { cause });
}

/**
 * The error a session ends with when the client gave up reconnecting (or the server refused it).
 *
 * @param url The client's URL.
 * @param cause The last error, if any.
 * @returns `The NATS connection to <url> closed[: <cause>]`.
 */
export function connectionClosed(url: string, cause?: Error): BrokerDisconnectedError {
  return new BrokerDisconnectedError(
    `The NATS connection to ${url} closed${cause ? `: ${cause.message}` : ""}`,
    { url },
    cause ? { cause } : undefined,
  );
}

/**
 * The error of a subscription asked for without a connection.
 *
 * @param subject The subject.
 * @param url The client's URL.
 * @returns `Cannot subscribe to "<subject>": not connected to NATS at <url>`.
 */
export function cannotSubscribe(subject: string, url: string): BrokerDisconnectedError {
  return new BrokerDisconnectedError(
    `Cannot subscribe to "${subject}": not connected to NATS at ${url}`,
    { url },
  );
}

/**
 * The error of a publish larger than the server's `max_payload`.
 *
 * @param subject The subject.
 * @param size The payload's bytes.
 * @param max The server's limit.
 * @returns A 500 `MAX_PAYLOAD_EXCEEDED`.
 */
export function maxPayloadExceeded(subject: string, size: number, max: number): MoleculerError {
  return new MoleculerError(
    `Packet of ${size} bytes exceeds the NATS server's max_payload of ${max} bytes`,
    500,
    "MAX_PAYLOAD_EXCEEDED",
    { subject, size, maxPayload: max },
  );
}
