/**
 * Static files, as moleculer-web's `assets` serves them (with `serve-static`): requests no
 * route answered are looked up under `assets.folder` and streamed from disk
 * (`Deno.open(...).readable`, never read whole; a file no larger than one 64 KiB chunk of that
 * stream is read in one go, which holds no more memory and costs half as much), with `Content-Type` by extension,
 * `Content-Length`, `Accept-Ranges`, `Cache-Control`, `Last-Modified`, a weak `ETag` from size
 * and mtime, 304 for a fresh copy, single byte ranges (206), `index.html` for a directory path
 * ending in `/`, and a 301 to add that `/` to a directory path.
 *
 * Safe paths: a path is decoded once; `..` segments (however encoded), NUL bytes, undecodable
 * escapes and dotfiles (`dotfiles: "ignore"`, the default) are not served — the request falls
 * through to the gateway's 404, as with moleculer-web.
 *
 * @module
 */

import { isFresh } from "./etag.ts";

/** `assets.options`: serve-static's option names. */
export interface AssetsServeOptions {
  /** Index files of a directory; `false` for none. @default {["index.html"]} */
  index?: string | string[] | false;
  /** `ignore` (404), `deny` (also 404 here, as moleculer-web answers it) or `allow`. @default {"ignore"} */
  dotfiles?: "ignore" | "allow" | "deny";
  /** Send a weak ETag from size and mtime. @default {true} */
  etag?: boolean;
  /** Send `Last-Modified`. @default {true} */
  lastModified?: boolean;
  /** Send `Cache-Control`. @default {true} */
  cacheControl?: boolean;
  /** `Cache-Control: max-age`, in ms. @default {0} */
  maxAge?: number;
  /** Add `immutable` to `Cache-Control`. @default {false} */
  immutable?: boolean;
  /** Serve byte ranges. @default {true} */
  acceptRanges?: boolean;
  /** Redirect a directory path to the same path with a trailing `/`. @default {true} */
  redirect?: boolean;
  /** Extensions tried when the file is not found, e.g. `["html"]`. @default {[]} */
  extensions?: string[];
  /** Set headers of your own: `(headers, path, stat)`. */
  setHeaders?: (headers: Headers, path: string, stat: Deno.FileInfo) => void;
}

/** The gateway's `assets` setting. */
export interface AssetsOptions {
  /** The folder to serve, absolute or relative to the working directory. */
  folder: string;
  /** How files are served. */
  options?: AssetsServeOptions;
}

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  htm: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  json: "application/json; charset=utf-8",
  map: "application/json; charset=utf-8",
  webmanifest: "application/manifest+json; charset=utf-8",
  txt: "text/plain; charset=utf-8",
  md: "text/markdown; charset=utf-8",
  csv: "text/csv; charset=utf-8",
  yaml: "text/yaml; charset=utf-8",
  yml: "text/yaml; charset=utf-8",
  xml: "application/xml",
  svg: "image/svg+xml",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  avif: "image/avif",
  ico: "image/vnd.microsoft.icon",
  woff: "font/woff",
  woff2: "font/woff2",
  ttf: "font/ttf",
  otf: "font/otf",
  wasm: "application/wasm",
  pdf: "application/pdf",
  zip: "application/zip",
  gz: "application/gzip",
  tar: "application/x-tar",
  mp4: "video/mp4",
  webm: "video/webm",
  mp3: "audio/mpeg",
  wav: "audio/wav",
  ogg: "audio/ogg",
};

/**
 * The content type of a file name (the `mime-types` package's answer for common types).
 *
 * @param name A file name or path.
 * @returns The type, `application/octet-stream` when unknown.
 */
export function contentTypeOf(name: string): string {
  const dot = name.lastIndexOf(".");
  const slash = name.lastIndexOf("/");
  if (dot <= slash + 1) return "application/octet-stream";
  return TYPES[name.slice(dot + 1).toLowerCase()] ?? "application/octet-stream";
}

// Files up to the size of one chunk of `FsFile.readable` are read in one go.
const ONE_CHUNK = 64 * 1024;

// A `..` segment, with either separator (send's UP_PATH_REGEXP).
const UP_PATH = /(?:^|[\\/])\.\.(?:[\\/]|$)/;

/** The files of an `assets` folder. Answers null when the request is not one to serve. */
export class StaticFiles {
  readonly #root: string;
  readonly #o: AssetsServeOptions;
  readonly #index: string[];

  /**
   * @param opts The `assets` setting.
   */
  constructor(opts: AssetsOptions) {
    let root = opts.folder.replace(/\\/g, "/");
    if (!root.startsWith("/")) root = `${Deno.cwd().replace(/\\/g, "/")}/${root}`;
    this.#root = root.replace(/\/+$/, "");
    this.#o = opts.options ?? {};
    const index = this.#o.index;
    this.#index = index === false ? [] : index === undefined ? ["index.html"] : [index].flat();
  }

  /**
   * Answer a request from the folder.
   *
   * @param request The request.
   * @returns The answer, or null to fall through to the 404.
   */
  async serve(request: Request): Promise<Response | null> {
    if (request.method !== "GET" && request.method !== "HEAD") return null;
    const url = new URL(request.url);
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      return null;
    }
    if (path.includes("\0") || UP_PATH.test(path) || path.includes("\\")) return null;
    const parts = path.split("/").filter((p) => p !== "" && p !== ".");
    const dotfiles = this.#o.dotfiles ?? "ignore";
    if (dotfiles !== "allow" && parts.some((p) => p.length > 1 && p.startsWith("."))) return null;
    const file = `${this.#root}/${parts.join("/")}`;
    if (path.endsWith("/")) {
      for (const name of this.#index) {
        const candidate = `${file.replace(/\/$/, "")}/${name}`;
        const stat = await statOf(candidate);
        if (stat?.isFile) return await this.#send(request, candidate, stat);
      }
      return null;
    }
    const stat = await statOf(file);
    if (stat?.isDirectory) {
      if (this.#o.redirect === false) return null;
      return redirectToDirectory(url);
    }
    if (stat?.isFile) return await this.#send(request, file, stat);
    for (const ext of this.#o.extensions ?? []) {
      const candidate = `${file}.${ext}`;
      const s = await statOf(candidate);
      if (s?.isFile) return await this.#send(request, candidate, s);
    }
    return null;
  }

  async #send(request: Request, path: string, stat: Deno.FileInfo): Promise<Response> {
    const o = this.#o;
    const headers = new Headers();
    o.setHeaders?.(headers, path, stat);
    const acceptRanges = o.acceptRanges !== false;
    if (acceptRanges && !headers.has("accept-ranges")) headers.set("Accept-Ranges", "bytes");
    if (o.cacheControl !== false && !headers.has("cache-control")) {
      const maxAge = Math.floor((o.maxAge ?? 0) / 1000);
      headers.set("Cache-Control", `public, max-age=${maxAge}${o.immutable ? ", immutable" : ""}`);
    }
    if (o.lastModified !== false && stat.mtime && !headers.has("last-modified")) {
      headers.set("Last-Modified", stat.mtime.toUTCString());
    }
    if (o.etag !== false && !headers.has("etag")) {
      headers.set(
        "ETag",
        `W/"${stat.size.toString(16)}-${(stat.mtime?.getTime() ?? 0).toString(16)}"`,
      );
    }
    if (!headers.has("content-type")) headers.set("Content-Type", contentTypeOf(path));
    const h = request.headers;
    if (
      isFresh(h, headers.get("etag") ?? undefined, headers.get("last-modified") ?? undefined)
    ) {
      for (const name of ["content-type", "content-length", "content-range"]) headers.delete(name);
      return new Response(null, { status: 304, headers });
    }
    const size = stat.size;
    let start = 0;
    let length = size;
    let status = 200;
    const range = acceptRanges ? h.get("range") : null;
    if (range && /^ *bytes=/.test(range) && rangeIsFresh(h.get("if-range"), headers)) {
      const parsed = parseRange(size, range);
      if (parsed === "unsatisfiable") {
        headers.set("Content-Range", `bytes */${size}`);
        headers.delete("content-type");
        return new Response(null, { status: 416, headers });
      }
      if (parsed) {
        status = 206;
        start = parsed.start;
        length = parsed.end - parsed.start + 1;
        headers.set("Content-Range", `bytes ${parsed.start}-${parsed.end}/${size}`);
      }
    }
    headers.set("Content-Length", String(length));
    if (request.method === "HEAD") return new Response(null, { status, headers });
    if (size <= ONE_CHUNK) {
      // A stream would read it in one chunk anyway; one read costs half as much per request.
      const bytes = (await Deno.readFile(path)).subarray(start, start + length);
      headers.set("Content-Length", String(bytes.length));
      return new Response(bytes, { status, headers });
    }
    const file = await Deno.open(path, { read: true });
    if (start > 0) await file.seek(start, Deno.SeekMode.Start);
    const body = length === size - start ? file.readable : file.readable.pipeThrough(take(length));
    return new Response(body, { status, headers });
  }
}

async function statOf(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch {
    return null;
  }
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** serve-static's 301 to the directory's path with a trailing slash. */
function redirectToDirectory(url: URL): Response {
  const loc = `${url.pathname.replace(/^\/+/, "/")}/${url.search}`;
  const doc = '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n' +
    `<title>Redirecting</title>\n</head>\n<body>\n<pre>Redirecting to ${
      escapeHtml(loc)
    }</pre>\n</body>\n</html>\n`;
  return new Response(doc, {
    status: 301,
    headers: {
      "Content-Type": "text/html; charset=UTF-8",
      "Content-Security-Policy": "default-src 'none'",
      "X-Content-Type-Options": "nosniff",
      Location: loc,
    },
  });
}

/** With `If-Range`, a range is served only when the validator still matches. */
function rangeIsFresh(ifRange: string | null, headers: Headers): boolean {
  if (!ifRange) return true;
  if (ifRange.includes('"')) {
    const etag = headers.get("etag");
    return !!etag && ifRange.includes(etag);
  }
  const lastModified = headers.get("last-modified");
  return !!lastModified && Date.parse(lastModified) <= Date.parse(ifRange);
}

/**
 * One byte range of a `Range` header; null for several ranges or a malformed header (the whole
 * file is sent then, as `send` does).
 */
function parseRange(
  size: number,
  header: string,
): { start: number; end: number } | "unsatisfiable" | null {
  const spec = header.slice(header.indexOf("=") + 1).trim();
  if (spec.includes(",")) return null;
  const m = /^(\d*)-(\d*)$/.exec(spec);
  if (!m || (m[1] === "" && m[2] === "")) return null;
  let start: number;
  let end: number;
  if (m[1] === "") {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) return "unsatisfiable";
  return { start, end };
}

/** Pass the first `n` bytes, then end (which closes the file behind it). */
function take(n: number): TransformStream<Uint8Array, Uint8Array> {
  let left = n;
  return new TransformStream({
    transform(chunk, controller) {
      if (left <= 0) return;
      const part = chunk.byteLength > left ? chunk.subarray(0, left) : chunk;
      left -= part.byteLength;
      controller.enqueue(part);
      if (left <= 0) controller.terminate();
    },
  });
}

/**
 * Check the `assets` setting.
 *
 * @param v The setting.
 * @param fail Throws the settings error.
 */
export function checkAssets(v: unknown, fail: (msg: string) => never): void {
  if (v === undefined || v === null || v === false) return;
  const o = v as AssetsOptions;
  if (typeof o !== "object" || typeof o.folder !== "string" || o.folder === "") {
    fail('assets must be { folder: "./public", options?: {...} }');
  }
  const d = o.options?.dotfiles;
  if (d !== undefined && d !== "ignore" && d !== "allow" && d !== "deny") {
    fail('assets.options.dotfiles must be "ignore", "allow" or "deny"');
  }
}
