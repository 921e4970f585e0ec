/**
 * The TCP transporter: a serverless cluster, wire-compatible with Moleculer's `TcpTransporter`.
 *
 * Each node listens on a TCP port and opens one connection to each node it sends to; nodes find
 * each other by UDP announcements (`udp.ts`, loaded by `import()` when `udpDiscovery` is on) or
 * a static `urls` list, and learn each other's INFO and status by gossip (`gossip.ts`). Frames
 * are Moleculer's (`frame.ts`). Only targeted EVENT, REQ, RES, PING and PONG packets travel, as
 * with Moleculer: INFO, DISCOVER, HEARTBEAT and DISCONNECT are replaced by the gossip, and a
 * node is offline once its connection ends or gossip says so.
 *
 * @example Two nodes on one machine, by static addresses
 * ```ts ignore
 * import { ServiceBroker } from "@denolecular/denolecular";
 *
 * const urls = "127.0.0.1:6001/a,127.0.0.1:6002/b";
 * const a = new ServiceBroker({ nodeID: "a", transporter: { type: "TCP", options: { udpDiscovery: false, urls } } });
 * const b = new ServiceBroker({ nodeID: "b", transporter: `tcp://${urls}` });
 * ```
 *
 * @module
 */

import { noBalancedQueues } from "../_errors.ts";
import { BrokerDisconnectedError, MoleculerError } from "../../errors.ts";
import { printable } from "../../_util/values.ts";
import { isValidSender, type PacketType } from "../../core/protocol.ts";
import {
  type GossipHost,
  isGossipHost,
  type Transporter,
  type TransporterHost,
  type TransporterSubscription,
} from "../transporter.ts";
import { FRAME_TYPE, type FramedType, frameTypeOf, HEADER_SIZE } from "./frame.ts";
import { Gossip, type GossipType, type Peer } from "./gossip.ts";
import { OutgoingLink, readFrames } from "./links.ts";
import {
  parseTcpUrls,
  resolveTcpSettings,
  type TcpEndpoint,
  type TcpSettings,
  type TcpTransporterOptions,
} from "./options.ts";
import type { UdpDiscovery } from "./udp.ts";

/** Bound of the set of warnings already logged (cause and sender). */
const MAX_WARNED = 1_000;
/** Longest wait at disconnect for the frames still queued on a connection. */
const FLUSH_GRACE_MS = 1_000;

const RESOLVED: Promise<void> = Promise.resolve();

/** A subscription that counts down its packet type once. */
class TypeSubscription implements TransporterSubscription {
  #active = true;
  constructor(private readonly done: () => void) {}
  unsubscribe(): void {
    if (!this.#active) return;
    this.#active = false;
    this.done();
  }
}

/**
 * A transporter over direct TCP connections, compatible with Moleculer's TCP transporter (a
 * Node.js Moleculer 0.14 or 0.15 node with `transporter: "TCP"` joins the same cluster).
 *
 * - No server: nodes find each other by UDP (`udpDiscovery`, multicast `239.0.0.0:4445` by
 *   default) or `urls`, and spread INFO and CPU by gossip every `gossipPeriod` seconds.
 * - No built-in balancer (`hasBuiltInBalancer: false`): `disableBalancer` is ignored.
 * - A packet for a node whose address is unknown, or that cannot be reached, rejects (and the
 *   node is marked offline, its pending requests rejected).
 * - Bad input on a connection (wrong CRC, a bad length, a frame over `maxPacketSize`) closes it;
 *   each cause is logged once per remote address.
 *
 * @example Explicit instance
 * ```ts ignore
 * import { ServiceBroker } from "@denolecular/denolecular";
 * import { TcpTransporter } from "@denolecular/denolecular/transporters/tcp";
 *
 * const transporter = new TcpTransporter({ port: 6000, udpDiscovery: true });
 * const broker = new ServiceBroker({ nodeID: "api-1", transporter });
 * await broker.start();
 * console.log(transporter.port); // 6000
 * ```
 */
export class TcpTransporter implements Transporter {
  /** `"TCP"`. */
  readonly name: string = "TCP";
  /** Always `false`: TCP has no queue groups. */
  readonly hasBuiltInBalancer: boolean = false;

  readonly #s: TcpSettings;
  #host: TransporterHost | undefined;
  #gossipHost: GossipHost | undefined;
  #gossip: Gossip | undefined;
  #listener: Deno.TcpListener | undefined;
  #port = 0;
  #connected = false;
  readonly #peers = new Map<string, Peer>();
  readonly #links = new Map<string, OutgoingLink>();
  readonly #inbound = new Set<Deno.Conn>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #subs = new Map<string, number>();
  readonly #warned = new Set<string>();
  #gossipTimer: ReturnType<typeof setInterval> | undefined;
  #udp: UdpDiscovery | undefined;

  /**
   * Create a TCP transporter. Nothing listens until {@linkcode TcpTransporter.connect}.
   *
   * @param options `"tcp://host:port/nodeID,…"` (the `urls`), or the options (Moleculer's).
   * @throws {BrokerOptionsError} on an unknown option or a bad value.
   */
  constructor(options: string | TcpTransporterOptions = {}) {
    this.#s = resolveTcpSettings(options);
  }

  /** True between {@linkcode TcpTransporter.connect} and {@linkcode TcpTransporter.disconnect}. */
  get connected(): boolean {
    return this.#connected;
  }

  /** The largest payload sent: `maxPacketSize` less the 6-byte frame header. */
  get maxPayload(): number {
    return this.#s.maxPacketSize - HEADER_SIZE;
  }

  /** The TCP port this node listens on (known once connected; 0 before). */
  get port(): number {
    return this.#port;
  }

  /**
   * Listen, load the static `urls`, start gossip (with a broker's host) and UDP discovery.
   * Calling it again while connected only replaces the host.
   *
   * @param host This node; a broker's transit gives a {@linkcode GossipHost}, which turns the
   *   gossip on (with a bare host, only the static and announced addresses are known).
   * @throws {BrokerDisconnectedError} when the port cannot be listened on, or the `urls` file
   *   cannot be read.
   */
  async connect(host: TransporterHost): Promise<void> {
    this.#host = host;
    if (this.#connected) return;
    const gossip = isGossipHost(host) ? host : undefined;
    this.#gossipHost = gossip;
    let port = this.#s.port;
    for (const ep of await this.#loadUrls()) {
      if (ep.nodeID === host.nodeID) {
        if (!port) port = ep.port;
        continue;
      }
      this.#peers.set(ep.nodeID, { host: ep.host, port: ep.port });
      gossip?.addOfflineNode(ep.nodeID, ep.host);
    }
    try {
      this.#listener = Deno.listen({ hostname: "0.0.0.0", port, transport: "tcp" });
    } catch (cause) {
      throw new BrokerDisconnectedError(
        `The TCP transporter cannot listen on port ${port || "(random)"}: ${
          (cause as Error).message
        }`,
        { port },
        { cause },
      );
    }
    this.#port = (this.#listener.addr as Deno.NetAddr).port;
    this.#track(this.#accept(this.#listener));
    if (gossip) {
      gossip.disableHeartbeat();
      const g = this.#gossip = new Gossip({
        host: gossip,
        peers: this.#peers,
        port: () => this.#port,
        localAddress: () => this.#localAddress(gossip),
        send: (nodeID, type, payload) => this.#sendGossip(nodeID, type, payload),
        warn: (key, message) => this.#warnOnce(key, message),
        ...(this.#s.debug
          ? { debug: (line: string, p: unknown) => console.debug(`[TCP gossip] ${line}`, p) }
          : {}),
      });
      this.#gossipTimer = setInterval(() => {
        try {
          g.updateLocalCpu();
          g.round();
        } catch (err) {
          this.#warnOnce("gossip round", `TCP gossip round failed: ${(err as Error).message}`);
        }
      }, this.#s.gossipPeriod * 1000);
    }
    this.#connected = true;
    if (this.#s.udpDiscovery) await this.#startUdp(host);
  }

  /**
   * Stop gossip and discovery, write what is queued (up to a second), close every connection
   * and the listener. Idempotent.
   */
  async disconnect(): Promise<void> {
    if (!this.#connected && this.#listener === undefined) return;
    this.#connected = false;
    clearInterval(this.#gossipTimer);
    this.#gossipTimer = undefined;
    this.#udp?.close();
    this.#udp = undefined;
    try {
      this.#listener?.close();
    } catch {
      // already closed
    }
    this.#listener = undefined;
    const links = [...this.#links.values()];
    this.#links.clear();
    await Promise.all(links.map((l) => l.close(FLUSH_GRACE_MS)));
    for (const conn of this.#inbound) {
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
    this.#inbound.clear();
    await Promise.all([...this.#tasks]);
    this.#gossip = undefined;
    this.#peers.clear();
  }

  /**
   * Receive the packets of a type. Over TCP every packet is for one node, so the broadcast and
   * the targeted subscriptions of a type receive the same frames.
   *
   * @param type The packet type.
   * @param _nodeID This node, for targeted packets.
   * @returns The subscription (active at once).
   * @throws {BrokerDisconnectedError} when not connected.
   */
  subscribe(type: PacketType, _nodeID?: string): Promise<TransporterSubscription> {
    if (!this.#connected) return Promise.reject(this.#notConnected("subscribe"));
    this.#subs.set(type, (this.#subs.get(type) ?? 0) + 1);
    return Promise.resolve(
      new TypeSubscription(() => {
        const n = (this.#subs.get(type) ?? 1) - 1;
        if (n > 0) this.#subs.set(type, n);
        else this.#subs.delete(type);
      }),
    );
  }

  /**
   * Not available: TCP has no queue groups.
   *
   * @param _action The action.
   * @returns Never; rejects.
   * @throws {BrokerDisconnectedError} when not connected.
   * @throws {MoleculerError} (500 `NOT_BALANCING`) otherwise.
   */
  subscribeBalancedRequest(_action: string): Promise<TransporterSubscription> {
    return Promise.reject(this.#noBalancer());
  }

  /**
   * Not available: TCP has no queue groups.
   *
   * @param _event The event.
   * @param _group The group.
   * @returns Never; rejects.
   * @throws {BrokerDisconnectedError} when not connected.
   * @throws {MoleculerError} (500 `NOT_BALANCING`) otherwise.
   */
  subscribeBalancedEvent(_event: string, _group: string): Promise<TransporterSubscription> {
    return Promise.reject(this.#noBalancer());
  }

  /**
   * Send a packet to a node over its connection (opened on first use). As with Moleculer's TCP
   * transporter, a packet without a target and the packet types that have no TCP frame (INFO,
   * DISCOVER, HEARTBEAT, DISCONNECT) are not sent: gossip carries what they say.
   *
   * @param type The packet type.
   * @param target The node it is for.
   * @param data The payload; not copied.
   * @returns A promise that resolves once the frame is written to the socket.
   * @throws {BrokerDisconnectedError} when not connected.
   * @throws {MoleculerError} (500 `MAX_PAYLOAD_EXCEEDED`) when `data` exceeds
   *   {@linkcode TcpTransporter.maxPayload}; (503 `NODE_UNREACHABLE`) when the node's address is
   *   unknown or it cannot be reached.
   */
  publish(type: PacketType, target: string | undefined, data: Uint8Array): Promise<void> {
    const host = this.#host;
    if (!this.#connected || host === undefined) {
      return Promise.reject(this.#notConnected("publish"));
    }
    if (target === undefined) return RESOLVED;
    const frameType = frameTypeOf(type);
    if (frameType === undefined) return RESOLVED;
    if (data.length > this.maxPayload) {
      return Promise.reject(
        new MoleculerError(
          `Packet of ${data.length} bytes exceeds the TCP transporter's maxPacketSize of ${this.#s.maxPacketSize} bytes (header included)`,
          500,
          "MAX_PAYLOAD_EXCEEDED",
          { size: data.length, maxPayload: this.maxPayload, nodeID: target },
        ),
      );
    }
    if (target === host.nodeID) {
      queueMicrotask(() => this.#deliver(type, data));
      return RESOLVED;
    }
    return this.#sendTo(target, frameType, data, true);
  }

  /**
   * Not available: TCP has no queue groups.
   *
   * @param _action The action.
   * @param _data The payload.
   * @returns Never; rejects.
   * @throws {MoleculerError} (500 `NOT_BALANCING`).
   */
  publishBalancedRequest(_action: string, _data: Uint8Array): Promise<void> {
    return Promise.reject(this.#noBalancer());
  }

  /**
   * Not available: TCP has no queue groups.
   *
   * @param _event The event.
   * @param _group The group.
   * @param _data The payload.
   * @returns Never; rejects.
   * @throws {MoleculerError} (500 `NOT_BALANCING`).
   */
  publishBalancedEvent(_event: string, _group: string, _data: Uint8Array): Promise<void> {
    return Promise.reject(this.#noBalancer());
  }

  // ---- internals ----

  async #loadUrls(): Promise<readonly TcpEndpoint[]> {
    const urls = this.#s.urls;
    if (Array.isArray(urls)) return urls;
    const file = (urls as { file: string }).file;
    let text: string;
    try {
      text = (await Deno.readTextFile(file)).trim();
    } catch (cause) {
      throw new BrokerDisconnectedError(
        `The TCP transporter cannot read its urls file '${file}': ${(cause as Error).message}`,
        { file },
        { cause },
      );
    }
    if (text === "") return [];
    return parseTcpUrls(text.startsWith("{") || text.startsWith("[") ? JSON.parse(text) : text);
  }

  async #startUdp(host: TransporterHost): Promise<void> {
    const { UdpDiscovery } = await import("./udp.ts");
    if (!this.#connected) return;
    const udp = this.#udp = new UdpDiscovery(this.#s, host.namespace, host.nodeID, this.#port, {
      announced: (nodeID, address, port) => {
        if (!isValidSender(nodeID)) {
          this.#warnOnce(
            `udp nodeID ${address}`,
            `Dropped a UDP announcement from ${address} with an invalid nodeID '${
              printable(nodeID)
            }'`,
          );
          return;
        }
        if (this.#gossip) this.#gossip.onAnnouncement(nodeID, address, port);
        else {
          const peer = this.#peers.get(nodeID);
          if (peer) {
            peer.port = port;
            peer.udpAddress = address;
          } else this.#peers.set(nodeID, { host: address, port, udpAddress: address });
        }
      },
      dropped: (key, message) => this.#warnOnce(key, printable(message, 300)),
      failed: (message) => this.#warnOnce(`udp ${message}`, message),
    });
    await udp.start();
  }

  async #accept(listener: Deno.TcpListener): Promise<void> {
    try {
      for await (const conn of listener) {
        if (!this.#connected) {
          conn.close();
          continue;
        }
        this.#inbound.add(conn);
        this.#track(this.#serve(conn));
      }
    } catch {
      // the listener closed
    }
  }

  async #serve(conn: Deno.TcpConn): Promise<void> {
    const address = (conn.remoteAddr as Deno.NetAddr).hostname;
    try {
      conn.setNoDelay(true);
      conn.setKeepAlive(true);
    } catch {
      // not fatal
    }
    await readFrames(conn, this.#s.maxPacketSize, {
      frame: (type, payload) => this.#onFrame(type, payload, address),
      unknown: (typeByte) =>
        this.#warnOnce(
          `frame type ${typeByte} ${address}`,
          `Skipped TCP frames of unknown type ${typeByte} from ${address} (not a packet type of Moleculer's TCP transporter)`,
        ),
      invalid: (error) =>
        this.#warnOnce(
          `frame ${(error as { reason?: unknown }).reason ?? "end"} ${address}`,
          `Closed the TCP connection from ${address}: ${error.message} (not a Moleculer TCP peer, a corrupted stream, or a peer with a larger maxPacketSize)`,
        ),
    });
    this.#inbound.delete(conn);
  }

  #onFrame(type: FramedType, payload: Uint8Array, address: string): void {
    if (type === "GOSSIP_REQ" || type === "GOSSIP_RES" || type === "GOSSIP_HELLO") {
      this.#onGossip(type, payload, address);
      return;
    }
    this.#deliver(type, payload);
  }

  #deliver(type: PacketType, payload: Uint8Array): void {
    if (!this.#subs.has(type)) return;
    try {
      this.#host?.receive(type, payload);
    } catch (err) {
      this.#host?.onError?.(err instanceof Error ? err : new Error(String(err)));
    }
  }

  #onGossip(type: GossipType, data: Uint8Array, address: string): void {
    const host = this.#gossipHost;
    const gossip = this.#gossip;
    if (!host || !gossip) return;
    let p: Record<string, unknown>;
    try {
      p = host.decode(data);
    } catch (err) {
      this.#warnOnce(
        `malformed ${type} ${address}`,
        `Dropped a malformed ${type} packet from ${address}: ${
          printable((err as Error).message, 200)
        }`,
      );
      return;
    }
    if (!isValidSender(p.sender)) {
      this.#warnOnce(
        `sender ${type} ${address}`,
        `Dropped a ${type} packet from ${address} without a valid sender`,
      );
      return;
    }
    if (p.ver !== host.protocolVersion) {
      this.#warnOnce(
        `version ${p.sender}`,
        `Dropped the gossip of '${printable(p.sender)}' (${address}): it speaks protocol ${
          printable(p.ver, 8)
        }, this node ${host.protocolVersion}. Start it with the same protocol version.`,
      );
      return;
    }
    if (p.sender === host.nodeID) return;
    try {
      if (type === "GOSSIP_HELLO") gossip.onHello(p, address);
      else if (type === "GOSSIP_REQ") gossip.onRequest(p);
      else gossip.onResponse(p);
    } catch (err) {
      this.#warnOnce(
        `${type} ${p.sender}`,
        `Dropped a ${type} packet from '${printable(p.sender)}': ${
          printable((err as Error).message, 200)
        }`,
      );
    }
  }

  #sendGossip(nodeID: string, type: GossipType, payload: Record<string, unknown>): void {
    const host = this.#gossipHost;
    if (!host || !this.#connected) return;
    let bytes: Uint8Array;
    try {
      bytes = host.encode(payload);
    } catch (err) {
      this.#warnOnce(`encode ${type}`, `Cannot encode a ${type} packet: ${(err as Error).message}`);
      return;
    }
    if (bytes.length > this.maxPayload) {
      this.#warnOnce(
        `size ${type}`,
        `A ${type} packet of ${bytes.length} bytes exceeds maxPacketSize: not sent`,
      );
      return;
    }
    this.#sendTo(nodeID, FRAME_TYPE[type], bytes, false).catch(() => {});
  }

  /** Where a node is reached, as Moleculer picks it. */
  #addressOf(nodeID: string): { hostname: string; port: number } | undefined {
    const peer = this.#peers.get(nodeID);
    if (!peer || !peer.port) return undefined;
    const node = this.#gossipHost?.nodes.get(nodeID);
    let hostname = peer.udpAddress;
    if (!hostname && node) {
      hostname = (this.#s.useHostname && node.hostname) || node.ipList[0] || undefined;
    }
    return { hostname: hostname ?? peer.host, port: peer.port };
  }

  #localAddress(host: GossipHost): string {
    const local = host.localNode;
    return (this.#s.useHostname && local.hostname) || local.ipList[0] || "127.0.0.1";
  }

  #sendTo(nodeID: string, frameType: number, data: Uint8Array, used: boolean): Promise<void> {
    let link = this.#links.get(nodeID);
    if (link === undefined || link.closed) {
      const address = this.#addressOf(nodeID);
      if (address === undefined) {
        this.#gossipHost?.nodeDisconnected(nodeID, true);
        return Promise.reject(
          new MoleculerError(
            `No address is known for node '${
              printable(nodeID)
            }' (not in 'urls', not announced, never connected)`,
            503,
            "NODE_UNREACHABLE",
            { nodeID },
          ),
        );
      }
      link = this.#open(nodeID, address.hostname, address.port);
    }
    if (used) link.lastUsed = Date.now();
    return link.send(frameType, data);
  }

  #open(nodeID: string, hostname: string, port: number): OutgoingLink {
    const link: OutgoingLink = new OutgoingLink(nodeID, hostname, port, {
      opening: () => {
        const gossip = this.#gossip;
        const host = this.#gossipHost;
        if (!gossip || !host) return undefined;
        return { type: FRAME_TYPE.GOSSIP_HELLO, payload: host.encode(gossip.hello()) };
      },
      ended: () => this.#linkLost(link, false),
      failed: () => this.#linkLost(link, true),
    });
    this.#links.set(nodeID, link);
    if (this.#links.size > this.#s.maxConnections) this.#trimLinks(link);
    return link;
  }

  /** Moleculer's rule: a connection that ends or fails takes its node offline. */
  #linkLost(link: OutgoingLink, unexpected: boolean): void {
    if (this.#links.get(link.nodeID) !== link) return;
    this.#links.delete(link.nodeID);
    if (this.#connected) this.#gossipHost?.nodeDisconnected(link.nodeID, unexpected);
  }

  /** Close the least recently used links over `maxConnections` (never the one just opened). */
  #trimLinks(keep: OutgoingLink): void {
    const list = [...this.#links.values()].filter((l) => l !== keep)
      .sort((a, b) => a.lastUsed - b.lastUsed);
    for (const l of list.slice(0, this.#links.size - this.#s.maxConnections)) {
      this.#links.delete(l.nodeID);
      this.#track(l.close(FLUSH_GRACE_MS));
    }
  }

  /** Log a problem once per cause and sender (bounded), through the host's `onError`. */
  #warnOnce(key: string, message: string): void {
    if (this.#warned.has(key)) return;
    if (this.#warned.size >= MAX_WARNED) this.#warned.clear();
    this.#warned.add(key);
    this.#host?.onError?.(new Error(message));
  }

  #track(task: Promise<void>): void {
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task));
  }

  #noBalancer(): Error {
    if (!this.#connected) return this.#notConnected("use a balanced queue");
    return noBalancedQueues("TCP");
  }

  #notConnected(what: string): BrokerDisconnectedError {
    return new BrokerDisconnectedError(`Cannot ${what}: the TCP transporter is not connected`);
  }
}
