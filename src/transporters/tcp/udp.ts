/**
 * UDP discovery of Moleculer's TCP transporter: every `udpPeriod` seconds each node sends
 * `"<namespace>|<nodeID>|<tcpPort>"` to the multicast group (`udpMulticast`, on every IPv4
 * interface or on `udpBindAddress`) and/or to broadcast addresses (`udpBroadcast`), on
 * `udpPort`; a node of the same namespace that hears it learns where to connect.
 *
 * Loaded by `import()` when a TCP transporter with `udpDiscovery` connects: it uses `node:dgram`
 * (Deno's own UDP sockets are not stable yet) and `node:os` for the interfaces.
 *
 * @module
 */

import dgram from "node:dgram";
import os from "node:os";
import type { TcpSettings } from "./options.ts";

/** What the discovery reports to its transporter. */
export interface UdpListener {
  /** A node of this namespace announced itself. */
  announced(nodeID: string, address: string, port: number): void;
  /** An announcement was dropped (logged once per cause and sender). */
  dropped(key: string, message: string): void;
  /** A socket could not be set up; discovery goes on with the others. */
  failed(message: string): void;
}

/** Longest announcement read: a namespace and a nodeID of 512 characters each, and a port. */
const MAX_ANNOUNCEMENT = 1100;

/** The IPv4 interfaces: their addresses and broadcast addresses. */
function interfaces(): { address: string; broadcast: string }[] {
  const out: { address: string; broadcast: string }[] = [];
  for (const list of Object.values(os.networkInterfaces())) {
    for (const f of list ?? []) {
      if (f.family !== "IPv4") continue;
      const ip = f.address.split(".").map(Number);
      const mask = f.netmask.split(".").map(Number);
      const broadcast = ip.map((b, i) => (b | (~(mask[i] ?? 0) & 0xff)) & 0xff).join(".");
      out.push({ address: f.address, broadcast });
    }
  }
  return out;
}

/** Announces this node and hears the others. */
export class UdpDiscovery {
  readonly #s: TcpSettings;
  readonly #namespace: string;
  readonly #nodeID: string;
  readonly #port: number;
  readonly #listener: UdpListener;
  readonly #sockets: { socket: dgram.Socket; destinations: string[] }[] = [];
  #timer: ReturnType<typeof setInterval> | undefined;
  #first: ReturnType<typeof setTimeout> | undefined;
  #count = 0;
  #closed = false;

  /**
   * @param settings The transporter's settings.
   * @param namespace This node's namespace: only announcements of it are heard.
   * @param nodeID This node's id, announced.
   * @param port This node's TCP port, announced.
   * @param listener Where announcements and problems go.
   */
  constructor(
    settings: TcpSettings,
    namespace: string,
    nodeID: string,
    port: number,
    listener: UdpListener,
  ) {
    this.#s = settings;
    this.#namespace = namespace;
    this.#nodeID = nodeID;
    this.#port = port;
    this.#listener = listener;
  }

  /** Open the sockets, send the first announcement within a second, then every `udpPeriod`. */
  async start(): Promise<void> {
    const s = this.#s;
    const jobs: Promise<void>[] = [];
    if (s.udpMulticast) {
      const ips = s.udpBindAddress ? [s.udpBindAddress] : interfaces().map((i) => i.address);
      for (const ip of ips) jobs.push(this.#open(ip, [s.udpMulticast], true));
    }
    if (s.udpBroadcast) {
      const destinations = s.udpBroadcast === true
        ? interfaces().map((i) => i.broadcast)
        : [...s.udpBroadcast];
      jobs.push(this.#open(s.udpBindAddress, destinations, false));
    }
    await Promise.all(jobs);
    if (this.#closed) return;
    this.#first = setTimeout(() => this.announce(), 500 + Math.floor(Math.random() * 500));
    this.#timer = setInterval(() => {
      this.announce();
      if (s.udpMaxDiscovery && this.#count >= s.udpMaxDiscovery) this.#stopTimers();
    }, s.udpPeriod * 1000);
  }

  /** Send one announcement from every socket to its destinations. */
  announce(): void {
    if (this.#closed) return;
    this.#count++;
    const message = new TextEncoder().encode(`${this.#namespace}|${this.#nodeID}|${this.#port}`);
    for (const { socket, destinations } of this.#sockets) {
      for (const host of destinations) {
        socket.send(message, this.#s.udpPort, host, (err) => {
          if (err) {
            this.#listener.failed(`cannot announce to ${host}:${this.#s.udpPort}: ${err.message}`);
          }
        });
      }
    }
  }

  /** Close every socket and stop announcing. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#stopTimers();
    for (const { socket } of this.#sockets) {
      try {
        socket.close();
      } catch {
        // already closed
      }
    }
    this.#sockets.length = 0;
  }

  #stopTimers(): void {
    clearTimeout(this.#first);
    clearInterval(this.#timer);
    this.#first = this.#timer = undefined;
  }

  #open(host: string | null, destinations: string[], multicast: boolean): Promise<void> {
    return new Promise((resolve) => {
      const socket = dgram.createSocket({ type: "udp4", reuseAddr: this.#s.udpReuseAddr });
      socket.on("message", (data, rinfo) => this.#onMessage(data, rinfo.address));
      let bound = false;
      socket.on("error", (err) => {
        this.#listener.failed(
          `UDP discovery socket on ${host ?? "0.0.0.0"}:${this.#s.udpPort}: ${err.message}`,
        );
        if (!bound) {
          try {
            socket.close();
          } catch {
            // not open
          }
          resolve();
        }
      });
      const options: dgram.BindOptions = { port: this.#s.udpPort, exclusive: true };
      if (host && !multicast) options.address = host;
      socket.bind(options, () => {
        bound = true;
        try {
          if (multicast) {
            if (host) socket.setMulticastInterface(host);
            socket.addMembership(destinations[0]!, host ?? undefined);
            socket.setMulticastTTL(this.#s.udpMulticastTTL || 1);
          } else {
            socket.setBroadcast(true);
          }
        } catch (err) {
          this.#listener.failed(
            `UDP ${multicast ? "multicast membership" : "broadcast"} on ${host ?? "0.0.0.0"}: ${
              (err as Error).message
            }`,
          );
        }
        if (this.#closed) socket.close();
        else this.#sockets.push({ socket, destinations });
        resolve();
      });
    });
  }

  #onMessage(data: Uint8Array, address: string): void {
    if (data.length > MAX_ANNOUNCEMENT) {
      this.#listener.dropped(
        `udp size ${address}`,
        `Dropped a UDP datagram of ${data.length} bytes from ${address}: not a Moleculer announcement`,
      );
      return;
    }
    const parts = new TextDecoder().decode(data).split("|");
    const port = Number(parts[2]);
    if (
      parts.length !== 3 || parts[1] === "" || !Number.isInteger(port) || port < 1 ||
      port > 65535
    ) {
      this.#listener.dropped(
        `udp malformed ${address}`,
        `Dropped a malformed UDP announcement from ${address} (expected "namespace|nodeID|port")`,
      );
      return;
    }
    const [namespace, nodeID] = parts as [string, string];
    if (namespace !== this.#namespace) {
      this.#listener.dropped(
        `udp namespace ${address}`,
        `Ignoring UDP announcements from ${address} of namespace '${namespace.slice(0, 64)}' ` +
          `(this node's namespace is '${this.#namespace}')`,
      );
      return;
    }
    if (nodeID !== this.#nodeID) this.#listener.announced(nodeID, address, port);
  }
}
