/**
 * The registry's lists in Moleculer's shapes: `getNodeList`, `getServiceList`,
 * `getActionList` and `getEventList` (what `$node.list`, `$node.services`, `$node.actions`
 * and `$node.events` return), with Moleculer's filter options.
 *
 * @module
 */

import type { RegistryView } from "./registry.ts";

type P = Record<string, unknown>;

/**
 * The filters of the registry's lists and of `$node.list`/`services`/`actions`/`events`, as
 * Moleculer names them. Each is a boolean (the strings `"true"`/`"false"` of a REPL or an HTTP
 * query count too).
 */
export interface ListOptions {
  /** Only entries this node serves. */
  readonly onlyLocal?: boolean | string;
  /** Leave out internal (`$`) services, actions and events. */
  readonly skipInternal?: boolean | string;
  /** Add the endpoints of each action or event. */
  readonly withEndpoints?: boolean | string;
  /** Only available nodes, actions or events. */
  readonly onlyAvailable?: boolean | string;
  /** Nodes: add their services. */
  readonly withServices?: boolean | string;
  /** Services: add their actions. */
  readonly withActions?: boolean | string;
  /** Services: add their events. */
  readonly withEvents?: boolean | string;
  /** Services: one entry per service with its `nodes` (default), or one per node with `nodeID`. */
  readonly grouping?: boolean | string;
}

const flag = (v: unknown) => v === true || v === "true";

/** A `Date.now()` time as Moleculer reports it: seconds of process uptime at that moment. */
function uptimeAt(time: number): number {
  return Math.max(
    0,
    Math.round((performance.now() - (Date.now() - time)) / 1000),
  );
}

/**
 * The known nodes, as `$node.list` returns them (`onlyAvailable`, `withServices`).
 *
 * @param registry The registry.
 * @param params The filters.
 * @returns The entries.
 */
export function nodeList(registry: RegistryView, params: ListOptions = {}): P[] {
  const out: P[] = [];
  for (const node of registry.nodes.values()) {
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
      item.services = node.local ? registry.localServicesInfo() : node.services.map((s) => ({
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

/**
 * The known services, as `$node.services` returns them (`onlyLocal`, `skipInternal`, `withActions`, `withEvents`, `onlyAvailable`, `grouping`).
 *
 * @param registry The registry.
 * @param params The filters.
 * @returns The entries.
 */
export function serviceList(registry: RegistryView, params: ListOptions = {}): P[] {
  const grouped = params.grouping !== false && params.grouping !== "false";
  const out: P[] = [];
  const byName = new Map<string, P>();
  for (const node of registry.nodes.values()) {
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

/**
 * The known actions, as `$node.actions` returns them (`onlyLocal`, `skipInternal`, `withEndpoints`, `onlyAvailable`).
 *
 * @param registry The registry.
 * @param params The filters.
 * @returns The entries.
 */
export function actionList(registry: RegistryView, params: ListOptions = {}): P[] {
  const out: P[] = [];
  for (const [name, list] of registry.actions) {
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

/**
 * The known event subscriptions by group, as `$node.events` returns them (`onlyLocal`, `skipInternal`, `withEndpoints`, `onlyAvailable`).
 *
 * @param registry The registry.
 * @param params The filters.
 * @returns The entries.
 */
export function eventList(registry: RegistryView, params: ListOptions = {}): P[] {
  const out: P[] = [];
  for (const [name, groups] of registry.events) {
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
