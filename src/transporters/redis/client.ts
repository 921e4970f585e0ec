/**
 * The Redis client side of the Redis transporter: two `ioredis` connections (Pub/Sub needs one
 * of its own for subscribing, as in Moleculer), channel-level publish and subscribe, and the
 * connection state both connections make together.
 *
 * The transporter (`redis.ts`) loads this module by `import()` when it connects, so a broker
 * that never uses Redis never loads `ioredis`.
 *
 * @module
 */

import { notifyListener, reportError } from "../_listener.ts";
import { Buffer } from "node:buffer";
import { Cluster, Redis, type RedisOptions } from "ioredis";
import { BrokerDisconnectedError } from "../../errors.ts";
import { toError } from "../../_util/values.ts";
import type { TransporterListener, TransporterSubscription } from "../transporter.ts";
import type { RedisSettings } from "./options.ts";
import type { TopicClient } from "../topic_transporter.ts";
import { notConnected } from "../_errors.ts";

/** Called with the bytes of each message of a channel. */
export type RedisMessageHandler = (data: Uint8Array) => void;

type Client = Redis | Cluster;

/** How long `disconnect()` waits for `QUIT` before it closes the sockets outright. */
const QUIT_TIMEOUT = 2_000;

/** ioredis' own default, kept when the options give no `retryStrategy`. */
const defaultRetry = (times: number): number => Math.min(times * 50, 2_000);

/** A channel's handlers: the subscription exists on the server while there is one. */
interface Channel {
  readonly handlers: Set<RedisMessageHandler>;
  /** Settles once the server confirmed the SUBSCRIBE. */
  ready: Promise<unknown>;
}

/**
 * A publishing and a subscribing `ioredis` connection to one server (or cluster).
 *
 * - The first connection is bounded: a refused connection or a rejected password reject
 *   {@linkcode RedisClient.connect} with a {@linkcode BrokerDisconnectedError} naming the URL
 *   and the cause.
 * - Afterwards each connection reconnects by itself (`retryStrategy`, ioredis' default:
 *   50 ms more per attempt, at most 2 s); once both are back, the channels are subscribed again
 *   and only then is `listener.onReconnect` called.
 * - While either is down, {@linkcode RedisClient.publish} rejects with
 *   {@linkcode BrokerDisconnectedError}: nothing waits in an offline queue to be sent late.
 */
export class RedisClient implements TopicClient {
  /** The server(s), without credentials. */
  readonly url: string;
  readonly #settings: RedisSettings;
  #listener: TransporterListener = {};
  #pub: Client | undefined;
  #sub: Client | undefined;
  readonly #channels = new Map<string, Channel>();
  #ever = false;
  #down = false;
  /** False from a loss until the subscribing connection has its channels again. */
  #resubscribed = true;
  #closing = false;
  #lastError: Error | undefined;
  /** Publishes of the current microtask run, written together (see `publish`). */
  #batch: [string, Buffer][] | undefined;

  /**
   * Create the client; nothing connects until {@linkcode RedisClient.connect}.
   *
   * @param settings The checked options.
   */
  constructor(settings: RedisSettings) {
    this.url = settings.url;
    this.#settings = settings;
  }

  /** True while both connections are ready. */
  get connected(): boolean {
    return this.#pub?.status === "ready" && this.#sub?.status === "ready" &&
      !this.#down &&
      !this.#closing;
  }

  /**
   * Open both connections; resolves once both are ready.
   *
   * @param listener Connection-state callbacks.
   * @throws {BrokerDisconnectedError} when the server cannot be reached or refuses the login.
   */
  async connect(listener: TransporterListener): Promise<void> {
    this.#listener = listener;
    if (this.#pub !== undefined) return;
    this.#closing = false;
    this.#ever = false;
    const pub = this.#create("pub");
    const sub = this.#create("sub");
    this.#pub = pub;
    this.#sub = sub;
    try {
      await Promise.all([pub.connect(), sub.connect()]);
    } catch (error) {
      this.#pub = this.#sub = undefined;
      pub.disconnect();
      sub.disconnect();
      const cause = this.#lastError ?? toError(error);
      throw new BrokerDisconnectedError(
        `Cannot connect to Redis at ${this.url}: ${cause.message || cause.name}`,
        { url: this.url },
        { cause },
      );
    }
    this.#ever = true;
    sub.on(
      "messageBuffer",
      (channel: Buffer, message: Buffer) => this.#deliver(channel, message),
    );
  }

  #create(role: "pub" | "sub"): Client {
    const s = this.#settings;
    const userRetry = s.options.retryStrategy as
      | ((times: number) => number | null)
      | undefined;
    const options: RedisOptions = {
      ...(s.options as RedisOptions),
      lazyConnect: true,
      enableOfflineQueue: false,
      autoResubscribe: false,
      // The first connection fails fast (connect() reports it); later losses are retried.
      retryStrategy: (times) => this.#ever ? (userRetry ?? defaultRetry)(times) : null,
    };
    const client: Client = s.cluster
      ? new Cluster(s.cluster.nodes as never, {
        ...s.cluster.clusterOptions,
        lazyConnect: true,
        enableOfflineQueue: false,
        redisOptions: {
          ...options,
          ...(s.cluster.clusterOptions.redisOptions ?? {}),
        },
      })
      : s.connectionString !== undefined
      ? new Redis(s.connectionString, options)
      : new Redis(options);
    client.on("error", (error: Error) => {
      this.#lastError = error;
      if (this.#ever && !this.#closing) this.#notifyError(error);
    });
    client.on("close", () => this.#lost());
    client.on("ready", () => void this.#back(role));
    return client;
  }

  #lost(): void {
    if (!this.#ever || this.#closing || this.#down) return;
    this.#down = true;
    this.#resubscribed = false;
    this.#notify("onDisconnect");
  }

  async #back(role: "pub" | "sub"): Promise<void> {
    if (!this.#ever || this.#closing || !this.#down) return;
    if (role === "sub") {
      try {
        if (this.#channels.size > 0) await this.#sub!.subscribe(...this.#channels.keys());
        this.#resubscribed = true;
      } catch (error) {
        // The connection went away again; its next "ready" tries again.
        this.#notifyError(error);
        return;
      }
    }
    if (
      this.#pub?.status === "ready" && this.#sub?.status === "ready" && this.#resubscribed &&
      this.#down
    ) {
      this.#down = false;
      this.#notify("onReconnect");
    }
  }

  #deliver(channel: Buffer, message: Buffer): void {
    const entry = this.#channels.get(channel.toString());
    if (entry === undefined) return;
    for (const handler of entry.handlers) {
      try {
        handler(message);
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

  /** Close both connections (`QUIT`, bounded); idempotent. */
  async disconnect(): Promise<void> {
    const clients = [this.#pub, this.#sub].filter((c): c is Client => c !== undefined);
    if (clients.length === 0) return;
    this.#closing = true;
    this.#pub = this.#sub = undefined;
    this.#channels.clear();
    await Promise.all(clients.map(async (client) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await Promise.race([
          client.quit(),
          new Promise((_, reject) => timer = setTimeout(reject, QUIT_TIMEOUT)),
        ]);
      } catch {
        // Down, or too slow: close the socket.
      } finally {
        clearTimeout(timer);
        client.disconnect();
      }
    }));
    this.#down = false;
  }

  /**
   * Receive the messages of a channel.
   *
   * @param channel The channel.
   * @param handler Receives each message's bytes.
   * @returns A handle whose `unsubscribe()` stops delivery (idempotent); once the server has
   *   confirmed the subscription.
   * @throws {BrokerDisconnectedError} when not connected.
   */
  async subscribe(
    channel: string,
    handler: RedisMessageHandler,
  ): Promise<TransporterSubscription> {
    const sub = this.#sub;
    if (sub === undefined || this.#closing || !this.connected) {
      throw new BrokerDisconnectedError(
        `Cannot subscribe to "${channel}": not connected to Redis at ${this.url}`,
        { url: this.url },
      );
    }
    let entry = this.#channels.get(channel);
    if (entry === undefined) {
      const created: Channel = {
        handlers: new Set(),
        ready: Promise.resolve(),
      };
      created.ready = sub.subscribe(channel);
      this.#channels.set(channel, entry = created);
    }
    entry.handlers.add(handler);
    try {
      await entry.ready;
    } catch (error) {
      throw new BrokerDisconnectedError(
        `Cannot subscribe to "${channel}" on Redis at ${this.url}: ${toError(error).message}`,
        { url: this.url },
        { cause: error },
      );
    }
    let active = true;
    return {
      unsubscribe: () => {
        if (!active) return;
        active = false;
        const current = this.#channels.get(channel);
        if (current === undefined) return;
        current.handlers.delete(handler);
        if (current.handlers.size > 0) return;
        this.#channels.delete(channel);
        if (this.connected) this.#sub?.unsubscribe(channel).catch(() => {});
      },
    };
  }

  /**
   * Publish bytes on a channel.
   *
   * @param channel The channel.
   * @param data The payload.
   * @returns A promise that resolves once the command is written.
   * @throws {BrokerDisconnectedError} when not connected, including while reconnecting.
   */
  publish(channel: string, data: Uint8Array): Promise<void> {
    const pub = this.#pub;
    if (pub === undefined || !this.connected) {
      return Promise.reject(notConnected(`publish to "${channel}"`, "Redis", this.url, this.#down));
    }
    // Not awaited: the reply (the number of receivers) says nothing the caller needs, and
    // commands keep their order on the connection. A failure is reported, never silent.
    const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (this.#batch !== undefined) {
      this.#batch.push([channel, buffer]);
    } else {
      // The publishes of one run of microtasks (many, under load) go out in one write, as a
      // pipeline; a lone one goes at once. ioredis' own auto-pipelining waits for a
      // setImmediate, which costs a lone call ~0.1 ms.
      this.#batch = [[channel, buffer]];
      queueMicrotask(() => this.#flush(pub));
    }
    return Promise.resolve();
  }

  #flush(pub: Client): void {
    const batch = this.#batch!;
    this.#batch = undefined;
    const failed = (error: unknown) => this.#notifyError(error);
    if (batch.length === 1) {
      pub.publish(batch[0]![0], batch[0]![1]).catch(failed);
      return;
    }
    const pipeline = pub.pipeline();
    for (const [channel, buffer] of batch) pipeline.publish(channel, buffer);
    pipeline.exec().catch(failed);
  }
}
