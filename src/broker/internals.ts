/**
 * The internal `$node` service: what a node knows of the cluster, in the shapes
 * Moleculer's `$node.list`, `$node.services`, `$node.actions`, `$node.events`,
 * `$node.health` and `$node.options` return.
 *
 * @module
 */

import type { ServiceBroker } from "./broker.ts";
import type { Context } from "../core/context.ts";
import type { ServiceSchema } from "../core/schema.ts";
import { actionList, eventList, nodeList, serviceList } from "../registry/lists.ts";
import { MoleculerClientError } from "../errors.ts";

type P = Record<string, unknown>;

const LIST_PARAMS = {
  onlyLocal: { type: "boolean", optional: true, convert: true },
  skipInternal: { type: "boolean", optional: true, convert: true },
  withEndpoints: { type: "boolean", optional: true, convert: true },
  onlyAvailable: { type: "boolean", optional: true, convert: true },
};

/**
 * The health of this node, as `$node.health` and `broker.getHealthStatus()` report it.
 *
 * @param broker The broker.
 * @returns Moleculer's shape: `cpu`, `mem`, `os`, `process`, `client`, `net`, `time`.
 */
export function healthStatus(broker: ServiceBroker): P {
  const rt = broker.runtime;
  const host = rt.hostInfo();
  const [load1, load5, load15] = host.load;
  const { total, free } = host.mem;
  const now = new Date();
  return {
    cpu: {
      load1,
      load5,
      load15,
      cores: host.cores,
      utilization: broker.registry.localNode.cpu ?? 0,
    },
    mem: { free, total, percent: total ? (free * 100) / total : 0 },
    os: {
      uptime: host.uptime,
      type: host.os.type,
      release: host.os.release,
      hostname: broker.registry.localNode.hostname,
      arch: host.os.arch,
      platform: host.os.platform,
      user: host.user,
    },
    process: {
      pid: rt.pid(),
      memory: rt.memoryUsage() ?? {},
      uptime: performance.now() / 1000,
      argv: rt.args(),
    },
    client: broker.registry.localNode.client,
    net: { ip: broker.registry.localNode.ipList },
    time: {
      now: now.getTime(),
      iso: now.toISOString(),
      utc: now.toUTCString(),
    },
  };
}

function safeOptions(broker: ServiceBroker): P {
  const o = broker.options as unknown as P;
  const out: P = {};
  for (const [key, value] of Object.entries(o)) {
    // Functions (a logger sink, a strategy factory) do not cross the wire: leave them out,
    // and never print their source.
    if (value === undefined || typeof value === "function") continue;
    if (key === "middlewares") {
      out[key] = (value as unknown[]).map((m) => (m as { name?: string }).name ?? "anonymous");
    } else if (typeof value === "string") {
      out[key] = value.replace(/\/\/[^@/]*@/g, "//***@");
    } else if (typeof value !== "object" || value === null) {
      out[key] = value;
    } else {
      try {
        out[key] = JSON.parse(JSON.stringify(value));
      } catch {
        out[key] = null;
      }
    }
  }
  return out;
}

/** A `$node.metrics` filter: a string or a list of strings, as Moleculer's. */
const METRIC_FILTER = {
  type: "multi",
  optional: true,
  rules: [{ type: "string" }, { type: "array", items: "string" }],
};

/**
 * The schema of the internal `$node` service for a broker.
 *
 * @param broker The broker.
 * @returns The schema.
 */
export function nodeServiceSchema(broker: ServiceBroker): ServiceSchema {
  return {
    name: "$node",
    actions: {
      list: {
        cache: false,
        tracing: false,
        params: {
          withServices: { type: "boolean", optional: true, convert: true },
          onlyAvailable: { type: "boolean", optional: true, convert: true },
        },
        handler: (ctx: Context<P>) => nodeList(broker.registry, ctx.params ?? {}),
      },
      services: {
        cache: false,
        tracing: false,
        params: {
          onlyLocal: { type: "boolean", optional: true, convert: true },
          skipInternal: { type: "boolean", optional: true, convert: true },
          withActions: { type: "boolean", optional: true, convert: true },
          withEvents: { type: "boolean", optional: true, convert: true },
          onlyAvailable: { type: "boolean", optional: true, convert: true },
          grouping: { type: "boolean", optional: true, convert: true },
        },
        handler: (ctx: Context<P>) => serviceList(broker.registry, ctx.params ?? {}),
      },
      actions: {
        cache: false,
        tracing: false,
        params: LIST_PARAMS,
        handler: (ctx: Context<P>) => actionList(broker.registry, ctx.params ?? {}),
      },
      events: {
        cache: false,
        tracing: false,
        params: LIST_PARAMS,
        handler: (ctx: Context<P>) => eventList(broker.registry, ctx.params ?? {}),
      },
      health: { cache: false, tracing: false, handler: () => healthStatus(broker) },
      options: {
        cache: false,
        tracing: false,
        handler: () => safeOptions(broker),
      },
      metrics: {
        cache: false,
        tracing: false,
        params: {
          types: METRIC_FILTER,
          includes: METRIC_FILTER,
          excludes: METRIC_FILTER,
        },
        handler: (ctx: Context<P>) => {
          if (!broker.metrics.enabled) {
            throw new MoleculerClientError("Metrics feature is disabled", 400, "METRICS_DISABLED");
          }
          return broker.metrics.list(ctx.params ?? {});
        },
      },
    },
  };
}
