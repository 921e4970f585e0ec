/**
 * A MessagePack codec written for packet payloads, in two dialects: the bytes of `msgpack5`
 * (Moleculer's `MsgPack` serializer) and those of `notepack.io` (its `Notepack` serializer).
 *
 * Both libraries write MessagePack, but not the same MessagePack for the same value: msgpack5
 * writes a fraction as a float 32 when that is exact, notepack always as a float 64; msgpack5
 * writes ints from -2147483648 to -214748366 as int 64 (its range check has a digit missing);
 * they differ on `undefined` in an array, on `Map`, on `toJSON()` and on typed arrays. A
 * {@linkcode MsgPackDialect} says which way each goes, so one encoder writes the bytes of either.
 *
 * Encoding writes into a shared slab and hands out a slice of it that is never written again
 * (a full slab is replaced, not reused): no allocation per packet, and callers may keep the
 * bytes. Decoding copies what it keeps (strings, binary), so it holds no reference to the input.
 *
 * @module
 */

import { InvalidPacketDataError } from "../errors.ts";
import type { PacketPayload } from "./serializer.ts";

/** How one library writes the values where MessagePack leaves a choice. */
export interface MsgPackDialect {
  /** The library's name, for error messages. */
  readonly name: string;
  /** Write a fraction as a float 32 when `Math.fround` keeps it (msgpack5), else float 64. */
  readonly float32: boolean;
  /** msgpack5 writes ints below -214748365 (not -2147483648) as int 64. */
  readonly int32Min: number;
  /** msgpack5 writes NaN, ±Infinity and ints beyond 2^53 as floats; notepack as ints. */
  readonly unsafeIntsAsFloat: boolean;
  /** `undefined` outside an object: `"throw"` (msgpack5) or written as nil (notepack). */
  readonly undefinedValue: "throw" | "nil";
  /** Encode what `toJSON()` returns instead of the object (notepack), except for a Date. */
  readonly useToJSON: boolean;
  /** A `Map` as a MessagePack map of its entries (msgpack5), else as an object (notepack: `{}`). */
  readonly mapEntries: boolean;
  /** Whose arithmetic writes a Date as the timestamp extension (type -1). */
  readonly timestamp: "msgpack5" | "notepack";
  /** A map whose keys are not all strings decodes as a `Map` (msgpack5), else as an object. */
  readonly decodeMaps: boolean;
  /** Decode ext type 0 as notepack's own `undefined` (fixext 1) and `ArrayBuffer`. */
  readonly notepackExt: boolean;
}

/** msgpack5 6.x with Moleculer's options (none: `require("msgpack5")()`). */
export const MSGPACK5: MsgPackDialect = {
  name: "msgpack5",
  float32: true,
  int32Min: -214748365,
  unsafeIntsAsFloat: true,
  undefinedValue: "throw",
  useToJSON: false,
  mapEntries: true,
  timestamp: "msgpack5",
  decodeMaps: true,
  notepackExt: false,
};

/** notepack.io 3.x. */
export const NOTEPACK: MsgPackDialect = {
  name: "notepack.io",
  float32: false,
  int32Min: -0x80000000 - 1,
  unsafeIntsAsFloat: false,
  undefinedValue: "nil",
  useToJSON: true,
  mapEntries: false,
  timestamp: "notepack",
  decodeMaps: false,
  notepackExt: true,
};

// ---- encoding ----

const SLAB_SIZE = 64 * 1024;
/** Below this much room left, the next packet starts a fresh slab. */
const SLAB_MIN_ROOM = 4 * 1024;
const TWO_32 = 0x100000000;
const MAX_DEPTH = 500;

let buf = new Uint8Array(SLAB_SIZE);
let view = new DataView(buf.buffer);
let pos = 0;
let start = 0;
const textEncoder = new TextEncoder();

/** Make room for `n` more bytes, moving the packet written so far to a larger slab if needed. */
function ensure(n: number): void {
  if (pos + n <= buf.length) return;
  const used = pos - start;
  const next = new Uint8Array(Math.max(SLAB_SIZE, (used + n) * 2));
  next.set(buf.subarray(start, pos));
  buf = next;
  view = new DataView(buf.buffer);
  start = 0;
  pos = used;
}

/** A value the dialect cannot encode, as the library says it. */
class NotEncodable extends TypeError {}

/**
 * Encode one packet payload as the dialect's library does.
 *
 * @param dialect Which library's bytes to write.
 * @param value The payload.
 * @returns A slice of the shared slab, never written again.
 * @throws {TypeError} for a value the library cannot encode either (a BigInt, a symbol, a
 *   function, `undefined` in an array under msgpack5).
 */
export function encodeMsgPack(
  dialect: MsgPackDialect,
  value: unknown,
): Uint8Array {
  if (buf.length - pos < SLAB_MIN_ROOM) {
    buf = new Uint8Array(SLAB_SIZE);
    view = new DataView(buf.buffer);
    pos = 0;
  }
  start = pos;
  try {
    write(dialect, value, 0);
  } catch (err) {
    pos = start;
    throw err;
  }
  const out = buf.subarray(start, pos);
  start = pos;
  return out;
}

function write(d: MsgPackDialect, value: unknown, depth: number): void {
  switch (typeof value) {
    case "string":
      return writeString(value);
    case "number":
      return writeNumber(d, value);
    case "boolean":
      ensure(1);
      buf[pos++] = value ? 0xc3 : 0xc2;
      return;
    case "object":
      if (value === null) {
        ensure(1);
        buf[pos++] = 0xc0;
        return;
      }
      if (depth > MAX_DEPTH) {
        throw new NotEncodable(`${d.name}: payload nested too deep`);
      }
      return writeObject(d, value as object, depth + 1);
    case "undefined":
      if (d.undefinedValue === "nil") {
        ensure(1);
        buf[pos++] = 0xc0;
        return;
      }
      throw new NotEncodable("undefined is not encodable in msgpack!");
    default:
      throw new NotEncodable(`${d.name} cannot encode a ${typeof value}`);
  }
}

function writeHeader(length: number, fix: number, tag16: number): void {
  ensure(5);
  if (length < 16) buf[pos++] = fix | length;
  else if (length < 0x10000) {
    buf[pos++] = tag16;
    buf[pos++] = length >> 8;
    buf[pos++] = length & 0xff;
  } else {
    buf[pos++] = tag16 + 1;
    view.setUint32(pos, length);
    pos += 4;
  }
}

function writeObject(d: MsgPackDialect, value: object, depth: number): void {
  if (Array.isArray(value)) {
    const length = value.length;
    writeHeader(length, 0x90, 0xdc);
    for (let i = 0; i < length; i++) {
      if (d.undefinedValue === "throw" && !(i in value)) {
        throw new NotEncodable("Sparse arrays are not encodable in msgpack");
      }
      write(d, value[i], depth);
    }
    return;
  }
  if (value instanceof Uint8Array) return writeBinary(value);
  if (value instanceof Date || typeof (value as Date).getDate === "function") {
    return d.timestamp === "msgpack5"
      ? writeTimestampMsgpack5(value as Date)
      : writeTimestampNotepack(value as Date);
  }
  if (d.mapEntries) {
    if (value instanceof Map) {
      writeHeader(value.size, 0x80, 0xde);
      for (const [k, v] of value) {
        write(d, k, depth);
        write(d, v, depth);
      }
      return;
    }
  } else {
    // notepack: any other binary view is copied through Buffer.from(), value by value.
    if (value instanceof ArrayBuffer) return writeBinary(new Uint8Array(value));
    if (ArrayBuffer.isView(value)) {
      if (value instanceof DataView) {
        throw new NotEncodable("notepack.io cannot encode a DataView");
      }
      return writeBinary(
        Uint8Array.from(value as unknown as ArrayLike<number>),
      );
    }
  }
  if (
    d.useToJSON && typeof (value as { toJSON?: unknown }).toJSON === "function"
  ) {
    return write(d, (value as { toJSON(): unknown }).toJSON(), depth);
  }
  writeRecord(d, value as Record<string, unknown>, depth);
}

function writeRecord(d: MsgPackDialect, value: Record<string, unknown>, depth: number): void {
  // `Object.keys` lists the own enumerable keys in the order of msgpack5's `for…in` + hasOwn
  // and of notepack's `Object.keys`. Count first: both libraries skip undefined and functions.
  const keys = Object.keys(value);
  let count = 0;
  for (let i = 0; i < keys.length; i++) {
    const v = value[keys[i]!];
    if (v !== undefined && typeof v !== "function") count++;
  }
  writeHeader(count, 0x80, 0xde);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const v = value[key];
    if (v === undefined || typeof v === "function") continue;
    writeKey(key);
    write(d, v, depth);
  }
}

// Keys repeat from packet to packet: keep the bytes of the short ones (header included).
const encodedKeys = new Map<string, Uint8Array>();
const MAX_ENCODED_KEYS = 4096;

function writeKey(key: string): void {
  const bytes = encodedKeys.get(key);
  if (bytes === undefined) {
    ensure(key.length * 3 + 5); // before taking `pos`: making room may move the packet
    const from = pos;
    writeString(key);
    if (key.length <= 24 && encodedKeys.size < MAX_ENCODED_KEYS) {
      encodedKeys.set(key, buf.slice(from, pos));
    }
    return;
  }
  const length = bytes.length;
  ensure(length);
  for (let i = 0; i < length; i++) buf[pos + i] = bytes[i]!;
  pos += length;
}

function writeBinary(bytes: Uint8Array): void {
  const length = bytes.length;
  ensure(length + 5);
  if (length < 0x100) {
    buf[pos++] = 0xc4;
    buf[pos++] = length;
  } else if (length < 0x10000) {
    buf[pos++] = 0xc5;
    buf[pos++] = length >> 8;
    buf[pos++] = length & 0xff;
  } else {
    buf[pos++] = 0xc6;
    view.setUint32(pos, length);
    pos += 4;
  }
  buf.set(bytes, pos);
  pos += length;
}

/** Header size for a string of `bytes` UTF-8 bytes: fixstr, str 8, str 16, str 32. */
function strHeaderSize(bytes: number): number {
  return bytes < 32 ? 1 : bytes < 0x100 ? 2 : bytes < 0x10000 ? 3 : 5;
}

function writeStrHeader(at: number, bytes: number): void {
  if (bytes < 32) buf[at] = 0xa0 | bytes;
  else if (bytes < 0x100) {
    buf[at] = 0xd9;
    buf[at + 1] = bytes;
  } else if (bytes < 0x10000) {
    buf[at] = 0xda;
    buf[at + 1] = bytes >> 8;
    buf[at + 2] = bytes & 0xff;
  } else {
    buf[at] = 0xdb;
    view.setUint32(at + 1, bytes);
  }
}

function writeString(s: string): void {
  const length = s.length;
  ensure(length * 3 + 5);
  // Guess the header from the UTF-16 length (exact for ASCII), move the bytes if it was short.
  const guess = strHeaderSize(length);
  let at = pos + guess;
  if (length < 48) {
    for (let i = 0; i < length; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) buf[at++] = c;
      else if (c < 0x800) {
        buf[at++] = 0xc0 | (c >> 6);
        buf[at++] = 0x80 | (c & 0x3f);
      } else if (c >= 0xd800 && c < 0xdc00 && i + 1 < length) {
        const c2 = s.charCodeAt(i + 1);
        if (c2 >= 0xdc00 && c2 < 0xe000) {
          i++;
          c = 0x10000 + ((c & 0x3ff) << 10) + (c2 & 0x3ff);
          buf[at++] = 0xf0 | (c >> 18);
          buf[at++] = 0x80 | ((c >> 12) & 0x3f);
          buf[at++] = 0x80 | ((c >> 6) & 0x3f);
          buf[at++] = 0x80 | (c & 0x3f);
        } else at = writeReplacement(at);
      } else if (c >= 0xd800 && c < 0xe000) at = writeReplacement(at);
      else {
        buf[at++] = 0xe0 | (c >> 12);
        buf[at++] = 0x80 | ((c >> 6) & 0x3f);
        buf[at++] = 0x80 | (c & 0x3f);
      }
    }
  } else {
    at += textEncoder.encodeInto(s, buf.subarray(at)).written;
  }
  const bytes = at - pos - guess;
  const header = strHeaderSize(bytes);
  if (header !== guess) buf.copyWithin(pos + header, pos + guess, at);
  writeStrHeader(pos, bytes);
  pos += header + bytes;
}

/** A lone surrogate becomes U+FFFD, as Node's `Buffer.write` and `TextEncoder` write it. */
function writeReplacement(at: number): number {
  buf[at] = 0xef;
  buf[at + 1] = 0xbf;
  buf[at + 2] = 0xbd;
  return at + 3;
}

function writeNumber(d: MsgPackDialect, n: number): void {
  ensure(9);
  const integral = d.unsafeIntsAsFloat ? n % 1 === 0 : Math.floor(n) === n && Number.isFinite(n);
  if (
    !integral || (d.unsafeIntsAsFloat && Math.abs(n) > Number.MAX_SAFE_INTEGER)
  ) {
    if (integral || !d.float32 || !Object.is(Math.fround(n), n)) {
      buf[pos++] = 0xcb;
      view.setFloat64(pos, n);
      pos += 8;
    } else {
      buf[pos++] = 0xca;
      view.setFloat32(pos, n);
      pos += 4;
    }
    return;
  }
  if (n >= 0) {
    if (n < 0x80) buf[pos++] = n;
    else if (n < 0x100) {
      buf[pos++] = 0xcc;
      buf[pos++] = n;
    } else if (n < 0x10000) {
      buf[pos++] = 0xcd;
      buf[pos++] = n >> 8;
      buf[pos++] = n & 0xff;
    } else if (n < TWO_32) {
      buf[pos++] = 0xce;
      view.setUint32(pos, n);
      pos += 4;
    } else {
      buf[pos++] = 0xcf;
      // notepack truncates the high word to 32 bits (`>> 0`); msgpack5 never gets here past 2^53.
      view.setUint32(pos, (n / TWO_32) >>> 0);
      view.setUint32(pos + 4, n >>> 0);
      pos += 8;
    }
  } else if (n >= -32) buf[pos++] = (0x100 + n) & 0xff;
  else if (n >= -0x80) {
    buf[pos++] = 0xd0;
    buf[pos++] = n & 0xff;
  } else if (n >= -0x8000) {
    buf[pos++] = 0xd1;
    view.setInt16(pos, n);
    pos += 2;
  } else if (n > d.int32Min) {
    buf[pos++] = 0xd2;
    view.setInt32(pos, n);
    pos += 4;
  } else {
    buf[pos++] = 0xd3;
    view.setInt32(pos, Math.floor(n / TWO_32));
    view.setUint32(pos + 4, n >>> 0);
    pos += 8;
  }
}

/** msgpack5's timestamp extension (type -1), with its arithmetic. */
function writeTimestampMsgpack5(date: Date): void {
  ensure(15);
  const millis = date.getTime();
  const seconds = Math.floor(millis / 1000);
  const nanos = (millis - seconds * 1000) * 1e6;
  if (seconds < 0 || seconds > 0x400000000) {
    buf[pos++] = 0xc7;
    buf[pos++] = 12;
    buf[pos++] = 0xff;
    view.setUint32(pos, nanos);
    view.setInt32(pos + 4, Math.floor(seconds / TWO_32));
    view.setUint32(pos + 8, seconds >>> 0);
    pos += 12;
  } else if (nanos || seconds > 0xffffffff) {
    buf[pos++] = 0xd7;
    buf[pos++] = 0xff;
    view.setInt32(pos, (nanos * 4 + seconds / TWO_32) | 0);
    view.setInt32(pos + 4, seconds | 0);
    pos += 8;
  } else {
    buf[pos++] = 0xd6;
    buf[pos++] = 0xff;
    view.setUint32(pos, Math.floor(millis / 1000) >>> 0);
    pos += 4;
  }
}

/** notepack's timestamp extension (type -1), byte by byte as it pushes them. */
function writeTimestampNotepack(date: Date): void {
  ensure(15);
  const ms = date.getTime();
  const s = Math.floor(ms / 1e3);
  const ns = (ms - s * 1e3) * 1e6;
  const bytes: number[] = [];
  if (s >= 0 && ns >= 0 && s <= 0x400000000 - 1) {
    if (ns === 0 && s <= TWO_32 - 1) {
      bytes.push(0xd6, 0xff, s >> 24, s >> 16, s >> 8, s);
    } else {
      const hi = s / TWO_32;
      const lo = s & 0xffffffff;
      bytes.push(
        0xd7,
        0xff,
        ns >> 22,
        ns >> 14,
        ns >> 6,
        hi,
        lo >> 24,
        lo >> 16,
        lo >> 8,
        lo,
      );
    }
  } else {
    const hi = Math.floor(s / TWO_32);
    const lo = s >>> 0;
    bytes.push(0xc7, 0x0c, 0xff, ns >> 24, ns >> 16, ns >> 8, ns);
    bytes.push(
      hi >> 24,
      hi >> 16,
      hi >> 8,
      hi,
      lo >> 24,
      lo >> 16,
      lo >> 8,
      lo,
    );
  }
  // A Buffer stores each pushed number modulo 256.
  for (const b of bytes) buf[pos++] = b & 0xff;
}

// ---- decoding ----

let src: Uint8Array = new Uint8Array(0);
let srcView: DataView = new DataView(src.buffer);
let at = 0;
let dialect: MsgPackDialect = MSGPACK5;
const textDecoder = new TextDecoder();

/** Bytes that end before the value they announce. */
class Truncated extends Error {}

/**
 * Decode one packet payload written by the dialect's library (or any MessagePack encoder).
 *
 * @param d Which library's extensions and map rules to apply.
 * @param data The bytes.
 * @returns The payload object.
 * @throws {InvalidPacketDataError} when the bytes are not exactly one MessagePack map.
 */
export function decodeMsgPack(
  d: MsgPackDialect,
  data: Uint8Array,
): PacketPayload {
  src = data;
  srcView = new DataView(data.buffer, data.byteOffset, data.byteLength);
  at = 0;
  dialect = d;
  let value: unknown;
  try {
    value = read(0);
    if (at !== data.length) {
      throw new Error(`${data.length - at} bytes after the end of the payload`);
    }
  } catch (cause) {
    throw new InvalidPacketDataError({ packet: data.subarray(0, 256) }, {
      cause,
    });
  } finally {
    src = EMPTY;
    srcView = EMPTY_VIEW;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidPacketDataError({ packet: value });
  }
  return value as PacketPayload;
}

const EMPTY = new Uint8Array(0);
const EMPTY_VIEW = new DataView(EMPTY.buffer);

function need(n: number): void {
  if (at + n > src.length) throw new Truncated("the payload ends early");
}

function read(depth: number): unknown {
  need(1);
  const b = src[at++]!;
  if (b < 0x80) return b;
  if (b < 0x90) return readMap(b & 0x0f, depth);
  if (b < 0xa0) return readArray(b & 0x0f, depth);
  if (b < 0xc0) return readString(b & 0x1f);
  if (b >= 0xe0) return b - 0x100;
  switch (b) {
    case 0xc0:
      return null;
    case 0xc2:
      return false;
    case 0xc3:
      return true;
    case 0xc4:
      return readBinary(readUint(1));
    case 0xc5:
      return readBinary(readUint(2));
    case 0xc6:
      return readBinary(readUint(4));
    case 0xc7:
      return readExt(readUint(1));
    case 0xc8:
      return readExt(readUint(2));
    case 0xc9:
      return readExt(readUint(4));
    case 0xca:
      need(4);
      at += 4;
      return srcView.getFloat32(at - 4);
    case 0xcb:
      need(8);
      at += 8;
      return srcView.getFloat64(at - 8);
    case 0xcc:
      return readUint(1);
    case 0xcd:
      return readUint(2);
    case 0xce:
      return readUint(4);
    case 0xcf: {
      need(8);
      const hi = srcView.getUint32(at);
      const lo = srcView.getUint32(at + 4);
      at += 8;
      return hi * TWO_32 + lo;
    }
    case 0xd0:
      need(1);
      return srcView.getInt8(at++);
    case 0xd1:
      need(2);
      at += 2;
      return srcView.getInt16(at - 2);
    case 0xd2:
      need(4);
      at += 4;
      return srcView.getInt32(at - 4);
    case 0xd3: {
      need(8);
      const hi = srcView.getInt32(at);
      const lo = srcView.getUint32(at + 4);
      at += 8;
      return hi * TWO_32 + lo;
    }
    case 0xd4:
      return readExt(1);
    case 0xd5:
      return readExt(2);
    case 0xd6:
      return readExt(4);
    case 0xd7:
      return readExt(8);
    case 0xd8:
      return readExt(16);
    case 0xd9:
      return readString(readUint(1));
    case 0xda:
      return readString(readUint(2));
    case 0xdb:
      return readString(readUint(4));
    case 0xdc:
      return readArray(readUint(2), depth);
    case 0xdd:
      return readArray(readUint(4), depth);
    case 0xde:
      return readMap(readUint(2), depth);
    case 0xdf:
      return readMap(readUint(4), depth);
  }
  throw new Error(`0x${b.toString(16)} is not a MessagePack type`);
}

function readUint(size: 1 | 2 | 4): number {
  need(size);
  const p = at;
  at += size;
  if (size === 1) return src[p]!;
  if (size === 2) return (src[p]! << 8) | src[p + 1]!;
  return srcView.getUint32(p);
}

function readString(length: number): string {
  need(length);
  const start = at;
  const end = at + length;
  at = end;
  if (length <= 16) {
    // Short strings: ASCII by hand, anything else through the decoder.
    let out = "";
    for (let i = start; i < end; i++) {
      const c = src[i]!;
      if (c >= 0x80) return textDecoder.decode(src.subarray(start, end));
      out += String.fromCharCode(c);
    }
    return out;
  }
  return textDecoder.decode(src.subarray(start, end));
}

// Map keys repeat from packet to packet: a key seen before is handed out as the same string,
// which saves decoding it and V8 interning it again for the property store.
const KEY_CACHE_SIZE = 4096;
const MAX_CACHED_KEY = 24;
const keyTexts: (string | undefined)[] = new Array(KEY_CACHE_SIZE);
const keyBytes: (Uint8Array | undefined)[] = new Array(KEY_CACHE_SIZE);

/** A fixstr key (its header byte already read), through the cache. */
function readKey(length: number): string {
  if (length > MAX_CACHED_KEY) return readString(length);
  need(length);
  const start = at;
  let h = length;
  for (let i = 0; i < length; i++) h = (Math.imul(h, 31) + src[start + i]!) | 0;
  const slot = (h ^ (h >>> 15)) & (KEY_CACHE_SIZE - 1);
  const bytes = keyBytes[slot];
  if (bytes !== undefined && bytes.length === length) {
    let same = true;
    for (let i = 0; i < length; i++) {
      if (bytes[i] !== src[start + i]) {
        same = false;
        break;
      }
    }
    if (same) {
      at += length;
      return keyTexts[slot]!;
    }
  }
  const text = readString(length);
  keyBytes[slot] = src.slice(start, start + length);
  keyTexts[slot] = text;
  return text;
}

function readBinary(length: number): Uint8Array {
  need(length);
  at += length;
  return src.slice(at - length, at);
}

function readArray(length: number, depth: number): unknown[] {
  if (depth >= MAX_DEPTH) throw new Error("payload nested too deep");
  // Each item takes a byte at least: refuse a length the bytes cannot hold before allocating.
  need(length);
  const out = new Array<unknown>(length);
  for (let i = 0; i < length; i++) out[i] = read(depth + 1);
  return out;
}

function readMap(length: number, depth: number): unknown {
  if (depth >= MAX_DEPTH) throw new Error("payload nested too deep");
  need(length * 2);
  const out: Record<string, unknown> = {};
  for (let i = 0; i < length; i++) {
    need(1);
    const b = src[at]!;
    let key: unknown;
    if ((b & 0xe0) === 0xa0) {
      at++;
      key = readKey(b & 0x1f);
    } else key = read(depth + 1);
    if (typeof key !== "string") {
      if (dialect.decodeMaps) return readMapEntries(out, key, i, length, depth);
      setKey(out, String(key), read(depth + 1));
      continue;
    }
    setKey(out, key, read(depth + 1));
  }
  return out;
}

/** msgpack5: a map with a key that is not a string is a `Map`. */
function readMapEntries(
  sofar: Record<string, unknown>,
  firstKey: unknown,
  index: number,
  length: number,
  depth: number,
): Map<unknown, unknown> {
  const out = new Map<unknown, unknown>(Object.entries(sofar));
  out.set(firstKey, read(depth + 1));
  for (let i = index + 1; i < length; i++) {
    const key = read(depth + 1);
    out.set(key, read(depth + 1));
  }
  return out;
}

function setKey(
  out: Record<string, unknown>,
  key: string,
  value: unknown,
): void {
  if (key === "__proto__") {
    // msgpack5 refuses it; notepack would set the prototype. An own property hurts no one.
    if (!dialect.notepackExt) {
      throw new Error("Object contains forbidden prototype property");
    }
    Object.defineProperty(out, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
    return;
  }
  out[key] = value;
}

function readExt(length: number): unknown {
  need(length + 1);
  const type = srcView.getInt8(at++);
  const p = at;
  at += length;
  if (type === -1) return readTimestamp(p, length);
  if (dialect.notepackExt && type === 0) {
    if (length === 1) return undefined;
    if (length === 8) {
      return new Date(srcView.getInt32(p) * TWO_32 + srcView.getUint32(p + 4));
    }
    return src.slice(p, p + length).buffer;
  }
  if (dialect.notepackExt) return [type, src.slice(p, p + length)];
  throw new Error(`unable to find ext type ${type}`);
}

function readTimestamp(p: number, length: number): Date {
  if (length === 4) return new Date(srcView.getUint32(p) * 1000);
  if (length === 8) {
    const upper = srcView.getUint32(p);
    const lower = srcView.getUint32(p + 4);
    const seconds = (upper & 0x03) * TWO_32 + lower;
    return new Date(seconds * 1000 + Math.round(upper / 4 / 1e6));
  }
  if (length === 12) {
    const nanos = srcView.getUint32(p);
    const seconds = srcView.getInt32(p + 4) * TWO_32 + srcView.getUint32(p + 8);
    return new Date(seconds * 1000 + Math.round(nanos / 1e6));
  }
  throw new Error(`a timestamp of ${length} bytes`);
}
