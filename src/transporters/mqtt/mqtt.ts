/**
 * The MQTT transporter: joins a Moleculer cluster through an MQTT broker (Mosquitto, EMQX,
 * HiveMQ, …).
 *
 * Its options are checked when it is constructed; the `mqtt` client (`client.ts`) loads by
 * `import()` on the first connect. Topics are Moleculer's: `MOL[-<namespace>]<sep><TYPE>[<sep>
 * <nodeID>]` with `topicSeparator` (`.` by default, as in Moleculer). MQTT has no queue groups
 * Moleculer uses, so this transporter does not balance: the broker's own balancer picks the
 * node.
 *
 * @example
 * ```ts ignore
 * import { MqttTransporter } from "./mqtt.ts";
 *
 * const mqtt = new MqttTransporter({ host: "127.0.0.1", qos: 1, topicSeparator: "/" });
 * await mqtt.connect({ namespace: "", prefix: "MOL", nodeID: "n1", receive: () => {} });
 * await mqtt.subscribe("INFO"); // MOL/INFO
 * await mqtt.disconnect();
 * ```
 *
 * @module
 */

import type { PacketType } from "../../core/protocol.ts";
import { type TopicClient, TopicTransporter } from "../topic_transporter.ts";
import { type MqttSettings, type MqttTransporterOptions, resolveMqttSettings } from "./options.ts";

/**
 * A transporter over MQTT, compatible with Moleculer's MQTT transporter.
 *
 * - The first connection is bounded: a refused connection or a rejected login reject
 *   `connect()` with a `BrokerDisconnectedError` naming the URL and the cause.
 * - Afterwards the client reconnects every `reconnectPeriod` (1 s); the topics are subscribed
 *   again (and acknowledged) before `host.onReconnect` is called. While down, publishing rejects
 *   with `BrokerDisconnectedError` (nothing is queued to go late).
 */
export class MqttTransporter extends TopicTransporter {
  /** `"MQTT"`. */
  readonly name: string = "MQTT";
  /** The server, without credentials, e.g. `"mqtt://127.0.0.1:1883"`. */
  readonly url: string;
  /** The quality of service of subscriptions and publishes. */
  readonly qos: 0 | 1 | 2;
  /** What joins the parts of a topic. */
  readonly topicSeparator: string;
  readonly #settings: MqttSettings;

  /**
   * Create an MQTT transporter. Nothing loads or connects until `connect()`.
   *
   * @param options An `mqtt://` URL, or `mqtt` client options with `qos` and `topicSeparator`.
   * @throws {BrokerOptionsError} when the URL or an option is malformed.
   */
  constructor(options: string | MqttTransporterOptions = {}) {
    super();
    this.#settings = resolveMqttSettings(options);
    this.url = this.#settings.url;
    this.qos = this.#settings.qos;
    this.topicSeparator = this.#settings.topicSeparator;
  }

  /** Load `mqtt` and create the client. */
  protected override async load(): Promise<TopicClient> {
    const { MqttClient } = await import("./client.ts");
    return new MqttClient(this.#settings);
  }

  /** Moleculer's topic: `<prefix><sep><TYPE>[<sep><nodeID>]`. */
  protected override topic(prefix: string, type: PacketType, nodeID?: string): string {
    const sep = this.topicSeparator;
    return nodeID ? `${prefix}${sep}${type}${sep}${nodeID}` : `${prefix}${sep}${type}`;
  }
}
