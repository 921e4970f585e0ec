/**
 * Synchronous digests for cache keys and shard placement. Web Crypto's `digest` is async and
 * has no MD5, and Moleculer's keys and shard rings are defined by these exact digests, so they
 * come from `node:crypto`.
 *
 * @module
 */

import { createHash } from "node:crypto";

/**
 * The MD5 digest of a string (UTF-8).
 *
 * @param text The input.
 * @returns The 16 bytes.
 */
export function md5(text: string): Uint8Array {
  return createHash("md5").update(text).digest();
}

/**
 * The SHA-256 digest of a string (UTF-8), base64-encoded.
 *
 * @param text The input.
 * @returns 44 characters.
 */
export function sha256Base64(text: string): string {
  return createHash("sha256").update(text).digest("base64");
}
