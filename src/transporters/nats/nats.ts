/**
 * The NATS transporter: joins a Moleculer cluster through a NATS server.
 *
 * Its options are checked when it is constructed; the NATS client loads by `import()` on the
 * first {@linkcode NatsTransporter.connect}: `client.ts` (built on `@nats-io/nats-core`) for
 * `transport: "deno"` or `"node"`, `wire/client.ts` (the protocol on Deno sockets, no nats.js)
 * for `transport: "wire"`.
 * Moleculer nodes using `transporter: "nats://…"` on the same server and namespace see this node
 * as a peer.
 *
 * Subjects are Moleculer's: `MOL[-<namespace>].<TYPE>[.<nodeID>]` for packets,
 * `…REQB.<action>` (queue group: the action) for balanced requests and
 * `…EVENTB.<group>.<event>` (queue group: the group) for balanced events (`subjects.ts`).
 *
 * @example Connect to a server
 * ```ts ignore
 * import { NatsTransporter } from "./nats.ts";
 *
 * const nats = new NatsTransporter("nats://user:secret@127.0.0.1:4222");
 * await nats.connect({
 *   namespace: "",
 *   prefix: "MOL",
 *   nodeID: "node-1",
 *   receive: (type, bytes) => console.log(type, bytes.length),
 *   onDisconnect: () => console.log("lost NATS, reconnecting"),
 *   onReconnect: () => console.log("back"),
 *   onError: (e) => console.error(e),
 * });
 * await nats.subscribe("INFO"); // MOL.INFO
 * await nats.publish("INFO", undefined, new TextEncoder().encode("{}"));
 * await nats.disconnect();
 * ```
 *
 * @module
 */

import { BrokerDisconnectedError } from "../../errors.ts";
import type { PacketType } from "../../core/protocol.ts";
import {
  balancedEventPattern,
  balancedEventSubject,
  balancedRequestSubject,
  packetSubject,
} from "../subjects.ts";
import type { Transporter, TransporterHost, TransporterSubscription } from "../transporter.ts";
import type { NatsClient } from "./client.ts";
import type { WireClient } from "./wire/client.ts";
import { type NatsSettings, type NatsTransporterOptions, resolveNatsSettings } from "./options.ts";

/**
 * A transporter over NATS, compatible with Moleculer's NATS transporter.
 *
 * - Queue groups are native (`hasBuiltInBalancer: true`).
 * - The first connection attempt is bounded: a refused connection, bad credentials or a handshake
 *   timeout reject {@linkcode NatsTransporter.connect} with a {@linkcode BrokerDisconnectedError}
 *   naming the URL and the cause.
 * - Once connected, the client reconnects by itself (forever by default) and restores the
 *   subscriptions; `host.onDisconnect` / `onReconnect` report it.
 * - While the connection is down, {@linkcode NatsTransporter.publish} rejects with
 *   {@linkcode BrokerDisconnectedError}: the nats.js client would accept the message but drop it
 *   silently on its next reconnect attempt.
 *
 * @example From a URL with credentials
 * ```ts ignore
 * import { NatsTransporter } from "./nats.ts";
 *
 * const t = new NatsTransporter("nats://user:secret@nats-1:4222,nats://nats-2:4222");
 * await t.connect({ namespace: "", prefix: "MOL", nodeID: "n1", receive: () => {} });
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
  #client: NatsClient | WireClient | undefined;
  #loading: Promise<NatsClient | WireClient> | undefined;
  #host: TransporterHost | undefined;

  /**
   * Create a NATS transporter. Nothing loads or connects until {@linkcode NatsTransporter.connect}.
   *
   * @param options A connection string (`parseNatsUrl` of `options.ts`) or options.
   * @throws {BrokerOptionsError} when a server URL is malformed, no server is given, or
   *   `transport` is not `"deno"`, `"node"` or `"wire"`.
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
   * @param host This node, where its packets go, and the connection-state callbacks.
   * @returns A promise that resolves once connected.
   * @throws {BrokerDisconnectedError} when no server can be reached or authentication fails; the
   *   message names the URL and the cause.
   */
  async connect(host: TransporterHost): Promise<void> {
    this.#host = host;
    const client = this.#client ?? await this.#load();
    await client.connect(host);
  }

  #load(): Promise<NatsClient | WireClient> {
    if (this.#loading !== undefined) return this.#loading;
    // Only the chosen client's module loads: "wire" never loads nats.js, the others never the
    // wire client.
    const settings = this.#settings;
    const made: Promise<NatsClient | WireClient> = settings.transport === "wire"
      ? import("./wire/client.ts").then(({ WireClient }) => new WireClient(settings))
      : import("./client.ts").then(({ NatsClient }) => new NatsClient(settings));
    this.#loading = made.then(
      (client) => this.#client = client,
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
   * Receive the packets of a type: `<prefix>.<TYPE>` (broadcast) or `<prefix>.<TYPE>.<nodeID>`.
   * Subscriptions survive reconnects.
   *
   * @param type The packet type.
   * @param nodeID This node, for targeted packets.
   * @returns The subscription; the server has it once the client flushes (same tick).
   * @throws {BrokerDisconnectedError} when not connected (never connected, or closed).
   */
  subscribe(type: PacketType, nodeID?: string): Promise<TransporterSubscription> {
    return this.#subscribe(type, (prefix) => packetSubject(prefix, type, nodeID));
  }

  /**
   * Join the queue group named after the action on `<prefix>.REQB.<action>`.
   *
   * @param action The full action name.
   * @returns The subscription.
   * @throws {BrokerDisconnectedError} when not connected.
   */
  subscribeBalancedRequest(action: string): Promise<TransporterSubscription> {
    return this.#subscribe("REQ", (prefix) => balancedRequestSubject(prefix, action), action);
  }

  /**
   * Join the queue group `group` on `<prefix>.EVENTB.<group>.<event>`, where `**` and what
   * follows it become `>` (Moleculer's rule; a single `*` is already a NATS one-token wildcard).
   *
   * @param event The event name or pattern.
   * @param group The event group.
   * @returns The subscription.
   * @throws {BrokerDisconnectedError} when not connected.
   */
  subscribeBalancedEvent(event: string, group: string): Promise<TransporterSubscription> {
    return this.#subscribe("EVENT", (prefix) => balancedEventPattern(prefix, group, event), group);
  }

  /**
   * Publish a packet on `<prefix>.<TYPE>` or `<prefix>.<TYPE>.<target>`. Resolves once the
   * message is handed to the client, which sends it on its next flush (same tick).
   *
   * @param type The packet type.
   * @param target The node it is for; `undefined` to broadcast.
   * @param data The payload.
   * @returns A promise that resolves once the message is queued on the connection.
   * @throws {BrokerDisconnectedError} when not connected, including while reconnecting.
   * @throws {MoleculerError} (500 `MAX_PAYLOAD_EXCEEDED`) when `data` is larger than the server's
   *   `max_payload`.
   */
  publish(type: PacketType, target: string | undefined, data: Uint8Array): Promise<void> {
    const client = this.#client;
    const host = this.#host;
    if (client === undefined || host === undefined) return Promise.reject(this.#notConnected());
    return client.publish(packetSubject(host.prefix, type, target), data);
  }

  /**
   * Publish a request on `<prefix>.REQB.<action>`.
   *
   * @param action The full action name.
   * @param data The payload.
   * @returns A promise that resolves once the message is queued on the connection.
   * @throws {BrokerDisconnectedError} when not connected, including while reconnecting.
   * @throws {MoleculerError} (500 `MAX_PAYLOAD_EXCEEDED`) when `data` is too large.
   */
  publishBalancedRequest(action: string, data: Uint8Array): Promise<void> {
    const client = this.#client;
    const host = this.#host;
    if (client === undefined || host === undefined) return Promise.reject(this.#notConnected());
    return client.publish(balancedRequestSubject(host.prefix, action), data);
  }

  /**
   * Publish an event copy on `<prefix>.EVENTB.<group>.<event>`.
   *
   * @param event The concrete event name.
   * @param group The event group.
   * @param data The payload.
   * @returns A promise that resolves once the message is queued on the connection.
   * @throws {BrokerDisconnectedError} when not connected, including while reconnecting.
   * @throws {MoleculerError} (500 `MAX_PAYLOAD_EXCEEDED`) when `data` is too large.
   */
  publishBalancedEvent(event: string, group: string, data: Uint8Array): Promise<void> {
    const client = this.#client;
    const host = this.#host;
    if (client === undefined || host === undefined) return Promise.reject(this.#notConnected());
    return client.publish(balancedEventSubject(host.prefix, group, event), data);
  }

  #subscribe(
    type: PacketType,
    subject: (prefix: string) => string,
    queue?: string,
  ): Promise<TransporterSubscription> {
    const client = this.#client;
    const host = this.#host;
    if (client === undefined || host === undefined) return Promise.reject(this.#notConnected());
    try {
      return Promise.resolve(
        client.subscribe(subject(host.prefix), (data) => this.#host!.receive(type, data), queue),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #notConnected(): BrokerDisconnectedError {
    return new BrokerDisconnectedError(`Not connected to NATS at ${this.url}`, { url: this.url });
  }
}
