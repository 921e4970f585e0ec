/**
 * The AMQP transporter's options, Moleculer's, with their defaults and checks — without the
 * AMQP client, so a broker checks `transporter: "amqp://…"` when it is constructed while
 * `amqplib` loads on connect.
 *
 * @example
 * ```ts
 * import { resolveAmqpSettings } from "./options.ts";
 *
 * const s = resolveAmqpSettings("amqp://guest:guest@rabbit-1:5672;amqp://rabbit-2");
 * console.log(s.url, s.prefetch, s.autoDeleteQueues); // amqp://rabbit-1:5672,amqp://rabbit-2:5672 1 120000
 * ```
 *
 * @module
 */

import { BrokerOptionsError } from "../../errors.ts";
import { maskUrl } from "../redis/options.ts";

/** Options of the AMQP transporter (Moleculer's names and defaults). */
export interface AmqpTransporterOptions {
  /**
   * Server URL(s): `amqp://user:pass@host:5672/vhost`, several separated by `;` or as an
   * array (tried in turn, one per (re)connection). @default {"amqp://localhost"}
   */
  url?: string | string[];
  /** Requests (and balanced events) a node takes at once from a queue, unacknowledged. @default {1} */
  prefetch?: number;
  /** Milliseconds an event waits in a queue before it expires (`x-message-ttl`). @default {null} */
  eventTimeToLive?: number | null;
  /** Milliseconds a heartbeat waits in a queue before it expires. @default {null} */
  heartbeatTimeToLive?: number | null;
  /** Options of every `assertQueue`, over the transporter's own. @default {{}} */
  queueOptions?: Record<string, unknown>;
  /** Options of every `assertExchange`. @default {{}} */
  exchangeOptions?: Record<string, unknown>;
  /** Options of every published message. @default {{}} */
  messageOptions?: Record<string, unknown>;
  /** Options of every `consume`. @default {{}} */
  consumeOptions?: Record<string, unknown>;
  /**
   * Delete a node's queues after they have had no consumer this long (`x-expires`): `true`
   * = 2 minutes, a number of milliseconds, `false` = never. @default {true}
   */
  autoDeleteQueues?: boolean | number;
  /** Socket options of `amqplib`'s `connect` (TLS: `ca`, `cert`, `key`, …). */
  socketOptions?: Record<string, unknown>;
}

/** The options once checked, with Moleculer's defaults. */
export interface AmqpSettings {
  /** The servers, without credentials, for messages. */
  readonly url: string;
  /** The URLs to connect to, with their credentials. */
  readonly urls: readonly string[];
  readonly prefetch: number;
  readonly eventTimeToLive: number | null;
  readonly heartbeatTimeToLive: number | null;
  readonly queueOptions: Readonly<Record<string, unknown>>;
  readonly exchangeOptions: Readonly<Record<string, unknown>>;
  readonly messageOptions: Readonly<Record<string, unknown>>;
  readonly consumeOptions: Readonly<Record<string, unknown>>;
  /** Milliseconds, or `-1` for never. */
  readonly autoDeleteQueues: number;
  readonly socketOptions: Readonly<Record<string, unknown>>;
}

/** Moleculer's default: queues without consumers go after 2 minutes. */
const AUTO_DELETE_AFTER = 2 * 60 * 1000;

function shown(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (cause) {
    throw new BrokerOptionsError(
      `Invalid AMQP URL "${maskUrl(raw)}": expected amqp://[user:pass@]host[:port][/vhost]`,
      { url: maskUrl(raw) },
      { cause },
    );
  }
  if ((url.protocol !== "amqp:" && url.protocol !== "amqps:") || url.hostname === "") {
    throw new BrokerOptionsError(
      `Invalid AMQP URL "${maskUrl(raw)}": the scheme must be amqp:// or amqps://, with a host`,
      { url: maskUrl(raw) },
    );
  }
  const port = url.port || (url.protocol === "amqps:" ? "5671" : "5672");
  return `${url.protocol}//${url.hostname}:${port}${url.pathname.replace(/^\/$/, "")}`;
}

function object(name: string, value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new BrokerOptionsError(`AMQP transporter: '${name}' must be an object`, {
      option: name,
    });
  }
  return value as Record<string, unknown>;
}

function msOrNull(name: string, value: unknown): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "number" || !(value > 0)) {
    throw new BrokerOptionsError(
      `AMQP transporter: '${name}' must be milliseconds > 0, or null, got ${JSON.stringify(value)}`,
      { option: name },
    );
  }
  return value;
}

/**
 * Check the AMQP transporter's options and apply Moleculer's defaults.
 *
 * @param options A connection string (`;`-separated for several servers) or options.
 * @returns The settings.
 * @throws {BrokerOptionsError} for a malformed URL or option.
 */
export function resolveAmqpSettings(options: string | AmqpTransporterOptions = {}): AmqpSettings {
  const o: AmqpTransporterOptions = typeof options === "string" ? { url: options } : options;
  if (typeof o !== "object" || o === null || Array.isArray(o)) {
    throw new BrokerOptionsError("Invalid AMQP transporter options: expected a URL or options");
  }
  const urls = (Array.isArray(o.url) ? o.url : (o.url ?? "amqp://localhost").split(";"))
    .map((u) => String(u).trim()).filter((u) => u !== "");
  if (urls.length === 0) throw new BrokerOptionsError("AMQP transporter: no server URL given");
  const prefetch = o.prefetch ?? 1;
  if (typeof prefetch !== "number" || !Number.isInteger(prefetch) || prefetch < 0) {
    throw new BrokerOptionsError(
      `AMQP transporter: 'prefetch' must be an integer ≥ 0 (0 = unlimited), got ${
        JSON.stringify(prefetch)
      }`,
      { option: "prefetch" },
    );
  }
  const auto = o.autoDeleteQueues;
  let autoDeleteQueues: number;
  if (auto === undefined || auto === true) autoDeleteQueues = AUTO_DELETE_AFTER;
  else if (auto === false) autoDeleteQueues = -1;
  else if (typeof auto === "number" && Number.isInteger(auto) && auto >= 0) {
    autoDeleteQueues = auto;
  } else {
    throw new BrokerOptionsError(
      `AMQP transporter: 'autoDeleteQueues' must be true, false or milliseconds, got ${
        JSON.stringify(auto)
      }`,
      { option: "autoDeleteQueues" },
    );
  }
  return {
    url: urls.map(shown).join(","),
    urls,
    prefetch,
    eventTimeToLive: msOrNull("eventTimeToLive", o.eventTimeToLive),
    heartbeatTimeToLive: msOrNull("heartbeatTimeToLive", o.heartbeatTimeToLive),
    queueOptions: object("queueOptions", o.queueOptions),
    exchangeOptions: object("exchangeOptions", o.exchangeOptions),
    messageOptions: object("messageOptions", o.messageOptions),
    consumeOptions: object("consumeOptions", o.consumeOptions),
    autoDeleteQueues,
    socketOptions: object("socketOptions", o.socketOptions),
  };
}

/**
 * The options of a queue, by the packet type it holds, as Moleculer's `_getQueueOptions`:
 * requests (not balanced) and responses expire with `autoDeleteQueues`; events too, with
 * `eventTimeToLive` on their messages; heartbeats and the other internal packets go with
 * their consumer (`autoDelete`). `queueOptions` is laid over them.
 *
 * @param s The settings.
 * @param type The packet type, or `"EVENTLB"` for a balanced event queue.
 * @param balanced Whether it is a balanced request queue (those never expire).
 * @returns The options of `assertQueue`.
 */
export function queueOptions(
  s: AmqpSettings,
  type: string,
  balanced = false,
): Record<string, unknown> {
  let options: Record<string, unknown>;
  switch (type) {
    case "REQ":
      options = s.autoDeleteQueues >= 0 && !balanced ? { expires: s.autoDeleteQueues } : {};
      break;
    case "RES":
      options = s.autoDeleteQueues >= 0 ? { expires: s.autoDeleteQueues } : {};
      break;
    case "EVENTLB":
    case "EVENT":
      options = s.autoDeleteQueues >= 0 ? { expires: s.autoDeleteQueues } : {};
      if (s.eventTimeToLive) options.messageTtl = s.eventTimeToLive;
      break;
    case "HEARTBEAT":
      options = { autoDelete: true };
      if (s.heartbeatTimeToLive) options.messageTtl = s.heartbeatTimeToLive;
      break;
    default:
      options = { autoDelete: true };
  }
  return { ...options, ...s.queueOptions };
}
