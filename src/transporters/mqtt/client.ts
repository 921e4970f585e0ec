/**
 * The MQTT client side of the MQTT transporter: one `mqtt` connection, topic-level publish and
 * subscribe, and its connection state. Loaded by `import()` when the transporter connects.
 *
 * @module
 */

import { notifyListener, reportError } from "../_listener.ts";
import { Buffer } from "node:buffer";
import mqtt from "mqtt";
import { BrokerDisconnectedError } from "../../errors.ts";
import { toError } from "../../_util/values.ts";
import type { TopicClient } from "../topic_transporter.ts";
import type { TransporterListener, TransporterSubscription } from "../transporter.ts";
import type { MqttSettings } from "./options.ts";
import { notConnected } from "../_errors.ts";

type Client = ReturnType<typeof mqtt.connect>;

/** Called with the bytes of each message of a topic. */
export type MqttMessageHandler = (data: Uint8Array) => void;

/** How long `disconnect()` waits for a clean close before it drops the socket. */
const END_TIMEOUT = 2_000;

/**
 * Send each packet as it is written: `mqtt` leaves Nagle's algorithm on, which holds a small
 * request back until the previous one is acknowledged (~40 ms per round trip on Linux).
 */
function noDelay(client: Client): void {
  (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
}

/**
 * One MQTT connection with topic-level publish and subscribe.
 *
 * - The first connection is bounded: it resolves on the broker's CONNACK, or rejects with a
 *   {@linkcode BrokerDisconnectedError} when the socket closes first (refused, or login denied).
 * - Afterwards `mqtt` reconnects every `reconnectPeriod`; the topics are subscribed again, and
 *   acknowledged, before `listener.onReconnect`.
 * - While down, publishing rejects with {@linkcode BrokerDisconnectedError}.
 */
export class MqttClient implements TopicClient {
  /** The server, without credentials. */
  readonly url: string;
  readonly #settings: MqttSettings;
  #listener: TransporterListener = {};
  #client: Client | undefined;
  readonly #topics = new Map<string, Set<MqttMessageHandler>>();
  #ever = false;
  #down = false;
  #closing = false;
  #lastError: Error | undefined;

  /**
   * Create the client; nothing connects until {@linkcode MqttClient.connect}.
   *
   * @param settings The checked options.
   */
  constructor(settings: MqttSettings) {
    this.url = settings.url;
    this.#settings = settings;
  }

  /** True while connected. */
  get connected(): boolean {
    return this.#client?.connected === true && !this.#down && !this.#closing;
  }

  /**
   * Connect; resolves on the broker's CONNACK.
   *
   * @param listener Connection-state callbacks.
   * @throws {BrokerDisconnectedError} when the broker cannot be reached or refuses the login.
   */
  async connect(listener: TransporterListener): Promise<void> {
    this.#listener = listener;
    if (this.#client !== undefined) return;
    const s = this.#settings;
    const options = { ...s.options, resubscribe: false, queueQoSZero: false } as Record<
      string,
      unknown
    >;
    this.#closing = false;
    this.#ever = false;
    const client = s.connectionString !== undefined
      ? mqtt.connect(s.connectionString, options)
      : mqtt.connect(options);
    this.#client = client;
    client.on("error", (error: Error) => {
      this.#lastError = error;
      if (this.#ever && !this.#closing) this.#notifyError(error);
    });
    client.on("message", (topic: string, payload: Buffer) => this.#deliver(topic, payload));
    try {
      await new Promise<void>((resolve, reject) => {
        client.once("connect", () => resolve());
        client.once("close", () => reject(this.#lastError ?? new Error("connection closed")));
      });
    } catch (error) {
      this.#client = undefined;
      client.end(true);
      const cause = toError(error);
      throw new BrokerDisconnectedError(
        `Cannot connect to MQTT at ${this.url}: ${cause.message || cause.name}`,
        { url: this.url },
        { cause },
      );
    }
    this.#ever = true;
    noDelay(client);
    client.on("close", () => this.#lost());
    client.on("connect", () => void this.#back());
  }

  #lost(): void {
    if (!this.#ever || this.#closing || this.#down) return;
    this.#down = true;
    this.#notify("onDisconnect");
  }

  async #back(): Promise<void> {
    const client = this.#client;
    if (!this.#ever || this.#closing || !this.#down || client === undefined) return;
    noDelay(client);
    if (this.#topics.size > 0) {
      try {
        await client.subscribeAsync([...this.#topics.keys()], { qos: this.#settings.qos });
      } catch (error) {
        this.#notifyError(error); // the next "connect" tries again
        return;
      }
    }
    if (client.connected && this.#down) {
      this.#down = false;
      this.#notify("onReconnect");
    }
  }

  #deliver(topic: string, payload: Buffer): void {
    const handlers = this.#topics.get(topic);
    if (handlers === undefined) return;
    for (const handler of handlers) {
      try {
        handler(payload);
      } catch (error) {
        this.#notifyError(error);
      }
    }
  }

  #notify(event: "onDisconnect" | "onReconnect"): void {
    notifyListener(this.#listener, event);
  }

  #notifyError(error: unknown): void {
    reportError(this.#listener, error);
  }

  /** Close the connection (DISCONNECT, bounded); idempotent. */
  async disconnect(): Promise<void> {
    const client = this.#client;
    if (client === undefined) return;
    this.#closing = true;
    this.#client = undefined;
    this.#topics.clear();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        client.endAsync(false),
        new Promise((_, reject) => timer = setTimeout(reject, END_TIMEOUT)),
      ]);
    } catch {
      client.end(true);
    } finally {
      clearTimeout(timer);
    }
    this.#down = false;
  }

  /**
   * Receive the messages of a topic.
   *
   * @param topic The topic (no wildcards are used by the transporter).
   * @param handler Receives each message's bytes.
   * @returns A handle whose `unsubscribe()` stops delivery; once the broker sent its SUBACK.
   * @throws {BrokerDisconnectedError} when not connected, or when the broker refuses it.
   */
  async subscribe(topic: string, handler: MqttMessageHandler): Promise<TransporterSubscription> {
    const client = this.#client;
    if (client === undefined || !this.connected) {
      throw new BrokerDisconnectedError(
        `Cannot subscribe to "${topic}": not connected to MQTT at ${this.url}`,
        { url: this.url },
      );
    }
    let handlers = this.#topics.get(topic);
    if (handlers === undefined) {
      this.#topics.set(topic, handlers = new Set());
      handlers.add(handler);
      try {
        const granted = await client.subscribeAsync(topic, { qos: this.#settings.qos });
        if (granted.some((g) => g.qos === 128)) throw new Error("the broker refused it");
      } catch (error) {
        handlers.delete(handler);
        if (handlers.size === 0) this.#topics.delete(topic);
        throw new BrokerDisconnectedError(
          `Cannot subscribe to "${topic}" on MQTT at ${this.url}: ${toError(error).message}`,
          { url: this.url },
          { cause: error },
        );
      }
    } else {
      handlers.add(handler);
    }
    let active = true;
    return {
      unsubscribe: () => {
        if (!active) return;
        active = false;
        const current = this.#topics.get(topic);
        if (current === undefined) return;
        current.delete(handler);
        if (current.size > 0) return;
        this.#topics.delete(topic);
        if (this.connected) this.#client?.unsubscribeAsync(topic).catch(() => {});
      },
    };
  }

  /**
   * Publish bytes on a topic, with the transporter's `qos`.
   *
   * @param topic The topic.
   * @param data The payload.
   * @returns A promise that resolves once written (qos 0) or acknowledged (qos 1, 2).
   * @throws {BrokerDisconnectedError} when not connected, including while reconnecting.
   */
  publish(topic: string, data: Uint8Array): Promise<void> {
    const client = this.#client;
    if (client === undefined || !this.connected) {
      return Promise.reject(notConnected(`publish to "${topic}"`, "MQTT", this.url, this.#down));
    }
    return new Promise((resolve, reject) => {
      client.publish(
        topic,
        Buffer.from(data.buffer, data.byteOffset, data.byteLength),
        { qos: this.#settings.qos },
        (error) => {
          if (error === undefined || error === null) resolve();
          else {
            reject(
              new BrokerDisconnectedError(
                `Cannot publish to "${topic}" on MQTT at ${this.url}: ${error.message}`,
                { url: this.url },
                { cause: error },
              ),
            );
          }
        },
      );
    });
  }
}
