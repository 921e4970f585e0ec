/**
 * Uploads into actions, as moleculer-web 0.11 makes them on Moleculer 0.15: a `stream:` alias
 * sends the raw request body as the call's stream; a `multipart:` alias calls the action once
 * per file with the file as the stream and `$fieldname`, `$filename`, `$encoding`, `$mimetype`,
 * the fields read so far and the request's params as the params. Nothing is buffered: the
 * request is read as fast as the action (or the node it runs on) reads its stream.
 *
 * @module
 */

import type { CallOptions } from "../core/context.ts";
import type { Service } from "../core/service.ts";
import { MoleculerClientError } from "../errors.ts";
import { PayloadTooLarge } from "./errors.ts";
import type { GatewayRequest } from "./http.ts";
import { MultipartReader } from "./multipart.ts";
import type { BusboyConfig } from "./options.ts";
import type { Alias, Route } from "./route.ts";

/**
 * The upload settings of an alias: its own `busboyConfig` over its route's.
 *
 * @param route The route.
 * @param alias The alias.
 * @returns The merged settings.
 */
export function busboyOf(route: Route, alias: Alias): BusboyConfig {
  const a = alias.busboyConfig;
  const r = route.opts.busboyConfig;
  if (!a) return r ?? {};
  if (!r) return a;
  return { ...r, ...a, limits: { ...r.limits, ...a.limits } };
}

/** A raw upload: the body as a stream, and the limit error if the body went past it. */
export class RawUpload {
  /** What the action reads. */
  readonly stream: ReadableStream<Uint8Array>;
  /** `PayloadTooLarge` once the body went past the limit. */
  error: PayloadTooLarge | undefined;

  /**
   * Wraps a request body.
   *
   * @param request The request.
   * @param limit Most bytes (`busboyConfig.limits.fileSize`); none when undefined.
   * @throws {PayloadTooLarge} at once when the declared `Content-Length` is past the limit.
   */
  constructor(request: Request, limit: number | undefined) {
    const body = request.body ?? ReadableStream.from<Uint8Array>([]);
    if (limit === undefined || !Number.isFinite(limit)) {
      this.stream = body;
      return;
    }
    const declared = request.headers.get("content-length");
    if (declared !== null && Number(declared) > limit) {
      body.cancel().catch(() => {});
      throw new PayloadTooLarge({ limit, size: Number(declared) });
    }
    let size = 0;
    this.stream = body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>(
        {
          transform: (chunk, controller) => {
            size += chunk.byteLength;
            if (size > limit) {
              this.error = new PayloadTooLarge({ limit });
              controller.error(this.error);
              return;
            }
            controller.enqueue(chunk);
          },
        },
        { highWaterMark: 1 },
        { highWaterMark: 0 },
      ),
    );
  }
}

/**
 * Call an action once per file of a multipart request, as moleculer-web's `multipart:` alias.
 * Calls run side by side; the next part is read once the previous file has been read (or its
 * call answered without reading it, when it is skipped).
 *
 * @param req The request (`req.$params`, `req.$ctx`).
 * @param action The action.
 * @param callOptions The route's `callOptions`.
 * @param config The alias's `busboyConfig`.
 * @param service The gateway service (`this` of the limit hooks).
 * @returns The results, one per file (just the one when `limits.files` is 1), or the fields-only
 *   call's result in a one-item array (with `empty`).
 * @throws {PayloadTooLarge} past `limits.fileSize`.
 * @throws {MoleculerClientError} when the form has no file and `empty` is not set.
 */
export async function multipartCall(
  req: GatewayRequest,
  action: string,
  callOptions: CallOptions | undefined,
  config: BusboyConfig,
  service: Service,
): Promise<unknown> {
  const request = req.request;
  const ctx = req.$ctx;
  const body = request.body ?? ReadableStream.from<Uint8Array>([]);
  const reader = new MultipartReader(
    body,
    request.headers.get("content-type") ?? "",
    {
      ...config.limits,
    },
    {
      onFilesLimit: () => config.onFilesLimit?.call(service),
      onFieldsLimit: () => config.onFieldsLimit?.call(service),
      onPartsLimit: () => config.onPartsLimit?.call(service),
    },
  );
  const fields: Record<string, unknown> = {};
  const calls: Promise<unknown>[] = [];
  let fail!: (err: unknown) => void;
  // The first failed call ends the form at once, as moleculer-web answers busboy's error.
  const failed = new Promise<never>((_, reject) => fail = reject);
  failed.catch(() => {});
  let files = 0;
  let hasField = false;
  const parts = reader[Symbol.asyncIterator]();
  try {
    while (true) {
      const step = await Promise.race([parts.next(), failed]);
      if (step.done) break;
      const part = step.value;
      if (part.kind === "field") {
        hasField = true;
        fields[part.name] = part.value;
        continue;
      }
      files++;
      const params = {
        ...req.$params,
        ...fields,
        $fieldname: part.fieldname,
        $filename: part.filename,
        $encoding: part.encoding,
        $mimetype: part.mimetype,
      };
      const call = ctx.call(action, params, {
        ...callOptions,
        stream: part.stream,
      });
      calls.push(call);
      call.then(
        // An action that answers without touching its stream does not hold up the form.
        () => {
          if (!part.stream.locked) part.stream.cancel().catch(() => {});
        },
        fail,
      );
    }
  } catch (err) {
    const cause = reader.tooLarge ?? err;
    await reader.abort(cause);
    throw cause;
  }
  if (files === 0 && !config.empty) {
    throw new MoleculerClientError("File missing in the request");
  }
  if (files === 0 && hasField) {
    calls.push(
      ctx.call(action, { ...req.$params, ...fields }, { ...callOptions }),
    );
  }
  const data = await Promise.all(calls).catch((err) => {
    throw reader.tooLarge ?? err;
  });
  return files === 1 && config.limits?.files === 1 ? data[0] : data;
}
