/**
 * The packets of the Moleculer transit protocol: their types, the subscriptions a node makes,
 * the shapes of incoming requests and events, and the checks that turn untrusted payloads into
 * them (senders, REQ, EVENT, INFO).
 *
 * @example Read an incoming REQ
 * ```ts
 * import { decodeRequest } from "./packets.ts";
 *
 * const req = decodeRequest({ id: "1", action: "math.add", params: { a: 1 }, timeout: 1e12 });
 * console.log(req.timeout, req.level, req.meta); // 2147483647 1 {}
 * ```
 *
 * @module
 */

import type { Context } from "../core/context.ts";
import type { Logger } from "../logging.ts";
import type { PacketPayload, Serializer } from "../serializers/serializer.ts";
import { isValidSender, PacketType, type ProtocolVersion } from "../core/protocol.ts";
import { isRecord, printable } from "../_util/values.ts";
import { WARN_MAX_KEYS, type WarnLimiter } from "./warn_limiter.ts";
import { decodeChunkPacket } from "./stream_json.ts";

/**
 * The topic prefix of Moleculer's transporters: `MOL`, or `MOL-<namespace>`.
 *
 * @param namespace The broker namespace.
 * @returns The prefix.
 */
export function topicPrefix(namespace: string): string {
  return namespace ? `MOL-${namespace}` : "MOL";
}

/**
 * The 12 subscriptions a node makes at connect, in Moleculer's order: each packet type, and
 * whether it is the one for this node (`true`) or the broadcast one (`false`).
 */
export const SUBSCRIPTIONS: ReadonlyArray<readonly [PacketType, boolean]> = [
  [PacketType.EVENT, true],
  [PacketType.REQUEST, true],
  [PacketType.RESPONSE, true],
  [PacketType.DISCOVER, false],
  [PacketType.DISCOVER, true],
  [PacketType.INFO, false],
  [PacketType.INFO, true],
  [PacketType.DISCONNECT, false],
  [PacketType.HEARTBEAT, false],
  [PacketType.PING, false],
  [PacketType.PING, true],
  [PacketType.PONG, true],
];

/** A REQ packet as received, checked and normalized. */
export interface RequestPacket {
  /** The request id (the caller's context id). */
  id: string;
  /** The full action name. */
  action: string;
  /** The call's params, as sent. */
  params: unknown;
  /** The context meta (no own `__proto__` key). */
  meta: Record<string, unknown>;
  /** The context headers (protocol 5; empty otherwise). */
  headers: Record<string, unknown>;
  /** The caller's timeout in ms (at most {@linkcode MAX_TIMER_MS}), or null for none. */
  timeout: number | null;
  /** The call level, 1 for a top-level call. */
  level: number;
  /** The parent context id. */
  parentID: string | null;
  /** The id of the request chain. */
  requestID: string | null;
  /** The calling service, when known. */
  caller: string | null;
  /** The request's stream (`ctx.stream`), when it came with one; see `streams.ts`. */
  stream: ReadableStream<unknown> | null;
  /** The caller's sampling decision (Moleculer reads `!!payload.tracing`). */
  tracing: boolean;
}

/** An EVENT packet as received, checked and normalized. */
export interface EventPacket {
  /** The event context id, when the sender gave one. */
  id: string | null;
  /** The event name. */
  event: string;
  /** The event payload. */
  data: unknown;
  /** The groups the event is for, or null for all. */
  groups: string[] | null;
  /** True for a broadcast. */
  broadcast: boolean;
  /** The context meta (no own `__proto__` key). */
  meta: Record<string, unknown>;
  /** The context headers (protocol 5; empty otherwise). */
  headers: Record<string, unknown>;
  /** The event level, 1 for a top-level emit. */
  level: number;
  /** The parent context id. */
  parentID: string | null;
  /** The id of the request chain. */
  requestID: string | null;
  /** The emitting service, when known. */
  caller: string | null;
  /** The emitter's sampling decision, or null when it made none. */
  tracing: boolean | null;
}

/** The longest delay `setTimeout` takes: past 2^31-1 ms it fires at once. */
export const MAX_TIMER_MS = 2_147_483_647;
function strOrNull(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

/**
 * Remove an own `__proto__` key (JSON.parse makes one), which `Object.assign` would follow.
 *
 * @param obj An untrusted object.
 * @returns The same object, without that key.
 */
export function withoutProto(obj: Record<string, unknown>): Record<string, unknown> {
  if (Object.hasOwn(obj, "__proto__")) delete obj["__proto__"];
  return obj;
}

/**
 * Copy the own keys of an untrusted object onto `target`, never touching its prototype.
 *
 * @param target What receives the keys.
 * @param source The untrusted object.
 */
export function mergeInto(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const key of Object.keys(source)) {
    if (key !== "__proto__") target[key] = source[key];
  }
}

/**
 * Read a REQ payload: what the handler side needs, with defaults for what is missing or of the
 * wrong type.
 *
 * @param p The payload (untrusted).
 * @returns The request.
 * @throws {Error} when `id` or `action` is not a string: the packet is dropped.
 */
export function decodeRequest(p: PacketPayload): RequestPacket {
  if (typeof p.id !== "string" || typeof p.action !== "string") {
    throw new Error("REQ needs string 'id' and 'action'");
  }
  return {
    id: p.id,
    action: p.action,
    params: p.params,
    meta: isRecord(p.meta) ? withoutProto(p.meta) : {},
    headers: isRecord(p.headers) ? withoutProto(p.headers) : {},
    // Past 2^31-1 ms a timer fires at once: a huge timeout is no timeout at all.
    timeout: typeof p.timeout === "number" && p.timeout > 0
      ? Math.min(p.timeout, MAX_TIMER_MS)
      : null,
    level: typeof p.level === "number" && p.level >= 1 ? p.level : 1,
    parentID: strOrNull(p.parentID),
    requestID: strOrNull(p.requestID),
    caller: strOrNull(p.caller),
    stream: null,
    tracing: !!p.tracing,
  };
}

/**
 * Read an EVENT payload, with defaults for what is missing or of the wrong type.
 *
 * @param p The payload (untrusted).
 * @returns The event.
 * @throws {Error} when `event` is not a string: the packet is dropped.
 */
export function decodeEvent(p: PacketPayload): EventPacket {
  if (typeof p.event !== "string") throw new Error("EVENT needs a string 'event'");
  return {
    id: strOrNull(p.id),
    event: p.event,
    data: p.data,
    groups: Array.isArray(p.groups) ? p.groups.filter((g) => typeof g === "string") : null,
    broadcast: p.broadcast === true,
    meta: isRecord(p.meta) ? withoutProto(p.meta) : {},
    headers: isRecord(p.headers) ? withoutProto(p.headers) : {},
    level: typeof p.level === "number" && p.level >= 1 ? p.level : 1,
    parentID: strOrNull(p.parentID),
    requestID: strOrNull(p.requestID),
    caller: strOrNull(p.caller),
    tracing: typeof p.tracing === "boolean" ? p.tracing : null,
  };
}

/**
 * Whether a REQ or RES belongs to a stream: Moleculer numbers the packets of a stream with
 * `seq` (0 for the request or response itself, then its chunks and its end); a plain REQ has
 * `stream: false` and no `seq`, a plain RES neither. Between Denolecular nodes, a `streamCtl`
 * packet carries a stream's flow control the other way.
 *
 * @param p The payload (untrusted).
 * @returns True for a stream's packet.
 */
export function isStreamPacket(p: PacketPayload): boolean {
  return p.seq !== undefined || p.stream === true || p.streamCtl !== undefined;
}

const EMPTY: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/**
 * The payload of a REQ for a call made with `ctx` (without `ver` and `sender`, which the sender
 * adds).
 *
 * @param ctx The call's context.
 * @param action The full action name.
 * @param version The protocol: `headers` travel in protocol 5 only.
 * @returns The payload.
 */
export function requestPayload(
  ctx: Context,
  action: string,
  version: ProtocolVersion,
): PacketPayload {
  // One literal: the object gets its final shape at once (protocol 4, which has no `headers`,
  // is the rare case that pays for the delete).
  const payload: PacketPayload = {
    id: ctx.id,
    action,
    params: ctx.params ?? EMPTY,
    meta: ctx.meta,
    headers: ctx.headers,
    timeout: ctx.timeout ?? 0,
    level: ctx.level,
    tracing: ctx.tracing,
    parentID: ctx.parentID,
    requestID: ctx.requestID,
    caller: ctx.caller,
    stream: false,
  };
  if (version !== "5") delete payload.headers;
  return payload;
}

/**
 * The payload of an EVENT for an event context (without `ver` and `sender`).
 *
 * @param ctx The event's context (params = data).
 * @param groups The groups it is for, or null.
 * @param broadcast True for a broadcast.
 * @param version The protocol: `headers` travel in protocol 5 only.
 * @returns The payload.
 */
export function eventPayload(
  ctx: Context,
  groups: string[] | null,
  broadcast: boolean,
  version: ProtocolVersion,
): PacketPayload {
  // The context id, as Moleculer sends: at the root of a chain it is the requestID too.
  const payload: PacketPayload = { id: ctx.id, event: ctx.eventName };
  if (ctx.params !== undefined) payload.data = ctx.params;
  if (groups) payload.groups = groups;
  payload.broadcast = broadcast;
  payload.meta = ctx.meta;
  if (version === "5") payload.headers = ctx.headers;
  payload.level = ctx.level;
  payload.tracing = ctx.tracing;
  payload.parentID = ctx.parentID;
  payload.requestID = ctx.requestID;
  payload.caller = ctx.caller;
  payload.needAck = null;
  return payload;
}

/** Called with the bytes of a packet the serializer could not read, and what it threw. */
export type Undecodable = (type: PacketType, data: Uint8Array, err: unknown) => void;

/** Packets from this size on are tried as stream chunks under JSON. */
const CHUNK_FAST_PATH = 4096;

/** A JSON stream chunk read the fast way, or undefined (any doubt: the plain way). */
function readChunk(data: Uint8Array): PacketPayload | undefined {
  try {
    return decodeChunkPacket(data, (text) => JSON.parse(text));
  } catch {
    return undefined;
  }
}

/** A payload that passed {@linkcode PacketDecoder.decode}: its sender is one we can answer. */
export type ScreenedPayload = PacketPayload & { readonly sender: string };

/**
 * Turns the bytes of incoming packets into payloads, and drops (with a rate-limited warning) what
 * cannot be used: bytes the serializer cannot read, a missing or unanswerable sender, another
 * protocol version (unless `disableVersionCheck`).
 */
export class PacketDecoder {
  readonly #serializer: Serializer;
  readonly #version: ProtocolVersion;
  readonly #anyVersion: boolean;
  readonly #warnings: WarnLimiter;
  readonly #logger: Pick<Logger, "warn">;
  readonly #undecodable: Undecodable | undefined;
  /** The last sender that passed `isValidSender` (a cache of that check). */
  #lastSender: string | undefined;
  /** Senders already told about their protocol mismatch (bounded). */
  readonly #warnedVersion = new Set<string>();
  /** JSON: a big REQ or RES may be a stream chunk, read by `stream_json.ts`. */
  readonly #jsonChunks: boolean;

  /**
   * @param serializer The payload codec.
   * @param opts This node's protocol, and whether other versions are accepted.
   * @param warnings Where dropped packets are reported.
   * @param logger Where a protocol mismatch is reported, once per sender.
   * @param undecodable Where bytes the serializer cannot read go (transit explains them, see
   *   `foreign.ts`); by default they are reported as malformed.
   */
  constructor(
    serializer: Serializer,
    opts: { readonly protocolVersion: ProtocolVersion; readonly disableVersionCheck: boolean },
    warnings: WarnLimiter,
    logger: Pick<Logger, "warn">,
    undecodable?: Undecodable,
  ) {
    this.#undecodable = undecodable;
    this.#serializer = serializer;
    this.#version = opts.protocolVersion;
    this.#anyVersion = opts.disableVersionCheck;
    this.#warnings = warnings;
    this.#logger = logger;
    this.#jsonChunks = serializer.name === "JSON";
  }

  /**
   * Deserialize and screen one packet.
   *
   * @param type The packet type of the subscription it came on.
   * @param data Its bytes.
   * @returns The payload, or undefined when it is dropped (and reported).
   */
  decode(type: PacketType, data: Uint8Array): ScreenedPayload | undefined {
    let payload: PacketPayload;
    try {
      const chunk = this.#jsonChunks && data.length >= CHUNK_FAST_PATH
        ? readChunk(data)
        : undefined;
      payload = chunk ?? this.#serializer.deserialize(data);
    } catch (err) {
      if (this.#undecodable) {
        this.#undecodable(type, data, err);
        return undefined;
      }
      this.#warnings.warn(
        `malformed ${type}`,
        `Dropped a malformed ${type} packet: ${printable((err as Error).message, 200)}`,
      );
      return undefined;
    }
    const sender = payload.sender;
    // Packets come in runs from the same few peers: a sender equal to the last valid one skips
    // the regular expression.
    if (typeof sender === "string" && sender === this.#lastSender) {
      // valid
    } else if (isValidSender(sender)) {
      this.#lastSender = sender;
    } else {
      this.#warnings.warn(
        `sender ${type}`,
        typeof sender === "string" && sender !== ""
          ? `Dropped a ${type} packet with an invalid sender '${printable(sender)}'`
          : `Dropped a ${type} packet without a sender`,
      );
      return undefined;
    }
    if (payload.ver !== this.#version && !this.#anyVersion) {
      this.#versionMismatch(type, sender, payload.ver);
      return undefined;
    }
    return payload as ScreenedPayload;
  }

  /** A packet of another protocol version: dropped, and its sender named once. */
  #versionMismatch(type: PacketType, sender: string, version: unknown): void {
    const ver = printable(version, 16);
    if (this.#warnedVersion.size >= WARN_MAX_KEYS && !this.#warnedVersion.has(sender)) {
      this.#warnings.warn(
        `version ${sender}`,
        `Dropped a ${type} packet of protocol ${ver} from '${printable(sender)}'`,
      );
      return;
    }
    if (this.#warnedVersion.has(sender)) return;
    this.#warnedVersion.add(sender);
    const hint = ver === "4" ? " (Moleculer 0.14)" : ver === "5" ? " (Moleculer 0.15)" : "";
    this.#logger.warn(
      ver === "4" || ver === "5"
        ? `Node '${printable(sender)}' speaks protocol ${ver}${hint}, this node speaks ` +
          `${this.#version}: its packets are dropped. Start with protocolVersion '${ver}' to ` +
          "talk to it."
        : `Node '${printable(sender)}' sends packets of an unknown protocol version ` +
          `'${ver}': they are dropped`,
    );
  }
}
