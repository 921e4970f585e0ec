/**
 * The TCP transporter's options: Moleculer's names and defaults, the `urls` forms, and their
 * checks. This module opens no socket, so `transporter: "TCP"` or `"tcp://…"` is checked when
 * the broker is constructed (a bad option is a {@linkcode BrokerOptionsError} naming it).
 *
 * @example Parse the static list of peers
 * ```ts
 * import { parseTcpUrls } from "./options.ts";
 *
 * parseTcpUrls("tcp://10.0.0.1:6000/node-1, 10.0.0.2:6000/node-2");
 * // [{ nodeID: "node-1", host: "10.0.0.1", port: 6000 }, { nodeID: "node-2", host: "10.0.0.2", port: 6000 }]
 * parseTcpUrls({ "node-3": "[::1]:7000" }); // [{ nodeID: "node-3", host: "::1", port: 7000 }]
 * ```
 *
 * @module
 */

import { BrokerOptionsError } from "../../errors.ts";

/**
 * Options of the TCP transporter, with the names and defaults of Moleculer's
 * `TcpTransporter` (`{ type: "TCP", options: { … } }` in a `moleculer.config.js` works as is).
 */
export interface TcpTransporterOptions {
  /** Find the other nodes by UDP announcements. @default {true} */
  udpDiscovery?: boolean;
  /** The UDP port of the announcements. @default {4445} */
  udpPort?: number;
  /** Listen for (and send) announcements on this interface only. @default {null} (every IPv4 one) */
  udpBindAddress?: string | null;
  /** Seconds between two announcements. @default {30} */
  udpPeriod?: number;
  /** Share the UDP port with the other nodes of this machine (`SO_REUSEADDR`). @default {true} */
  udpReuseAddr?: boolean;
  /** Stop announcing after this many announcements; `0` never stops. @default {0} */
  udpMaxDiscovery?: number;
  /** The multicast group of the announcements; `null` or `false` for none. @default {"239.0.0.0"} */
  udpMulticast?: string | null | false;
  /** Time-to-live (router hops) of the multicast announcements. @default {1} */
  udpMulticastTTL?: number;
  /**
   * Broadcast the announcements too: `true` to every interface's broadcast address, or the
   * address(es) to use. @default {false}
   */
  udpBroadcast?: boolean | string | string[];
  /** The TCP port this node listens on; `null` or `0` for a random free one. @default {null} */
  port?: number | null;
  /**
   * The nodes to reach without discovery: `"host:port/nodeID"` entries (optionally `tcp://`), as
   * an array, a comma-separated string, a `{ nodeID: "host:port" }` map, or `"file://<path>"` of a
   * file holding a JSON array or map, or one entry per line. The entry of this node's own nodeID
   * gives its port. @default {null}
   */
  urls?: string | string[] | Record<string, string> | null;
  /** Reach a node by the hostname in its INFO (else by its first IP address). @default {true} */
  useHostname?: boolean;
  /** Seconds between two gossip rounds. @default {2} */
  gossipPeriod?: number;
  /** Outgoing connections kept open at most; the least recently used ones close. @default {32} */
  maxConnections?: number;
  /** Largest packet accepted or sent, in bytes. @default {1048576} */
  maxPacketSize?: number;
  /** Log every gossip packet (Moleculer's `debug`). @default {false} */
  debug?: boolean;
}

/** One node of the static `urls` list. */
export interface TcpEndpoint {
  /** Its nodeID. */
  readonly nodeID: string;
  /** Its host name or IP address (IPv6 without brackets). */
  readonly host: string;
  /** Its TCP port. */
  readonly port: number;
}

/** The options once checked, every default applied. */
export interface TcpSettings {
  readonly udpDiscovery: boolean;
  readonly udpPort: number;
  readonly udpBindAddress: string | null;
  readonly udpPeriod: number;
  readonly udpReuseAddr: boolean;
  readonly udpMaxDiscovery: number;
  readonly udpMulticast: string | null;
  readonly udpMulticastTTL: number;
  readonly udpBroadcast: boolean | readonly string[];
  readonly port: number;
  /** The static list, or the `file://` path to read it from at connect. */
  readonly urls: readonly TcpEndpoint[] | { readonly file: string };
  readonly useHostname: boolean;
  readonly gossipPeriod: number;
  readonly maxConnections: number;
  readonly maxPacketSize: number;
  readonly debug: boolean;
}

const KNOWN = new Set([
  "udpDiscovery",
  "udpPort",
  "udpBindAddress",
  "udpPeriod",
  "udpReuseAddr",
  "udpMaxDiscovery",
  "udpMulticast",
  "udpMulticastTTL",
  "udpBroadcast",
  "port",
  "urls",
  "useHostname",
  "gossipPeriod",
  "maxConnections",
  "maxPacketSize",
  "debug",
]);

function bad(option: string, problem: string): BrokerOptionsError {
  return new BrokerOptionsError(`TCP transporter: '${option}' ${problem}`, {
    option: `transporter.options.${option}`,
  });
}

function bool(o: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const v = o[key];
  if (v === undefined) return fallback;
  if (typeof v !== "boolean") throw bad(key, `must be true or false, not ${JSON.stringify(v)}`);
  return v;
}

function num(
  o: Record<string, unknown>,
  key: string,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
  integer = true,
): number {
  const v = o[key];
  if (v === undefined || v === null) return fallback;
  if (
    typeof v !== "number" || !Number.isFinite(v) || v < min || v > max ||
    (integer && !Number.isInteger(v))
  ) {
    const kind = integer ? "an integer" : "a number";
    throw bad(key, `must be ${kind} from ${min} to ${max}, not ${JSON.stringify(v)}`);
  }
  return v;
}

function optString(o: Record<string, unknown>, key: string, fallback: string | null) {
  const v = o[key];
  if (v === undefined) return fallback;
  if (v === null || v === false) return null;
  if (typeof v !== "string" || v.trim() === "") {
    throw bad(key, `must be an address (a string) or null, not ${JSON.stringify(v)}`);
  }
  return v.trim();
}

/**
 * Parse one `urls` entry: `[tcp://]host:port/nodeID`; an IPv6 host may be bracketed.
 *
 * @throws {BrokerOptionsError} when the nodeID or the port is missing or invalid.
 */
function parseEntry(raw: string): TcpEndpoint {
  const s = raw.trim().replace(/^tcp:\/\//i, "");
  const slash = s.indexOf("/");
  const address = slash < 0 ? s : s.slice(0, slash);
  const nodeID = slash < 0 ? "" : s.slice(slash + 1);
  if (nodeID === "" || nodeID.includes("/")) {
    throw bad("urls", `entry "${raw}" needs the node's id: "host:port/nodeID"`);
  }
  const colon = address.lastIndexOf(":");
  const port = Number(address.slice(colon + 1));
  let host = colon < 0 ? "" : address.slice(0, colon);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  if (colon < 0 || host === "" || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw bad("urls", `entry "${raw}" needs a host and a port from 1 to 65535: "host:port/nodeID"`);
  }
  return { nodeID, host, port };
}

/**
 * Parse the `urls` option (not its `file://` form, read at connect).
 *
 * @param urls An array or a comma-separated string of `"[tcp://]host:port/nodeID"` entries, or
 *   a `{ nodeID: "host:port" }` map.
 * @returns The endpoints, in order; empty entries are skipped.
 * @throws {BrokerOptionsError} when an entry has no nodeID, no host or no valid port.
 *
 * @example
 * ```ts
 * import { parseTcpUrls } from "./options.ts";
 *
 * parseTcpUrls(["127.0.0.1:6001/a", "127.0.0.1:6002/b"]).map((e) => e.port); // [6001, 6002]
 * ```
 */
export function parseTcpUrls(
  urls: string | readonly string[] | Record<string, string>,
): TcpEndpoint[] {
  let list: string[];
  if (typeof urls === "string") list = urls.split(/[,\n]/);
  else if (Array.isArray(urls)) list = urls.map((u) => String(u));
  else {
    list = Object.entries(urls as Record<string, unknown>).map(([nodeID, address]) => {
      if (typeof address !== "string") {
        throw bad("urls", `the address of '${nodeID}' must be a "host:port" string`);
      }
      return `${address}/${nodeID}`;
    });
  }
  return list.map((s) => s.trim()).filter((s) => s !== "").map(parseEntry);
}

function broadcast(o: Record<string, unknown>): boolean | readonly string[] {
  const v = o.udpBroadcast;
  if (v === undefined || v === false || v === null) return false;
  if (v === true) return true;
  if (typeof v === "string" && v.trim() !== "") return [v.trim()];
  if (Array.isArray(v) && v.every((x) => typeof x === "string" && x !== "")) return v;
  throw bad("udpBroadcast", "must be true, false, an address or a list of addresses");
}

function urlsOf(o: Record<string, unknown>): TcpSettings["urls"] {
  const v = o.urls;
  if (v === undefined || v === null) return [];
  if (typeof v === "string" && /^file:\/\//i.test(v.trim())) {
    return { file: v.trim().replace(/^file:\/\//i, "") };
  }
  if (typeof v === "string" || Array.isArray(v) || (typeof v === "object")) {
    return parseTcpUrls(v as string | string[] | Record<string, string>);
  }
  throw bad("urls", "must be an array, a comma-separated string or a { nodeID: address } map");
}

/**
 * Check the TCP transporter's options and apply Moleculer's defaults.
 *
 * @param options `"tcp://host:port/nodeID,…"` (the `urls`), or the options.
 * @returns The settings.
 * @throws {BrokerOptionsError} on an unknown option or a bad value; the message names it.
 *
 * @example
 * ```ts
 * import { resolveTcpSettings } from "./options.ts";
 *
 * const s = resolveTcpSettings({ udpDiscovery: false, port: 6000 });
 * console.log(s.port, s.gossipPeriod, s.maxPacketSize); // 6000 2 1048576
 * ```
 */
export function resolveTcpSettings(options: string | TcpTransporterOptions = {}): TcpSettings {
  const o: Record<string, unknown> = typeof options === "string"
    ? { urls: options }
    : { ...options as Record<string, unknown> };
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key)) {
      throw bad(key, `is not an option of the TCP transporter (known: ${[...KNOWN].join(", ")})`);
    }
  }
  return {
    udpDiscovery: bool(o, "udpDiscovery", true),
    udpPort: num(o, "udpPort", 4445, 1, 65535),
    udpBindAddress: optString(o, "udpBindAddress", null),
    udpPeriod: num(o, "udpPeriod", 30, 0.01, 86_400, false),
    udpReuseAddr: bool(o, "udpReuseAddr", true),
    udpMaxDiscovery: num(o, "udpMaxDiscovery", 0, 0),
    udpMulticast: optString(o, "udpMulticast", "239.0.0.0"),
    udpMulticastTTL: num(o, "udpMulticastTTL", 1, 0, 255),
    udpBroadcast: broadcast(o),
    port: num(o, "port", 0, 0, 65535),
    urls: urlsOf(o),
    useHostname: bool(o, "useHostname", true),
    gossipPeriod: num(o, "gossipPeriod", 2, 0.01, 86_400, false),
    maxConnections: num(o, "maxConnections", 32, 1),
    maxPacketSize: num(o, "maxPacketSize", 1024 * 1024, 64, 2 ** 31 - 1),
    debug: bool(o, "debug", false),
  };
}
