/**
 * What the dashboard shows, read from the registry through the `$node` actions every broker
 * has (so Deno and Node.js nodes look alike): nodes with status, CPU and versions, services
 * with their actions and events, and — when the broker has metrics — request rates and
 * latencies per action from Moleculer's `moleculer.request.*` metrics.
 *
 * @module
 */

import type { BrokerApi } from "../../core/broker_api.ts";

type Rec = Record<string, unknown>;

/** One node as the dashboard shows it. */
export interface NodeView {
  /** Its node ID. */
  id: string;
  /** Online or not. */
  available: boolean;
  /** The gateway's own node. */
  local: boolean;
  /** CPU use in %, when the node reports it. */
  cpu: number | null;
  /** `nodejs`, `deno`… */
  type: string | null;
  /** Its Moleculer (or Denolecular) version. */
  version: string | null;
  /** Its runtime's version. */
  langVersion: string | null;
  /** Its host name. */
  hostname: string | null;
  /** Its addresses. */
  ipList: string[];
  /** How many services it runs (not counting `$node`). */
  services: number;
}

/** One action. */
export interface ActionView {
  /** Full name, e.g. `users.get`. */
  name: string;
  /** Its params schema, when it has one. */
  params: unknown;
  /** Its `rest` property, when it has one. */
  rest: unknown;
}

/** One service. */
export interface ServiceView {
  /** Full name (with version). */
  fullName: string;
  /** Version, when it has one. */
  version: string | number | null;
  /** The nodes running it. */
  nodes: string[];
  /** Its actions. */
  actions: ActionView[];
  /** Its event subscriptions. */
  events: string[];
}

/** Request figures of one action, from the metrics. */
export interface ActionRate {
  /** The action. */
  action: string;
  /** Requests so far. */
  total: number;
  /** Requests per minute (the counter's own rate, as Moleculer's metrics compute it). */
  rate: number | null;
  /** Failed requests so far. */
  errors: number;
  /** Median latency, ms. */
  p50: number | null;
  /** 99th percentile latency, ms. */
  p99: number | null;
  /** Mean latency, ms. */
  mean: number | null;
}

/** The dashboard's view of the cluster. */
export interface Snapshot {
  /** The gateway's node. */
  nodeID: string;
  /** When it was taken, ms since the epoch. */
  time: number;
  /** Whether the action console is on. */
  console: boolean;
  /** The nodes. */
  nodes: NodeView[];
  /** The services, one entry per full name. */
  services: ServiceView[];
  /** Request figures when the broker has metrics on; `null` when they are off. */
  metrics: ActionRate[] | null;
}

const str = (v: unknown): string | null => typeof v === "string" && v ? v : null;

function nodeView(n: Rec): NodeView {
  const client = (n.client ?? {}) as Rec;
  const services = Array.isArray(n.services) ? n.services as Rec[] : [];
  return {
    id: String(n.id),
    available: n.available === true,
    local: n.local === true,
    cpu: typeof n.cpu === "number" ? n.cpu : null,
    type: str(client.type),
    version: str(client.version),
    langVersion: str(client.langVersion),
    hostname: str(n.hostname),
    ipList: Array.isArray(n.ipList) ? n.ipList.map(String) : [],
    services: services.filter((s) => !String(s.name).startsWith("$")).length,
  };
}

function serviceView(s: Rec): ServiceView {
  const actions = Object.entries((s.actions ?? {}) as Record<string, Rec>).map(([key, a]) => ({
    name: String(a.name ?? key),
    params: a.params ?? null,
    rest: a.rest ?? null,
  }));
  return {
    fullName: String(s.fullName ?? s.name),
    version: (s.version as string | number | undefined) ?? null,
    nodes: Array.isArray(s.nodes) ? s.nodes.map(String) : [],
    actions: actions.sort((a, b) => a.name.localeCompare(b.name)),
    events: Object.keys((s.events ?? {}) as Rec).sort(),
  };
}

/** The part of Moleculer's `MetricRegistry` the dashboard reads. */
interface MetricsLike {
  isEnabled?(): boolean;
  list(opts?: { includes?: string | string[] }): unknown;
}

function metricsOf(broker: BrokerApi): MetricsLike | null {
  const m = (broker as unknown as { metrics?: unknown }).metrics as MetricsLike | undefined;
  if (!m || typeof m !== "object" || typeof m.list !== "function") return null;
  if (typeof m.isEnabled === "function" && !m.isEnabled()) return null;
  return m;
}

const num = (v: unknown): number | null => typeof v === "number" && Number.isFinite(v) ? v : null;

function quantile(q: unknown, key: string): number | null {
  if (!q || typeof q !== "object") return null;
  return num((q as Rec)[key] ?? (q as Rec)[Number(key)]);
}

/**
 * Per-action request figures from a metric registry's `list()` (Moleculer's shape:
 * `moleculer.request.total` counter with `rate`, `moleculer.request.error.total`, and the
 * `moleculer.request.time` histogram with `quantiles`, all labelled by `action`).
 *
 * @param list What `metrics.list()` returned.
 * @returns One entry per action, busiest first.
 */
export function actionRates(list: unknown): ActionRate[] {
  const byAction = new Map<string, ActionRate>();
  const entry = (action: string) => {
    let e = byAction.get(action);
    if (!e) {
      e = { action, total: 0, rate: null, errors: 0, p50: null, p99: null, mean: null };
      byAction.set(action, e);
    }
    return e;
  };
  for (const metric of Array.isArray(list) ? list as Rec[] : []) {
    const values = Array.isArray(metric.values) ? metric.values as Rec[] : [];
    for (const v of values) {
      const action = str((v.labels as Rec | undefined)?.action);
      if (!action) continue;
      const e = entry(action);
      if (metric.name === "moleculer.request.total") {
        e.total += num(v.value) ?? 0;
        const rate = num(v.rate);
        if (rate !== null) e.rate = (e.rate ?? 0) + rate;
      } else if (metric.name === "moleculer.request.error.total") {
        e.errors += num(v.value) ?? 0;
      } else if (metric.name === "moleculer.request.time") {
        e.p50 = quantile(v.quantiles, "0.5");
        e.p99 = quantile(v.quantiles, "0.99");
        const count = num(v.count);
        const sum = num(v.sum);
        e.mean = num(v.mean) ?? (count && sum !== null ? sum / count : null);
      }
    }
  }
  return [...byAction.values()].sort((a, b) => (b.rate ?? 0) - (a.rate ?? 0) || b.total - a.total);
}

/**
 * Take a snapshot of the cluster.
 *
 * @param broker The gateway's broker.
 * @param console Whether the console is on (the page shows it or not).
 * @returns The snapshot.
 */
export async function takeSnapshot(broker: BrokerApi, console: boolean): Promise<Snapshot> {
  const [nodes, services] = await Promise.all([
    broker.call("$node.list", { withServices: true }) as Promise<Rec[]>,
    broker.call("$node.services", { withActions: true, withEvents: true }) as Promise<Rec[]>,
  ]);
  const metrics = metricsOf(broker);
  let rates: ActionRate[] | null = null;
  if (metrics) {
    try {
      rates = actionRates(await metrics.list({ includes: "moleculer.request.**" }));
    } catch {
      rates = [];
    }
  }
  return {
    nodeID: broker.nodeID,
    time: Date.now(),
    console,
    nodes: nodes.map(nodeView).sort((a, b) => a.id.localeCompare(b.id)),
    services: services.map(serviceView).sort((a, b) => a.fullName.localeCompare(b.fullName)),
    metrics: rates,
  };
}
