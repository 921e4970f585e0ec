/**
 * The metrics every node publishes when `collectProcessMetrics` is on: `process.*` and `os.*`
 * where the Runtime port gives them, and the node's own (`moleculer.node.*`, `moleculer.broker.*`,
 * `moleculer.registry.*`, `moleculer.transit.*` state), refreshed every `collectInterval`.
 *
 * @module
 */

import type { Runtime } from "../core/runtime.ts";
import { METRIC, MetricType as T, MetricUnit as U } from "./constants.ts";
import type { MetricDefinition } from "./types.ts";

/** What the node's own metrics are read from. */
export interface CommonSource {
  /** This node's id. */
  readonly nodeID: string;
  /** The namespace. */
  readonly namespace: string;
  /** The platform. */
  readonly runtime: Runtime;
  /** The protocol version spoken. */
  readonly protocolVersion: string;
  /** This package's version. */
  readonly version: string;
  /** The node's counts now. */
  stats(): NodeStats;
}

/** The counts of a node, read at each collection. */
export interface NodeStats {
  /** The broker has started. */
  readonly started: boolean;
  /** Local services. */
  readonly localServices: number;
  /** Middlewares. */
  readonly middlewares: number;
  /** Known nodes. */
  readonly nodes: number;
  /** Known nodes online. */
  readonly onlineNodes: number;
  /** Distinct services of the cluster. */
  readonly services: number;
  /** Distinct actions of the cluster. */
  readonly actions: number;
  /** Distinct events of the cluster. */
  readonly events: number;
  /** Requests waiting for a response. */
  readonly pendingRequests: number;
  /** The transporter is connected. */
  readonly connected: boolean;
  /** The node announced itself. */
  readonly ready: boolean;
}

/** What `registerCommonMetrics` and `updateCommonMetrics` need of the registry. */
interface Target {
  readonly host: CommonSource;
  hasMetric(name: string): boolean;
  register(def: MetricDefinition): unknown;
  set(name: string, value: unknown, labels?: Record<string, unknown> | null): void;
}

const DEFS: ReadonlyArray<[string, T, (string | undefined)?, string[]?]> = [
  [METRIC.PROCESS_ARGUMENTS, T.INFO],
  [METRIC.PROCESS_PID, T.INFO],
  [METRIC.PROCESS_MEMORY_HEAP_SIZE_TOTAL, T.GAUGE, U.BYTE],
  [METRIC.PROCESS_MEMORY_HEAP_SIZE_USED, T.GAUGE, U.BYTE],
  [METRIC.PROCESS_MEMORY_RSS, T.GAUGE, U.BYTE],
  [METRIC.PROCESS_MEMORY_EXTERNAL, T.GAUGE, U.BYTE],
  [METRIC.PROCESS_UPTIME, T.GAUGE, U.SECONDS],
  [METRIC.PROCESS_VERSIONS_DENO, T.INFO],
  [METRIC.OS_MEMORY_FREE, T.GAUGE, U.BYTE],
  [METRIC.OS_MEMORY_USED, T.GAUGE, U.BYTE],
  [METRIC.OS_MEMORY_TOTAL, T.GAUGE, U.BYTE],
  [METRIC.OS_UPTIME, T.GAUGE, U.SECONDS],
  [METRIC.OS_TYPE, T.INFO],
  [METRIC.OS_RELEASE, T.INFO],
  [METRIC.OS_HOSTNAME, T.INFO],
  [METRIC.OS_ARCH, T.INFO],
  [METRIC.OS_PLATFORM, T.INFO],
  [METRIC.OS_DATETIME_UNIX, T.GAUGE],
  [METRIC.OS_DATETIME_ISO, T.INFO],
  [METRIC.OS_DATETIME_UTC, T.INFO],
  [METRIC.OS_DATETIME_TZ_OFFSET, T.GAUGE],
  [METRIC.OS_NETWORK_ADDRESS, T.INFO, undefined, ["interface", "family"]],
  [METRIC.OS_CPU_LOAD_1, T.GAUGE],
  [METRIC.OS_CPU_LOAD_5, T.GAUGE],
  [METRIC.OS_CPU_LOAD_15, T.GAUGE],
  [METRIC.OS_CPU_UTILIZATION, T.GAUGE, U.PERCENTAGE],
  [METRIC.OS_CPU_TOTAL, T.GAUGE],
  [METRIC.MOLECULER_NODE_TYPE, T.INFO],
  [METRIC.MOLECULER_NODE_VERSIONS_MOLECULER, T.INFO],
  [METRIC.MOLECULER_NODE_VERSIONS_LANG, T.INFO],
  [METRIC.MOLECULER_NODE_VERSIONS_PROTOCOL, T.INFO],
  [METRIC.MOLECULER_BROKER_NAMESPACE, T.INFO],
  [METRIC.MOLECULER_BROKER_STARTED, T.GAUGE],
  [METRIC.MOLECULER_BROKER_LOCAL_SERVICES_TOTAL, T.GAUGE, U.SERVICE],
  [METRIC.MOLECULER_BROKER_MIDDLEWARES_TOTAL, T.GAUGE],
  [METRIC.MOLECULER_REGISTRY_NODES_TOTAL, T.GAUGE, U.NODE],
  [METRIC.MOLECULER_REGISTRY_NODES_ONLINE_TOTAL, T.GAUGE, U.NODE],
  [METRIC.MOLECULER_REGISTRY_SERVICES_TOTAL, T.GAUGE, U.SERVICE],
  [METRIC.MOLECULER_REGISTRY_ACTIONS_TOTAL, T.GAUGE, U.ACTION],
  [METRIC.MOLECULER_REGISTRY_EVENTS_TOTAL, T.GAUGE, U.EVENT],
  [METRIC.MOLECULER_TRANSIT_READY, T.GAUGE],
  [METRIC.MOLECULER_TRANSIT_CONNECTED, T.GAUGE],
];

/**
 * Register the common metrics.
 *
 * @param target The registry.
 */
export function registerCommonMetrics(target: Target): void {
  for (const [name, type, unit, labelNames] of DEFS) {
    target.register({
      name,
      type,
      ...(unit ? { unit } : {}),
      ...(labelNames ? { labelNames } : {}),
    });
  }
}

/**
 * Refresh the common metrics from the runtime and the node.
 *
 * @param target The registry.
 */
export function updateCommonMetrics(target: Target): void {
  const h = target.host;
  const rt = h.runtime;
  const set = (name: string, value: unknown, labels?: Record<string, unknown>) =>
    target.set(name, value, labels ?? null);
  set(METRIC.PROCESS_ARGUMENTS, rt.args().join(" "));
  set(METRIC.PROCESS_PID, rt.pid());
  const mem = rt.memoryUsage();
  if (mem) {
    set(METRIC.PROCESS_MEMORY_HEAP_SIZE_TOTAL, mem.heapTotal);
    set(METRIC.PROCESS_MEMORY_HEAP_SIZE_USED, mem.heapUsed);
    set(METRIC.PROCESS_MEMORY_RSS, mem.rss);
    set(METRIC.PROCESS_MEMORY_EXTERNAL, mem.external);
  }
  set(METRIC.PROCESS_UPTIME, performance.now() / 1000);
  set(METRIC.PROCESS_VERSIONS_DENO, rt.version());
  const host = rt.hostInfo();
  set(METRIC.OS_MEMORY_FREE, host.mem.free);
  set(METRIC.OS_MEMORY_USED, host.mem.total - host.mem.free);
  set(METRIC.OS_MEMORY_TOTAL, host.mem.total);
  set(METRIC.OS_UPTIME, host.uptime);
  set(METRIC.OS_TYPE, host.os.type);
  set(METRIC.OS_RELEASE, host.os.release);
  set(METRIC.OS_HOSTNAME, rt.hostname());
  set(METRIC.OS_ARCH, host.os.arch);
  set(METRIC.OS_PLATFORM, host.os.platform);
  const now = new Date();
  set(METRIC.OS_DATETIME_UNIX, now.getTime());
  set(METRIC.OS_DATETIME_ISO, now.toISOString());
  set(METRIC.OS_DATETIME_UTC, now.toUTCString());
  set(METRIC.OS_DATETIME_TZ_OFFSET, now.getTimezoneOffset());
  for (const ip of rt.ipList()) {
    set(METRIC.OS_NETWORK_ADDRESS, ip, {
      interface: "",
      family: ip.includes(":") ? "IPv6" : "IPv4",
    });
  }
  set(METRIC.OS_CPU_LOAD_1, host.load[0]);
  set(METRIC.OS_CPU_LOAD_5, host.load[1]);
  set(METRIC.OS_CPU_LOAD_15, host.load[2]);
  const cpu = rt.cpuUsage();
  if (cpu !== null) set(METRIC.OS_CPU_UTILIZATION, cpu);
  set(METRIC.OS_CPU_TOTAL, host.cores);
  set(METRIC.MOLECULER_NODE_TYPE, rt.name);
  set(METRIC.MOLECULER_NODE_VERSIONS_MOLECULER, h.version);
  set(METRIC.MOLECULER_NODE_VERSIONS_LANG, rt.version());
  set(METRIC.MOLECULER_NODE_VERSIONS_PROTOCOL, h.protocolVersion);
  set(METRIC.MOLECULER_BROKER_NAMESPACE, h.namespace);
  const s = h.stats();
  set(METRIC.MOLECULER_BROKER_STARTED, s.started ? 1 : 0);
  set(METRIC.MOLECULER_BROKER_LOCAL_SERVICES_TOTAL, s.localServices);
  set(METRIC.MOLECULER_BROKER_MIDDLEWARES_TOTAL, s.middlewares);
  set(METRIC.MOLECULER_REGISTRY_NODES_TOTAL, s.nodes);
  set(METRIC.MOLECULER_REGISTRY_NODES_ONLINE_TOTAL, s.onlineNodes);
  set(METRIC.MOLECULER_REGISTRY_SERVICES_TOTAL, s.services);
  set(METRIC.MOLECULER_REGISTRY_ACTIONS_TOTAL, s.actions);
  set(METRIC.MOLECULER_REGISTRY_EVENTS_TOTAL, s.events);
  set(METRIC.MOLECULER_TRANSIT_READY, s.ready ? 1 : 0);
  set(METRIC.MOLECULER_TRANSIT_CONNECTED, s.connected ? 1 : 0);
  // Registered with the request metrics (by the metrics middleware).
  if (target.hasMetric(METRIC.MOLECULER_TRANSIT_REQUESTS_ACTIVE)) {
    set(METRIC.MOLECULER_TRANSIT_REQUESTS_ACTIVE, s.pendingRequests);
  }
}
