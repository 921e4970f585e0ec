/**
 * The byte codecs of the transmit middlewares (`Compression`, `Encryption`): zlib and the
 * ciphers, from `node:zlib` and `node:crypto`. The middlewares load this module by `import()`
 * when one is created, so a broker without them never pays for it (`node:zlib` takes some 90 ms
 * to load).
 *
 * Why `node:` and not the web-standard APIs: `CompressionStream` is asynchronous and some 4×
 * slower per packet than `node:zlib`'s synchronous calls; Web Crypto makes the same AES-CBC
 * bytes but is asynchronous, about half as fast on small packets, knows only AES, and has no
 * MD5 for the key derivation of Moleculer 0.14. The calls here are synchronous, as
 * serialization is: packets leave in the order they were sent. (Compressed bytes are not
 * always Node's byte for byte — zlib builds differ — but every build inflates the others'.)
 *
 * @example
 * ```ts
 * import { zlibCodec } from "./transmit.ts";
 *
 * const gzip = zlibCodec("gzip");
 * const packed = gzip.compress(new TextEncoder().encode("x".repeat(1000)));
 * console.log(packed[0], packed[1], gzip.decompress(packed, 1 << 20).length); // 31 139 1000
 * ```
 *
 * @module
 */

import * as zlib from "node:zlib";
import * as crypto from "node:crypto";

/** Moleculer's compression methods. */
export type CompressionMethod = "deflate" | "deflateRaw" | "gzip";

/** Compresses and decompresses one packet's bytes. */
export interface ZlibCodec {
  /** The method. */
  readonly method: CompressionMethod;
  /**
   * Compress, as Moleculer's `zlib.<method>` does (zlib's default level and window).
   *
   * @param data The bytes.
   * @returns The compressed bytes.
   */
  compress(data: Uint8Array): Uint8Array;
  /**
   * Decompress.
   *
   * @param data The compressed bytes.
   * @param maxOutput The most bytes the result may have (a guard against a compression bomb).
   * @returns The bytes.
   * @throws {Error} when the bytes are not of this method, or inflate past `maxOutput`.
   */
  decompress(data: Uint8Array, maxOutput: number): Uint8Array;
}

/** A Node `Buffer` as a plain `Uint8Array` over the same memory. */
function plain(buf: Uint8Array): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/**
 * The codec of a compression method.
 *
 * @param method `deflate` (zlib format), `deflateRaw` or `gzip`.
 * @returns The codec.
 */
export function zlibCodec(method: CompressionMethod): ZlibCodec {
  const [pack, unpack] = method === "gzip"
    ? [zlib.gzipSync, zlib.gunzipSync]
    : method === "deflateRaw"
    ? [zlib.deflateRawSync, zlib.inflateRawSync]
    : [zlib.deflateSync, zlib.inflateSync];
  return {
    method,
    compress: (data) => plain(pack(data)),
    decompress: (data, maxOutput) => plain(unpack(data, { maxOutputLength: maxOutput })),
  };
}

/** Key and IV sizes of a cipher, in bytes. */
export interface CipherInfo {
  /** The key length. */
  readonly keyLength: number;
  /** The IV length; 0 for a mode without one (ECB). */
  readonly ivLength: number;
}

/**
 * The key and IV sizes of a cipher, by its OpenSSL name.
 *
 * @param algorithm E.g. `"aes-256-cbc"`.
 * @returns The sizes, or undefined when this runtime does not know the cipher.
 */
export function cipherInfo(algorithm: string): CipherInfo | undefined {
  const info = crypto.getCipherInfo(algorithm);
  return info ? { keyLength: info.keyLength, ivLength: info.ivLength ?? 0 } : undefined;
}

/** The names of the ciphers this runtime knows. */
export function cipherNames(): string[] {
  return crypto.getCiphers();
}

/**
 * OpenSSL's `EVP_BytesToKey` with MD5, one round and no salt: how Moleculer 0.14's
 * `crypto.createCipher(algorithm, password)` turns a password into a key and an IV.
 *
 * @param password The password's bytes.
 * @param keyLength Key bytes wanted.
 * @param ivLength IV bytes wanted.
 * @returns The key and the IV.
 */
export function passwordKey(
  password: Uint8Array,
  keyLength: number,
  ivLength: number,
): { key: Uint8Array; iv: Uint8Array } {
  const out = new Uint8Array(keyLength + ivLength);
  let filled = 0;
  let prev: Uint8Array = new Uint8Array(0);
  while (filled < out.length) {
    prev = plain(crypto.createHash("md5").update(prev).update(password).digest());
    out.set(prev.subarray(0, out.length - filled), filled);
    filled += prev.length;
  }
  return { key: out.slice(0, keyLength), iv: out.slice(keyLength) };
}

/** Encrypts and decrypts one packet's bytes with a fixed key and IV. */
export interface PacketCipher {
  /**
   * Encrypt.
   *
   * @param data The bytes.
   * @returns The ciphertext.
   */
  encrypt(data: Uint8Array): Uint8Array;
  /**
   * Decrypt.
   *
   * @param data The ciphertext.
   * @returns The bytes.
   * @throws {Error} when the bytes were not encrypted with this key and IV (bad padding).
   */
  decrypt(data: Uint8Array): Uint8Array;
}

function run(c: crypto.Cipheriv | crypto.Decipheriv, data: Uint8Array): Uint8Array {
  const head = c.update(data);
  const tail = c.final();
  if (tail.length === 0) return plain(head);
  const out = new Uint8Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}

/**
 * A cipher with a fixed key and IV, as Moleculer's `createCipheriv(algorithm, key, iv)`.
 *
 * @param algorithm The OpenSSL name, e.g. `"aes-256-cbc"`.
 * @param key The key (its length must be the cipher's).
 * @param iv The IV, or null for a mode without one.
 * @returns The cipher.
 * @throws {Error} when the key or IV does not fit the cipher.
 */
export function packetCipher(
  algorithm: string,
  key: Uint8Array,
  iv: Uint8Array | null,
): PacketCipher {
  // Made once here so that a key or IV that does not fit fails now, not at the first packet.
  crypto.createCipheriv(algorithm, key, iv);
  return {
    encrypt: (data) => run(crypto.createCipheriv(algorithm, key, iv), data),
    decrypt: (data) => run(crypto.createDecipheriv(algorithm, key, iv), data),
  };
}
