/**
 * Request body parsers as moleculer-web's `bodyParsers` configure them (body-parser's names,
 * defaults and error types): `json` (strict: an object or an array), `urlencoded`, `text`,
 * each with a size `limit` (100 kB by default) and a content `type`. A body larger than the
 * limit is refused with 413 as soon as its `Content-Length` says so, or as soon as that many
 * bytes have arrived, without reading the rest; malformed JSON gives 400 saying where it broke.
 *
 * @module
 */

import { BodyParseError } from "./errors.ts";
import { parseQuery } from "./query.ts";

/** Options of one body parser (body-parser's names). */
export interface BodyParserOptions {
  /** Largest body in bytes, or a size such as `"100kb"`, `"1mb"`. @default {"100kb"} */
  limit?: number | string;
  /** Content types this parser reads (a `*` part matches any). Defaults per parser. */
  type?: string | string[];
  /** `json` only: refuse bodies that are not an object or an array. @default {true} */
  strict?: boolean;
  /** `urlencoded` only: read nested keys (`a[b]=1`) as objects. @default {false} */
  extended?: boolean;
  /** `urlencoded` only: most parameters read. @default {1000} */
  parameterLimit?: number;
  /** `urlencoded` with `extended` only: deepest nesting. @default {32} */
  depth?: number;
}

/** The `bodyParsers` of a route: which parsers run, with their options. */
export interface BodyParsersOptions {
  /** JSON bodies (`application/json`). @default {true} */
  json?: boolean | BodyParserOptions;
  /** Form bodies (`application/x-www-form-urlencoded`). */
  urlencoded?: boolean | BodyParserOptions;
  /** Text bodies (`text/plain`), kept as a string in `req.body`. */
  text?: boolean | BodyParserOptions;
}

type Kind = "json" | "urlencoded" | "text";

/** One configured parser. */
export interface BodyParser {
  readonly kind: Kind;
  readonly limit: number;
  readonly types: readonly string[];
  readonly options: BodyParserOptions;
}

const DEFAULT_TYPES: Record<Kind, string> = {
  json: "application/json",
  urlencoded: "application/x-www-form-urlencoded",
  text: "text/plain",
};

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1024,
  mb: 1024 ** 2,
  gb: 1024 ** 3,
};

/**
 * A size in bytes from a number or a string such as `"100kb"` (1 kb = 1024 bytes, as the
 * `bytes` package reads it).
 *
 * @param value The size.
 * @param where The option's name, for the error.
 * @returns Bytes.
 * @throws {TypeError} naming the option when the size cannot be read.
 */
export function parseSize(value: number | string, where: string): number {
  if (typeof value === "number" && Number.isFinite(value) && value >= 0) return value;
  const m = typeof value === "string"
    ? /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(value)
    : null;
  if (!m) {
    throw new TypeError(
      `${where} must be a number of bytes or a size such as "100kb" or "1mb", got ${
        JSON.stringify(value)
      }`,
    );
  }
  return Math.floor(Number(m[1]) * (UNITS[(m[2] ?? "b").toLowerCase()] as number));
}

/**
 * The parsers of a route's `bodyParsers` (`undefined` or `true` = JSON only, as moleculer-web).
 *
 * @param option The route's `bodyParsers`.
 * @param where The option's path, for errors.
 * @returns The parsers, in option order.
 * @throws {TypeError} naming the option for an unknown parser or a bad limit.
 */
export function resolveBodyParsers(
  option: boolean | BodyParsersOptions | undefined,
  where: string,
): BodyParser[] {
  if (option === false) return [];
  const table: BodyParsersOptions = option === undefined || option === true
    ? { json: true }
    : option;
  const out: BodyParser[] = [];
  for (const [key, value] of Object.entries(table)) {
    if (value === false || value === undefined || value === null) continue;
    if (!(key in DEFAULT_TYPES)) {
      throw new TypeError(
        `${where}.${key} is not a body parser this gateway has: use json, urlencoded or text ` +
          "(raw bodies and multipart uploads arrive with streams)",
      );
    }
    const kind = key as Kind;
    const options: BodyParserOptions = typeof value === "object" ? value : {};
    out.push({
      kind,
      limit: parseSize(options.limit ?? "100kb", `${where}.${key}.limit`),
      types: [options.type ?? DEFAULT_TYPES[kind]].flat().map((t) => t.toLowerCase()),
      options,
    });
  }
  return out;
}

function mediaType(contentType: string): string {
  const semi = contentType.indexOf(";");
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

function typeMatches(media: string, pattern: string): boolean {
  if (pattern === media) return true;
  const [pt, ps] = pattern.split("/");
  const [mt, ms] = media.split("/");
  if (pt !== "*" && pt !== mt) return false;
  if (ps === "*" || ps === ms) return true;
  // `*/*+json` and `application/*+json` match `application/vnd.api+json`.
  return ps?.startsWith("*+") === true && ms?.endsWith(ps.slice(1)) === true;
}

/**
 * The parser for a request's content type, if any.
 *
 * @param parsers A route's parsers.
 * @param contentType The request's `Content-Type`.
 * @returns The first parser that reads it.
 */
export function pickParser(
  parsers: readonly BodyParser[],
  contentType: string | null,
): BodyParser | undefined {
  if (!contentType || parsers.length === 0) return undefined;
  const media = mediaType(contentType);
  return parsers.find((p) => p.types.some((t) => typeMatches(media, t)));
}

/**
 * Read a body up to `limit` bytes, within `timeout` ms.
 *
 * @param request The request.
 * @param limit Most bytes.
 * @param timeout Ms the whole body may take; `0` = no limit.
 * @returns The bytes.
 * @throws {BodyParseError} 413 past the limit, 408 past the timeout, 400 when the client aborts.
 */
export async function readBody(
  request: Request,
  limit: number,
  timeout: number,
): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) {
    await request.body?.cancel().catch(() => {});
    throw tooLarge();
  }
  const body = request.body;
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timedOut = false;
  if (timeout > 0) {
    timer = setTimeout(() => {
      timedOut = true;
      reader.cancel().catch(() => {});
    }, timeout);
  }
  try {
    while (true) {
      let step: ReadableStreamReadResult<Uint8Array>;
      try {
        step = await reader.read();
      } catch (err) {
        if (timedOut) throw timeoutError(timeout);
        throw new BodyParseError("The client aborted the request body", 400, "request.aborted", {
          reason: err instanceof Error ? err.message : String(err),
        });
      }
      if (timedOut) throw timeoutError(timeout);
      if (step.done) break;
      size += step.value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(step.value);
    }
  } finally {
    clearTimeout(timer);
    reader.releaseLock();
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

// moleculer-web's exact body (no data): clients compare the message and type.
function tooLarge(): BodyParseError {
  return new BodyParseError("request entity too large", 413, "entity.too.large");
}

function timeoutError(timeout: number): BodyParseError {
  return new BodyParseError(
    `The request body did not arrive within ${timeout} ms (settings.requestTimeout)`,
    408,
    "request.timeout",
  );
}

const decoder = new TextDecoder();

/**
 * Parse a body with a parser.
 *
 * @param parser The parser.
 * @param bytes The body.
 * @returns The parsed body: an object/array for JSON, params for urlencoded, a string for text.
 * @throws {BodyParseError} 400 for malformed JSON, saying what is wrong.
 */
export function parseBody(parser: BodyParser, bytes: Uint8Array): unknown {
  const text = decoder.decode(bytes);
  switch (parser.kind) {
    case "text":
      return text;
    case "urlencoded":
      return parseQuery(text, {
        depth: parser.options.extended ? parser.options.depth ?? 32 : 0,
        parameterLimit: parser.options.parameterLimit ?? 1000,
      });
    case "json": {
      if (text.trim() === "") return {};
      const strict = parser.options.strict !== false;
      const first = text.trimStart()[0];
      if (strict && first !== "{" && first !== "[") {
        throw new BodyParseError(
          "Invalid JSON in the request body: a strict JSON body must be an object or an array",
          400,
          "entity.parse.failed",
        );
      }
      try {
        return JSON.parse(text);
      } catch (err) {
        throw new BodyParseError(
          `Invalid JSON in the request body: ${err instanceof Error ? err.message : String(err)}`,
          400,
          "entity.parse.failed",
        );
      }
    }
  }
}
