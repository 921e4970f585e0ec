/**
 * moleculer-web's `etag` and freshness: an `ETag` computed from the answer's body (the `etag`
 * package's `"<length hex>-<sha1 base64, 27 chars>"`, weak with `true`/`"weak"`, or a function
 * of the body), and 304 when the request's `If-None-Match`/`If-Modified-Since` say the client
 * already has it (the `fresh` package's rules).
 *
 * @module
 */

import { createHash } from "node:crypto";

/** The `etag` setting: `true`/`"weak"`, `"strong"`, a function of the body, or off. */
export type EtagOption = boolean | "weak" | "strong" | ((body: string | Uint8Array) => string);

const EMPTY = '"0-2jmj7l5rSw0yVb/vlWAYkK/YBwk"';
const encoder = new TextEncoder();

/**
 * The ETag of a body.
 *
 * @param body The body as sent.
 * @param opt The `etag` setting (not false).
 * @param self `this` of a function setting (the gateway service).
 * @returns The header value.
 */
export function generateETag(body: string | Uint8Array, opt: EtagOption, self?: unknown): string {
  if (typeof opt === "function") return opt.call(self, body);
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  const tag = bytes.length === 0
    ? EMPTY
    : `"${bytes.length.toString(16)}-${
      createHash("sha1").update(bytes).digest("base64").slice(0, 27)
    }"`;
  return opt === true || opt === "weak" ? `W/${tag}` : tag;
}

const NO_CACHE = /(?:^|,)\s*?no-cache\s*?(?:,|$)/;

function tokens(list: string): string[] {
  return list.split(",").map((t) => t.trim()).filter((t) => t.length > 0);
}

/**
 * Whether the client's copy is fresh (the `fresh` package, as moleculer-web calls it for 2xx
 * and 304 answers).
 *
 * @param reqHeaders The request's headers.
 * @param etag The answer's `ETag`.
 * @param lastModified The answer's `Last-Modified`.
 * @returns True to answer 304.
 */
export function isFresh(
  reqHeaders: Headers,
  etag: string | undefined,
  lastModified: string | undefined,
): boolean {
  const modifiedSince = reqHeaders.get("if-modified-since");
  const noneMatch = reqHeaders.get("if-none-match");
  if (!modifiedSince && !noneMatch) return false;
  const cacheControl = reqHeaders.get("cache-control");
  if (cacheControl && NO_CACHE.test(cacheControl)) return false;
  if (noneMatch && noneMatch !== "*") {
    if (!etag) return false;
    const match = tokens(noneMatch).some((m) =>
      m === etag || m === `W/${etag}` || `W/${m}` === etag
    );
    if (!match) return false;
  }
  if (modifiedSince) {
    if (!lastModified) return false;
    if (!(Date.parse(lastModified) <= Date.parse(modifiedSince))) return false;
  }
  return true;
}

/**
 * Check an `etag` setting.
 *
 * @param v The setting.
 * @param where Its place in the settings.
 * @param fail Throws the settings error.
 */
export function checkEtag(v: unknown, where: string, fail: (msg: string) => never): void {
  if (
    v === undefined || v === null || typeof v === "boolean" || v === "weak" || v === "strong" ||
    typeof v === "function"
  ) return;
  fail(`${where} must be true, false, "weak", "strong" or a function (body) => etag`);
}
