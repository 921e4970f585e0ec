/**
 * The gossip of Moleculer's TCP transporter: how the nodes of a serverless cluster learn each
 * other's INFO and status without INFO, HEARTBEAT or DISCONNECT packets.
 *
 * - `GOSSIP_HELLO` `{ host, port }` opens every outgoing connection: the receiver learns where
 *   to answer.
 * - Every `gossipPeriod`, a node sends `GOSSIP_REQ` `{ online: { id: [seq, cpuSeq, cpu] },
 *   offline: { id: seq } }` — what it knows of every node — to a random online node and, with a
 *   probability growing with the share of offline nodes, to a random offline one.
 * - The receiver answers `GOSSIP_RES` with what it knows better: the INFO of nodes whose `seq`
 *   is higher (`online: { id: [info, cpuSeq, cpu] }`), newer CPU values (`[cpuSeq, cpu]`), and
 *   nodes it knows to be offline (`offline: { id: seq }`). A node said to be offline with a
 *   higher `seq` is offline; a node said to be offline that is alive answers with `seq + 1`.
 *
 * @module
 */

import { printable } from "../../_util/values.ts";
import { isValidSender } from "../../core/protocol.ts";
import type { GossipHost } from "../transporter.ts";
import type { NodeInfo } from "../../registry/registry.ts";
import { isRecord } from "../../_util/values.ts";

/** Where a node can be reached, and the INFO it last gave (relayed by gossip). */
export interface Peer {
  /** The address it was first known by (static list, announcement, HELLO). */
  host: string;
  /** Its TCP port. */
  port: number;
  /** The address its announcement or connection came from; preferred when set. */
  udpAddress?: string;
  /** Its INFO payload as last received, to relay it. */
  info?: Record<string, unknown>;
}

/** A gossip packet type. */
export type GossipType = "GOSSIP_REQ" | "GOSSIP_RES" | "GOSSIP_HELLO";

/** What the gossip needs from its transporter. */
export interface GossipWire {
  /** The node list and the registry verbs. */
  readonly host: GossipHost;
  /** Addresses by nodeID. */
  readonly peers: Map<string, Peer>;
  /** This node's TCP port, announced in HELLO and INFO. */
  port(): number;
  /** How this node is reached: the address HELLO gives. */
  localAddress(): string;
  /** Send a gossip payload to a node (failures are the transporter's business). */
  send(nodeID: string, type: GossipType, payload: Record<string, unknown>): void;
  /** Report a dropped gossip packet (logged once per cause). */
  warn(key: string, message: string): void;
  /** Log one gossip packet, when `debug` is on. */
  debug?(line: string, payload: unknown): void;
}

type Online = Record<string, unknown[]>;
type Offline = Record<string, number>;

/** Pick one element at random. */
function pick<T>(list: readonly T[]): T | undefined {
  return list.length <= 1 ? list[0] : list[Math.floor(Math.random() * list.length)];
}

/** Gossip state machine of one node. */
export class Gossip {
  readonly #w: GossipWire;

  /** @param wire The transporter side. */
  constructor(wire: GossipWire) {
    this.#w = wire;
  }

  /** This node's INFO as gossip relays it: with its TCP port. */
  localInfo(): Record<string, unknown> {
    const info = this.#w.host.localInfo();
    info.port = this.#w.port();
    return info;
  }

  /** The INFO of a node, to relay; undefined when it was never received. */
  #infoOf(node: NodeInfo): Record<string, unknown> | undefined {
    return node.local ? this.localInfo() : this.#w.peers.get(node.id)?.info;
  }

  /** Update this node's CPU usage (bumping `cpuSeq` when it changed), as before each round. */
  updateLocalCpu(): void {
    const local = this.#w.host.localNode;
    const cpu = this.#w.host.cpuUsage();
    if (cpu === null) return;
    const value = Math.round(cpu);
    if (local.cpu !== value) {
      local.cpu = value;
      local.cpuSeq++;
    }
  }

  /** One gossip round: send what this node knows to a random online and maybe an offline node. */
  round(): void {
    const nodes = [...this.#w.host.nodes.values()];
    if (nodes.length <= 1) return;
    const online: Online = {};
    const offline: Offline = {};
    const onlineList: NodeInfo[] = [];
    const offlineList: NodeInfo[] = [];
    for (const node of nodes) {
      if (!node.available) {
        if (node.seq > 0) offline[node.id] = node.seq;
        offlineList.push(node);
      } else {
        online[node.id] = [node.seq, node.cpuSeq || 0, node.cpu || 0];
        if (!node.local) onlineList.push(node);
      }
    }
    const payload: Record<string, unknown> = {};
    if (Object.keys(online).length > 0) payload.online = online;
    if (Object.keys(offline).length > 0) payload.offline = offline;
    const live = pick(onlineList);
    if (live) this.#send(live.id, "GOSSIP_REQ", payload);
    if (offlineList.length > 0) {
      const ratio = offlineList.length / (onlineList.length + 1);
      const down = ratio >= 1 || Math.random() < ratio ? pick(offlineList) : undefined;
      if (down && this.#w.peers.has(down.id)) this.#send(down.id, "GOSSIP_REQ", payload);
    }
  }

  /** The payload of the HELLO that opens each outgoing connection. */
  hello(): Record<string, unknown> {
    return { host: this.#w.localAddress(), port: this.#w.port() };
  }

  /**
   * A HELLO arrived: the sender is reachable at the given port (and at the address its
   * connection came from).
   *
   * @param p The payload (untrusted).
   * @param remoteAddress The connection's remote address.
   */
  onHello(p: Record<string, unknown>, remoteAddress: string): void {
    const sender = p.sender as string;
    this.#w.debug?.(`HELLO <- ${sender}`, p);
    const host = typeof p.host === "string" && p.host !== "" ? p.host : remoteAddress;
    const port = p.port;
    if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new Error(`a GOSSIP_HELLO without a valid port (${printable(port, 16)})`);
    }
    const node = this.#w.host.addOfflineNode(sender, host);
    let peer = this.#w.peers.get(sender);
    if (!peer) this.#w.peers.set(sender, peer = { host, port });
    else if (!node.available) peer.port = port;
    peer.udpAddress ??= remoteAddress;
  }

  /**
   * A UDP announcement of a node of this namespace.
   *
   * @param nodeID The announced node.
   * @param address Where the announcement came from.
   * @param port The node's TCP port.
   */
  onAnnouncement(nodeID: string, address: string, port: number): void {
    const node = this.#w.host.addOfflineNode(nodeID, address);
    let peer = this.#w.peers.get(nodeID);
    if (!peer) this.#w.peers.set(nodeID, peer = { host: address, port });
    else if (!node.available) {
      peer.port = port;
      node.hostname = address;
      if (!node.ipList.includes(address)) node.ipList.unshift(address);
    }
    peer.udpAddress = address;
  }

  /**
   * A GOSSIP_REQ arrived: answer with what this node knows better.
   *
   * @param p The payload (untrusted).
   */
  onRequest(p: Record<string, unknown>): void {
    const sender = p.sender as string;
    this.#w.debug?.(`REQUEST <- ${sender}`, p);
    const theirOnline = isRecord(p.online) ? p.online : {};
    const theirOffline = isRecord(p.offline) ? p.offline : {};
    const online: Online = {};
    const offline: Offline = {};
    const host = this.#w.host;
    for (const node of [...host.nodes.values()]) {
      const on = Object.hasOwn(theirOnline, node.id) ? theirOnline[node.id] : undefined;
      const off = Object.hasOwn(theirOffline, node.id) ? theirOffline[node.id] : undefined;
      let seq: number | undefined;
      let cpuSeq = 0;
      let cpu = 0;
      if (typeof off === "number") seq = off;
      else if (Array.isArray(on)) {
        seq = typeof on[0] === "number" ? on[0] : undefined;
        cpuSeq = typeof on[1] === "number" ? on[1] : 0;
        cpu = typeof on[2] === "number" ? on[2] : 0;
      }
      if (!seq || seq < node.seq) {
        // We know better, or the requester does not know the node.
        if (node.available) {
          const info = this.#infoOf(node);
          if (info) online[node.id] = [info, node.cpuSeq || 0, node.cpu || 0];
        } else {
          offline[node.id] = node.seq;
        }
        continue;
      }
      if (typeof off === "number") {
        if (!node.available) {
          if (seq > node.seq) node.seq = seq;
        } else if (!node.local) {
          // The requester saw it leave after we last heard of it.
          host.nodeDisconnected(node.id, false);
          node.seq = seq;
        } else {
          // We are said to be offline: answer that we are alive, with a higher seq.
          node.seq = seq + 1;
          online[node.id] = [this.localInfo(), node.cpuSeq || 0, node.cpu || 0];
        }
      } else if (Array.isArray(on) && node.available) {
        if (cpuSeq > node.cpuSeq) {
          node.cpu = cpu;
          node.cpuSeq = cpuSeq;
          node.lastHeartbeatTime = Date.now();
        } else if (cpuSeq < node.cpuSeq) {
          online[node.id] = [node.cpuSeq || 0, node.cpu || 0];
        }
      }
    }
    const res: Record<string, unknown> = {};
    if (Object.keys(online).length > 0) res.online = online;
    if (Object.keys(offline).length > 0) res.offline = offline;
    if (res.online || res.offline) this.#send(sender, "GOSSIP_RES", res);
  }

  /**
   * A GOSSIP_RES arrived: take the newer INFO, CPU values and offline states.
   *
   * @param p The payload (untrusted).
   */
  onResponse(p: Record<string, unknown>): void {
    this.#w.debug?.(`RESPONSE <- ${p.sender as string}`, p);
    const host = this.#w.host;
    const own = host.localNode.id;
    if (isRecord(p.online)) {
      for (const [nodeID, row] of Object.entries(p.online)) {
        if (nodeID === own || !Array.isArray(row)) continue;
        if (!isValidSender(nodeID)) {
          this.#w.warn(
            "gossip nodeID",
            `Dropped gossip about an invalid nodeID '${printable(nodeID)}'`,
          );
          continue;
        }
        let info: unknown, cpuSeq: unknown, cpu: unknown;
        if (row.length === 1) [info] = row;
        else if (row.length === 2) [cpuSeq, cpu] = row;
        else if (row.length === 3) [info, cpuSeq, cpu] = row;
        let node = host.nodes.get(nodeID);
        if (isRecord(info) && (!node || node.seq < (typeof info.seq === "number" ? info.seq : 0))) {
          try {
            node = this.#applyInfo(nodeID, info) ?? node;
          } catch (err) {
            // One bad INFO does not stop the others of the response.
            this.#w.warn(
              `gossip info ${nodeID}`,
              `Dropped the INFO of '${printable(nodeID)}' relayed by gossip: ${
                printable((err as Error).message, 200)
              }`,
            );
            continue;
          }
        }
        if (
          node && node.available && typeof cpuSeq === "number" && cpuSeq > node.cpuSeq
        ) {
          node.cpu = typeof cpu === "number" ? cpu : null;
          node.cpuSeq = cpuSeq;
          node.lastHeartbeatTime = Date.now();
        }
      }
    }
    if (isRecord(p.offline)) {
      for (const [nodeID, seq] of Object.entries(p.offline)) {
        if (nodeID === own || typeof seq !== "number") continue;
        const node = host.nodes.get(nodeID);
        if (!node || node.seq >= seq) continue;
        if (node.available) host.nodeDisconnected(nodeID, false);
        node.seq = seq;
      }
    }
  }

  /** Hand an INFO learnt by gossip to the registry, and keep its port and payload to relay. */
  #applyInfo(nodeID: string, info: Record<string, unknown>): NodeInfo | undefined {
    if (typeof info.ver === "string" && info.ver !== this.#w.host.protocolVersion) {
      this.#w.warn(
        `gossip version ${nodeID}`,
        `Ignored the INFO of '${printable(nodeID)}' relayed by gossip: it speaks protocol ` +
          `${printable(info.ver, 8)}, this node ${this.#w.host.protocolVersion}`,
      );
      return undefined;
    }
    info.sender = nodeID;
    this.#w.host.nodeInfo(nodeID, info);
    const node = this.#w.host.nodes.get(nodeID);
    const port = info.port;
    const peer = this.#w.peers.get(nodeID);
    const validPort = typeof port === "number" && Number.isInteger(port) && port > 0 &&
      port < 65536;
    const address = node?.hostname ?? node?.ipList[0];
    if (peer) {
      if (validPort) peer.port = port;
      peer.info = info;
    } else if (validPort && address) {
      this.#w.peers.set(nodeID, { host: address, port, info });
    }
    return node;
  }

  #send(nodeID: string, type: GossipType, payload: Record<string, unknown>): void {
    this.#w.debug?.(`${type.slice(7)} -> ${nodeID}`, payload);
    this.#w.send(nodeID, type, payload);
  }
}
