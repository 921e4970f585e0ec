/**
 * A streaming `multipart/form-data` reader on web streams, with busboy's limits (`fileSize`,
 * `files`, `fields`, `parts`, `fieldSize`, `fieldNameSize`). It holds at most one chunk of the
 * request plus a boundary's length: a file part is read as its own `ReadableStream`, pulled
 * from the request only as fast as its reader reads it.
 *
 * @example Fields and files of a form
 * ```ts
 * import { MultipartReader } from "./multipart.ts";
 *
 * const form = new FormData();
 * form.set("name", "a");
 * form.set("file", new Blob(["hello"]), "a.txt");
 * const request = new Request("http://x/", { method: "POST", body: form });
 * const reader = new MultipartReader(request.body!, request.headers.get("content-type")!, {});
 * for await (const part of reader) {
 *   if (part.kind === "field") console.log(part.name, part.value); // name a
 *   else console.log(part.filename, await new Response(part.stream).text()); // a.txt hello
 * }
 * ```
 *
 * @module
 */

import { BadRequestError, PayloadTooLarge } from "./errors.ts";

/** busboy's `limits`, by its names. */
export interface MultipartLimits {
  /** Largest file in bytes; a larger one fails with 413. @default {Infinity} */
  fileSize?: number;
  /** Most files; further files are skipped. @default {Infinity} */
  files?: number;
  /** Most non-file fields; further fields are skipped. @default {Infinity} */
  fields?: number;
  /** Most parts (fields + files); further parts are skipped. @default {Infinity} */
  parts?: number;
  /** Longest field value in bytes; longer values are cut. @default {1048576} */
  fieldSize?: number;
  /** Longest field name in bytes; longer names are cut. @default {100} */
  fieldNameSize?: number;
  /** Most header lines of one part. @default {2000} */
  headerPairs?: number;
}

/** A non-file field of the form. */
export interface MultipartField {
  readonly kind: "field";
  /** The field's name. */
  readonly name: string;
  /** Its value (UTF-8). */
  readonly value: string;
}

/** A file of the form: read `stream` (or cancel it) before asking for the next part. */
export interface MultipartFile {
  readonly kind: "file";
  /** The form field's name. */
  readonly fieldname: string;
  /** The file's name as the client sent it. */
  readonly filename: string;
  /** Its `Content-Transfer-Encoding`, `7bit` when none (busboy's default). */
  readonly encoding: string;
  /** Its `Content-Type`, `application/octet-stream` when none. */
  readonly mimetype: string;
  /** Its bytes. Fails with 413 `PAYLOAD_TOO_LARGE` past `limits.fileSize`. */
  readonly stream: ReadableStream<Uint8Array>;
}

/** One part of a form. */
export type MultipartPart = MultipartField | MultipartFile;

/** What the reader tells of limits reached, as busboy's `filesLimit`… events do. */
export interface MultipartEvents {
  /** A file past `limits.files` was skipped. */
  onFilesLimit?: () => void;
  /** A field past `limits.fields` was skipped. */
  onFieldsLimit?: () => void;
  /** A part past `limits.parts` was skipped. */
  onPartsLimit?: () => void;
}

const CRLF = new Uint8Array([13, 10]);
const HEADER_END = new Uint8Array([13, 10, 13, 10]);
const MAX_HEADER_BYTES = 81_920; // busboy's header size limit
const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * The boundary of a `multipart/form-data` content type.
 *
 * @param contentType The `Content-Type` header.
 * @returns The boundary, or null when the type is not multipart or has none.
 */
export function multipartBoundary(contentType: string | null): string | null {
  if (!contentType || !/^\s*multipart\/form-data\s*(;|$)/i.test(contentType)) {
    return null;
  }
  const m = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const b = m ? (m[1] ?? m[2]) : undefined;
  return b && b.length <= 70 ? b : null;
}

/** Where `needle` starts in `hay` from `from`, or -1. */
function indexOf(hay: Uint8Array, needle: Uint8Array, from = 0): number {
  const first = needle[0];
  const last = hay.length - needle.length;
  outer: for (
    let i = hay.indexOf(first as number, from);
    i !== -1 && i <= last;
  ) {
    for (let j = 1; j < needle.length; j++) {
      if (hay[i + j] !== needle[j]) {
        i = hay.indexOf(first as number, i + 1);
        continue outer;
      }
    }
    return i;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function malformed(why: string): BadRequestError {
  return new BadRequestError("MALFORMED_MULTIPART", { reason: why });
}

/** `name="x"; filename="y"` → `{ name: "x", filename: "y" }` (RFC 5987 `filename*` too). */
function dispositionParams(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    const key = (m[1] as string).toLowerCase();
    let v = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : (m[3] ?? "").trim();
    if (key.endsWith("*")) {
      const ext = /^([^']*)'[^']*'(.*)$/.exec(v);
      if (ext) {
        try {
          v = decodeURIComponent(ext[2] as string);
        } catch { /* keep it raw */ }
      }
      out[key.slice(0, -1)] = v;
    } else if (!(key in out)) out[key] = v;
  }
  return out;
}

/**
 * Reads the parts of one multipart body in order. Iterate it; each file's `stream` must be
 * read to its end or cancelled before the next part comes (an unread rest is skipped).
 */
export class MultipartReader implements AsyncIterable<MultipartPart> {
  readonly #source: ReadableStreamDefaultReader<Uint8Array>;
  readonly #delimiter: Uint8Array;
  readonly #limits: Required<MultipartLimits>;
  readonly #events: MultipartEvents;
  #buf: Uint8Array = new Uint8Array(0);
  #eof = false;
  /** In a part's body: its data is read by `#bodyChunk` until the delimiter. */
  #inBody = false;
  #files = 0;
  #fields = 0;
  #parts = 0;
  #error: unknown = undefined;
  #current: { abort: (err: unknown) => void } | undefined;

  /**
   * Creates the reader.
   *
   * @param body The request body.
   * @param contentType The request's `Content-Type` (with its boundary).
   * @param limits busboy's limits.
   * @param events Called when a count limit skips a part.
   * @throws {BadRequestError} `MALFORMED_MULTIPART` when the type has no boundary.
   */
  constructor(
    body: ReadableStream<Uint8Array>,
    contentType: string,
    limits: MultipartLimits,
    events: MultipartEvents = {},
  ) {
    const boundary = multipartBoundary(contentType);
    if (!boundary) {
      throw malformed(
        "the Content-Type is not multipart/form-data with a boundary",
      );
    }
    // The body is read as if it began with CRLF, so every delimiter is CRLF--boundary.
    this.#buf = CRLF;
    this.#delimiter = encoder.encode(`\r\n--${boundary}`);
    this.#limits = {
      fileSize: limits.fileSize ?? Infinity,
      files: limits.files ?? Infinity,
      fields: limits.fields ?? Infinity,
      parts: limits.parts ?? Infinity,
      fieldSize: limits.fieldSize ?? 1024 * 1024,
      fieldNameSize: limits.fieldNameSize ?? 100,
      headerPairs: limits.headerPairs ?? 2000,
    };
    this.#events = events;
    this.#source = body.getReader();
  }

  /** Read one more chunk into the buffer; false at the end of the body. */
  async #fill(): Promise<boolean> {
    if (this.#eof) return false;
    const step = await this.#source.read();
    if (step.done) {
      this.#eof = true;
      return false;
    }
    this.#buf = concat(this.#buf, step.value);
    return true;
  }

  /**
   * The next bytes of the current part's body, or null at its end. Keeps a delimiter's length
   * back, which may be the start of the delimiter.
   */
  async #bodyChunk(): Promise<Uint8Array | null> {
    if (!this.#inBody) return null;
    const d = this.#delimiter;
    while (true) {
      const at = indexOf(this.#buf, d);
      if (at !== -1) {
        const out = this.#buf.subarray(0, at);
        this.#buf = this.#buf.subarray(at);
        this.#inBody = false;
        return out;
      }
      const safe = this.#buf.length - d.length + 1;
      if (safe > 0) {
        const out = this.#buf.subarray(0, safe);
        this.#buf = this.#buf.slice(safe);
        return out;
      }
      if (!(await this.#fill())) {
        throw malformed("the body ended inside a part");
      }
    }
  }

  async #skipBody(): Promise<void> {
    while ((await this.#bodyChunk()) !== null) { /* skipped */ }
  }

  /** Past a delimiter: the part's headers, or null after the closing delimiter. */
  async #nextHeaders(): Promise<Headers | null> {
    const d = this.#delimiter;
    while (this.#buf.length < d.length + 2) {
      if (!(await this.#fill())) {
        throw malformed("the body ended before the closing boundary");
      }
    }
    if (indexOf(this.#buf.subarray(0, d.length), d) !== 0) {
      // Only the preamble may come before the first delimiter: skip up to it.
      const at = indexOf(this.#buf, d);
      if (at === -1) {
        this.#buf = this.#buf.slice(Math.max(0, this.#buf.length - d.length));
        if (!(await this.#fill())) {
          throw malformed("no boundary found in the body");
        }
        return await this.#nextHeaders();
      }
      this.#buf = this.#buf.subarray(at);
      return await this.#nextHeaders();
    }
    const after = this.#buf[d.length];
    const after2 = this.#buf[d.length + 1];
    if (after === 45 && after2 === 45) { // "--": the closing delimiter
      this.#buf = new Uint8Array(0);
      await this.#source.cancel().catch(() => {});
      return null;
    }
    let end: number;
    while ((end = indexOf(this.#buf, HEADER_END, d.length)) === -1) {
      if (this.#buf.length > MAX_HEADER_BYTES) {
        throw malformed("a part's headers are too large");
      }
      if (!(await this.#fill())) {
        throw malformed("the body ended inside a part's headers");
      }
    }
    const lines = decoder.decode(this.#buf.subarray(d.length, end)).split(
      "\r\n",
    );
    this.#buf = this.#buf.subarray(end + HEADER_END.length);
    const headers = new Headers();
    let pairs = 0;
    for (const line of lines) {
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      if (++pairs > this.#limits.headerPairs) break;
      try {
        headers.append(
          line.slice(0, colon).trim(),
          line.slice(colon + 1).trim(),
        );
      } catch {
        throw malformed(
          `a part has an invalid header line: ${JSON.stringify(line)}`,
        );
      }
    }
    this.#inBody = true;
    return headers;
  }

  async #fieldValue(): Promise<string> {
    const max = this.#limits.fieldSize;
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (
      let c = await this.#bodyChunk();
      c !== null;
      c = await this.#bodyChunk()
    ) {
      if (size >= max) continue; // busboy cuts a value at fieldSize
      const keep = c.subarray(0, max - size);
      chunks.push(keep.slice());
      size += keep.length;
    }
    return decoder.decode(chunks.reduce(concat, new Uint8Array(0)));
  }

  #fileStream(): { stream: ReadableStream<Uint8Array>; done: Promise<void> } {
    let size = 0;
    let finish!: () => void;
    const done = new Promise<void>((r) => finish = r);
    const max = this.#limits.fileSize;
    const stream = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          const chunk = await this.#bodyChunk();
          if (chunk === null) {
            controller.close();
            finish();
            return;
          }
          size += chunk.length;
          if (size > max) {
            this.#error = new PayloadTooLarge({ limit: max });
            throw this.#error;
          }
          if (chunk.length > 0) controller.enqueue(chunk);
        } catch (err) {
          controller.error(err);
          finish();
          throw err;
        }
      },
      cancel: () => finish(),
    }, { highWaterMark: 0 });
    this.#current = {
      abort: (err) => {
        try {
          stream.locked ? undefined : stream.cancel(err).catch(() => {});
        } finally {
          finish();
        }
      },
    };
    return { stream, done };
  }

  /** The `PayloadTooLarge` of a file past `limits.fileSize`, once one was. */
  get tooLarge(): PayloadTooLarge | undefined {
    return this.#error instanceof PayloadTooLarge ? this.#error : undefined;
  }

  /**
   * Stop reading: the request body is cancelled, and a file being read ends.
   *
   * @param reason Why.
   * @returns Once the body is cancelled.
   */
  async abort(reason?: unknown): Promise<void> {
    this.#eof = true;
    this.#inBody = false;
    this.#error ??= reason ?? new Error("The form was not read to its end");
    this.#current?.abort(reason);
    await this.#source.cancel(reason).catch(() => {});
  }

  /**
   * The parts, in order.
   *
   * @returns An iterator of fields and files.
   */
  async *[Symbol.asyncIterator](): AsyncGenerator<MultipartPart, void, void> {
    try {
      while (true) {
        await this.#skipBody();
        const headers = await this.#nextHeaders();
        if (!headers) return;
        const disposition = headers.get("content-disposition") ?? "";
        if (!/^\s*form-data/i.test(disposition)) continue;
        const params = dispositionParams(disposition);
        const name = (params.name ?? "").slice(0, this.#limits.fieldNameSize);
        if (++this.#parts > this.#limits.parts) {
          this.#events.onPartsLimit?.();
          continue;
        }
        if (params.filename !== undefined) {
          if (++this.#files > this.#limits.files) {
            this.#events.onFilesLimit?.();
            continue;
          }
          const file = this.#fileStream();
          yield {
            kind: "file",
            fieldname: name,
            filename: params.filename,
            encoding: headers.get("content-transfer-encoding")?.toLowerCase() ??
              "7bit",
            mimetype: headers.get("content-type") ?? "application/octet-stream",
            stream: file.stream,
          };
          // The next part waits until this file is read, failed or cancelled.
          await file.done;
          if (this.#error) throw this.#error;
        } else {
          if (++this.#fields > this.#limits.fields) {
            this.#events.onFieldsLimit?.();
            continue;
          }
          yield { kind: "field", name, value: await this.#fieldValue() };
        }
      }
    } finally {
      this.#inBody = false;
      await this.#source.cancel().catch(() => {});
    }
  }
}
