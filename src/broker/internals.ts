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
import { MoleculerClientError } from "../errors.ts";

type P = Record<string, unknown>;

const flag = (v: unknown) => v === true || v === "true";
const LIST_PARAMS = {
  onlyLocal: { type: "boolean", optional: true, convert: true },
  skipInternal: { type: "boolean", optional: true, convert: true },
  withEndpoints: { type: "boolean", optional: true, convert: true },
  onlyAvailable: { type: "boolean", optional: true, convert: true },
};

/** A `Date.now()` time as Moleculer reports it: seconds of process uptime at that moment. */
function uptimeAt(time: number): number {
  return Math.max(
    0,
    Math.round((performance.now() - (Date.now() - time)) / 1000),
  );
}

function nodeList(broker: ServiceBroker, params: P): P[] {
  const out: P[] = [];
  for (const node of broker.registry.nodes.values()) {
    if (flag(params.onlyAvailable) && !node.available) continue;
    const item: P = {
      id: node.id,
      instanceID: node.instanceID,
      available: node.available,
      local: node.local,
      lastHeartbeatTime: uptimeAt(node.lastHeartbeatTime),
      config: node.config,
      client: node.client,
      metadata: node.metadata,
      ipList: node.ipList,
      hostname: node.hostname,
      udpAddress: null,
      cpu: node.cpu,
      cpuSeq: node.cpuSeq,
      seq: node.seq,
      offlineSince: node.offlineSince === null ? null : uptimeAt(node.offlineSince),
    };
    if (flag(params.withServices)) {
      item.services = node.local ? broker.registry.localServicesInfo() : node.services.map((s) => ({
        name: s.name,
        version: s.version,
        fullName: s.fullName,
        settings: s.settings,
        metadata: s.metadata,
        actions: s.actions,
        events: s.events,
      }));
    }
    out.push(item);
  }
  return out;
}

function serviceList(broker: ServiceBroker, params: P): P[] {
  const grouped = params.grouping !== false && params.grouping !== "false";
  const out: P[] = [];
  const byName = new Map<string, P>();
  for (const node of broker.registry.nodes.values()) {
    if (flag(params.onlyAvailable) && !node.available) continue;
    for (const s of node.services) {
      if (flag(params.onlyLocal) && !s.local) continue;
      if (flag(params.skipInternal) && s.name.startsWith("$")) continue;
      const existing = grouped ? byName.get(s.fullName) : undefined;
      if (existing) {
        (existing.nodes as string[]).push(node.id);
        if (s.local) existing.local = true;
        continue;
      }
      const item: P = {
        name: s.name,
        version: s.version,
        fullName: s.fullName,
        settings: s.settings,
        metadata: s.metadata,
        local: s.local,
        available: node.available,
      };
      if (grouped) item.nodes = [node.id];
      else item.nodeID = node.id;
      if (flag(params.withActions)) {
        item.actions = Object.fromEntries(
          Object.entries(s.actions).filter(([, a]) => a.visibility !== "protected"),
        );
      }
      if (flag(params.withEvents)) {
        item.events = Object.fromEntries(
          Object.entries(s.events).filter(([name]) => !name.startsWith("$")),
        );
      }
      if (grouped) byName.set(s.fullName, item);
      out.push(item);
    }
  }
  return out;
}

function actionList(broker: ServiceBroker, params: P): P[] {
  const out: P[] = [];
  for (const [name, list] of broker.registry.actions) {
    if (flag(params.onlyLocal) && !list.hasLocal) continue;
    if (flag(params.skipInternal) && name.startsWith("$")) continue;
    if (flag(params.onlyAvailable) && !list.available) continue;
    const first = list.items[0];
    const item: P = {
      name,
      count: list.items.length,
      hasLocal: list.hasLocal,
      available: list.available,
      // The announced (JSON-safe) definition, as Moleculer lists it: no handler, no hooks.
      action: first ? { ...(first.service.actions[name] ?? first.action.schema) } : undefined,
    };
    if (flag(params.withEndpoints)) {
      item.endpoints = endpointsOf(list.items);
    }
    out.push(item);
  }
  return out;
}

/** Moleculer's `endpoints` entries: every listed endpoint is available. */
function endpointsOf(items: ReadonlyArray<{ readonly id: string }>): P[] {
  return items.map((e) => ({ nodeID: e.id, state: true, available: true }));
}

function eventList(broker: ServiceBroker, params: P): P[] {
  const out: P[] = [];
  for (const [name, groups] of broker.registry.events) {
    if (flag(params.skipInternal) && name.startsWith("$")) continue;
    for (const [group, list] of groups) {
      if (flag(params.onlyLocal) && !list.hasLocal) continue;
      if (flag(params.onlyAvailable) && !list.available) continue;
      const first = list.items[0];
      const item: P = {
        name,
        group,
        count: list.items.length,
        hasLocal: list.hasLocal,
        available: list.available,
        event: first ? { ...first.service.events[name] } : undefined,
      };
      if (flag(params.withEndpoints)) {
        item.endpoints = endpointsOf(list.items);
      }
      out.push(item);
    }
  }
  return out;
}

function health(broker: ServiceBroker): P {
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
        handler: (ctx: Context<P>) => nodeList(broker, ctx.params ?? {}),
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
        handler: (ctx: Context<P>) => serviceList(broker, ctx.params ?? {}),
      },
      actions: {
        cache: false,
        tracing: false,
        params: LIST_PARAMS,
        handler: (ctx: Context<P>) => actionList(broker, ctx.params ?? {}),
      },
      events: {
        cache: false,
        tracing: false,
        params: LIST_PARAMS,
        handler: (ctx: Context<P>) => eventList(broker, ctx.params ?? {}),
      },
      health: { cache: false, tracing: false, handler: () => health(broker) },
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
