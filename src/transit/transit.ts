/**
 * Transit: the protocol engine. It turns calls and events into packets, runs
 * discovery and heartbeats, tracks pending requests, and dispatches incoming
 * packets. Web-standard APIs only.
 *
 * @module
 */

import type { Context } from "../context.ts";
import type { Logger } from "../logging.ts";
import type { NodeInfo, Registry } from "../registry/registry.ts";
import type { PacketPayload, Serializer } from "../serializers/serializer.ts";
import type { Transporter, TransporterSubscription } from "../transporters/transporter.ts";
import {
  BrokerDisconnectedError,
  fromPlain,
  MoleculerError,
  QueueIsFullError,
  RequestRejectedError,
  RequestTimeoutError,
  toPlain,
} from "../errors.ts";
import { delay } from "../_util/async.ts";
import { nextId } from "../_util/ids.ts";
import {
  PacketType,
  type ProtocolVersion,
  subscriptionsOf,
  topicOf,
  topicPrefix,
} from "./packets.ts";

/** A REQ packet as received. */
export interface RequestPacket {
  id: string;
  action: string;
  params: unknown;
  meta: Record<string, unknown>;
  headers: Record<string, unknown>;
  timeout: number | null;
  level: number;
  parentID: string | null;
  requestID: string | null;
  caller: string | null;
}

/** An EVENT packet as received. */
export interface EventPacket {
  id: string | null;
  event: string;
  data: unknown;
  groups: string[] | null;
  broadcast: boolean;
  meta: Record<string, unknown>;
  headers: Record<string, unknown>;
  level: number;
  parentID: string | null;
  requestID: string | null;
  caller: string | null;
}

/** The result of running an incoming request locally. */
export interface RequestOutcome {
  readonly ctx: Context | null;
  readonly data: unknown;
}

/** What transit needs from its broker. */
export interface TransitHost {
  readonly nodeID: string;
  readonly instanceID: string;
  readonly registry: Registry;
  readonly logger: Logger;
  /** Run a request from another node on a local endpoint; throws the handler's error. */
  runRequest(packet: RequestPacket, sender: string): Promise<RequestOutcome>;
  /** Deliver an event from another node to local handlers. */
  runEvent(packet: EventPacket, sender: string): Promise<void>;
  /** Announce a node-state change on the local event bus. */
  nodeConnected(node: NodeInfo, reconnected: boolean): void;
  /** Announce an updated node. */
  nodeUpdated(node: NodeInfo): void;
  /** Announce a lost node. */
  nodeDisconnected(node: NodeInfo, unexpected: boolean): void;
  /** The transporter connected (or reconnected). */
  transporterConnected(wasReconnect: boolean): void;
  /** The transporter lost its connection. */
  transporterDisconnected(): void;
  /** Another process claims our nodeID. */
  nodeIDConflict(otherInstanceID: string): void;
  /** Current CPU usage 0–100, or null when unknown. */
  cpuUsage(): number | null;
}

/** Options of {@linkcode Transit}. */
export interface TransitOptions {
  readonly namespace: string;
  readonly protocolVersion: ProtocolVersion;
  readonly heartbeatInterval: number;
  readonly heartbeatTimeout: number;
  readonly cleanOfflineNodesTimeout: number;
  readonly maxQueueSize: number;
  readonly disableVersionCheck: boolean;
  readonly serviceChangedDebounceTime: number;
  readonly discoverWaitTime: number;
  readonly stopDelay: number;
}

interface PendingRequest {
  readonly ctx: Context;
  readonly nodeID: string;
  readonly action: string;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

interface PendingPing {
  readonly nodeID: string;
  resolve(value: PongResult): void;
}

/** The result of a ping. */
export interface PongResult {
  /** The node that answered. */
  readonly nodeID: string;
  /** Round trip in ms. */
  readonly elapsedTime: number;
  /** Estimated clock difference in ms. */
  readonly timeDiff: number;
}

const EMPTY: Record<string, unknown> = Object.freeze({}) as Record<
  string,
  unknown
>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function strOrNull(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

/** The protocol engine between a broker and its transporter. */
export class Transit {
  readonly #host: TransitHost;
  readonly #transporter: Transporter;
  readonly #serializer: Serializer;
  readonly #opts: TransitOptions;
  readonly #prefix: string;
  readonly #pending = new Map<string, PendingRequest>();
  readonly #pings = new Map<string, PendingPing>();
  readonly #subs: TransporterSubscription[] = [];
  readonly #warnedVersion = new Set<string>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #stopSignal = new AbortController();
  #connected = false;
  #ready = false;
  #stopping = false;
  #announceTimer: ReturnType<typeof setTimeout> | undefined;
  #sendEmptyInfo = false;
  /** Set when another process claims our nodeID: from then on nothing is sent under it. */
  #conflict: string | undefined;

  /**
   * Create the engine; the broker does this when a transporter is set.
   *
   * @param host The broker side.
   * @param transporter The byte mover.
   * @param serializer The payload codec.
   * @param opts Options.
   */
  constructor(
    host: TransitHost,
    transporter: Transporter,
    serializer: Serializer,
    opts: TransitOptions,
  ) {
    this.#host = host;
    this.#transporter = transporter;
    this.#serializer = serializer;
    this.#opts = opts;
    this.#prefix = topicPrefix(opts.namespace);
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

  // ---- lifecycle ----

  /**
   * Connect, subscribe, discover the cluster and start heartbeats.
   *
   * @throws {BrokerDisconnectedError} when the transporter cannot connect.
   * @throws {MoleculerError} type `NODE_ID_CONFLICT` when a running node already uses this
   *   nodeID (it answered our DISCOVER); nothing has been announced and nothing more is sent.
   */
  async connect(): Promise<void> {
    await this.#transporter.connect({
      onDisconnect: () => {
        this.#host.logger.warn(
          "Transporter disconnected; the client is reconnecting",
        );
        this.#host.transporterDisconnected();
      },
      onReconnect: () => {
        this.#host.logger.info(
          "Transporter reconnected; announcing this node again",
        );
        this.#host.transporterConnected(true);
        if (this.#ready) this.#sendInfo();
        this.#sendQuiet(PacketType.DISCOVER, undefined, {});
      },
      onError: (err) => this.#host.logger.warn(`Transporter error: ${err.message}`),
    });
    for (
      const [type, subject] of subscriptionsOf(this.#prefix, this.#host.nodeID)
    ) {
      this.#subs.push(
        this.#transporter.subscribe(
          subject,
          (data) => this.#onMessage(type, data),
        ),
      );
    }
    this.#connected = true;
    // A node already running under our nodeID answers this DISCOVER with its INFO (see
    // #onMessage), so a conflict is found here, before this node announces anything.
    this.#sendQuiet(PacketType.DISCOVER, undefined, {});
    await delay(this.#opts.discoverWaitTime, this.#stopSignal.signal);
    if (this.#conflict !== undefined) {
      throw new MoleculerError(
        `Another node already runs with the nodeID '${this.#host.nodeID}' ` +
          `(instance ${this.#conflict}): give every node a unique nodeID`,
        500,
        "NODE_ID_CONFLICT",
        { nodeID: this.#host.nodeID, instanceID: this.#conflict },
      );
    }
    this.#host.transporterConnected(false);
    this.#startTimers();
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
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    if (this.#announceTimer !== undefined) clearTimeout(this.#announceTimer);
    if (this.connected) {
      await this.#send(PacketType.DISCONNECT, undefined, {});
    }
    for (const [id, req] of this.#pending) {
      this.#pending.delete(id);
      if (req.timer !== undefined) clearTimeout(req.timer);
      req.reject(
        new RequestRejectedError({ action: req.action, nodeID: req.nodeID }),
      );
    }
    for (const sub of this.#subs) sub.unsubscribe();
    this.#subs.length = 0;
    this.#connected = false;
    this.#ready = false;
    await this.#transporter.disconnect();
  }

  #startTimers(): void {
    const interval = this.#opts.heartbeatInterval * 1000;
    // Moleculer adds ±500 ms of jitter. Short intervals (tests, fast failure detection) would
    // then send beats further apart than the timeout, so the jitter is capped at ±25%.
    const spread = Math.min(500, interval / 4);
    const beat = () => {
      const jitter = Math.round((Math.random() * 2 - 1) * spread);
      this.#schedule(() => {
        this.#sendHeartbeat();
        beat();
      }, Math.max(10, interval + jitter));
    };
    beat();
    const check = () => {
      this.#schedule(() => {
        this.#checkHeartbeats();
        check();
      }, this.#opts.heartbeatTimeout * 1000);
    };
    check();
    const purge = () => {
      this.#schedule(() => {
        this.#host.registry.purgeOfflineNodes(
          this.#opts.cleanOfflineNodesTimeout * 1000,
        );
        purge();
      }, 60_000);
    };
    purge();
  }

  #schedule(fn: () => void, ms: number): void {
    if (this.#stopSignal.signal.aborted) return;
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
  }

  #sendHeartbeat(): void {
    if (!this.connected) return;
    const cpu = this.#host.cpuUsage();
    this.#host.registry.localNode.cpu = cpu;
    this.#send(PacketType.HEARTBEAT, undefined, { cpu });
  }

  #checkHeartbeats(): void {
    const limit = Date.now() - this.#opts.heartbeatTimeout * 1000;
    for (const node of this.#host.registry.nodes.values()) {
      if (node.local || !node.available) continue;
      if (node.lastHeartbeatTime < limit) {
        this.#host.logger.warn(
          `Node '${node.id}' sent no heartbeat for ${this.#opts.heartbeatTimeout} s: marking it offline`,
        );
        this.#nodeGone(node.id, true);
      }
    }
  }

  // ---- sending ----

  #send(
    type: PacketType,
    target: string | undefined,
    payload: PacketPayload,
  ): Promise<void> {
    // After a nodeID conflict, packets under our nodeID would be taken for the other node's
    // (a DISCONNECT would mark it offline everywhere): stay silent, as an exited process would.
    if (this.#conflict !== undefined) return Promise.resolve();
    payload.ver = this.#opts.protocolVersion;
    payload.sender = this.#host.nodeID;
    let bytes: Uint8Array;
    try {
      bytes = this.#serializer.serialize(payload);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#transporter.publish(
      topicOf(this.#prefix, type, target),
      bytes,
    );
  }

  #sendQuiet(
    type: PacketType,
    target: string | undefined,
    payload: PacketPayload,
  ): void {
    this.#send(type, target, payload).catch((err) =>
      this.#host.logger.warn(`Cannot send ${type}: ${(err as Error).message}`)
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
    this.#sendQuiet(PacketType.INFO, target, this.#infoPayload());
  }

  /**
   * Send a request to a remote node and wait for the response.
   *
   * @param ctx The call's context; `ctx.nodeID` is the target node.
   * @param action The full action name.
   * @returns The response data; the response meta is merged into `ctx.meta`.
   * @throws {BrokerDisconnectedError} when not connected.
   * @throws {QueueIsFullError} when too many requests are pending.
   * @throws {RequestTimeoutError} when `ctx.timeout` passes first.
   * @throws {RequestRejectedError} when the target node goes away.
   */
  request(ctx: Context, action: string): Promise<unknown> {
    const nodeID = ctx.nodeID!;
    if (!this.connected) {
      return Promise.reject(
        new BrokerDisconnectedError(undefined, { action, nodeID }),
      );
    }
    if (this.#pending.size >= this.#opts.maxQueueSize) {
      return Promise.reject(
        new QueueIsFullError({
          action,
          nodeID,
          size: this.#pending.size,
          limit: this.#opts.maxQueueSize,
        }),
      );
    }
    return new Promise((resolve, reject) => {
      const req: PendingRequest = {
        ctx,
        nodeID,
        action,
        resolve,
        reject,
        timer: undefined,
      };
      const timeout = ctx.timeout;
      if (timeout !== null && timeout > 0) {
        req.timer = setTimeout(() => {
          if (this.#pending.delete(ctx.id)) {
            reject(new RequestTimeoutError({ action, nodeID }));
          }
        }, timeout);
      }
      this.#pending.set(ctx.id, req);
      const payload: PacketPayload = {
        id: ctx.id,
        action,
        params: ctx.params ?? EMPTY,
        meta: ctx.meta,
      };
      if (this.#opts.protocolVersion === "5") payload.headers = ctx.headers;
      payload.timeout = timeout ?? 0;
      payload.level = ctx.level;
      payload.tracing = null;
      payload.parentID = ctx.parentID;
      payload.requestID = ctx.requestID;
      payload.caller = ctx.caller;
      payload.stream = false;
      this.#send(PacketType.REQUEST, nodeID, payload).catch((err) => {
        if (this.#pending.delete(ctx.id)) {
          if (req.timer !== undefined) clearTimeout(req.timer);
          reject(err);
        }
      });
    });
  }

  /**
   * Forget a pending request (its caller gave up).
   *
   * @param id The context id.
   */
  removePending(id: string): void {
    const req = this.#pending.get(id);
    if (!req) return;
    if (req.timer !== undefined) clearTimeout(req.timer);
    this.#pending.delete(id);
  }

  /**
   * Send an EVENT to one node.
   *
   * @param nodeID Target node.
   * @param ctx The event's context (params = data).
   * @param groups The groups that chose this node, or null.
   * @param broadcast True for a broadcast.
   */
  sendEvent(
    nodeID: string,
    ctx: Context,
    groups: string[] | null,
    broadcast: boolean,
  ): Promise<void> {
    if (!this.connected) {
      return Promise.reject(
        new BrokerDisconnectedError(undefined, { event: ctx.eventName }),
      );
    }
    const payload: PacketPayload = { id: nextId(), event: ctx.eventName };
    if (ctx.params !== undefined) payload.data = ctx.params;
    if (groups) payload.groups = groups;
    payload.broadcast = broadcast;
    payload.meta = ctx.meta;
    if (this.#opts.protocolVersion === "5") payload.headers = ctx.headers;
    payload.level = ctx.level;
    payload.tracing = null;
    payload.parentID = ctx.parentID;
    payload.requestID = ctx.requestID;
    payload.caller = ctx.caller;
    payload.needAck = null;
    return this.#send(PacketType.EVENT, nodeID, payload);
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
    const id = nextId();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pings.delete(id);
        resolve(null);
      }, timeout);
      this.#pings.set(id, {
        nodeID,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      });
      this.#send(PacketType.PING, nodeID, { time: Date.now(), id }).catch(
        () => {
          clearTimeout(timer);
          this.#pings.delete(id);
          resolve(null);
        },
      );
    });
  }

  // ---- receiving ----

  #onMessage(type: PacketType, data: Uint8Array): void {
    let payload: PacketPayload;
    try {
      payload = this.#serializer.deserialize(data);
    } catch (err) {
      this.#host.logger.warn(
        `Dropped a malformed ${type} packet: ${(err as Error).message}`,
      );
      return;
    }
    const sender = payload.sender;
    if (typeof sender !== "string" || sender.length === 0) {
      this.#host.logger.warn(`Dropped a ${type} packet without a sender`);
      return;
    }
    if (
      payload.ver !== this.#opts.protocolVersion &&
      !this.#opts.disableVersionCheck
    ) {
      if (!this.#warnedVersion.has(sender)) {
        this.#warnedVersion.add(sender);
        const ver = String(payload.ver);
        const hint = ver === "4" ? " (Moleculer 0.14)" : ver === "5" ? " (Moleculer 0.15)" : "";
        this.#host.logger.warn(
          `Node '${sender}' speaks protocol ${ver}${hint}, this node speaks ${this.#opts.protocolVersion}: ` +
            `its packets are dropped. Start with protocolVersion '${ver}' to talk to it.`,
        );
      }
      return;
    }
    if (sender === this.#host.nodeID) {
      if (
        type === PacketType.INFO && payload.instanceID !== this.#host.instanceID
      ) {
        if (this.#conflict === undefined) {
          this.#conflict = String(payload.instanceID);
          if (this.#stopping) {
            // Our successor is already up: leave quietly, without a DISCONNECT in its name.
            this.#host.logger.info(
              `A new instance (${this.#conflict}) took over the nodeID while this one stops`,
            );
          } else this.#host.nodeIDConflict(this.#conflict);
        }
        return;
      }
      if (type === PacketType.DISCOVER) {
        // A DISCOVER under our own nodeID comes from a newcomer reusing it (or is our own, on
        // reconnect). Once ready, answer it: our INFO on `INFO.<nodeID>` shows the newcomer the
        // conflict before it announces itself. Moleculer drops it, so there it is the running
        // node that finds the conflict, on the newcomer's INFO. A node that is leaving lets its
        // successor start.
        if (!this.#stopping) this.#sendInfo(sender);
        return;
      }
      if (
        type !== PacketType.REQUEST && type !== PacketType.RESPONSE &&
        type !== PacketType.EVENT
      ) {
        return;
      }
    }
    try {
      this.#dispatch(type, sender, payload);
    } catch (err) {
      this.#host.logger.warn(
        `Dropped a ${type} packet from '${sender}': ${(err as Error).message}`,
      );
    }
  }

  #dispatch(type: PacketType, sender: string, p: PacketPayload): void {
    switch (type) {
      case PacketType.REQUEST:
        return this.#onRequest(sender, p);
      case PacketType.RESPONSE:
        return this.#onResponse(sender, p);
      case PacketType.EVENT:
        return this.#onEvent(sender, p);
      case PacketType.DISCOVER:
        return this.#sendInfo(sender);
      case PacketType.INFO:
        return this.#onInfo(sender, p);
      case PacketType.DISCONNECT:
        return this.#nodeGone(sender, false);
      case PacketType.HEARTBEAT:
        return this.#onHeartbeat(sender, p);
      case PacketType.PING:
        return this.#sendQuiet(PacketType.PONG, sender, {
          time: p.time,
          id: p.id,
          arrived: Date.now(),
        });
      case PacketType.PONG:
        return this.#onPong(sender, p);
    }
  }

  #onRequest(sender: string, p: PacketPayload): void {
    if (typeof p.id !== "string" || typeof p.action !== "string") {
      throw new Error("REQ needs string 'id' and 'action'");
    }
    const packet: RequestPacket = {
      id: p.id,
      action: p.action,
      params: p.params,
      meta: isRecord(p.meta) ? p.meta : {},
      headers: isRecord(p.headers) ? p.headers : {},
      timeout: typeof p.timeout === "number" && p.timeout > 0 ? p.timeout : null,
      level: typeof p.level === "number" && p.level >= 1 ? p.level : 1,
      parentID: strOrNull(p.parentID),
      requestID: strOrNull(p.requestID),
      caller: strOrNull(p.caller),
    };
    this.#host.runRequest(packet, sender).then(
      ({ ctx, data }) => {
        const res: PacketPayload = {
          id: packet.id,
          meta: ctx ? ctx.meta : packet.meta,
        };
        if (this.#opts.protocolVersion === "5") {
          res.headers = ctx ? ctx.responseHeaders : {};
        }
        res.success = true;
        res.data = data;
        return this.#send(PacketType.RESPONSE, sender, res);
      },
      (err) => {
        const res: PacketPayload = { id: packet.id, meta: packet.meta };
        if (this.#opts.protocolVersion === "5") res.headers = {};
        res.success = false;
        res.data = null;
        res.error = toPlain(err, this.#host.nodeID);
        return this.#send(PacketType.RESPONSE, sender, res);
      },
    ).catch((err) => {
      this.#host.logger.warn(
        `Cannot send the response of '${packet.action}' to '${sender}': ${(err as Error).message}`,
      );
      if (
        err instanceof MoleculerError && err.type === "MAX_PAYLOAD_EXCEEDED"
      ) {
        const res: PacketPayload = {
          id: packet.id,
          meta: {},
          success: false,
          data: null,
        };
        if (this.#opts.protocolVersion === "5") res.headers = {};
        res.error = toPlain(err, this.#host.nodeID);
        this.#sendQuiet(PacketType.RESPONSE, sender, res);
      }
    });
  }

  #onResponse(sender: string, p: PacketPayload): void {
    if (typeof p.id !== "string") throw new Error("RES needs a string 'id'");
    const req = this.#pending.get(p.id);
    if (!req) return; // an orphan: its caller has given up
    this.#pending.delete(p.id);
    if (req.timer !== undefined) clearTimeout(req.timer);
    if (isRecord(p.meta)) Object.assign(req.ctx.meta, p.meta);
    if (p.success === true) req.resolve(p.data);
    else req.reject(fromPlain(p.error, sender));
  }

  #onEvent(sender: string, p: PacketPayload): void {
    if (typeof p.event !== "string") {
      throw new Error("EVENT needs a string 'event'");
    }
    if (this.#stopping) return;
    const packet: EventPacket = {
      id: strOrNull(p.id),
      event: p.event,
      data: p.data,
      groups: Array.isArray(p.groups) ? p.groups.filter((g) => typeof g === "string") : null,
      broadcast: p.broadcast === true,
      meta: isRecord(p.meta) ? p.meta : {},
      headers: isRecord(p.headers) ? p.headers : {},
      level: typeof p.level === "number" && p.level >= 1 ? p.level : 1,
      parentID: strOrNull(p.parentID),
      requestID: strOrNull(p.requestID),
      caller: strOrNull(p.caller),
    };
    this.#host.runEvent(packet, sender).catch((err) =>
      this.#host.logger.warn(
        `Event '${packet.event}' from '${sender}' failed: ${err}`,
      )
    );
  }

  #onInfo(sender: string, p: PacketPayload): void {
    const result = this.#host.registry.processNodeInfo(sender, p);
    // A new instanceID under a known, still-available nodeID: the process restarted before its
    // heartbeats were missed. The new process will never answer the old one's requests.
    // (Moleculer leaves them pending until their timeout, or forever without one.)
    if (result.instanceChanged && !result.isReconnected) {
      this.#rejectPending(sender);
    }
    if (result.isNew || result.isReconnected) {
      this.#host.nodeConnected(result.node, result.isReconnected);
    } else {
      this.#host.nodeUpdated(result.node);
    }
  }

  #onHeartbeat(sender: string, p: PacketPayload): void {
    const node = this.#host.registry.nodes.get(sender);
    if (!node || !node.available) {
      this.#sendQuiet(PacketType.DISCOVER, sender, {});
      return;
    }
    node.lastHeartbeatTime = Date.now();
    node.cpu = typeof p.cpu === "number" ? p.cpu : null;
  }

  #onPong(sender: string, p: PacketPayload): void {
    if (typeof p.id !== "string") return;
    const ping = this.#pings.get(p.id);
    if (!ping) return;
    this.#pings.delete(p.id);
    const now = Date.now();
    const time = typeof p.time === "number" ? p.time : now;
    const arrived = typeof p.arrived === "number" ? p.arrived : now;
    const elapsedTime = now - time;
    ping.resolve({
      nodeID: sender,
      elapsedTime,
      timeDiff: Math.round(now - arrived - elapsedTime / 2),
    });
  }

  #nodeGone(nodeID: string, unexpected: boolean): void {
    const node = this.#host.registry.disconnectNode(nodeID);
    if (!node) return;
    this.#rejectPending(nodeID);
    this.#host.nodeDisconnected(node, unexpected);
  }

  /** Reject every request waiting for a response from a node with RequestRejectedError. */
  #rejectPending(nodeID: string): void {
    for (const [id, req] of this.#pending) {
      if (req.nodeID !== nodeID) continue;
      this.#pending.delete(id);
      if (req.timer !== undefined) clearTimeout(req.timer);
      req.reject(new RequestRejectedError({ action: req.action, nodeID }));
    }
  }
}
