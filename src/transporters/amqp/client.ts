/**
 * The AMQP 0.9.1 client side of the AMQP transporter, on `amqplib`: one connection and one
 * channel (prefetch as configured), Moleculer's queues and exchanges, acknowledgements, and a
 * reconnection that declares and consumes everything again.
 *
 * The transporter (`amqp.ts`) loads this module by `import()` when it connects.
 *
 * @module
 */

import { notifyListener, reportError } from "../_listener.ts";
import { Buffer } from "node:buffer";
// @ts-types="@types/amqplib"
import amqp from "amqplib";
import type { Channel, ChannelModel, ConsumeMessage } from "amqplib";
import { BrokerDisconnectedError } from "../../errors.ts";
import { toError } from "../../_util/values.ts";
import type { TransporterListener, TransporterSubscription } from "../transporter.ts";
import type { AmqpSettings } from "./options.ts";
import { notConnected } from "../_errors.ts";

/**
 * What a consumer does with each message's bytes. For a consumer that acknowledges, a returned
 * promise delays the ack until it settles.
 */
export type AmqpMessageHandler = (data: Uint8Array) => unknown;

/** A queue this client consumes, as it must be declared again after a reconnect. */
export interface QueueConsumer {
  /** The queue. */
  readonly queue: string;
  /** Its `assertQueue` options. */
  readonly queueOptions: Record<string, unknown>;
  /** The fanout exchange bound to it, for broadcast packets. */
  readonly exchange?: string;
  /** Whether messages are acknowledged once handled (requests and balanced events). */
  readonly ack: boolean;
  /** Receives each message's bytes. */
  readonly handler: AmqpMessageHandler;
}

interface Active {
  readonly consumer: QueueConsumer;
  /** The consumer tag on the current channel, once consuming. */
  tag: string | undefined;
  /** Unsubscribed: what the server still delivers before the cancel lands is not ours. */
  cancelled: boolean;
}

/** Retry delays after a lost connection: quick at first, at most 1 s apart. */
const retryDelay = (attempt: number): number => Math.min(100 * 2 ** attempt, 1_000);

/**
 * One AMQP connection and channel.
 *
 * - The first connection is bounded: a refused connection or a rejected login reject
 *   {@linkcode AmqpClient.connect} with a {@linkcode BrokerDisconnectedError}.
 * - Afterwards a lost connection is reopened (the next URL in turn), every queue, exchange,
 *   binding and consumer is declared again, and only then is `listener.onReconnect` called.
 * - While down, publishing rejects with {@linkcode BrokerDisconnectedError}.
 * - A message is acknowledged on the channel that delivered it, and only while that channel
 *   lives: one delivered before a loss is redelivered by the server, to some consumer.
 */
export class AmqpClient {
  /** The servers, without credentials. */
  readonly url: string;
  readonly #s: AmqpSettings;
  #listener: TransporterListener = {};
  #connection: ChannelModel | undefined;
  #channel: Channel | undefined;
  readonly #active = new Set<Active>();
  readonly #exchanges = new Set<string>();
  #attempt = 0;
  #ever = false;
  #down = false;
  #closing = false;
  #retry: ReturnType<typeof setTimeout> | undefined;
  /** Messages waiting behind an exchange declaration, and the end of that line. */
  #waiting = 0;
  #queue: Promise<void> = Promise.resolve();

  /**
   * Create the client; nothing connects until {@linkcode AmqpClient.connect}.
   *
   * @param settings The checked options.
   */
  constructor(settings: AmqpSettings) {
    this.url = settings.url;
    this.#s = settings;
  }

  /** True while the connection and its channel are open. */
  get connected(): boolean {
    return this.#channel !== undefined && !this.#down && !this.#closing;
  }

  /**
   * Connect and open the channel.
   *
   * @param listener Connection-state callbacks.
   * @throws {BrokerDisconnectedError} when the server cannot be reached or refuses the login.
   */
  async connect(listener: TransporterListener): Promise<void> {
    this.#listener = listener;
    if (this.#channel !== undefined) return;
    this.#closing = false;
    try {
      await this.#open();
    } catch (error) {
      const cause = toError(error);
      throw new BrokerDisconnectedError(
        `Cannot connect to AMQP at ${this.url}: ${cause.message || cause.name}`,
        { url: this.url },
        { cause },
      );
    }
    this.#ever = true;
  }

  async #open(): Promise<void> {
    const urls = this.#s.urls;
    const uri = urls[this.#attempt++ % urls.length]!;
    let servername: string | undefined;
    try {
      servername = new URL(uri).hostname;
    } catch { /* checked by the options */ }
    // noDelay: without it each small frame waits for the previous one's ACK (Nagle), ~40 ms a
    // call on Linux; amqplib leaves it off, as Moleculer does.
    const connection = await amqp.connect(uri, {
      noDelay: true,
      ...this.#s.socketOptions,
      servername,
    });
    let channel: Channel;
    try {
      channel = await connection.createChannel();
      await channel.prefetch(this.#s.prefetch);
    } catch (error) {
      await connection.close().catch(() => {});
      throw error;
    }
    connection.on("error", (error: Error) => this.#notifyError(error));
    connection.on("close", () => this.#lost(connection));
    channel.on("error", (error: Error) => this.#notifyError(error));
    channel.on("close", () => {
      // A channel error (e.g. a queue declared with other arguments) closes the channel only:
      // close the connection too, so the reconnection brings everything back.
      if (this.#channel === channel && !this.#closing) connection.close().catch(() => {});
    });
    this.#exchanges.clear();
    this.#connection = connection;
    this.#channel = channel;
  }

  #lost(connection: ChannelModel): void {
    if (this.#connection !== connection) return;
    this.#connection = undefined;
    this.#channel = undefined;
    for (const a of this.#active) a.tag = undefined;
    if (!this.#ever || this.#closing) return;
    if (!this.#down) {
      this.#down = true;
      this.#notify("onDisconnect");
    }
    this.#schedule(0);
  }

  #schedule(attempt: number): void {
    if (this.#closing) return;
    this.#retry = setTimeout(() => void this.#reconnect(attempt), retryDelay(attempt));
  }

  async #reconnect(attempt: number): Promise<void> {
    this.#retry = undefined;
    if (this.#closing) return;
    try {
      await this.#open();
      for (const a of this.#active) await this.#consume(a);
    } catch (error) {
      this.#notifyError(error);
      const connection = this.#connection;
      this.#connection = undefined;
      this.#channel = undefined;
      await connection?.close().catch(() => {});
      this.#schedule(attempt + 1);
      return;
    }
    if (this.#closing) return;
    this.#down = false;
    this.#notify("onReconnect");
  }

  #notify(event: "onDisconnect" | "onReconnect"): void {
    notifyListener(this.#listener, event);
  }

  #notifyError(error: unknown): void {
    reportError(this.#listener, error);
  }

  /**
   * Unbind this node's broadcast queues (so no more broadcasts pile up for it), then close the
   * channel and the connection. Idempotent. Queues are not deleted: they expire by themselves.
   */
  async disconnect(): Promise<void> {
    this.#closing = true;
    clearTimeout(this.#retry);
    const channel = this.#channel;
    const connection = this.#connection;
    this.#channel = undefined;
    this.#connection = undefined;
    const active = [...this.#active];
    this.#active.clear();
    if (connection === undefined) return;
    try {
      if (channel !== undefined) {
        for (const { consumer } of active) {
          if (consumer.exchange !== undefined) {
            await channel.unbindQueue(consumer.queue, consumer.exchange, "").catch(() => {});
          }
        }
        await channel.close().catch(() => {});
      }
    } finally {
      await connection.close().catch(() => {});
    }
  }

  #ready(what: string): Channel {
    const channel = this.#channel;
    if (channel === undefined || !this.connected) {
      throw notConnected(what, "AMQP", this.url, this.#down);
    }
    return channel;
  }

  /**
   * Declare a queue (and bind it to its fanout exchange) and consume it.
   *
   * @param consumer What to declare and consume.
   * @returns A handle whose `unsubscribe()` cancels the consumer (and unbinds the queue).
   * @throws {BrokerDisconnectedError} when not connected.
   */
  async subscribe(consumer: QueueConsumer): Promise<TransporterSubscription> {
    this.#ready(`consume "${consumer.queue}"`);
    const active: Active = { consumer, tag: undefined, cancelled: false };
    try {
      await this.#consume(active);
    } catch (error) {
      throw new BrokerDisconnectedError(
        `Cannot consume "${consumer.queue}" on AMQP at ${this.url}: ${toError(error).message}`,
        { url: this.url },
        { cause: error },
      );
    }
    this.#active.add(active);
    return {
      unsubscribe: () => {
        if (!this.#active.delete(active)) return;
        active.cancelled = true;
        const channel = this.#channel;
        if (channel === undefined || active.tag === undefined) return;
        channel.cancel(active.tag).catch(() => {});
        if (consumer.exchange !== undefined && !this.#sharesBinding(consumer)) {
          channel.unbindQueue(consumer.queue, consumer.exchange, "").catch(() => {});
        }
      },
    };
  }

  /** Another consumer still needs the queue's binding to the exchange. */
  #sharesBinding(consumer: QueueConsumer): boolean {
    for (const a of this.#active) {
      if (a.consumer.queue === consumer.queue && a.consumer.exchange === consumer.exchange) {
        return true;
      }
    }
    return false;
  }

  async #consume(active: Active): Promise<void> {
    const channel = this.#channel!;
    const c = active.consumer;
    if (c.exchange !== undefined) {
      await Promise.all([
        this.#assertExchange(channel, c.exchange),
        channel.assertQueue(c.queue, c.queueOptions),
      ]);
      await channel.bindQueue(c.queue, c.exchange, "");
    } else {
      await channel.assertQueue(c.queue, c.queueOptions);
    }
    const { consumerTag } = await channel.consume(
      c.queue,
      (msg) => this.#deliver(channel, active, msg),
      { ...this.#s.consumeOptions, noAck: !c.ack },
    );
    active.tag = consumerTag;
  }

  #assertExchange(channel: Channel, exchange: string): Promise<unknown> {
    if (this.#exchanges.has(exchange)) return Promise.resolve();
    this.#exchanges.add(exchange);
    return channel.assertExchange(exchange, "fanout", this.#s.exchangeOptions).catch((e) => {
      this.#exchanges.delete(exchange);
      throw e;
    });
  }

  #deliver(channel: Channel, active: Active, msg: ConsumeMessage | null): void {
    if (msg === null) return; // cancelled by the server (the queue was deleted)
    const consumer = active.consumer;
    if (active.cancelled) {
      // Back to the queue, for another consumer: a request must not be lost.
      if (consumer.ack && this.#channel === channel) channel.nack(msg, false, true);
      return;
    }
    let result: unknown;
    try {
      result = consumer.handler(msg.content);
    } catch (error) {
      this.#notifyError(error);
    }
    if (!consumer.ack) return;
    // Acknowledged once handled (a request: its response sent), as Moleculer does, so a
    // request whose node dies meanwhile is delivered again, to another node.
    const ack = () => {
      if (this.#channel === channel) channel.ack(msg);
    };
    if (result instanceof Promise) {
      result.then(ack, (error) => {
        this.#notifyError(error);
        if (this.#channel === channel) channel.nack(msg);
      });
    } else {
      ack();
    }
  }

  /**
   * Send bytes to a queue (through the default exchange).
   *
   * @param queue The queue.
   * @param data The payload.
   * @throws {BrokerDisconnectedError} when not connected, including while reconnecting.
   */
  sendToQueue(queue: string, data: Uint8Array): Promise<void> {
    return this.#send(`send to "${queue}"`, (channel) => {
      channel.sendToQueue(queue, toBuffer(data), this.#s.messageOptions);
    });
  }

  /**
   * Publish bytes on a fanout exchange, declaring it first if this client has not.
   *
   * @param exchange The exchange.
   * @param data The payload.
   * @throws {BrokerDisconnectedError} when not connected, including while reconnecting.
   */
  publish(exchange: string, data: Uint8Array): Promise<void> {
    // Publishing to an exchange that does not exist closes the channel: declare it first.
    const declare = this.#exchanges.has(exchange)
      ? undefined
      : (channel: Channel) => this.#assertExchange(channel, exchange);
    return this.#send(`publish to "${exchange}"`, (channel) => {
      channel.publish(exchange, "", toBuffer(data), this.#s.messageOptions);
    }, declare);
  }

  /**
   * Write a message now, or — while an exchange declaration is on its way — after it and the
   * messages already waiting, so every message keeps the publisher's order.
   */
  #send(
    what: string,
    write: (channel: Channel) => void,
    before?: (channel: Channel) => Promise<unknown>,
  ): Promise<void> {
    try {
      const channel = this.#ready(what);
      if (before === undefined && this.#waiting === 0) {
        write(channel);
        return Promise.resolve();
      }
    } catch (error) {
      return Promise.reject(error);
    }
    this.#waiting++;
    const sent = this.#queue.then(async () => {
      if (before !== undefined) await before(this.#ready(what));
      write(this.#ready(what));
    });
    this.#queue = sent.catch(() => {}).finally(() => this.#waiting--);
    return sent;
  }
}

function toBuffer(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
