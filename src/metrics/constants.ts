/**
 * Metric types, units and the names of the built-in metrics, as Moleculer 0.15 publishes them.
 *
 * @module
 */

/** The metric types. */
export const MetricType = {
  COUNTER: "counter",
  GAUGE: "gauge",
  HISTOGRAM: "histogram",
  INFO: "info",
} as const;

/** A metric type name. */
export type MetricType = typeof MetricType[keyof typeof MetricType];

/** Units of the built-in metrics (Moleculer's words). */
export const MetricUnit = {
  BYTE: "byte",
  SECONDS: "second",
  MILLISECONDS: "millisecond",
  REQUEST: "request",
  EVENT: "event",
  PACKET: "packet",
  NODE: "node",
  SERVICE: "service",
  ACTION: "action",
  ENDPOINT: "endpoint",
  PERCENTAGE: "percentage",
  COUNT: "count",
} as const;

/** The names of the built-in metrics. */
export const METRIC = {
  PROCESS_ARGUMENTS: "process.arguments",
  PROCESS_PID: "process.pid",
  PROCESS_MEMORY_HEAP_SIZE_TOTAL: "process.memory.heap.size.total",
  PROCESS_MEMORY_HEAP_SIZE_USED: "process.memory.heap.size.used",
  PROCESS_MEMORY_RSS: "process.memory.rss",
  PROCESS_MEMORY_EXTERNAL: "process.memory.external",
  PROCESS_UPTIME: "process.uptime",
  PROCESS_VERSIONS_DENO: "process.versions.deno",

  OS_MEMORY_FREE: "os.memory.free",
  OS_MEMORY_USED: "os.memory.used",
  OS_MEMORY_TOTAL: "os.memory.total",
  OS_UPTIME: "os.uptime",
  OS_TYPE: "os.type",
  OS_RELEASE: "os.release",
  OS_HOSTNAME: "os.hostname",
  OS_ARCH: "os.arch",
  OS_PLATFORM: "os.platform",
  OS_DATETIME_UNIX: "os.datetime.unix",
  OS_DATETIME_ISO: "os.datetime.iso",
  OS_DATETIME_UTC: "os.datetime.utc",
  OS_DATETIME_TZ_OFFSET: "os.datetime.tz.offset",
  OS_NETWORK_ADDRESS: "os.network.address",
  OS_CPU_LOAD_1: "os.cpu.load.1",
  OS_CPU_LOAD_5: "os.cpu.load.5",
  OS_CPU_LOAD_15: "os.cpu.load.15",
  OS_CPU_UTILIZATION: "os.cpu.utilization",
  OS_CPU_TOTAL: "os.cpu.total",

  MOLECULER_NODE_TYPE: "moleculer.node.type",
  MOLECULER_NODE_VERSIONS_MOLECULER: "moleculer.node.versions.moleculer",
  MOLECULER_NODE_VERSIONS_LANG: "moleculer.node.versions.lang",
  MOLECULER_NODE_VERSIONS_PROTOCOL: "moleculer.node.versions.protocol",
  MOLECULER_BROKER_NAMESPACE: "moleculer.broker.namespace",
  MOLECULER_BROKER_STARTED: "moleculer.broker.started",
  MOLECULER_BROKER_LOCAL_SERVICES_TOTAL: "moleculer.broker.local.services.total",
  MOLECULER_BROKER_MIDDLEWARES_TOTAL: "moleculer.broker.middlewares.total",
  MOLECULER_REGISTRY_NODES_TOTAL: "moleculer.registry.nodes.total",
  MOLECULER_REGISTRY_NODES_ONLINE_TOTAL: "moleculer.registry.nodes.online.total",
  MOLECULER_REGISTRY_SERVICES_TOTAL: "moleculer.registry.services.total",
  MOLECULER_REGISTRY_ACTIONS_TOTAL: "moleculer.registry.actions.total",
  MOLECULER_REGISTRY_EVENTS_TOTAL: "moleculer.registry.events.total",

  MOLECULER_REQUEST_TOTAL: "moleculer.request.total",
  MOLECULER_REQUEST_ACTIVE: "moleculer.request.active",
  MOLECULER_REQUEST_ERROR_TOTAL: "moleculer.request.error.total",
  MOLECULER_REQUEST_TIME: "moleculer.request.time",
  MOLECULER_REQUEST_LEVELS: "moleculer.request.levels",

  MOLECULER_EVENT_EMIT_TOTAL: "moleculer.event.emit.total",
  MOLECULER_EVENT_BROADCAST_TOTAL: "moleculer.event.broadcast.total",
  MOLECULER_EVENT_BROADCASTLOCAL_TOTAL: "moleculer.event.broadcast-local.total",
  MOLECULER_EVENT_RECEIVED_TOTAL: "moleculer.event.received.total",
  MOLECULER_EVENT_RECEIVED_ACTIVE: "moleculer.event.received.active",
  MOLECULER_EVENT_RECEIVED_ERROR_TOTAL: "moleculer.event.received.error.total",
  MOLECULER_EVENT_RECEIVED_TIME: "moleculer.event.received.time",

  MOLECULER_TRANSIT_PUBLISH_TOTAL: "moleculer.transit.publish.total",
  MOLECULER_TRANSIT_RECEIVE_TOTAL: "moleculer.transit.receive.total",
  MOLECULER_TRANSIT_REQUESTS_ACTIVE: "moleculer.transit.requests.active",
  MOLECULER_TRANSIT_READY: "moleculer.transit.ready",
  MOLECULER_TRANSIT_CONNECTED: "moleculer.transit.connected",

  MOLECULER_TRANSPORTER_PACKETS_SENT_TOTAL: "moleculer.transporter.packets.sent.total",
  MOLECULER_TRANSPORTER_PACKETS_SENT_BYTES: "moleculer.transporter.packets.sent.bytes",
  MOLECULER_TRANSPORTER_PACKETS_RECEIVED_TOTAL: "moleculer.transporter.packets.received.total",
  MOLECULER_TRANSPORTER_PACKETS_RECEIVED_BYTES: "moleculer.transporter.packets.received.bytes",
} as const;
