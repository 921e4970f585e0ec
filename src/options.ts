/**
 * Broker options, named as in Moleculer, and their resolution into a complete,
 * checked set.
 *
 * @module
 */

import type { LogFormat, LogLevel, LogSink } from "./logging.ts";
import type { MiddlewareOption } from "./middleware.ts";
import type { StrategyOption } from "./registry/strategies.ts";
import type { SerializerOption } from "./serializers/resolve.ts";
import type { ProtocolVersion } from "./transit/packets.ts";
import type { TransporterOption } from "./transporters/resolve.ts";
import type { ValidatorOption } from "./validation/validator.ts";
import { BrokerOptionsError } from "./errors.ts";
import { defaultNodeID } from "./_util/host.ts";

/** Registry options. */
export interface RegistryOptions {
  /** Balancing strategy: `"RoundRobin"`, `"Random"`, or a factory. @default {"RoundRobin"} */
  strategy?: StrategyOption;
  /** Call a local endpoint when one exists. @default {true} */
  preferLocal?: boolean;
  /** Ms to wait between announcing no services and stopping them. @default {100} */
  stopDelay?: number;
}

/** Transit options. */
export interface TransitOptions {
  /** Most requests waiting for a response at once; past it calls fail with QueueIsFullError. @default {50000} */
  maxQueueSize?: number;
  /** Accept packets of another protocol version. @default {false} */
  disableVersionCheck?: boolean;
  /** Ms to wait before re-announcing changed local services. @default {1000} */
  serviceChangedDebounceTime?: number;
  /** Ms to collect INFO replies after the first DISCOVER, before services start. @default {500} */
  discoverWaitTime?: number;
}

/** Options of a {@linkcode ServiceBroker}. Every field is optional. */
export interface BrokerOptions {
  /** This node's id. @default {"<hostname>-<pid>"} */
  nodeID?: string;
  /** Namespace: nodes only see nodes of the same namespace. @default {""} */
  namespace?: string;
  /** Transporter: `"nats://host:4222"`, `"memory://group"`, an instance, or null for a local-only broker. @default {null} */
  transporter?: TransporterOption | null;
  /** Serializer name or instance. @default {"JSON"} */
  serializer?: SerializerOption;
  /** Logging: `true` (console), `false` (silent), `"logtape"` (the app's logtape setup) or a sink function. @default {true} */
  logger?: boolean | "logtape" | LogSink;
  /** Lowest level logged. @default {"info"} */
  logLevel?: LogLevel;
  /** `"PLAIN"` lines like Moleculer's, or `"JSON"` lines. @default {"PLAIN"} */
  logFormat?: LogFormat;
  /** Default call timeout in ms; `0` = none. @default {0} */
  requestTimeout?: number;
  /** Deepest call chain allowed; `0` = unlimited. @default {0} */
  maxCallLevel?: number;
  /** Seconds between heartbeats. @default {10} */
  heartbeatInterval?: number;
  /** Seconds of silence after which a node is offline. @default {30} */
  heartbeatTimeout?: number;
  /** Seconds an offline node is remembered. @default {600} */
  cleanOfflineNodesTimeout?: number;
  /** Moleculer protocol: `"5"` for Moleculer 0.15, `"4"` for 0.14. @default {"5"} */
  protocolVersion?: ProtocolVersion;
  /** Registry options. */
  registry?: RegistryOptions;
  /** Transit options. */
  transit?: TransitOptions;
  /** Middlewares; the first is the outermost. @default {[]} */
  middlewares?: MiddlewareOption[];
  /** Params validator: `true` (fastest-validator), `false` (off) or an instance. @default {true} */
  validator?: ValidatorOption;
  /** Metadata announced to other nodes. @default {{}} */
  metadata?: Record<string, unknown>;
  /** Register the internal `$node` service. @default {true} */
  internalServices?: boolean;
}

/** Options after defaults and checks. */
export interface ResolvedOptions {
  readonly nodeID: string;
  readonly namespace: string;
  readonly transporter: TransporterOption | null;
  readonly serializer: SerializerOption;
  readonly logger: boolean | "logtape" | LogSink;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  readonly requestTimeout: number;
  readonly maxCallLevel: number;
  readonly heartbeatInterval: number;
  readonly heartbeatTimeout: number;
  readonly cleanOfflineNodesTimeout: number;
  readonly protocolVersion: ProtocolVersion;
  readonly registry: Required<RegistryOptions>;
  readonly transit: Required<TransitOptions>;
  readonly middlewares: MiddlewareOption[];
  readonly validator: ValidatorOption;
  readonly metadata: Record<string, unknown>;
  readonly internalServices: boolean;
}

const KNOWN_KEYS = new Set([
  "nodeID",
  "namespace",
  "transporter",
  "serializer",
  "logger",
  "logLevel",
  "logFormat",
  "requestTimeout",
  "maxCallLevel",
  "heartbeatInterval",
  "heartbeatTimeout",
  "cleanOfflineNodesTimeout",
  "protocolVersion",
  "registry",
  "transit",
  "middlewares",
  "validator",
  "metadata",
  "internalServices",
]);

const REGISTRY_KEYS = new Set(["strategy", "preferLocal", "stopDelay"]);
const TRANSIT_KEYS = new Set([
  "maxQueueSize",
  "disableVersionCheck",
  "serviceChangedDebounceTime",
  "discoverWaitTime",
]);

const BAD_NAME = /[\s.*>/+#|]/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function group(
  option: string,
  value: unknown,
  known: Set<string>,
): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isRecord(value)) {
    throw new BrokerOptionsError(`Option '${option}' must be an object`, {
      option,
      value,
    });
  }
  for (const key of Object.keys(value)) {
    if (!known.has(key)) {
      throw new BrokerOptionsError(
        `Unknown broker option '${option}.${key}'. Known ${option} options: ${
          [...known].join(", ")
        }`,
        { option: `${option}.${key}` },
      );
    }
  }
  return value;
}

function bool(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") {
    throw new BrokerOptionsError(
      `Option '${option}' must be true or false, got ${JSON.stringify(value)}`,
      { option, value },
    );
  }
  return value;
}

function num(name: string, value: unknown, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min) {
    throw new BrokerOptionsError(
      `Option '${name}' must be a number ≥ ${min}, got ${JSON.stringify(value)}`,
      { option: name, value },
    );
  }
  return value;
}

function name(
  option: string,
  value: unknown,
  fallback: string,
  allowEmpty: boolean,
): string {
  if (value === undefined) return fallback;
  if (
    typeof value !== "string" || (!allowEmpty && value.length === 0) ||
    BAD_NAME.test(value)
  ) {
    throw new BrokerOptionsError(
      `Option '${option}' must be a ${
        allowEmpty ? "" : "non-empty "
      }string without whitespace or any of . * > / + # |, got ${JSON.stringify(value)}`,
      { option, value },
    );
  }
  return value;
}

/**
 * Apply defaults and check every option.
 *
 * @param options The user's options, or a nodeID string.
 * @returns The resolved options.
 * @throws {BrokerOptionsError} naming the option that is wrong and what it must be.
 */
export function resolveOptions(
  options: BrokerOptions | string = {},
): ResolvedOptions {
  const o: BrokerOptions = typeof options === "string" ? { nodeID: options } : options;
  if (o === null || typeof o !== "object") {
    throw new BrokerOptionsError(
      "Broker options must be an object or a nodeID string",
    );
  }
  for (const key of Object.keys(o)) {
    if (!KNOWN_KEYS.has(key)) {
      throw new BrokerOptionsError(
        `Unknown broker option '${key}'. Known options: ${[...KNOWN_KEYS].join(", ")}`,
        { option: key },
      );
    }
  }
  const protocolVersion = o.protocolVersion ?? "5";
  if (protocolVersion !== "4" && protocolVersion !== "5") {
    throw new BrokerOptionsError(
      `Option 'protocolVersion' must be "4" (Moleculer 0.14) or "5" (Moleculer 0.15), got ${
        JSON.stringify(protocolVersion)
      }`,
      { option: "protocolVersion", value: protocolVersion },
    );
  }
  if (o.middlewares !== undefined && !Array.isArray(o.middlewares)) {
    throw new BrokerOptionsError("Option 'middlewares' must be an array", {
      option: "middlewares",
    });
  }
  const registry = group(
    "registry",
    o.registry,
    REGISTRY_KEYS,
  ) as RegistryOptions;
  const transit = group("transit", o.transit, TRANSIT_KEYS) as TransitOptions;
  if (o.metadata !== undefined && !isRecord(o.metadata)) {
    throw new BrokerOptionsError("Option 'metadata' must be an object", {
      option: "metadata",
      value: o.metadata,
    });
  }
  const validator: unknown = o.validator;
  if (
    validator !== undefined && typeof validator !== "boolean" &&
    !(isRecord(validator) && typeof validator.compile === "function")
  ) {
    throw new BrokerOptionsError(
      "Option 'validator' must be true, false or an object with a compile(schema) method",
      { option: "validator" },
    );
  }
  const heartbeatInterval = num(
    "heartbeatInterval",
    o.heartbeatInterval,
    10,
    0.01,
  );
  return {
    nodeID: name("nodeID", o.nodeID, defaultNodeID(), false),
    namespace: name("namespace", o.namespace, "", true),
    transporter: o.transporter ?? null,
    serializer: o.serializer ?? "JSON",
    logger: o.logger ?? true,
    logLevel: o.logLevel ?? "info",
    logFormat: o.logFormat ?? "PLAIN",
    requestTimeout: num("requestTimeout", o.requestTimeout, 0),
    maxCallLevel: num("maxCallLevel", o.maxCallLevel, 0),
    heartbeatInterval,
    heartbeatTimeout: num(
      "heartbeatTimeout",
      o.heartbeatTimeout,
      30,
      heartbeatInterval,
    ),
    cleanOfflineNodesTimeout: num(
      "cleanOfflineNodesTimeout",
      o.cleanOfflineNodesTimeout,
      600,
    ),
    protocolVersion,
    registry: {
      strategy: registry.strategy ?? "RoundRobin",
      preferLocal: bool("registry.preferLocal", registry.preferLocal, true),
      stopDelay: num("registry.stopDelay", registry.stopDelay, 100),
    },
    transit: {
      maxQueueSize: num(
        "transit.maxQueueSize",
        transit.maxQueueSize,
        50_000,
        1,
      ),
      disableVersionCheck: bool(
        "transit.disableVersionCheck",
        transit.disableVersionCheck,
        false,
      ),
      serviceChangedDebounceTime: num(
        "transit.serviceChangedDebounceTime",
        transit.serviceChangedDebounceTime,
        1000,
      ),
      discoverWaitTime: num(
        "transit.discoverWaitTime",
        transit.discoverWaitTime,
        500,
      ),
    },
    middlewares: o.middlewares ?? [],
    validator: o.validator,
    metadata: o.metadata ?? {},
    internalServices: bool("internalServices", o.internalServices, true),
  };
}
