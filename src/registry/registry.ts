/**
 * The registry: known nodes, their services, and the endpoints of every action
 * and event, local and remote.
 *
 * @module
 */

import type { ActionInfo, EventInfo, Handler } from "../core/middleware.ts";
import type { Service } from "../core/service.ts";
import type { Visibility } from "../core/schema.ts";
import type { StrategyResolver } from "../strategies/broker_strategies.ts";
import { EndpointList } from "./endpoint_list.ts";
import { EventPatterns } from "./event_patterns.ts";
import { isRecord } from "../_util/values.ts";
import { actionList, eventList, type ListOptions, nodeList, serviceList } from "./lists.ts";

export type { ListOptions } from "./lists.ts";

/** A node of the cluster, this one included. */
export interface NodeInfo {
  /** The nodeID. */
  id: string;
  /** Random id of the node's broker process; a new one means the process restarted. */
  instanceID: string | null;
  /** False once the node left or missed its heartbeats. */
  available: boolean;
  /** True for this node. */
  local: boolean;
  /** `Date.now()` of the last sign of life. */
  lastHeartbeatTime: number;
  /** CPU usage 0–100 from its last heartbeat, or null. */
  cpu: number | null;
  /** Bumped when `cpu` changes (TCP gossip). */
  cpuSeq: number;
  /** Version of the node's service list; a higher one in INFO replaces the services. */
  seq: number;
  /** `{ type, version, langVersion }` of the node's Moleculer implementation. */
  client: Record<string, unknown>;
  /** The node's IPv4 addresses. */
  ipList: string[];
  /** The node's hostname. */
  hostname: string | null;
  /** The `config` object of its INFO (always `{}` from Moleculer). */
  config: Record<string, unknown>;
  /** The node's `metadata` broker option. */
  metadata: Record<string, unknown>;
  /** `Date.now()` when it went offline, or null. */
  offlineSince: number | null;
  /** The node's services as last announced. */
  services: ServiceItem[];
}

/** A service as the registry holds it (local or remote). */
export interface ServiceItem {
  /** Service name, e.g. `greeter`. */
  name: string;
  /** Full name with the version prefix, e.g. `v2.greeter`. */
  fullName: string;
  /** Version, if any. */
  version: string | number | undefined;
  /** Public settings (without `$secureSettings` keys). */
  settings: Record<string, unknown>;
  /** Service metadata. */
  metadata: Record<string, unknown>;
  /** The node serving it. */
  nodeID: string;
  /** True for a service of this node. */
  local: boolean;
  /** Action definitions keyed by full name. */
  actions: Record<string, Record<string, unknown>>;
  /** Event definitions keyed by name. */
  events: Record<string, Record<string, unknown>>;
  /** The service instance, for local services. */
  service: Service | null;
}

/** One node serving one action. */
export interface ActionEndpoint {
  /** Node id. */
  readonly id: string;
  /** True for an endpoint on this node. */
  readonly local: boolean;
  /** The node serving it. */
  readonly node: NodeInfo;
  /** What middlewares saw of the action. */
  readonly action: ActionInfo;
  /** The service entry it belongs to. */
  readonly service: ServiceItem;
  /** The wrapped handler: the local chain, or the remote chain that sends a REQ. */
  readonly handler: Handler;
}

/** One node listening to one event subscription. */
export interface EventEndpoint {
  /** Node id. */
  readonly id: string;
  /** True for an endpoint on this node. */
  readonly local: boolean;
  /** The node serving it. */
  readonly node: NodeInfo;
  /** The subscription name and group. */
  readonly event: { readonly name: string; readonly group: string };
  /** The service entry it belongs to. */
  readonly service: ServiceItem;
  /** The wrapped local handler; null for remote endpoints. */
  readonly handler: Handler | null;
  /** What middlewares saw; null for remote endpoints. */
  readonly info: EventInfo | null;
}

/** A local action about to be registered, with its wrapped handler. */
export interface LocalAction {
  /** What middlewares saw of it. */
  readonly info: ActionInfo;
  /** The JSON-safe definition announced in INFO. */
  readonly definition: Record<string, unknown>;
  /** The wrapped handler. */
  readonly handler: Handler;
}

/** A local event subscription about to be registered, with its wrapped handler. */
export interface LocalEvent {
  /** What middlewares saw of it. */
  readonly info: EventInfo;
  /** The JSON-safe definition announced in INFO. */
  readonly definition: Record<string, unknown>;
  /** The wrapped handler. */
  readonly handler: Handler;
}

/** What processing an INFO changed. */
export interface NodeInfoResult {
  /** The node serving it. */
  readonly node: NodeInfo;
  /** True for a node seen for the first time. */
  readonly isNew: boolean;
  /** True for a node that was offline and came back. */
  readonly isReconnected: boolean;
  /** True when a known node now reports another `instanceID`: its process was restarted. */
  readonly instanceChanged: boolean;
  /** True when the node's services were (re)registered. */
  readonly servicesChanged: boolean;
}

/** Options of the {@linkcode Registry}. */
export interface RegistryOptions {
  /** This node's id. */
  readonly nodeID: string;
  /** This broker instance's id. */
  readonly instanceID: string;
  /** Makes the strategy of a new endpoint list, from the definition of its first endpoint. */
  readonly strategy: StrategyResolver;
  /** Prefer local endpoints when balancing. */
  readonly preferLocal: boolean;
  /** Node metadata announced in INFO. */
  readonly metadata: Record<string, unknown>;
  /** INFO `client`: type, version, langVersion. */
  readonly client: Record<string, unknown>;
  /** IPv4 addresses announced in INFO. */
  readonly ipList: string[];
  /** Host name announced in INFO. */
  readonly hostname: string | null;
  /** Builds the remote chain for an action announced by another node. */
  readonly remoteHandler: (info: ActionInfo) => Handler;
}

const CALLABLE_REMOTELY = new Set<unknown>([
  undefined,
  null,
  "published",
  "public",
]);

function str(value: unknown, fallback = ""): string {
  return typeof value === "string" ? value : fallback;
}

/**
 * Store `value` under `key` as an own property, even for `__proto__`: a remote node names its
 * actions and events, and `obj["__proto__"] = v` would replace the object's prototype instead
 * (and hide the entry from `Object.keys`, so its endpoints would never be removed).
 */
function setOwn(
  obj: Record<string, unknown>,
  key: string,
  value: unknown,
): void {
  Object.defineProperty(obj, key, {
    value,
    writable: true,
    enumerable: true,
    configurable: true,
  });
}

/**
 * The registry as a broker shows it (`broker.registry`): the known nodes, and the endpoints of
 * every action and event, local and remote. Read it; the broker keeps it up to date.
 */
export interface RegistryView {
  /** Known nodes by id, this one included. */
  readonly nodes: ReadonlyMap<string, NodeInfo>;
  /** This node. */
  readonly localNode: NodeInfo;
  /** The endpoints of each action, by full action name. */
  readonly actions: ReadonlyMap<string, EndpointList<ActionEndpoint>>;
  /** The endpoints of each event subscription, by event name, then group. */
  readonly events: ReadonlyMap<string, ReadonlyMap<string, EndpointList<EventEndpoint>>>;
  /** This node's services as INFO announces them. */
  localServicesInfo(): Record<string, unknown>[];
  /**
   * The endpoint lists whose subscription matches an event name (wildcards included).
   *
   * @param eventName A concrete event name.
   */
  matchingEventLists(eventName: string): EndpointList<EventEndpoint>[];
  /**
   * The known nodes, in Moleculer's shape (what `$node.list` returns).
   *
   * @param opts `onlyAvailable`, `withServices`.
   */
  getNodeList(opts?: ListOptions): Record<string, unknown>[];
  /**
   * The known services, in Moleculer's shape (what `$node.services` returns).
   *
   * @param opts `onlyLocal`, `skipInternal`, `withActions`, `withEvents`, `onlyAvailable`,
   *   `grouping`.
   */
  getServiceList(opts?: ListOptions): Record<string, unknown>[];
  /**
   * The known actions, in Moleculer's shape (what `$node.actions` returns).
   *
   * @param opts `onlyLocal`, `skipInternal`, `withEndpoints`, `onlyAvailable`.
   */
  getActionList(opts?: ListOptions): Record<string, unknown>[];
  /**
   * The known event subscriptions, in Moleculer's shape (what `$node.events` returns).
   *
   * @param opts `onlyLocal`, `skipInternal`, `withEndpoints`, `onlyAvailable`.
   */
  getEventList(opts?: ListOptions): Record<string, unknown>[];
}

/** Known nodes, services, action endpoints and event endpoints. */
export class Registry implements RegistryView {
  /** Nodes by id, the local one included. */
  readonly nodes: Map<string, NodeInfo> = new Map();
  /** This node. */
  readonly localNode: NodeInfo;
  /** Action endpoint lists by full action name. */
  readonly actions: Map<string, EndpointList<ActionEndpoint>> = new Map();
  /** Event endpoint lists by subscription name, then group. */
  readonly events: Map<string, Map<string, EndpointList<EventEndpoint>>> = new Map();
  readonly #opts: RegistryOptions;
  #eventCache = new Map<string, EndpointList<EventEndpoint>[]>();
  /** The keys of `events`, indexed so that a lookup does not match every one of them. */
  readonly #patterns = new EventPatterns();

  /**
   * Create a registry holding only the local node.
   *
   * @param opts Registry options.
   */
  constructor(opts: RegistryOptions) {
    this.#opts = opts;
    this.localNode = {
      id: opts.nodeID,
      instanceID: opts.instanceID,
      available: true,
      local: true,
      lastHeartbeatTime: Date.now(),
      cpu: null,
      cpuSeq: 1,
      seq: 1,
      client: opts.client,
      ipList: opts.ipList,
      hostname: opts.hostname,
      config: {},
      metadata: opts.metadata,
      offlineSince: null,
      services: [],
    };
    this.nodes.set(opts.nodeID, this.localNode);
  }

  /** Whether local endpoints are preferred. */
  get preferLocal(): boolean {
    return this.#opts.preferLocal;
  }

  // ---- local services ----

  /**
   * Register a local service with its wrapped actions and events.
   *
   * @param service The service instance.
   * @param actions Its actions.
   * @param events Its event subscriptions.
   */
  registerLocalService(
    service: Service,
    actions: LocalAction[],
    events: LocalEvent[],
  ): void {
    const item: ServiceItem = {
      name: service.name,
      fullName: service.fullName,
      version: service.version,
      settings: service.publicSettings(),
      metadata: service.metadata,
      nodeID: this.localNode.id,
      local: true,
      actions: {},
      events: {},
      service,
    };
    for (const a of actions) {
      item.actions[a.info.name] = a.definition;
      this.#actionList(a.info.name, a.info.schema).add({
        id: this.localNode.id,
        local: true,
        node: this.localNode,
        action: a.info,
        service: item,
        handler: a.handler,
      });
    }
    for (const e of events) {
      item.events[e.info.name] = e.definition;
      this.#eventList(e.info.name, e.info.group).add({
        id: this.localNode.id,
        local: true,
        node: this.localNode,
        event: { name: e.info.name, group: e.info.group },
        service: item,
        handler: e.handler,
        info: e.info,
      });
    }
    this.localNode.services.push(item);
    this.localNode.seq++;
    this.#eventCache.clear();
  }

  /**
   * Remove a local service and its endpoints.
   *
   * @param service The service instance.
   */
  unregisterLocalService(service: Service): void {
    const node = this.localNode;
    const item = node.services.find((s) => s.service === service);
    if (!item) return;
    node.services = node.services.filter((s) => s !== item);
    this.#removeItemEndpoints(item);
    node.seq++;
    this.#eventCache.clear();
  }

  #removeItemEndpoints(item: ServiceItem): void {
    for (const name of Object.keys(item.actions)) {
      const list = this.actions.get(name);
      if (!list) continue;
      list.items = list.items.filter((e) => e.service !== item);
      list.locals = list.locals.filter((e) => e.service !== item);
      if (list.items.length === 0) this.actions.delete(name);
    }
    for (const [name, def] of Object.entries(item.events)) {
      const groups = this.events.get(name);
      const group = str(def.group, item.name);
      const list = groups?.get(group);
      if (!groups || !list) continue;
      list.items = list.items.filter((e) => e.service !== item);
      list.locals = list.locals.filter((e) => e.service !== item);
      if (list.items.length === 0) groups.delete(group);
      if (groups.size === 0) {
        this.events.delete(name);
        this.#patterns.delete(name);
      }
    }
  }

  /**
   * The `services` array of this node's INFO packet.
   *
   * @returns JSON-safe service descriptions.
   */
  localServicesInfo(): Record<string, unknown>[] {
    return this.localNode.services.map((s) => {
      const actions: Record<string, unknown> = {};
      for (const [name, def] of Object.entries(s.actions)) {
        if (def.protected === true) continue;
        actions[name] = def;
      }
      const out: Record<string, unknown> = {
        name: s.name,
        fullName: s.fullName,
        settings: s.settings,
        metadata: s.metadata,
        actions,
        events: s.events,
      };
      if (s.version !== undefined) out.version = s.version;
      return out;
    });
  }

  // ---- remote nodes ----

  /**
   * Process an INFO packet from another node.
   *
   * @param sender The sending node id.
   * @param payload The INFO payload.
   * @returns What changed.
   */
  processNodeInfo(
    sender: string,
    payload: Record<string, unknown>,
  ): NodeInfoResult {
    let node = this.nodes.get(sender);
    const isNew = !node;
    const isReconnected = !!node && !node.available;
    const seq = typeof payload.seq === "number" && payload.seq > 0 ? payload.seq : 1;
    const instanceID = str(payload.instanceID) || null;
    const instanceChanged = !!node && node.instanceID !== instanceID;
    if (!node) {
      node = {
        id: sender,
        instanceID,
        available: true,
        local: false,
        lastHeartbeatTime: Date.now(),
        cpu: null,
        cpuSeq: 0,
        seq: 0,
        client: {},
        ipList: [],
        hostname: null,
        config: {},
        metadata: {},
        offlineSince: null,
        services: [],
      };
      this.nodes.set(sender, node);
    }
    const mustRegister = isNew || isReconnected || instanceChanged ||
      seq > node.seq;
    node.available = true;
    node.offlineSince = null;
    node.lastHeartbeatTime = Date.now();
    node.instanceID = instanceID;
    node.client = isRecord(payload.client) ? payload.client : {};
    node.ipList = Array.isArray(payload.ipList)
      ? payload.ipList.filter((x) => typeof x === "string")
      : [];
    node.hostname = str(payload.hostname) || null;
    node.config = isRecord(payload.config) ? payload.config : {};
    node.metadata = isRecord(payload.metadata) ? payload.metadata : {};
    if (mustRegister) {
      node.seq = seq;
      this.#replaceNodeServices(
        node,
        Array.isArray(payload.services) ? payload.services : [],
      );
    }
    return {
      node,
      isNew,
      isReconnected,
      instanceChanged,
      servicesChanged: mustRegister,
    };
  }

  #replaceNodeServices(node: NodeInfo, services: unknown[]): void {
    for (const item of node.services) this.#removeItemEndpoints(item);
    node.services = [];
    for (const raw of services) {
      if (!isRecord(raw) || typeof raw.name !== "string") continue;
      const item: ServiceItem = {
        name: raw.name,
        fullName: str(raw.fullName, raw.name),
        version: typeof raw.version === "string" || typeof raw.version === "number"
          ? raw.version
          : undefined,
        settings: isRecord(raw.settings) ? raw.settings : {},
        metadata: isRecord(raw.metadata) ? raw.metadata : {},
        nodeID: node.id,
        local: false,
        actions: {},
        events: {},
        service: null,
      };
      const actions = isRecord(raw.actions) ? raw.actions : {};
      for (const [key, def] of Object.entries(actions)) {
        if (!isRecord(def) || !CALLABLE_REMOTELY.has(def.visibility)) continue;
        const name = str(def.name, key);
        setOwn(item.actions, name, def);
        const info: ActionInfo = {
          name,
          rawName: str(def.rawName) || undefined,
          service: null,
          params: undefined,
          visibility: (def.visibility ?? "published") as Visibility,
          timeout: typeof def.timeout === "number" ? def.timeout : undefined,
          schema: def,
        };
        this.#actionList(name, def).add({
          id: node.id,
          local: false,
          node,
          action: info,
          service: item,
          handler: this.#opts.remoteHandler(info),
        });
      }
      const events = isRecord(raw.events) ? raw.events : {};
      for (const [key, def] of Object.entries(events)) {
        if (!isRecord(def)) continue;
        const name = str(def.name, key);
        const group = str(def.group, item.name);
        setOwn(item.events, name, def);
        this.#eventList(name, group).add({
          id: node.id,
          local: false,
          node,
          event: { name, group },
          service: item,
          handler: null,
          info: null,
        });
      }
      node.services.push(item);
    }
    this.#eventCache.clear();
  }

  /**
   * Mark a remote node as gone and remove its endpoints.
   *
   * @param nodeID The node.
   * @returns The node, or undefined when unknown, local or already offline.
   */
  disconnectNode(nodeID: string): NodeInfo | undefined {
    const node = this.nodes.get(nodeID);
    if (!node || node.local || !node.available) return undefined;
    node.available = false;
    node.offlineSince = Date.now();
    node.seq++;
    for (const item of node.services) this.#removeItemEndpoints(item);
    node.services = [];
    this.#eventCache.clear();
    return node;
  }

  /**
   * Forget offline nodes silent for longer than `maxAgeMs`.
   *
   * @param maxAgeMs How long an offline node is kept.
   */
  purgeOfflineNodes(maxAgeMs: number): void {
    const now = Date.now();
    for (const [id, node] of this.nodes) {
      if (
        !node.local && !node.available && node.offlineSince !== null &&
        now - node.offlineSince > maxAgeMs
      ) {
        this.nodes.delete(id);
      }
    }
  }

  // ---- lookups ----

  #actionList(
    name: string,
    definition: Readonly<Record<string, unknown>>,
  ): EndpointList<ActionEndpoint> {
    let list = this.actions.get(name);
    if (!list) {
      list = new EndpointList<ActionEndpoint>(
        name,
        undefined,
        this.#opts.strategy(definition),
      );
      this.actions.set(name, list);
    }
    return list;
  }

  #eventList(name: string, group: string): EndpointList<EventEndpoint> {
    let groups = this.events.get(name);
    if (!groups) {
      groups = new Map();
      this.events.set(name, groups);
      this.#patterns.add(name);
    }
    let list = groups.get(group);
    if (!list) {
      list = new EndpointList<EventEndpoint>(
        name,
        group,
        this.#opts.strategy(),
      );
      groups.set(group, list);
    }
    return list;
  }

  /**
   * Every event endpoint list whose subscription matches a concrete event name.
   *
   * @param eventName The event name.
   * @returns The matching lists (one per subscription name and group).
   */
  matchingEventLists(eventName: string): EndpointList<EventEndpoint>[] {
    let lists = this.#eventCache.get(eventName);
    if (!lists) {
      lists = [];
      for (const pattern of this.#patterns.matching(eventName)) {
        for (const list of this.events.get(pattern)!.values()) {
          if (list.items.length) lists.push(list);
        }
      }
      if (this.#eventCache.size > 1000) this.#eventCache.clear();
      this.#eventCache.set(eventName, lists);
    }
    return lists;
  }

  /** {@inheritDoc RegistryView.getNodeList} */
  getNodeList(opts?: ListOptions): Record<string, unknown>[] {
    return nodeList(this, opts);
  }

  /** {@inheritDoc RegistryView.getServiceList} */
  getServiceList(opts?: ListOptions): Record<string, unknown>[] {
    return serviceList(this, opts);
  }

  /** {@inheritDoc RegistryView.getActionList} */
  getActionList(opts?: ListOptions): Record<string, unknown>[] {
    return actionList(this, opts);
  }

  /** {@inheritDoc RegistryView.getEventList} */
  getEventList(opts?: ListOptions): Record<string, unknown>[] {
    return eventList(this, opts);
  }

  /**
   * Every known service entry, of all nodes.
   *
   * @returns Service items with their node.
   */
  allServices(): ServiceItem[] {
    const out: ServiceItem[] = [];
    for (const node of this.nodes.values()) out.push(...node.services);
    return out;
  }
}
