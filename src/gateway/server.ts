/**
 * The gateway's own HTTP server, on `Deno.serve`: listens on `ip:port`, hands every request to
 * the gateway, answers 500 (and logs) if the handler ever throws, and stops gracefully.
 * Header floods and malformed request lines are refused by the HTTP layer itself (431/400)
 * before they reach the gateway.
 *
 * Stopping waits for the requests being handled (up to `shutdownTimeout` ms), then closes every
 * connection: `Deno.HttpServer.shutdown()` alone would also wait for clients that keep a
 * connection busy, e.g. one still sending an upload the gateway has already refused.
 *
 * @module
 */

import type { Logger } from "../logging.ts";
import type { RequestInfo } from "./gateway.ts";

/** A listening gateway server. */
export interface GatewayServer {
  /** The address it listens on. */
  readonly hostname: string;
  /** The port it listens on (the chosen one when `port` was 0). */
  readonly port: number;
  /** `http://host:port`, with `127.0.0.1` for a wildcard address. */
  readonly url: string;
  /** Stop accepting connections and wait for the requests in flight. */
  close(): Promise<void>;
}

/** Options of {@linkcode listen}. */
export interface ListenOptions {
  /** The port; 0 picks a free one. */
  port: number;
  /** The address. */
  hostname: string;
  /** Where server errors go. */
  logger: Logger;
  /** Most ms a stop waits for the requests in flight. */
  shutdownTimeout: number;
}

/**
 * Start a server for a fetch handler.
 *
 * @param handler The gateway's `fetch`.
 * @param options Address and logger.
 * @returns The server, once it listens.
 * @throws {Error} saying which port is taken, when it is.
 */
export async function listen(
  handler: (request: Request, info: RequestInfo) => Promise<Response>,
  options: ListenOptions,
): Promise<GatewayServer> {
  let server: Deno.HttpServer<Deno.NetAddr>;
  const listening = Promise.withResolvers<Deno.NetAddr>();
  const abort = new AbortController();
  let inFlight = 0;
  let idle: (() => void) | undefined;
  const tracked = async (request: Request, info: RequestInfo): Promise<Response> => {
    inFlight++;
    try {
      return await handler(request, info);
    } finally {
      if (--inFlight === 0) idle?.();
    }
  };
  try {
    server = Deno.serve({
      port: options.port,
      hostname: options.hostname,
      signal: abort.signal,
      onListen: (addr) => listening.resolve(addr),
      onError: (err) => {
        options.logger.error("API gateway: the request handler failed", {
          error: err instanceof Error ? err.message : String(err),
        });
        return new Response("Internal Server Error", { status: 500 });
      },
    }, tracked);
  } catch (err) {
    if (err instanceof Deno.errors.AddrInUse) {
      throw new Error(
        `API gateway: port ${options.port} on ${options.hostname} is already in use; ` +
          "set settings.port to a free port (0 picks one)",
        { cause: err },
      );
    }
    throw err;
  }
  const addr = await listening.promise;
  const host = addr.hostname === "0.0.0.0" || addr.hostname === "::" ? "127.0.0.1" : addr.hostname;
  let closed: Promise<void> | undefined;
  return {
    hostname: addr.hostname,
    port: addr.port,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${addr.port}`,
    close() {
      closed ??= (async () => {
        if (inFlight > 0) {
          let timer: ReturnType<typeof setTimeout> | undefined;
          await new Promise<void>((resolve) => {
            idle = resolve;
            timer = setTimeout(resolve, options.shutdownTimeout);
          });
          clearTimeout(timer);
          if (inFlight > 0) {
            options.logger.warn(
              `API gateway: ${inFlight} request(s) still running after ${options.shutdownTimeout} ms; closing their connections`,
            );
          }
        }
        abort.abort();
        await server.finished;
      })();
      return closed;
    },
  };
}
