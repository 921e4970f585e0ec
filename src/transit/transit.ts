/**
 * Transit: the protocol engine. It turns calls and events into packets, runs discovery, and
 * dispatches incoming packets; the pending tables (`pending.ts`), heartbeats (`liveness.ts`),
 * the nodeID-conflict probe (`node_conflict.ts`) and the `disableBalancer` subscriptions
 * (`balanced.ts`) are its parts. Web-standard APIs only.
 *
 * @module
 */

import type { PongResult } from "../core/broker_api.ts";
import type { Context } from "../core/context.ts";
import type {
  MiddlewareRegistry,
  TransitHandlers,
  TransitPacket,
  TransporterSendMeta,
} from "../core/middleware.ts";
import type { PacketPayload, Serializer } from "../serializers/serializer.ts";
import type {
  GossipHost,
  Transporter,
  TransporterHost,
  TransporterSubscription,
} from "../transporters/transporter.ts";
import {
  BrokerDisconnectedError,
  MoleculerError,
  QueueIsFullError,
  RequestRejectedError,
  toPlain,
} from "../errors.ts";
import { delay, isPromiseLike } from "../_util/async.ts";
import { BalancedSubscriptions } from "./balanced.ts";
import { Liveness } from "./liveness.ts";
import { NodeConflict } from "./node_conflict.ts";
import {
  decodeEvent,
  decodeRequest,
  eventPayload,
  isStreamPacket,
  PacketDecoder,
  type RequestPacket,
  requestPayload,
  type ScreenedPayload,
  SUBSCRIPTIONS,
  topicPrefix,
} from "./packets.ts";
import { printable } from "../_util/values.ts";
import { PacketType } from "../core/protocol.ts";
import type { RequestOutcome, TransitHost, TransitOptions } from "./host.ts";
import { PendingPings, PendingRequests } from "./pending.ts";
import { WarnLimiter } from "./warn_limiter.ts";
import { nodeInfoProblem } from "./node_info.ts";
import { ForeignPackets } from "./foreign.ts";

/** What transit needs of the broker's middlewares: its four hooks, wrapped in Moleculer's order. */
export type TransitMiddlewares = Pick<MiddlewareRegistry, "has" | "wrapTransit" | "namesWith">;

const TRANSIT_HOOKS = [
  "transitPublish",
  "transitMessageHandler",
  "transporterSend",
  "transporterReceive",
] as const;

/** True when `err` is a transmit middleware's "cannot read this packet" (no import of them). */
function isUnreadable(err: unknown): err is MoleculerError {
  return err instanceof MoleculerError && err.type === "TRANSMIT_UNREADABLE";
}
import {
  DEFAULT_MAX_CHUNK_SIZE,
  DEFAULT_MAX_STREAM_BUFFER,
  type IncomingStream,
  Streams,
} from "./streams.ts";
import { isStream, toReadableStream } from "../core/stream_source.ts";

/**
 * Name the packet in a transporter's `MAX_PAYLOAD_EXCEEDED` error ("The response of 'a.b' is
 * too large: Packet of 10102 bytes exceeds the NATS server's max_payload of 4096 bytes"); other
 * errors pass unchanged.
 */
function tooLarge(err: unknown, what: string, data: Record<string, unknown>): unknown {
  if (!(err instanceof MoleculerError) || err.type !== "MAX_PAYLOAD_EXCEEDED") return err;
  const extra = typeof err.data === "object" && err.data !== null ? err.data : {};
  return new MoleculerError(
    `${what} is too large: ${err.message}`,
    err.code,
    err.type,
    { ...extra, ...data },
    { cause: err },
  );
}

/** The protocol engine between a broker and its transporter. */
export class Transit {
  readonly #host: TransitHost;
  readonly #transporter: Transporter;
  readonly #serializer: Serializer;
  readonly #opts: TransitOptions;
  readonly #prefix: string;
  readonly #pending = new PendingRequests();
  readonly #pings = new PendingPings();
  readonly #liveness: Liveness;
  readonly #conflict: NodeConflict;
  readonly #balanced: BalancedSubscriptions;
  readonly #warnings: WarnLimiter;
  readonly #decoder: PacketDecoder;
  readonly #foreign: ForeignPackets;
  /** The middlewares' hooks, wrapped; undefined when none defines one (the direct path). */
  readonly #hooks: TransitHandlers | undefined;
  readonly #streams: Streams;
  readonly #subs: TransporterSubscription[] = [];
  readonly #stopSignal = new AbortController();
  #connected = false;
  #ready = false;
  #stopping = false;
  #announceTimer: ReturnType<typeof setTimeout> | undefined;
  #sendEmptyInfo = false;
  /** False once a gossiping transporter took node liveness over (`disableHeartbeat`). */
  #heartbeats = true;

  /**
   * Create the engine; the broker does this when a transporter is set.
   *
   * @param host The broker side.
   * @param transporter The packet mover.
   * @param serializer The payload codec.
   * @param opts Options.
   * @param middlewares The broker's middlewares, for the `transitPublish`,
   *   `transitMessageHandler`, `transporterSend` and `transporterReceive` hooks.
   */
  constructor(
    host: TransitHost,
    transporter: Transporter,
    serializer: Serializer,
    opts: TransitOptions,
    middlewares?: TransitMiddlewares,
  ) {
    this.#host = host;
    this.#transporter = transporter;
    this.#serializer = serializer;
    this.#opts = opts;
    this.#prefix = topicPrefix(opts.namespace);
    this.#warnings = new WarnLimiter((message) => host.logger.warn(message));
    this.#foreign = new ForeignPackets(
      serializer.name,
      middlewares?.namesWith("transporterReceive") ?? [],
      this.#warnings,
      host.logger,
    );
    this.#decoder = new PacketDecoder(
      serializer,
      opts,
      this.#warnings,
      host.logger,
      (type, data, err) => this.#foreign.undecodable(type, data, err),
    );
    this.#hooks = middlewares && TRANSIT_HOOKS.some((h) => middlewares.has(h))
      ? this.#wrapHooks(middlewares)
      : undefined;
    this.#balanced = new BalancedSubscriptions(transporter, host.logger);
    this.#streams = new Streams({
      nodeID: host.nodeID,
      version: opts.protocolVersion,
      binary: serializer.name !== "JSON",
      maxChunkSize: opts.maxChunkSize ?? DEFAULT_MAX_CHUNK_SIZE,
      maxBuffer: opts.maxStreamBuffer ?? DEFAULT_MAX_STREAM_BUFFER,
      send: (type, nodeID, payload) => this.#send(type, nodeID, payload),
      encode: (payload) => this.#encode(payload),
      publish: (type, nodeID, bytes) =>
        this.#conflict.found !== undefined
          ? Promise.resolve()
          : this.#transporter.publish(type, nodeID, bytes),
      ping: (nodeID, timeout) => this.ping(nodeID, timeout),
      isDeno: (nodeID) => host.registry.nodes.get(nodeID)?.client.type === "deno",
      warn: (key, message) => this.#warnings.warn(key, message),
    });
    this.#liveness = new Liveness({
      registry: host.registry,
      logger: host.logger,
      isConnected: () => this.connected,
      cpuUsage: () => host.cpuUsage(),
      sendHeartbeat: (cpu) => this.#sendQuiet(PacketType.HEARTBEAT, undefined, { cpu }),
      discover: (nodeID) => this.#sendQuiet(PacketType.DISCOVER, nodeID, {}),
      nodeLost: (nodeID) => this.#nodeGone(nodeID, true),
    }, opts);
    this.#conflict = new NodeConflict({
      nodeID: host.nodeID,
      instanceID: host.instanceID,
      logger: host.logger,
      isReady: () => this.#ready,
      isStopping: () => this.#stopping,
      announce: () => this.#sendInfo(),
      answerDiscover: () => this.#sendInfo(host.nodeID),
      sendPing: (id) => this.#sendQuiet(PacketType.PING, host.nodeID, { time: Date.now(), id }),
      sendPong: (time, id) =>
        this.#sendQuiet(PacketType.PONG, host.nodeID, {
          time,
          id,
          arrived: Date.now(),
          instanceID: host.instanceID,
        }),
      isOwnPing: (id) => this.#pings.has(id),
      yieldNodeID: (other) => host.nodeIDConflict(other),
      warn: (key, message) => this.#warnings.warn(key, message),
    }, opts);
  }

  /** True while the transporter is connected. */
  get connected(): boolean {
    return this.#connected && this.#transporter.connected;
  }

  /** True once local services are started and announced. */
  get isReady(): boolean {
    return this.#ready;
  }

  /** True once the stop sequence has begun: incoming requests are refused. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /** Number of requests waiting for a response. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Number of streams being sent or received. */
  get streamCount(): number {
    return this.#streams.size;
  }

  // ---- lifecycle ----

  /**
   * Connect, subscribe, discover the cluster and start heartbeats.
   *
   * @throws {BrokerDisconnectedError} when the transporter cannot connect.
   * @throws {MoleculerError} type `NODE_ID_CONFLICT` when a running node already uses this
   *   nodeID (it answered our DISCOVER); nothing has been announced and nothing more is sent.
   */
  async connect(): Promise<void> {
    await this.#serializer.init?.();
    const nodeID = this.#host.nodeID;
    await this.#transporter.connect({
      namespace: this.#opts.namespace,
      prefix: this.#prefix,
      nodeID,
      receive: this.#hooks
        ? (type, data) => this.#receiveHooked(type, data)
        : (type, data) => this.#onMessage(type, data),
      onDisconnect: () => {
        this.#host.logger.warn("Transporter disconnected; the client is reconnecting");
        this.#failPending();
        this.#host.transporterDisconnected();
      },
      onReconnect: () => {
        this.#host.logger.info("Transporter reconnected; announcing this node again");
        // Our DISCOVER below makes every node answer, and so be heard again.
        this.#liveness.reconnected();
        this.#host.transporterConnected(true);
        if (this.#ready) this.#sendInfo();
        this.#sendQuiet(PacketType.DISCOVER, undefined, {});
      },
      onError: (err) =>
        this.#warnings.warn(
          `transporter ${err.message}`,
          `Transporter error: ${printable(err.message, 200)}`,
        ),
      ...this.#gossipHost(),
    });
    // Issued at once, in Moleculer's order; the first failure fails the connect (what did
    // subscribe is undone by disconnect()).
    const subscribed = await Promise.allSettled(
      SUBSCRIPTIONS.map(([type, own]) =>
        this.#transporter.subscribe(type, own ? nodeID : undefined)
      ),
    );
    for (const r of subscribed) if (r.status === "fulfilled") this.#subs.push(r.value);
    for (const r of subscribed) if (r.status === "rejected") throw r.reason;
    this.#connected = true;
    // A node already running under our nodeID answers this DISCOVER with its INFO (see
    // #onMessage), so a conflict is found here, before this node announces anything.
    this.#sendQuiet(PacketType.DISCOVER, undefined, {});
    await delay(this.#opts.discoverWaitTime, this.#stopSignal.signal);
    const holder = this.#conflict.found;
    if (holder !== undefined) {
      throw new MoleculerError(
        `Another node already runs with the nodeID '${nodeID}' ` +
          `(instance ${holder}): give every node a unique nodeID`,
        500,
        "NODE_ID_CONFLICT",
        { nodeID, instanceID: holder },
      );
    }
    this.#host.transporterConnected(false);
    if (this.#heartbeats) this.#liveness.start();
  }

  /** What a gossiping transporter gets beyond the plain host (`GossipHost`). */
  #gossipHost(): Omit<GossipHost, keyof TransporterHost> {
    const registry = this.#host.registry;
    return {
      protocolVersion: this.#opts.protocolVersion,
      nodes: registry.nodes,
      localNode: registry.localNode,
      localInfo: () => this.#infoPayload(),
      cpuUsage: () => this.#host.cpuUsage(),
      encode: (payload) => this.#encode(payload),
      decode: (data) => this.#serializer.deserialize(data),
      addOfflineNode: (nodeID, host) => {
        const known = registry.nodes.get(nodeID);
        if (known) return known;
        const node = {
          id: nodeID,
          instanceID: null,
          available: false,
          local: false,
          lastHeartbeatTime: 0,
          cpu: null,
          cpuSeq: 0,
          seq: 0,
          client: {},
          ipList: [host],
          hostname: host,
          config: {},
          metadata: {},
          offlineSince: Date.now(),
          services: [],
        };
        registry.nodes.set(nodeID, node);
        return node;
      },
      nodeInfo: (nodeID, info) => this.#onInfo(nodeID, info),
      nodeDisconnected: (nodeID, unexpected) => this.#nodeGone(nodeID, unexpected),
      disableHeartbeat: () => {
        this.#heartbeats = false;
        this.#liveness.stop();
      },
    };
  }

  /** Mark this node ready: it answers DISCOVER and announces its services. */
  ready(): void {
    this.#ready = true;
    this.#sendInfo();
  }

  /**
   * The local services changed: announce them (debounced) once ready.
   */
  servicesChanged(): void {
    if (!this.#ready || this.#stopping) return;
    if (this.#announceTimer !== undefined) clearTimeout(this.#announceTimer);
    this.#announceTimer = setTimeout(() => {
      this.#announceTimer = undefined;
      this.#sendInfo();
    }, this.#opts.serviceChangedDebounceTime);
  }

  /**
   * First half of the stop sequence: announce no services, wait `stopDelay`,
   * then refuse new requests. The broker stops its services after this.
   */
  async beginStop(): Promise<void> {
    if (this.#stopping) return;
    if (this.#announceTimer !== undefined) clearTimeout(this.#announceTimer);
    this.#announceTimer = undefined;
    if (this.connected && this.#ready) {
      this.#sendEmptyInfo = true;
      this.#host.registry.localNode.seq++;
      this.#sendInfo();
      await delay(this.#opts.stopDelay);
    }
    this.#stopping = true;
  }

  /** Second half: send DISCONNECT, reject what is pending, close the transporter. */
  async disconnect(): Promise<void> {
    this.#stopping = true;
    this.#stopSignal.abort();
    this.#liveness.stop();
    if (this.#announceTimer !== undefined) clearTimeout(this.#announceTimer);
    this.#conflict.stop();
    this.#pings.clear();
    if (this.connected) {
      await this.#send(PacketType.DISCONNECT, undefined, {});
    }
    this.#pending.rejectAll((req) =>
      new RequestRejectedError({ action: req.action, nodeID: req.nodeID ?? "" })
    );
    this.#streams.failAll("The broker stopped while the stream was open");
    for (const sub of this.#subs) sub.unsubscribe();
    this.#subs.length = 0;
    this.#balanced.clear();
    this.#connected = false;
    this.#ready = false;
    await this.#transporter.disconnect();
  }

  // ---- sending ----

  /**
   * Send a packet to one node, or to all when `target` is undefined. After a nodeID conflict,
   * packets under our nodeID would be taken for the other node's (a DISCONNECT would mark it
   * offline everywhere): nothing is sent, as an exited process would.
   */
  #send(type: PacketType, target: string | undefined, payload: PacketPayload): Promise<void> {
    if (this.#hooks) return this.#hooks.transitPublish({ type, target: target ?? null, payload });
    if (this.#conflict.found !== undefined) return Promise.resolve();
    let bytes: Uint8Array;
    try {
      bytes = this.#encode(payload);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#transporter.publish(type, target, bytes);
  }

  /** Sign a packet with our protocol version and nodeID, and serialize it. */
  #encode(payload: PacketPayload): Uint8Array {
    payload.ver = this.#opts.protocolVersion;
    payload.sender = this.#host.nodeID;
    return this.#serializer.serialize(payload);
  }

  /** Send a packet whose failure is only worth a (rate-limited) warning. */
  #sendQuiet(type: PacketType, target: string | undefined, payload: PacketPayload): void {
    this.#send(type, target, payload).catch((err) =>
      this.#warnings.warn(`send ${type}`, `Cannot send ${type}: ${(err as Error).message}`)
    );
  }

  /**
   * The connection is lost, and the responses in flight with it (NATS keeps nothing for a
   * subscriber that is away): fail the waiting requests now, not at their timeout (or never,
   * without one). The error is retryable.
   */
  #failPending(): void {
    this.#streams.failAll(
      "The transporter disconnected while the stream was open",
    );
    this.#pending.rejectAll((req) =>
      new BrokerDisconnectedError(
        `The transporter disconnected while '${req.action}' waited for its response` +
          (req.nodeID ? ` from '${req.nodeID}'` : ""),
        { action: req.action, nodeID: req.nodeID },
      )
    );
  }

  #infoPayload(): PacketPayload {
    const node = this.#host.registry.localNode;
    return {
      services: this.#sendEmptyInfo ? [] : this.#host.registry.localServicesInfo(),
      ipList: node.ipList,
      hostname: node.hostname,
      client: node.client,
      config: {},
      instanceID: node.instanceID,
      metadata: node.metadata,
      seq: node.seq,
    };
  }

  #sendInfo(target?: string): void {
    if (!this.connected || !this.#ready) return;
    const payload = this.#infoPayload();
    // As Moleculer: a broadcast INFO (not a reply to DISCOVER) first syncs the balanced
    // subscriptions with the services it announces (none in the INFO sent at stop), and goes
    // once they are made.
    if (target === undefined && this.#opts.disableBalancer) {
      const made = this.#balanced.sync(payload.services as Record<string, unknown>[]);
      void made.then(() => {
        if (this.connected) this.#sendQuiet(PacketType.INFO, target, payload);
      });
      return;
    }
    this.#sendQuiet(PacketType.INFO, target, payload);
  }

  /**
   * Send a request to a remote node and wait for the response.
   *
   * @param ctx The call's context; `ctx.nodeID` is the target node, or null to publish a
   *   balanced request to the action's queue (`disableBalancer`); `ctx.nodeID` is then set to
   *   the node that responds, as in Moleculer.
   * @param action The full action name.
   * @returns The response data; the response meta is merged into `ctx.meta`.
   * @throws {BrokerDisconnectedError} when not connected, when the connection is lost before
   *   the response comes, or when the target has not been heard from since a reconnect.
   * @throws {QueueIsFullError} when too many requests are pending.
   * @throws {RequestTimeoutError} when `ctx.timeout` passes first.
   * @throws {RequestRejectedError} when the target node goes away.
   */
  request(ctx: Context, action: string): Promise<unknown> {
    const nodeID = ctx.nodeID;
    if (!this.connected) {
      return Promise.reject(new BrokerDisconnectedError(undefined, { action, nodeID }));
    }
    if (nodeID && this.#liveness.isUnheard(nodeID)) {
      return Promise.reject(
        new BrokerDisconnectedError(
          `Node '${nodeID}' has not been heard from since the transporter reconnected`,
          { action, nodeID },
        ),
      );
    }
    if (this.#pending.size >= this.#opts.maxQueueSize) {
      return Promise.reject(
        new QueueIsFullError({
          action,
          nodeID: nodeID ?? this.#host.nodeID,
          size: this.#pending.size,
          limit: this.#opts.maxQueueSize,
        }),
      );
    }
    const id = ctx.id;
    if (ctx.stream !== null) return this.#requestStream(ctx, action, nodeID);
    const response = this.#pending.add(ctx, action);
    const payload = requestPayload(ctx, action, this.#opts.protocolVersion);
    const sent = nodeID
      ? this.#send(PacketType.REQUEST, nodeID, payload)
      : this.#hooks
      ? this.#hooks.transitPublish({ type: PacketType.REQUEST, target: null, payload })
      : this.#sendBalanced(payload, (bytes) =>
        this.#transporter.publishBalancedRequest(action, bytes));
    sent.catch((err) =>
      this.#pending.fail(id, tooLarge(err, `The request of '${action}'`, { action, nodeID }))
    );
    return response;
  }

  /**
   * A request with a stream: the REQ goes with `seq` 0, then the stream's chunks. The stream stops
   * when the call fails (a timeout tells the serving node, which fails its `ctx.stream` too), and
   * when its reader cancels it; a successful response lets it run to its end, as in Moleculer.
   */
  #requestStream(
    ctx: Context,
    action: string,
    nodeID: string | null,
  ): Promise<unknown> {
    const source = ctx.stream!;
    if (nodeID === null) {
      // Each chunk would be balanced to any node of the queue.
      return Promise.reject(
        new MoleculerError(
          `'${action}' was called with a stream without a target node: with disableBalancer, ` +
            "give the call a nodeID",
          400,
          "STREAM_NEEDS_NODE",
          { action },
        ),
      );
    }
    const id = ctx.id;
    const response = this.#pending.add(ctx, action);
    const payload = requestPayload(ctx, action, this.#opts.protocolVersion);
    delete payload.stream;
    // Protocol 4 sends the stream as the params (Moleculer 0.14); 5 sends the params too.
    if (
      this.#opts.protocolVersion === "4" ||
      payload.params instanceof ReadableStream
    ) {
      payload.params = this.#opts.protocolVersion === "4" ? null : {};
    }
    this.#streams.send({
      id,
      nodeID,
      action,
      kind: "request",
      payload,
      timeout: null,
    }, source)
      .catch((err) =>
        this.#pending.fail(
          id,
          tooLarge(err, `The request of '${action}'`, { action, nodeID }),
        )
      );
    response.catch((err) =>
      this.#streams.stopRequest(
        id,
        err,
        !(err instanceof RequestRejectedError) &&
          !(err instanceof BrokerDisconnectedError),
      )
    );
    return response;
  }

  /** As `#send`, onto a balanced queue (`publish` picks which). */
  #sendBalanced(
    payload: PacketPayload,
    publish: (bytes: Uint8Array) => Promise<void>,
  ): Promise<void> {
    if (this.#conflict.found !== undefined) return Promise.resolve();
    let bytes: Uint8Array;
    try {
      bytes = this.#encode(payload);
    } catch (err) {
      return Promise.reject(err);
    }
    return publish(bytes);
  }

  /**
   * Forget a pending request (its caller gave up).
   *
   * @param id The context id.
   */
  removePending(id: string): void {
    this.#pending.remove(id);
  }

  /**
   * Send an EVENT to one node, or balanced copies to event groups.
   *
   * @param nodeID Target node; null for `disableBalancer` emits: one copy per group, with
   *   `groups: [group]`, is published to the group's balanced queue.
   * @param ctx The event's context (params = data).
   * @param groups The groups that chose this node (or, with a null nodeID, the groups to reach),
   *   or null.
   * @param broadcast True for a broadcast.
   */
  sendEvent(
    nodeID: string | null,
    ctx: Context,
    groups: string[] | null,
    broadcast: boolean,
  ): Promise<void> {
    if (!this.connected) {
      return Promise.reject(new BrokerDisconnectedError(undefined, { event: ctx.eventName }));
    }
    const payload = eventPayload(ctx, groups, broadcast, this.#opts.protocolVersion);
    if (nodeID !== null) return this.#send(PacketType.EVENT, nodeID, payload);
    if (this.#hooks) {
      if (!groups?.length) return Promise.resolve();
      return this.#hooks.transitPublish({ type: PacketType.EVENT, target: null, payload });
    }
    // Packets are serialized synchronously, so one payload object serves every copy.
    const jobs: Promise<void>[] = [];
    for (const group of groups ?? []) {
      payload.groups = [group];
      jobs.push(this.#sendBalanced(
        payload,
        (bytes) => this.#transporter.publishBalancedEvent(ctx.eventName!, group, bytes),
      ));
    }
    return Promise.all(jobs).then(() => {});
  }

  /**
   * Ping a node.
   *
   * @param nodeID The node.
   * @param timeout Give up after this many ms.
   * @returns The round trip, or null on timeout.
   */
  ping(nodeID: string, timeout: number): Promise<PongResult | null> {
    if (!this.connected) return Promise.resolve(null);
    const { id, result } = this.#pings.add(nodeID, timeout);
    this.#send(PacketType.PING, nodeID, { time: Date.now(), id }).catch(() =>
      this.#pings.abandon(id)
    );
    return result;
  }

  // ---- receiving ----

  /**
   * Handle an incoming packet. For a request or an event it returns a promise that settles
   * (never rejects) once the packet is handled — the response sent, the handlers done — so a
   * transporter that acknowledges messages (AMQP) can ack then, as Moleculer's does.
   */
  #onMessage(type: PacketType, data: Uint8Array): Promise<void> | void {
    const payload = this.#decoder.decode(type, data);
    if (payload === undefined) return;
    const handled = this.#handle(type, payload);
    if (typeof handled !== "boolean") return handled;
  }

  /**
   * Handle a decoded, screened packet: false when it is dropped; for a request or an event, a
   * promise that settles (never rejects) once it is handled; true for the others.
   */
  #handle(type: PacketType, payload: ScreenedPayload): Promise<void> | boolean {
    const sender = payload.sender;
    this.#liveness.heard(sender);
    if (sender === this.#host.nodeID && !this.#conflict.onOwnPacket(type, payload)) return false;
    try {
      return this.#dispatch(type, sender, payload) ?? true;
    } catch (err) {
      this.#warnings.warn(
        `${type} ${sender}`,
        `Dropped a ${type} packet from '${printable(sender)}': ${
          printable((err as Error).message, 200)
        }`,
      );
      return false;
    }
  }

  // ---- the middlewares' hooks ----

  /**
   * Wrap Moleculer's four transit hooks around this engine's own steps: publish (serialize and
   * route a packet), send (hand bytes to the transporter), receive (decode and screen bytes)
   * and handle (a decoded packet).
   */
  #wrapHooks(mw: TransitMiddlewares): TransitHandlers {
    const transporterSend = mw.wrapTransit("transporterSend", (_topic, data, meta) => {
      const { type, target, payload } = meta.packet;
      if (!meta.balanced) {
        return this.#transporter.publish(type as PacketType, target ?? undefined, data);
      }
      return type === PacketType.REQUEST
        ? this.#transporter.publishBalancedRequest(String(payload.action), data)
        : this.#transporter.publishBalancedEvent(String(payload.event), meta.group ?? "", data);
    });
    const transitPublish = mw.wrapTransit("transitPublish", (packet) => {
      if (this.#conflict.found !== undefined) return Promise.resolve();
      try {
        return this.#publishHooked(packet, transporterSend);
      } catch (err) {
        return Promise.reject(err);
      }
    });
    const transitMessageHandler = mw.wrapTransit(
      "transitMessageHandler",
      (cmd, packet) =>
        Promise.resolve(this.#handle(cmd as PacketType, packet.payload as ScreenedPayload)).then(
          (handled) => handled !== false,
        ),
    );
    const transporterReceive = mw.wrapTransit("transporterReceive", (cmd, data) => {
      const payload = this.#decoder.decode(cmd as PacketType, data);
      if (payload === undefined) return Promise.resolve(false);
      return transitMessageHandler(cmd, { type: cmd, target: null, payload });
    });
    return { transitPublish, transitMessageHandler, transporterSend, transporterReceive };
  }

  /** Serialize a packet and send it where it goes, through the `transporterSend` hooks. */
  #publishHooked(
    packet: TransitPacket,
    send: TransitHandlers["transporterSend"],
  ): Promise<void> {
    const { type, target, payload } = packet;
    const groups = payload.groups;
    if (type === PacketType.EVENT && target === null && Array.isArray(groups) && groups.length) {
      // One copy per group, each its own object: the hooks may still hold one when the next
      // is made.
      const jobs: Promise<void>[] = [];
      for (const group of groups as string[]) {
        const copy = { ...payload, groups: [group] };
        const meta: TransporterSendMeta = {
          packet: { type, target, payload: copy },
          balanced: true,
          group,
        };
        jobs.push(
          send(
            `${this.#prefix}.EVENTB.${group}.${String(payload.event)}`,
            this.#encode(copy),
            meta,
          ),
        );
      }
      return Promise.all(jobs).then(() => {});
    }
    const bytes = this.#encode(payload);
    if (type === PacketType.REQUEST && target === null) {
      return send(`${this.#prefix}.REQB.${String(payload.action)}`, bytes, {
        packet,
        balanced: true,
      });
    }
    const topic = target === null ? `${this.#prefix}.${type}` : `${this.#prefix}.${type}.${target}`;
    return send(topic, bytes, { packet });
  }

  /**
   * Bytes from the transporter, through the `transporterReceive` hooks. A hook that cannot read
   * them (a transmit middleware: `TRANSMIT_UNREADABLE`) has the packet explained and dropped.
   */
  #receiveHooked(type: PacketType, data: Uint8Array): Promise<void> | void {
    let result: unknown;
    try {
      result = this.#hooks!.transporterReceive(type, data);
    } catch (err) {
      return this.#receiveFailed(type, data, err);
    }
    // Settles once the packet is handled, so an acknowledging transporter (AMQP) acks then.
    if (result instanceof Promise) {
      return result.then(() => {}, (err) => this.#receiveFailed(type, data, err));
    }
  }

  #receiveFailed(type: PacketType, data: Uint8Array, err: unknown): void {
    if (isUnreadable(err)) return this.#foreign.unreadable(type, data, err.message);
    this.#warnings.warn(
      `receive ${type}`,
      `Dropped a ${type} packet: a transporterReceive middleware failed: ${
        printable((err as Error)?.message ?? err, 200)
      }`,
    );
  }

  #dispatch(type: PacketType, sender: string, p: PacketPayload): Promise<void> | void {
    switch (type) {
      case PacketType.REQUEST:
        if (isStreamPacket(p)) return this.#onRequestStream(sender, p);
        return this.#onRequest(sender, p);
      case PacketType.RESPONSE:
        if (isStreamPacket(p)) return this.#onResponseStream(sender, p);
        this.#pending.settle(sender, p);
        return;
      case PacketType.EVENT:
        return this.#onEvent(sender, p);
      case PacketType.DISCOVER:
        return this.#sendInfo(sender);
      case PacketType.INFO:
        return this.#onInfo(sender, p);
      case PacketType.DISCONNECT:
        return this.#nodeGone(sender, false);
      case PacketType.HEARTBEAT:
        return this.#liveness.onHeartbeat(sender, p);
      case PacketType.PING:
        return this.#sendQuiet(PacketType.PONG, sender, {
          time: p.time,
          id: p.id,
          arrived: Date.now(),
        });
      case PacketType.PONG:
        this.#pings.settle(sender, p);
        return;
    }
  }

  #onRequest(sender: string, p: PacketPayload): Promise<void> {
    return this.#serveRequest(decodeRequest(p), sender, undefined);
  }

  /**
   * Run a request and send its response: a stream result goes back as a response stream. The
   * promise settles (never rejects) once the response is sent, so an acknowledging transporter
   * (AMQP) can ack then.
   *
   * @param packet The request.
   * @param sender The calling node.
   * @param stream The request's stream, when it came with one.
   */
  #serveRequest(
    packet: RequestPacket,
    sender: string,
    stream: IncomingStream | undefined,
  ): Promise<void> {
    let sent: Promise<void>;
    try {
      const outcome = this.#host.runRequest(packet, sender);
      sent = isPromiseLike(outcome)
        ? (outcome as Promise<RequestOutcome>).then(
          (o) => this.#respond(packet, sender, o),
          (err) => this.#respondError(packet, sender, err),
        )
        : this.#respond(packet, sender, outcome as RequestOutcome);
    } catch (err) {
      sent = this.#respondError(packet, sender, err);
    }
    return (stream ? sent.finally(() => this.#streams.answered(stream)) : sent)
      .catch((err) => this.#responseNotSent(packet, sender, err));
  }

  /** Send the RES of a request that succeeded: a stream result goes back as a response stream. */
  #respond(packet: RequestPacket, sender: string, { ctx, data }: RequestOutcome): Promise<void> {
    const res: PacketPayload = { id: packet.id, meta: ctx ? ctx.meta : packet.meta };
    if (this.#opts.protocolVersion === "5") res.headers = ctx ? ctx.responseHeaders : {};
    res.success = true;
    if (isStream(data)) {
      res.data = null;
      return this.#streams.send({
        id: packet.id,
        nodeID: sender,
        action: packet.action,
        kind: "response",
        payload: res,
        timeout: packet.timeout,
      }, toReadableStream(data));
    }
    res.data = data;
    return this.#send(PacketType.RESPONSE, sender, res);
  }

  /** Send the RES of a request that failed, with the error as Moleculer's plain error. */
  #respondError(packet: RequestPacket, sender: string, err: unknown): Promise<void> {
    const res: PacketPayload = { id: packet.id, meta: packet.meta };
    if (this.#opts.protocolVersion === "5") res.headers = {};
    res.success = false;
    res.data = null;
    res.error = toPlain(err, this.#host.nodeID);
    return this.#send(PacketType.RESPONSE, sender, res);
  }

  /**
   * A REQ of a stream (Moleculer's `stream`/`seq` fields): only its first packet (`seq` 0) runs
   * the action, with the stream as `ctx.stream` (and as the params under protocol 4, as Moleculer
   * 0.14 gives it); the others carry its chunks and its end.
   */
  #onRequestStream(sender: string, p: PacketPayload): void {
    const stream = this.#streams.receive("request", sender, p);
    if (stream === undefined) return;
    const packet = decodeRequest(p);
    packet.stream = stream.readable;
    if (this.#opts.protocolVersion === "4") packet.params = stream.readable;
    this.#serveRequest(packet, sender, stream);
  }

  /**
   * A RES of a stream: its first packet resolves the call with the stream (the call's timeout
   * then bounds the stream's silences); the others carry its chunks and its end.
   */
  #onResponseStream(sender: string, p: PacketPayload): void {
    const pending = this.#pending;
    const stream = this.#streams.receive(
      "response",
      sender,
      p,
      (id) => pending.peek(id) !== undefined,
    );
    if (stream === undefined) return;
    const timeout = pending.peek(stream.id)?.ctx.timeout ?? null;
    const settled = pending.settle(sender, {
      id: stream.id,
      meta: p.meta,
      success: true,
      data: stream.readable,
    });
    if (settled) this.#streams.withTimeout(stream, timeout);
    else stream.readable.cancel().catch(() => {});
  }

  /**
   * A response could not be sent. Unless the connection is down, the caller is told why (a
   * response over max_payload, a result JSON cannot encode): it would otherwise wait until its
   * timeout, or forever.
   */
  #responseNotSent(packet: RequestPacket, sender: string, err: unknown): void {
    const reason = printable((err as Error)?.message, 200);
    this.#warnings.warn(
      `response ${sender}`,
      `Cannot send the response of '${printable(packet.action)}' to '${
        printable(sender)
      }': ${reason}`,
    );
    if (err instanceof BrokerDisconnectedError) return;
    const data = { action: packet.action, nodeID: this.#host.nodeID };
    const error = err instanceof MoleculerError
      ? tooLarge(err, `The response of '${printable(packet.action, 200)}'`, data)
      : new MoleculerError(
        `The response of '${printable(packet.action, 200)}' cannot be sent: ${reason}`,
        500,
        "RESPONSE_NOT_SENT",
        data,
      );
    const res: PacketPayload = { id: packet.id, meta: {}, success: false, data: null };
    if (this.#opts.protocolVersion === "5") res.headers = {};
    res.error = toPlain(error, this.#host.nodeID);
    this.#sendQuiet(PacketType.RESPONSE, sender, res);
  }

  #onEvent(sender: string, p: PacketPayload): Promise<void> | void {
    const packet = decodeEvent(p);
    if (this.#stopping) return;
    return this.#host.runEvent(packet, sender).catch((err) =>
      this.#warnings.warn(
        `event ${sender}`,
        `Event '${printable(packet.event)}' from '${printable(sender)}' failed: ${
          printable((err as Error)?.message ?? err, 200)
        }`,
      )
    );
  }

  #onInfo(sender: string, p: PacketPayload): void {
    // Dropped whole rather than half applied (services that are not a list would wipe them).
    const problem = nodeInfoProblem(p);
    if (problem) throw new Error(`malformed INFO: ${problem}`);
    const result = this.#host.registry.processNodeInfo(sender, p);
    // A new instanceID under a known, still-available nodeID: the process restarted before its
    // heartbeats were missed. The new process will never answer the old one's requests.
    // (Moleculer leaves them pending until their timeout, or forever without one.)
    if (result.instanceChanged && !result.isReconnected) {
      this.#pending.rejectNode(sender);
    }
    if (result.isNew || result.isReconnected) {
      this.#host.nodeConnected(result.node, result.isReconnected);
    } else {
      this.#host.nodeUpdated(result.node);
    }
  }

  #nodeGone(nodeID: string, unexpected: boolean): void {
    this.#liveness.forget(nodeID);
    const node = this.#host.registry.disconnectNode(nodeID);
    if (!node) return;
    this.#pending.rejectNode(nodeID);
    this.#streams.nodeGone(nodeID);
    this.#host.nodeDisconnected(node, unexpected);
  }
}
