/**
 * The transporter contract: how packets' bytes move between nodes.
 *
 * A transporter knows nothing of Moleculer packets. It moves opaque bytes on
 * NATS-style subjects (`MOL.REQ.node-1`), with NATS semantics: `*` matches one
 * token, `>` matches the rest, and subscribers sharing a `queue` name each get
 * a message once per group. Transit builds the subjects.
 *
 * @module
 */

/** A live subscription, returned by {@linkcode Transporter.subscribe}. */
export interface TransporterSubscription {
  /** Stop receiving messages on this subscription. Idempotent. */
  unsubscribe(): void;
}

/** Called with the raw bytes of each message that arrives on a subscription. */
export type MessageHandler = (data: Uint8Array, subject: string) => void;

/** Connection-state callbacks a transporter reports to its owner. */
export interface TransporterListener {
  /** The connection came back after a loss (subscriptions are already restored). */
  onReconnect?(): void;
  /** The connection was lost; the client is trying to reconnect. */
  onDisconnect?(): void;
  /** A non-fatal error worth logging. */
  onError?(error: Error): void;
}

/**
 * A way to move bytes between nodes: in-process memory, NATS, and so on.
 *
 * @example Implementing a transporter
 * ```ts ignore
 * const t: Transporter = resolveTransporter("nats://127.0.0.1:4222");
 * await t.connect({});
 * t.subscribe("MOL.INFO", (bytes) => console.log(bytes.length));
 * await t.publish("MOL.INFO", new TextEncoder().encode("{}"));
 * ```
 */
export interface Transporter {
  /** A short name for logs, e.g. `"NATS"` or `"Memory"`. */
  readonly name: string;
  /** True when the transporter supports queue groups (NATS), so `disableBalancer` can work. */
  readonly hasBuiltInBalancer: boolean;
  /** True while connected. */
  readonly connected: boolean;
  /**
   * The largest payload in bytes the transport accepts, or `undefined` when unknown/unbounded.
   * Known only after {@linkcode Transporter.connect}.
   */
  readonly maxPayload: number | undefined;
  /**
   * Open the connection.
   *
   * @param listener Connection-state callbacks.
   * @throws {BrokerDisconnectedError} when the server cannot be reached; the message names the URL and cause.
   */
  connect(listener: TransporterListener): Promise<void>;
  /** Close the connection, flushing what was published. Idempotent. */
  disconnect(): Promise<void>;
  /**
   * Subscribe to a subject (NATS wildcards allowed).
   *
   * @param subject The subject, e.g. `MOL.REQ.node-1` or `MOL.EVENTB.grp.user.>`.
   * @param handler Receives each message's bytes.
   * @param queue Optional queue group: each message goes to one subscriber of the group.
   * @returns A handle to unsubscribe.
   */
  subscribe(subject: string, handler: MessageHandler, queue?: string): TransporterSubscription;
  /**
   * Publish bytes on a subject.
   *
   * @throws {BrokerDisconnectedError} when not connected.
   * @throws {MoleculerError} when the payload exceeds {@linkcode Transporter.maxPayload}.
   */
  publish(subject: string, data: Uint8Array): Promise<void>;
}
