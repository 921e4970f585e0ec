/**
 * Turns the broker's `transporter` option into a {@linkcode Transporter}.
 *
 * @example
 * ```ts ignore
 * import { resolveTransporter } from "./resolve.ts";
 *
 * resolveTransporter("memory://my-test").name; // "Memory"
 * resolveTransporter("nats://127.0.0.1:4222").name; // "NATS"
 * resolveTransporter({ type: "NATS", options: { servers: "nats://n1:4222", token: "s3cret" } });
 * resolveTransporter("TCP").name; // "TCP" (UDP discovery, gossip, no server)
 * resolveTransporter("tcp://127.0.0.1:6001/a,127.0.0.1:6002/b").name; // "TCP"
 * ```
 *
 * @module
 */

import { BrokerOptionsError } from "../errors.ts";
import { MemoryTransporter } from "./memory.ts";
import { NatsTransporter } from "./nats/nats.ts";
import type { NatsTransporterOptions } from "./nats/options.ts";
import { TcpTransporter } from "./tcp/tcp.ts";
import type { TcpTransporterOptions } from "./tcp/options.ts";
import { AmqpTransporter } from "./amqp/amqp.ts";
import type { AmqpTransporterOptions } from "./amqp/options.ts";
import { MqttTransporter } from "./mqtt/mqtt.ts";
import type { MqttTransporterOptions } from "./mqtt/options.ts";
import { RedisTransporter } from "./redis/redis.ts";
import type { RedisTransporterOptions } from "./redis/options.ts";
import type { Transporter } from "./transporter.ts";

/**
 * The broker's `transporter` option:
 * - a {@linkcode Transporter} instance;
 * - a URL: `"memory://<group>"`, `"nats://host:4222"` (also `tls://`, credentials, comma lists),
 *   `"tcp://host:port/nodeID,…"` (TCP with these static peers), `"redis://host:6379"` (also
 *   `rediss://`), `"mqtt://host:1883"` (also `mqtts://`), `"amqp://user:pass@host:5672"` (also
 *   `amqps://`, `;` between several);
 * - a name: `"Memory"` (alias `"Fake"`, group `"default"`), `"NATS"` (`127.0.0.1:4222`), `"TCP"`
 *   (serverless: UDP discovery and gossip), `"Redis"` (`127.0.0.1:6379`), `"MQTT"`
 *   (`localhost:1883`) or `"AMQP"` (`localhost:5672`);
 * - `{ type, options }` as in Moleculer: `{ type: "NATS", options: { servers, user, pass } }`,
 *   `{ type: "Redis", options: { host, port, password } }`, `{ type: "Memory", options: { group } }`,
 *   `{ type: "TCP", options: { udpDiscovery, urls } }`.
 */
export type TransporterOption = Transporter | string | { type: string; options?: unknown };

/** What the error messages list as supported. */
const SUPPORTED =
  `"Memory" (or "memory://<group>"), "NATS" (or "nats://[user:pass@]host:port[,…]"), ` +
  `"TCP" (or "tcp://host:port/nodeID[,…]"), ` +
  `"Redis" (or "redis://[user:pass@]host:port"), "MQTT" (or "mqtt://[user:pass@]host:port"), ` +
  `"AMQP" (or "amqp://[user:pass@]host:port[/vhost]")`;

function isTransporter(value: unknown): value is Transporter {
  if (typeof value !== "object" || value === null) return false;
  const t = value as Partial<Record<keyof Transporter, unknown>>;
  return typeof t.connect === "function" && typeof t.disconnect === "function" &&
    typeof t.subscribe === "function" && typeof t.publish === "function";
}

function unknown(value: string): BrokerOptionsError {
  return new BrokerOptionsError(
    `Unknown transporter "${value.replace(/\/\/[^@/]*@/g, "//***@")}". Supported: ${SUPPORTED}.`,
    { transporter: value.replace(/\/\/[^@/]*@/g, "//***@") },
  );
}

function memory(options: unknown): MemoryTransporter {
  if (options === undefined || options === null) return new MemoryTransporter();
  if (typeof options === "string") return new MemoryTransporter(options);
  if (typeof options === "object") {
    const group = (options as { group?: unknown }).group;
    if (group === undefined) return new MemoryTransporter();
    if (typeof group === "string" && group !== "") return new MemoryTransporter(group);
  }
  throw new BrokerOptionsError(
    `Invalid Memory transporter options: expected { group: string }, got ${
      JSON.stringify(options)
    }`,
  );
}

function nats(options: unknown): NatsTransporter {
  if (options === undefined || options === null) return new NatsTransporter();
  if (typeof options === "string") return new NatsTransporter(options);
  if (typeof options === "object" && !Array.isArray(options)) {
    return new NatsTransporter(options as NatsTransporterOptions);
  }
  throw new BrokerOptionsError(
    `Invalid NATS transporter options: expected an object or a URL, got ${typeof options}`,
  );
}

function tcp(options: unknown): TcpTransporter {
  if (options === undefined || options === null) return new TcpTransporter();
  if (typeof options === "string") return new TcpTransporter(options);
  if (typeof options === "object" && !Array.isArray(options)) {
    return new TcpTransporter(options as TcpTransporterOptions);
  }
  throw new BrokerOptionsError(
    `Invalid TCP transporter options: expected an object or "tcp://…" URLs, got ${typeof options}`,
  );
}

/** An options value for a transporter that takes a URL or an options object. */
function urlOrObject<T>(name: string, options: unknown): string | T | undefined {
  if (options === undefined || options === null) return undefined;
  if (typeof options === "string") return options;
  if (typeof options === "object" && !Array.isArray(options)) return options as T;
  throw new BrokerOptionsError(
    `Invalid ${name} transporter options: expected an object or a URL, got ${
      Array.isArray(options) ? "an array" : typeof options
    }`,
  );
}

function decodeGroup(group: string): string {
  try {
    return decodeURIComponent(group);
  } catch {
    return group;
  }
}

function byName(name: string, options: unknown): Transporter | undefined {
  switch (name.trim().toLowerCase()) {
    case "memory":
    case "fake":
      return memory(options);
    case "nats":
      return nats(options);
    case "tcp":
      return tcp(options);
    case "redis":
      return new RedisTransporter(urlOrObject<RedisTransporterOptions>("Redis", options));
    case "mqtt":
      return new MqttTransporter(urlOrObject<MqttTransporterOptions>("MQTT", options));
    case "amqp":
      return new AmqpTransporter(urlOrObject<AmqpTransporterOptions>("AMQP", options));
  }
  return undefined;
}

/**
 * Resolve the `transporter` broker option.
 *
 * @param opt An instance (returned as is), a URL, a name, or `{ type, options }`; see
 *   {@linkcode TransporterOption}.
 * @returns The transporter, not yet connected.
 * @throws {BrokerOptionsError} when the name or URL scheme is unknown (the message lists the
 *   supported ones), or the options are malformed.
 *
 * @example
 * ```ts
 * import { resolveTransporter } from "./resolve.ts";
 *
 * const t = resolveTransporter("memory://unit-test");
 * await t.connect({ namespace: "", prefix: "MOL", nodeID: "n1", receive: () => {} });
 * await t.disconnect();
 * ```
 */
export function resolveTransporter(opt: TransporterOption): Transporter {
  if (typeof opt === "string") {
    const value = opt.trim();
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase();
    if (scheme === undefined) {
      const t = byName(value, undefined);
      if (t) return t;
      throw unknown(opt);
    }
    if (scheme === "memory") {
      const group = value.slice("memory://".length).replace(/\/+$/, "");
      return new MemoryTransporter(group === "" ? "default" : decodeGroup(group));
    }
    if (scheme === "nats" || scheme === "tls") return new NatsTransporter(value);
    if (scheme === "tcp") return new TcpTransporter(value);
    if (scheme === "redis" || scheme === "rediss") return new RedisTransporter(value);
    if (scheme === "mqtt" || scheme === "mqtts") return new MqttTransporter(value);
    if (scheme === "amqp" || scheme === "amqps") return new AmqpTransporter(value);
    throw unknown(opt);
  }
  if (isTransporter(opt)) return opt;
  if (typeof opt === "object" && opt !== null && typeof opt.type === "string") {
    const t = byName(opt.type, opt.options);
    if (t) return t;
    throw unknown(opt.type);
  }
  throw new BrokerOptionsError(
    `Invalid transporter option: expected a transporter, a URL, a name or { type, options }. Supported: ${SUPPORTED}.`,
  );
}
