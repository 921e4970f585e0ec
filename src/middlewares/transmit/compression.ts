/**
 * `Transmit.Compression`: Moleculer's compression of the bytes on the wire, interoperable with
 * its `Middlewares.Transmit.Compression` (`deflate`, `deflateRaw` or `gzip`, a `threshold`).
 *
 * Each packet gets Moleculer's 1-byte header: `0x00` and the bytes as they are (a packet
 * smaller than the threshold), or `0x01` and the compressed bytes. zlib is loaded (by
 * `import()`) when the middleware is created; packets sent or received before it is ready wait
 * for it.
 *
 * @example
 * ```ts
 * import { ServiceBroker } from "../../../mod.ts";
 * import { Compression } from "./compression.ts";
 *
 * const broker = new ServiceBroker({
 *   logger: false,
 *   transporter: "memory://compression-example",
 *   middlewares: [Compression({ method: "gzip", threshold: "1kb" })],
 * });
 * await broker.start();
 * await broker.stop();
 * ```
 *
 * @module
 */

import type { BrokerApi } from "../../core/broker_api.ts";
import type { MiddlewareHooks } from "../../core/middleware.ts";
import type { Logger } from "../../logging.ts";
import { BrokerOptionsError } from "../../errors.ts";
import type { CompressionMethod, ZlibCodec } from "../../runtime/transmit.ts";
import { isRecord, toError } from "../../_util/values.ts";
import { loadCodecs, parseByteSize, readyHooks, TransmitUnreadableError } from "./_shared.ts";

export type { CompressionMethod } from "../../runtime/transmit.ts";

/** Options of {@linkcode Compression}, as Moleculer's. */
export interface CompressionOptions {
  /** `"deflate"` (default), `"deflateRaw"` or `"gzip"`. */
  readonly method?: CompressionMethod;
  /**
   * Packets smaller than this are sent as they are: bytes, or a size such as `"1kb"` (default).
   * `null` (or a value that is no size) compresses every packet, as in Moleculer.
   */
  readonly threshold?: number | string | null;
  /**
   * The most bytes a received packet may inflate to; a larger one is dropped (a guard against
   * compression bombs). Default 128 MiB. Not in Moleculer, which has no bound.
   */
  readonly maxDecompressedSize?: number;
}

const METHODS: readonly CompressionMethod[] = ["deflate", "deflateRaw", "gzip"];
const DEFAULT_MAX_DECOMPRESSED = 128 * 1024 * 1024;
const KNOWN = new Set(["method", "threshold", "maxDecompressedSize"]);

/** The format a compressed payload's first bytes show, to read a peer's other method. */
function methodOf(data: Uint8Array): CompressionMethod {
  if (data[0] === 0x1f && data[1] === 0x8b) return "gzip";
  const cmf = data[0] ?? 0;
  if ((cmf & 0x0f) === 8 && ((cmf << 8) | (data[1] ?? 0)) % 31 === 0) return "deflate";
  return "deflateRaw";
}

function resolveOptions(
  arg: CompressionOptions | CompressionMethod | undefined,
  threshold: number | string | null | undefined,
): { method: CompressionMethod; threshold: number | null; shown: string; max: number } {
  const given: unknown = typeof arg === "string"
    ? { method: arg, ...(threshold !== undefined ? { threshold } : {}) }
    : arg ?? {};
  if (!isRecord(given)) {
    throw new BrokerOptionsError(
      "Compression takes { method, threshold } or a method name, e.g. " +
        'Compression({ method: "gzip", threshold: "1kb" })',
      { middleware: "Compression" },
    );
  }
  const opts = given as CompressionOptions;
  for (const key of Object.keys(opts)) {
    if (!KNOWN.has(key)) {
      throw new BrokerOptionsError(
        `Unknown Compression option '${key}'. Known options: ${[...KNOWN].join(", ")}`,
        { middleware: "Compression", option: key },
      );
    }
  }
  const method = opts.method ?? "deflate";
  if (!METHODS.includes(method)) {
    throw new BrokerOptionsError(
      `Unknown compression method '${String(method)}': use ${
        METHODS.map((m) => `'${m}'`).join(", ")
      }`,
      { middleware: "Compression", option: "method" },
    );
  }
  const raw = opts.threshold === undefined ? "1kb" : opts.threshold;
  const max: number = opts.maxDecompressedSize ?? DEFAULT_MAX_DECOMPRESSED;
  if (!Number.isInteger(max) || max <= 0) {
    throw new BrokerOptionsError(
      `Compression option 'maxDecompressedSize' must be a positive integer of bytes, got ${
        String(max)
      }`,
      { middleware: "Compression", option: "maxDecompressedSize" },
    );
  }
  const bytes = parseByteSize(raw);
  return { method, threshold: bytes, shown: bytes === null ? "none" : String(raw), max };
}

/**
 * The compression middleware, as Moleculer's `Middlewares.Transmit.Compression`. Every node of
 * a cluster must use it with the same method (the `threshold` may differ).
 *
 * @param opts `{ method, threshold }` as in Moleculer, or the method's name, e.g.
 *   `Compression("gzip", "1kb")`. (Moleculer ignores a name given so and uses `deflate`; here
 *   the name is honoured.)
 * @param threshold With a method name: the threshold.
 * @returns The middleware.
 * @throws {BrokerOptionsError} on an unknown method or option.
 */
export function Compression(
  opts?: CompressionOptions | CompressionMethod,
  threshold?: number | string | null,
): MiddlewareHooks {
  const o = resolveOptions(opts, threshold);
  let logger: Logger | undefined;
  const ready = loadCodecs().then((m) => ({
    codec: m.zlibCodec(o.method),
    others: new Map<CompressionMethod, ZlibCodec>(),
    zlibCodec: m.zlibCodec,
  }));
  const hooks = readyHooks(
    ready,
    ({ codec }, next) => (topic, data, meta) => {
      if (o.threshold !== null && data.length < o.threshold) {
        const out = new Uint8Array(data.length + 1);
        out.set(data, 1);
        return next(topic, out, meta);
      }
      const packed = codec.compress(data);
      const out = new Uint8Array(packed.length + 1);
      out[0] = 1;
      out.set(packed, 1);
      logger?.debug(`Packet '${topic}' compressed: ${data.length} → ${packed.length} bytes`);
      return next(topic, out, meta);
    },
    (state, next) => (cmd, data, s) => {
      if (data.length === 0) {
        throw new TransmitUnreadableError("Compression", "an empty packet has no header");
      }
      if (data[0] === 0) return next(cmd, data.subarray(1), s);
      if (data[0] !== 1) {
        throw new TransmitUnreadableError(
          "Compression",
          `the packet has no compression header (its first byte is 0x${
            data[0]!.toString(16).padStart(2, "0")
          }, not 0x00 or 0x01)`,
        );
      }
      const body = data.subarray(1);
      let plain: Uint8Array;
      try {
        plain = state.codec.decompress(body, o.max);
      } catch (err) {
        // A node configured with another method: its bytes say which.
        const other = methodOf(body);
        if (other === o.method) throw unreadable(o.method, err, o.max);
        let codec = state.others.get(other);
        if (!codec) state.others.set(other, codec = state.zlibCodec(other));
        try {
          plain = codec.decompress(body, o.max);
        } catch {
          throw unreadable(o.method, err, o.max);
        }
      }
      return next(cmd, plain, s);
    },
  );
  return {
    name: "Compression",
    created(broker: BrokerApi) {
      logger = broker.getLogger("TX-COMPRESS");
      logger.info(
        `The transmission is COMPRESSED by '${o.method}'. Threshold: ${o.shown}`,
      );
    },
    ...hooks,
  };
}

function unreadable(method: string, err: unknown, max: number): TransmitUnreadableError {
  const e = toError(err);
  const tooBig = (e as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE";
  return new TransmitUnreadableError(
    "Compression",
    tooBig
      ? `the packet inflates past maxDecompressedSize (${max} bytes)`
      : `cannot decompress the packet with '${method}' (${e.message})`,
    { cause: err },
  );
}
