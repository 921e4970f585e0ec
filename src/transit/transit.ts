/**
 * Transit: the protocol engine. It turns calls and events into packets, runs
 * discovery and heartbeats, tracks pending requests, and dispatches incoming
 * packets. Web-standard APIs only.
 *
 * @module
 */

import type { PongResult } from "../core/broker_api.ts";
import type { Context } from "../core/context.ts";
import type { Logger } from "../logging.ts";
import { type NodeInfo, nodeInfoProblem, type Registry } from "../registry/registry.ts";
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
import { idSeq, nextId } from "../_util/ids.ts";
import {
  balancedEventSubscription,
  balancedEventTopic,
  balancedRequestTopic,
  PacketType,
  type ProtocolVersion,
  subscriptionsOf,
  topicOf,
  topicPrefix,
} from "./packets.ts";
import { isRecord } from "../_util/values.ts";

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
  /**
   * The transporter balances (Moleculer's `disableBalancer`): each broadcast INFO (re)makes the
   * `REQB`/`EVENTB` queue-group subscriptions of the announced services. Default false.
   */
  readonly disableBalancer?: boolean;
}

interface PendingRequest {
  /** The key: `ctx.id` when the request was sent. */
  readonly id: string;
  readonly ctx: Context;
  /** The target node; null for a balanced request (`REQB`), whose responder is not known yet. */
  readonly nodeID: string | null;
  readonly action: string;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

interface PendingPing {
  readonly nodeID: string;
  /** Settles the ping: a result, or null when it is abandoned. Clears its timer. */
  resolve(value: PongResult | null): void;
}

const EMPTY: Record<string, unknown> = Object.freeze({}) as Record<
  string,
  unknown
>;

function strOrNull(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

/** The longest delay `setTimeout` takes: past 2^31-1 ms it fires at once. */
const MAX_TIMER_MS = 2_147_483_647;
/** Warnings about dropped packets: at most one per sender and reason in this window... */
const WARN_WINDOW_MS = 10_000;
/** ...and at most this many in all per window; the next one says how many were left out. */
const WARN_BUDGET = 20;
/** Bound of the rate limiter's memory (keys) and of the protocol-mismatch warnings (senders). */
const WARN_MAX_KEYS = 1_000;
/** Longest nodeID accepted as a packet's sender. */
const MAX_NODE_ID_LENGTH = 512;

/**
 * A sender we can answer: a subject ends with its nodeID, so it has no whitespace, control
 * characters or wildcards, and no empty token. Moleculer's default nodeID (`hostname-pid`) passes.
 */
function isValidSender(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 &&
    value.length <= MAX_NODE_ID_LENGTH &&
    // deno-lint-ignore no-control-regex
    !/[\s*>\u0000-\u001f\u007f]/.test(value) && value[0] !== "." &&
    value[value.length - 1] !== "." && !value.includes("..");
}

/** A value from a packet, safe to put in a log line: control characters escaped, cut at `max`. */
function printable(value: unknown, max = 64): string {
  let s: string;
  if (typeof value === "string") s = value;
  else if (value === null || typeof value !== "object") s = String(value);
  else s = Array.isArray(value) ? "[array]" : "[object]";
  if (s.length > max) s = `${s.slice(0, max)}…`;
  return s.replace(
    // deno-lint-ignore no-control-regex
    /[\u0000-\u001f\u007f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16)}`,
  );
}

/**
 * Name the packet in a transporter's `MAX_PAYLOAD_EXCEEDED` error ("The response of 'a.b' is
 * too large: Packet of 10102 bytes exceeds the NATS server's max_payload of 4096 bytes"); other
 * errors pass unchanged.
 */
function tooLarge(
  err: unknown,
  what: string,
  data: Record<string, unknown>,
): unknown {
  if (!(err instanceof MoleculerError) || err.type !== "MAX_PAYLOAD_EXCEEDED") {
    return err;
  }
  const extra = typeof err.data === "object" && err.data !== null ? err.data : {};
  return new MoleculerError(
    `${what} is too large: ${err.message}`,
    err.code,
    err.type,
    { ...extra, ...data },
    { cause: err },
  );
}

/** Remove an own `__proto__` key (JSON.parse makes one), which `Object.assign` would follow. */
function withoutProto(obj: Record<string, unknown>): Record<string, unknown> {
  if (Object.hasOwn(obj, "__proto__")) delete obj["__proto__"];
  return obj;
}

/** Copy the own keys of an untrusted object onto `target`, never touching its prototype. */
function mergeInto(
  target: Record<string, unknown>,
  source: Record<string, unknown>,
): void {
  for (const key of Object.keys(source)) {
    if (key !== "__proto__") target[key] = source[key];
  }
}

/**
 * Pending requests by context id. Ids made by this process (`nextId`) are keyed by their counter:
 * on V8 15 a `Map` keyed by freshly concatenated strings pays ~200 ns of hashing per insert.
 * Any other id (set by the caller) goes to a plain string-keyed map.
 */
class PendingTable {
  readonly #byNum = new Map<number, PendingRequest>();
  readonly #byStr = new Map<string, PendingRequest>();

  get size(): number {
    return this.#byNum.size + this.#byStr.size;
  }

  get(id: string): PendingRequest | undefined {
    const n = idSeq(id);
    return n >= 0 ? this.#byNum.get(n) : this.#byStr.get(id);
  }

  set(req: PendingRequest): void {
    const n = idSeq(req.id);
    if (n >= 0) this.#byNum.set(n, req);
    else this.#byStr.set(req.id, req);
  }

  delete(id: string): boolean {
    const n = idSeq(id);
    return n >= 0 ? this.#byNum.delete(n) : this.#byStr.delete(id);
  }

  /** Remove and return the entry of `id`: one id parse instead of two on the response path. */
  take(id: string): PendingRequest | undefined {
    const n = idSeq(id);
    const map: Map<number | string, PendingRequest> = n >= 0 ? this.#byNum : this.#byStr;
    const key = n >= 0 ? n : id;
    const req = map.get(key);
    if (req !== undefined) map.delete(key);
    return req;
  }

  /** Every entry; deleting the current one while iterating is allowed. */
  *[Symbol.iterator](): IterableIterator<[string, PendingRequest]> {
    for (const req of this.#byNum.values()) yield [req.id, req];
    yield* this.#byStr;
  }
}

/** The protocol engine between a broker and its transporter. */
export class Transit {
  readonly #host: TransitHost;
  readonly #transporter: Transporter;
  readonly #serializer: Serializer;
  readonly #opts: TransitOptions;
  readonly #prefix: string;
  readonly #pending = new PendingTable();
  /** The last sender that passed `isValidSender` (a cache of that check). */
  #lastSender: string | undefined;
  readonly #pings = new Map<string, PendingPing>();
  readonly #subs: TransporterSubscription[] = [];
  /** `disableBalancer` subscriptions by `<subject> <queue>`. */
  readonly #balanced = new Map<string, TransporterSubscription>();
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
  /** A nodeID conflict being checked (see #onConflictingInfo). */
  #probe: {
    instanceID: string;
    nonce: string;
    timer: ReturnType<typeof setTimeout>;
    /** More conflicting INFOs came during the check: announce ourselves again after it. */
    again: boolean;
  } | undefined;
  /**
   * Nodes not heard from since the transporter reconnected. A request to one of them would be
   * lost if it is still away (NATS keeps nothing for an absent subscriber), so it fails fast
   * instead. Any packet from the node (its answer to our DISCOVER, its INFO or heartbeat) clears it.
   */
  readonly #unheard = new Set<string>();
  /** Rate limit of repeated warnings, by key: until when the key is muted, and how often. */
  readonly #muted = new Map<string, { until: number; suppressed: number }>();
  /** The global warning budget of the current window. */
  readonly #warnWindow = { until: 0, logged: 0, suppressed: 0 };

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
    await this.#serializer.init?.();
    await this.#transporter.connect({
      onDisconnect: () => {
        this.#host.logger.warn(
          "Transporter disconnected; the client is reconnecting",
        );
        this.#failPending();
        this.#host.transporterDisconnected();
      },
      onReconnect: () => {
        this.#host.logger.info(
          "Transporter reconnected; announcing this node again",
        );
        // Nobody could be heard while we were away: give every node a full heartbeatTimeout
        // from now before judging it (see #checkHeartbeats), and send it no request until it
        // shows it is back too (see #unheard): our DISCOVER below makes every node answer.
        const now = Date.now();
        this.#unheard.clear();
        for (const node of this.#host.registry.nodes.values()) {
          if (node.local || !node.available) continue;
          node.lastHeartbeatTime = now;
          this.#unheard.add(node.id);
        }
        this.#host.transporterConnected(true);
        if (this.#ready) this.#sendInfo();
        this.#sendQuiet(PacketType.DISCOVER, undefined, {});
      },
      onError: (err) =>
        this.#warnLimited(
          `transporter ${err.message}`,
          `Transporter error: ${printable(err.message, 200)}`,
        ),
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
    if (this.#probe) clearTimeout(this.#probe.timer);
    this.#probe = undefined;
    this.#unheard.clear();
    for (const [id, ping] of this.#pings) {
      this.#pings.delete(id);
      ping.resolve(null);
    }
    if (this.connected) {
      await this.#send(PacketType.DISCONNECT, undefined, {});
    }
    for (const [id, req] of this.#pending) {
      this.#pending.delete(id);
      if (req.timer !== undefined) clearTimeout(req.timer);
      req.reject(
        new RequestRejectedError({
          action: req.action,
          nodeID: req.nodeID ?? "",
        }),
      );
    }
    for (const sub of this.#subs) sub.unsubscribe();
    this.#subs.length = 0;
    for (const sub of this.#balanced.values()) sub.unsubscribe();
    this.#balanced.clear();
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
    // While our own connection is down every node is silent: that says nothing about them.
    if (!this.connected) return;
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
    subject?: string,
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
      subject ?? topicOf(this.#prefix, type, target),
      bytes,
    );
  }

  #sendQuiet(
    type: PacketType,
    target: string | undefined,
    payload: PacketPayload,
  ): void {
    this.#send(type, target, payload).catch((err) =>
      this.#warnLimited(
        `send ${type}`,
        `Cannot send ${type}: ${(err as Error).message}`,
      )
    );
  }

  /**
   * Log a warning that may repeat (dropped packets, failed sends) without flooding the log: at
   * most one per key every 10 s, and at most {@linkcode WARN_BUDGET} in all per 10 s. The next
   * warning logged says how many were left out.
   */
  #warnLimited(key: string, message: string): void {
    const now = Date.now();
    const muted = this.#muted.get(key);
    if (muted && now < muted.until) {
      muted.suppressed++;
      return;
    }
    const w = this.#warnWindow;
    if (now >= w.until) {
      w.until = now + WARN_WINDOW_MS;
      w.logged = 0;
    }
    if (w.logged >= WARN_BUDGET) {
      w.suppressed++;
      return;
    }
    w.logged++;
    const left = (muted?.suppressed ?? 0) + w.suppressed;
    w.suppressed = 0;
    if (!muted && this.#muted.size >= WARN_MAX_KEYS) {
      for (const [k, m] of this.#muted) {
        if (now >= m.until) this.#muted.delete(k);
      }
      if (this.#muted.size >= WARN_MAX_KEYS) this.#muted.clear();
    }
    this.#muted.set(key, { until: now + WARN_WINDOW_MS, suppressed: 0 });
    this.#host.logger.warn(
      left > 0 ? `${message} (${left} similar warning(s) left out in the last 10 s)` : message,
    );
  }

  /**
   * The connection is lost, and the responses in flight with it (NATS keeps nothing for a
   * subscriber that is away): fail the waiting requests now, not at their timeout (or never,
   * without one). The error is retryable.
   */
  #failPending(): void {
    for (const [id, req] of this.#pending) {
      this.#pending.delete(id);
      if (req.timer !== undefined) clearTimeout(req.timer);
      req.reject(
        new BrokerDisconnectedError(
          `The transporter disconnected while '${req.action}' waited for its response` +
            (req.nodeID ? ` from '${req.nodeID}'` : ""),
          { action: req.action, nodeID: req.nodeID },
        ),
      );
    }
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
    // subscriptions with the services it announces (none in the INFO sent at stop).
    if (target === undefined && this.#opts.disableBalancer) {
      this.#syncBalanced(payload.services as Record<string, unknown>[]);
    }
    this.#sendQuiet(PacketType.INFO, target, payload);
  }

  /**
   * Make the `disableBalancer` subscriptions match the announced services: per action
   * `REQB.<action>` (queue = action name), per event `EVENTB.<group>.<event>` (queue = group, the
   * event's or else the service name). Moleculer drops and recreates them all; keeping the
   * unchanged ones gives the transporter the same set without a window in which none exists.
   */
  #syncBalanced(services: Record<string, unknown>[]): void {
    const wanted = new Map<string, [PacketType, string, string]>();
    for (const svc of services) {
      const name = typeof svc.name === "string" ? svc.name : "";
      for (
        const action of Object.keys(isRecord(svc.actions) ? svc.actions : EMPTY)
      ) {
        const subject = balancedRequestTopic(this.#prefix, action);
        wanted.set(`${subject} ${action}`, [
          PacketType.REQUEST,
          subject,
          action,
        ]);
      }
      const events = isRecord(svc.events) ? svc.events : EMPTY;
      for (const [event, def] of Object.entries(events)) {
        const own = isRecord(def) ? def.group : undefined;
        const group = typeof own === "string" && own ? own : name;
        const subject = balancedEventSubscription(this.#prefix, group, event);
        wanted.set(`${subject} ${group}`, [PacketType.EVENT, subject, group]);
      }
    }
    for (const [key, sub] of this.#balanced) {
      if (wanted.has(key)) continue;
      sub.unsubscribe();
      this.#balanced.delete(key);
    }
    for (const [key, [type, subject, queue]] of wanted) {
      if (this.#balanced.has(key)) continue;
      try {
        this.#balanced.set(
          key,
          this.#transporter.subscribe(
            subject,
            (data) => this.#onMessage(type, data),
            queue,
          ),
        );
      } catch (err) {
        this.#host.logger.warn(
          `Cannot subscribe to '${subject}' (queue '${queue}'): ${(err as Error).message}`,
        );
      }
    }
  }

  /**
   * Send a request to a remote node and wait for the response.
   *
   * @param ctx The call's context; `ctx.nodeID` is the target node, or null to publish a
   *   balanced request on `REQB.<action>` (`disableBalancer`); `ctx.nodeID` is then set to the
   *   node that responds, as in Moleculer.
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
      return Promise.reject(
        new BrokerDisconnectedError(undefined, { action, nodeID }),
      );
    }
    if (nodeID && this.#unheard.has(nodeID)) {
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
    return new Promise((resolve, reject) => {
      const id = ctx.id;
      const req: PendingRequest = {
        id,
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
          if (this.#pending.delete(id)) {
            // A balanced request (REQB) has no known target: its nodeID is "".
            reject(new RequestTimeoutError({ action, nodeID: nodeID ?? "" }));
          }
        }, Math.min(timeout, MAX_TIMER_MS));
      }
      this.#pending.set(req);
      // One literal: the object gets its final shape at once (protocol 4, which has no
      // `headers`, is the rare case that pays for the delete).
      const payload: PacketPayload = {
        id,
        action,
        params: ctx.params ?? EMPTY,
        meta: ctx.meta,
        headers: ctx.headers,
        timeout: timeout ?? 0,
        level: ctx.level,
        tracing: null,
        parentID: ctx.parentID,
        requestID: ctx.requestID,
        caller: ctx.caller,
        stream: false,
      };
      if (this.#opts.protocolVersion !== "5") delete payload.headers;
      const sent = nodeID ? this.#send(PacketType.REQUEST, nodeID, payload) : this.#send(
        PacketType.REQUEST,
        undefined,
        payload,
        balancedRequestTopic(this.#prefix, action),
      );
      sent.catch((err) => {
        if (this.#pending.delete(id)) {
          if (req.timer !== undefined) clearTimeout(req.timer);
          reject(
            tooLarge(err, `The request of '${action}'`, { action, nodeID }),
          );
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
    const req = this.#pending.take(id);
    if (req?.timer !== undefined) clearTimeout(req.timer);
  }

  /**
   * Send an EVENT to one node, or balanced copies to event groups.
   *
   * @param nodeID Target node; null for `disableBalancer` emits: one copy per group, with
   *   `groups: [group]`, is published to `EVENTB.<group>.<event>`.
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
    if (nodeID !== null) return this.#send(PacketType.EVENT, nodeID, payload);
    // #send serializes synchronously, so one payload object serves every copy.
    const jobs: Promise<void>[] = [];
    for (const group of groups ?? []) {
      payload.groups = [group];
      jobs.push(this.#send(
        PacketType.EVENT,
        undefined,
        payload,
        balancedEventTopic(this.#prefix, group, ctx.eventName!),
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
      this.#warnLimited(
        `malformed ${type}`,
        `Dropped a malformed ${type} packet: ${printable((err as Error).message, 200)}`,
      );
      return;
    }
    const sender = payload.sender;
    // Packets come in runs from the same few peers: a sender equal to the last valid one skips
    // the regular expression.
    if (typeof sender === "string" && sender === this.#lastSender) {
      // valid
    } else if (isValidSender(sender)) {
      this.#lastSender = sender;
    } else {
      this.#warnLimited(
        `sender ${type}`,
        typeof sender === "string" && sender !== ""
          ? `Dropped a ${type} packet with an invalid sender '${printable(sender)}'`
          : `Dropped a ${type} packet without a sender`,
      );
      return;
    }
    if (
      payload.ver !== this.#opts.protocolVersion &&
      !this.#opts.disableVersionCheck
    ) {
      if (
        this.#warnedVersion.size >= WARN_MAX_KEYS &&
        !this.#warnedVersion.has(sender)
      ) {
        this.#warnLimited(
          `version ${sender}`,
          `Dropped a ${type} packet of protocol ${printable(payload.ver, 16)} from '${
            printable(sender)
          }'`,
        );
      } else if (!this.#warnedVersion.has(sender)) {
        this.#warnedVersion.add(sender);
        const ver = printable(payload.ver, 16);
        const hint = ver === "4" ? " (Moleculer 0.14)" : ver === "5" ? " (Moleculer 0.15)" : "";
        this.#host.logger.warn(
          ver === "4" || ver === "5"
            ? `Node '${
              printable(sender)
            }' speaks protocol ${ver}${hint}, this node speaks ${this.#opts.protocolVersion}: ` +
              `its packets are dropped. Start with protocolVersion '${ver}' to talk to it.`
            : `Node '${printable(sender)}' sends packets of an unknown protocol version ` +
              `'${ver}': they are dropped`,
        );
      }
      return;
    }
    if (this.#unheard.size > 0) this.#unheard.delete(sender);
    if (sender === this.#host.nodeID) {
      if (
        type === PacketType.INFO && payload.instanceID !== this.#host.instanceID
      ) {
        this.#onConflictingInfo(payload.instanceID);
        return;
      }
      if (type === PacketType.PING || type === PacketType.PONG) {
        this.#onOwnPing(type, payload);
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
      this.#warnLimited(
        `${type} ${sender}`,
        `Dropped a ${type} packet from '${printable(sender)}': ${
          printable((err as Error).message, 200)
        }`,
      );
    }
  }

  /**
   * An INFO under our own nodeID from another instance.
   *
   * While this node starts, that is the running instance answering our DISCOVER: this one
   * yields (`connect()` rejects). Once running, one packet is no proof (a stray or forged packet
   * must not stop a healthy node for good), so the claim is checked first:
   * - our INFO is broadcast again: the other nodes, which took the claim for ours, get our real
   *   instance and services back, and a Moleculer instance under our nodeID exits on it
   *   (Moleculer's rule);
   * - a PING goes to `PING.<nodeID>` with a random id that only another live Denolecular
   *   instance can answer (Moleculer drops PINGs under its own nodeID).
   *
   * On that PONG the conflict is real and the instance with the greater instanceID yields, so
   * exactly one survives; with no answer within `max(1 s, discoverWaitTime)` the INFO is ignored.
   */
  #onConflictingInfo(claimed: unknown): void {
    if (this.#conflict !== undefined) return;
    const valid = typeof claimed === "string" && claimed !== "";
    if (!valid && (this.#stopping || !this.#ready)) {
      this.#warnLimited(
        "own INFO",
        "Dropped an INFO under this node's nodeID without an instanceID",
      );
      return;
    }
    // Without an instanceID it is no real node, but the other nodes applied it all the same:
    // it is checked (and answered with our INFO) like any claim.
    const instanceID = valid ? claimed : "(none)";
    if (this.#stopping) {
      // Our successor is already up: leave quietly, without a DISCONNECT in its name.
      this.#conflict = instanceID;
      this.#host.logger.info(
        `A new instance (${printable(instanceID)}) took over the nodeID while this one stops`,
      );
      return;
    }
    if (!this.#ready) {
      this.#conflict = instanceID;
      this.#host.nodeIDConflict(instanceID);
      return;
    }
    if (this.#probe) {
      this.#probe.again = true; // one check at a time
      return;
    }
    const nonce = crypto.randomUUID();
    const timer = setTimeout(() => {
      const again = this.#probe?.again;
      this.#probe = undefined;
      if (again) this.#sendInfo();
      this.#warnLimited(
        "conflict unconfirmed",
        `Ignored an INFO under this node's nodeID from instance '${printable(instanceID)}': ` +
          "no such Denolecular instance answered (a stray or forged packet, or a Moleculer " +
          "node that exits on this node's INFO)",
      );
    }, Math.max(1000, this.#opts.discoverWaitTime));
    this.#probe = { instanceID, nonce, timer, again: false };
    this.#warnLimited(
      "conflict check",
      `An INFO claims this node's nodeID for instance '${printable(instanceID)}': checking it`,
    );
    this.#sendInfo();
    this.#sendQuiet(PacketType.PING, this.#host.nodeID, {
      time: Date.now(),
      id: nonce,
    });
  }

  /** PING and PONG under our own nodeID: the conflict check of #onConflictingInfo. */
  #onOwnPing(type: PacketType, p: PacketPayload): void {
    const id = p.id;
    if (typeof id !== "string") return;
    if (type === PacketType.PING) {
      // Our own probe or ping comes back to us: ignore it. Another instance checks a claim:
      // answer it, so that it knows we are alive.
      if (
        this.#probe?.nonce === id || this.#pings.has(id) || !this.#ready ||
        this.#stopping
      ) {
        return;
      }
      this.#sendQuiet(PacketType.PONG, this.#host.nodeID, {
        time: p.time,
        id,
        arrived: Date.now(),
        instanceID: this.#host.instanceID,
      });
      return;
    }
    const probe = this.#probe;
    if (
      !probe || probe.nonce !== id || p.instanceID === this.#host.instanceID
    ) return;
    clearTimeout(probe.timer);
    this.#probe = undefined;
    const other = typeof p.instanceID === "string" && p.instanceID !== ""
      ? p.instanceID
      : probe.instanceID;
    if (this.#host.instanceID < other) {
      // We stay. The other instance yields once it checks the conflict in turn: make sure it
      // hears of it (and the others see us again).
      this.#host.logger.warn(
        `Instance '${printable(other)}' also runs under this node's nodeID; ` +
          "it yields (the greater instanceID does)",
      );
      this.#sendInfo();
      return;
    }
    this.#conflict = other;
    this.#host.nodeIDConflict(other);
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
      meta: isRecord(p.meta) ? withoutProto(p.meta) : {},
      headers: isRecord(p.headers) ? withoutProto(p.headers) : {},
      // Past 2^31-1 ms a timer fires at once: a huge timeout is no timeout at all.
      timeout: typeof p.timeout === "number" && p.timeout > 0
        ? Math.min(p.timeout, MAX_TIMER_MS)
        : null,
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
      const reason = printable((err as Error)?.message, 200);
      this.#warnLimited(
        `response ${sender}`,
        `Cannot send the response of '${printable(packet.action)}' to '${
          printable(sender)
        }': ${reason}`,
      );
      // Unless the connection is down, tell the caller why (a response over max_payload, a
      // result JSON cannot encode): it would otherwise wait until its timeout, or forever.
      if (err instanceof BrokerDisconnectedError) return;
      const data = { action: packet.action, nodeID: this.#host.nodeID };
      const error = err instanceof MoleculerError
        ? tooLarge(
          err,
          `The response of '${printable(packet.action, 200)}'`,
          data,
        )
        : new MoleculerError(
          `The response of '${printable(packet.action, 200)}' cannot be sent: ${reason}`,
          500,
          "RESPONSE_NOT_SENT",
          data,
        );
      const res: PacketPayload = {
        id: packet.id,
        meta: {},
        success: false,
        data: null,
      };
      if (this.#opts.protocolVersion === "5") res.headers = {};
      res.error = toPlain(error, this.#host.nodeID);
      this.#sendQuiet(PacketType.RESPONSE, sender, res);
    });
  }

  #onResponse(sender: string, p: PacketPayload): void {
    if (typeof p.id !== "string") throw new Error("RES needs a string 'id'");
    const req = this.#pending.take(p.id);
    if (!req) return; // an orphan: its caller has given up
    if (req.timer !== undefined) clearTimeout(req.timer);
    // A balanced request learns here which node served it (Moleculer does the same).
    req.ctx.nodeID = sender;
    if (isRecord(p.meta)) mergeInto(req.ctx.meta, p.meta);
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
      meta: isRecord(p.meta) ? withoutProto(p.meta) : {},
      headers: isRecord(p.headers) ? withoutProto(p.headers) : {},
      level: typeof p.level === "number" && p.level >= 1 ? p.level : 1,
      parentID: strOrNull(p.parentID),
      requestID: strOrNull(p.requestID),
      caller: strOrNull(p.caller),
    };
    this.#host.runEvent(packet, sender).catch((err) =>
      this.#warnLimited(
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
    this.#unheard.delete(nodeID);
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
