/**
 * The MQTT transporter's options: their types and checks, without the MQTT client, so a broker
 * checks `transporter: "mqtt://…"` when it is constructed while `mqtt` loads on connect.
 *
 * @example
 * ```ts
 * import { resolveMqttSettings } from "./options.ts";
 *
 * const s = resolveMqttSettings({ host: "mq-1", qos: 1, topicSeparator: "/" });
 * console.log(s.url, s.qos, s.topicSeparator); // mqtt://mq-1:1883 1 /
 * ```
 *
 * @module
 */

import { BrokerOptionsError } from "../../errors.ts";
import { maskUrl } from "../redis/options.ts";

/**
 * Options of the MQTT transporter, as Moleculer's: a connection string, or the options of the
 * `mqtt` client (`host`, `port`, `protocol`, `username`, `password`, `clientId`, …) with
 * Moleculer's own `qos` and `topicSeparator`.
 */
export interface MqttTransporterOptions {
  /** Quality of service of subscriptions and publishes: 0, 1 or 2. @default {0} */
  qos?: 0 | 1 | 2;
  /** What joins the topic's parts: `MOL.INFO` by default, `MOL/INFO` with `"/"`. @default {"."} */
  topicSeparator?: string;
  /** Server host. @default {"localhost"} */
  host?: string;
  /** Server port. @default {1883} */
  port?: number;
  /** `mqtt`, `mqtts`, `ws` or `wss`. @default {"mqtt"} */
  protocol?: string;
  /** User name. */
  username?: string;
  /** Password. */
  password?: string;
  /** Milliseconds between reconnect attempts. @default {1000} */
  reconnectPeriod?: number;
  /** Any other `mqtt` client option, passed as is. */
  [option: string]: unknown;
}

/** The options once checked. */
export interface MqttSettings {
  /** The server, without credentials, e.g. `"mqtt://127.0.0.1:1883"`. */
  readonly url: string;
  /** The connection string given (with its credentials), or undefined. */
  readonly connectionString: string | undefined;
  /** The `mqtt` client options, without `qos` and `topicSeparator`. */
  readonly options: Readonly<Record<string, unknown>>;
  /** Quality of service. */
  readonly qos: 0 | 1 | 2;
  /** The topic separator. */
  readonly topicSeparator: string;
}

const SCHEMES = ["mqtt:", "mqtts:", "ws:", "wss:", "tcp:", "ssl:"];
const PORTS: Record<string, string> = { "mqtt:": "1883", "mqtts:": "8883", "tcp:": "1883" };

/**
 * Check the MQTT transporter's options.
 *
 * @param options A connection string (`mqtt://[user:pass@]host[:port]`, also `mqtts://`,
 *   `ws://`, `wss://`) or options.
 * @returns The settings.
 * @throws {BrokerOptionsError} for a malformed URL, a `qos` other than 0, 1, 2 or an empty
 *   `topicSeparator`.
 */
export function resolveMqttSettings(options: string | MqttTransporterOptions = {}): MqttSettings {
  if (typeof options === "string") {
    let url: URL;
    try {
      url = new URL(options);
    } catch (cause) {
      throw new BrokerOptionsError(
        `Invalid MQTT URL "${maskUrl(options)}": expected mqtt://[user:pass@]host[:port]`,
        { url: maskUrl(options) },
        { cause },
      );
    }
    if (!SCHEMES.includes(url.protocol) || url.hostname === "") {
      throw new BrokerOptionsError(
        `Invalid MQTT URL "${maskUrl(options)}": expected mqtt://, mqtts://, ws:// or wss:// ` +
          "and a host",
        { url: maskUrl(options) },
      );
    }
    const port = url.port || PORTS[url.protocol] || "";
    return {
      url: `${url.protocol}//${url.hostname}${port ? `:${port}` : ""}${
        url.pathname.replace(/^\/$/, "")
      }`,
      connectionString: options,
      options: {},
      qos: 0,
      topicSeparator: ".",
    };
  }
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new BrokerOptionsError(
      `Invalid MQTT transporter options: expected an mqtt:// URL or options, got ${
        Array.isArray(options) ? "an array" : typeof options
      }`,
    );
  }
  const { qos = 0, topicSeparator = ".", ...rest } = options;
  if (qos !== 0 && qos !== 1 && qos !== 2) {
    throw new BrokerOptionsError(
      `MQTT transporter: 'qos' must be 0, 1 or 2, got ${JSON.stringify(qos)}`,
      { option: "qos" },
    );
  }
  if (typeof topicSeparator !== "string" || topicSeparator === "") {
    throw new BrokerOptionsError(
      `MQTT transporter: 'topicSeparator' must be a non-empty string such as "." or "/", got ${
        JSON.stringify(topicSeparator)
      }`,
      { option: "topicSeparator" },
    );
  }
  const protocol = String(rest.protocol ?? "mqtt").replace(/:$/, "");
  const port = rest.port ?? PORTS[`${protocol}:`] ?? "";
  return {
    url: `${protocol}://${rest.host ?? rest.hostname ?? "localhost"}${port ? `:${port}` : ""}`,
    connectionString: undefined,
    options: rest,
    qos,
    topicSeparator,
  };
}
