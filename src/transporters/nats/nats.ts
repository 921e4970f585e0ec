/**
 * The NATS transporter: joins a Moleculer cluster through a NATS server.
 *
 * Its options are checked when it is constructed; the NATS client (`client.ts`, built on
 * `@nats-io/nats-core`) loads by `import()` on the first {@linkcode NatsTransporter.connect}.
 * Moleculer nodes using `transporter: "nats://…"` on the same server and namespace see this node
 * as a peer.
 *
 * @example Connect to a server
 * ```ts ignore
 * import { NatsTransporter } from "./nats.ts";
 *
 * const nats = new NatsTransporter("nats://user:secret@127.0.0.1:4222");
 * await nats.connect({
 *   onDisconnect: () => console.log("lost NATS, reconnecting"),
 *   onReconnect: () => console.log("back"),
 *   onError: (e) => console.error(e),
 * });
 * nats.subscribe("MOL.INFO", (bytes) => console.log(bytes.length));
 * await nats.publish("MOL.INFO", new TextEncoder().encode("{}"));
 * await nats.disconnect();
 * ```
 *
 * @module
 */

import { BrokerDisconnectedError } from "../../errors.ts";
import type {
  MessageHandler,
  Transporter,
  TransporterListener,
  TransporterSubscription,
} from "../transporter.ts";
import type { NatsClient } from "./client.ts";
import { type NatsSettings, type NatsTransporterOptions, resolveNatsSettings } from "./options.ts";

/**
 * A transporter over NATS, compatible with Moleculer's NATS transporter.
 *
 * - Queue groups are native (`hasBuiltInBalancer: true`).
 * - The first connection attempt is bounded: a refused connection, bad credentials or a handshake
 *   timeout reject {@linkcode NatsTransporter.connect} with a {@linkcode BrokerDisconnectedError}
 *   naming the URL and the cause.
 * - Once connected, the client reconnects by itself (forever by default) and restores the
 *   subscriptions; `listener.onDisconnect` / `onReconnect` report it.
 * - While the connection is down, {@linkcode NatsTransporter.publish} rejects with
 *   {@linkcode BrokerDisconnectedError}: the nats.js client would accept the message but drop it
 *   silently on its next reconnect attempt.
 *
 * @example From a URL with credentials
 * ```ts ignore
 * import { NatsTransporter } from "./nats.ts";
 *
 * const t = new NatsTransporter("nats://user:secret@nats-1:4222,nats://nats-2:4222");
 * await t.connect({ onError: console.error });
 * console.log(t.maxPayload); // e.g. 1048576
 * await t.disconnect();
 * ```
 */
export class NatsTransporter implements Transporter {
  /** `"NATS"`. */
  readonly name: string = "NATS";
  /** Always `true`: NATS queue groups balance requests and events. */
  readonly hasBuiltInBalancer: boolean = true;
  /** The server URL(s), without credentials, e.g. `"nats://127.0.0.1:4222"`. */
  readonly url: string;

  readonly #settings: NatsSettings;
  /** The client, once its module is loaded (on the first connect). */
  #client: NatsClient | undefined;
  #loading: Promise<NatsClient> | undefined;

  /**
   * Create a NATS transporter. Nothing loads or connects until {@linkcode NatsTransporter.connect}.
   *
   * @param options A connection string (`parseNatsUrl` of `options.ts`) or options.
   * @throws {BrokerOptionsError} when a server URL is malformed, no server is given, or
   *   `transport` is neither `"deno"` nor `"node"`.
   */
  constructor(options: string | NatsTransporterOptions = {}) {
    this.#settings = resolveNatsSettings(options);
    this.url = this.#settings.url;
  }

  /** True while the connection is up (false while reconnecting, and after disconnect). */
  get connected(): boolean {
    return this.#client?.connected ?? false;
  }

  /** The server's `max_payload` in bytes, known after connect; `undefined` before. */
  get maxPayload(): number | undefined {
    return this.#client?.maxPayload;
  }

  /**
   * Load the NATS client (the first time) and connect to the server(s). Each server is tried
   * once; reconnection after a later loss is left to the client. Calling it while connected (or
   * connecting) does not open a second connection.
   *
   * @param listener Connection-state callbacks.
   * @returns A promise that resolves once connected.
   * @throws {BrokerDisconnectedError} when no server can be reached or authentication fails; the
   *   message names the URL and the cause.
   */
  async connect(listener: TransporterListener): Promise<void> {
    const client = this.#client ?? await this.#load();
    await client.connect(listener);
  }

  #load(): Promise<NatsClient> {
    this.#loading ??= import("./client.ts").then(
      ({ NatsClient }) => this.#client = new NatsClient(this.#settings),
      (error) => {
        this.#loading = undefined; // a later connect() may try again
        throw error;
      },
    );
    return this.#loading;
  }

  /**
   * Close the connection gracefully: subscriptions are drained and pending publishes flushed,
   * then the socket closes. Bounded by `drainTimeout`; when the connection is down it closes at
   * once. Idempotent.
   *
   * @returns A promise that resolves once the connection is closed.
   */
  async disconnect(): Promise<void> {
    // A connect() still loading the client goes first: the client then closes what it opened.
    if (this.#client === undefined) await this.#loading?.catch(() => {});
    await this.#client?.disconnect();
  }

  /**
   * Subscribe to a subject, optionally in a queue group. Subscriptions survive reconnects.
   *
   * @param subject The subject; `*` and `>` wildcards allowed.
   * @param handler Receives each message's bytes and subject. Errors it throws (or rejections it
   *   returns) go to `listener.onError`.
   * @param queue Optional queue group: each message goes to one member of the group.
   * @returns A handle whose `unsubscribe()` stops delivery (idempotent).
   * @throws {BrokerDisconnectedError} when not connected (never connected, or closed).
   * @throws {TypeError} when the subject is malformed.
   */
  subscribe(subject: string, handler: MessageHandler, queue?: string): TransporterSubscription {
    const client = this.#client;
    if (client === undefined) throw this.#notConnected("subscribe to", subject);
    return client.subscribe(subject, handler, queue);
  }

  /**
   * Publish bytes on a subject. Resolves once the message is handed to the client, which sends
   * it on its next flush (same tick).
   *
   * @param subject The subject.
   * @param data The payload.
   * @returns A promise that resolves once the message is queued on the connection.
   * @throws {BrokerDisconnectedError} when not connected, including while reconnecting.
   * @throws {MoleculerError} (500 `MAX_PAYLOAD_EXCEEDED`) when `data` is larger than the server's
   *   `max_payload`.
   */
  publish(subject: string, data: Uint8Array): Promise<void> {
    const client = this.#client;
    if (client === undefined) return Promise.reject(this.#notConnected("publish to", subject));
    return client.publish(subject, data);
  }

  #notConnected(what: string, subject: string): BrokerDisconnectedError {
    return new BrokerDisconnectedError(
      `Cannot ${what} "${subject}": not connected to NATS at ${this.url}`,
      { url: this.url },
    );
  }
}
