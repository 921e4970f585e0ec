/**
 * The cluster dashboard as a route of the gateway: the page (`GET <path>`), the cluster
 * snapshot (`GET <path>/api/snapshot`), live updates as Server-Sent Events
 * (`GET <path>/api/events`: a `snapshot` event at once and whenever it changes, a comment every
 * 15 s to keep proxies from closing the stream), and, only with `console: true`, the action
 * console (`POST <path>/api/call` with `{ action, params }`), which the gateway runs as a call
 * through this route — whitelist, visibility, rate limit, authentication, authorization.
 *
 * The page is one HTML file with its script and style inline, imported as text so that it
 * ships with the package and inside `deno compile` binaries.
 *
 * @module
 */

import type { BrokerApi } from "../../core/broker_api.ts";
import type { Logger } from "../../logging.ts";
import type { DashboardOptions, GatewaySettings, RouteSettings } from "../options.ts";
import { takeSnapshot } from "./snapshot.ts";
import page from "./index.html" with { type: "text" };

/** The alias type the gateway runs as a console call. */
export const CONSOLE_ALIAS = "dashboard-console";

/** The `dashboard` setting with its defaults. */
export interface ResolvedDashboard {
  /** Its route's path. */
  path: string;
  /** Whether the console is on. */
  console: boolean;
  /** Ms between live updates. */
  interval: number;
  /** The route settings that guard it. */
  route: Omit<DashboardOptions, "path" | "console" | "interval">;
}

/**
 * Read the `dashboard` setting.
 *
 * @param v The setting.
 * @returns The options, or null when the dashboard is off.
 */
export function resolveDashboard(v: GatewaySettings["dashboard"]): ResolvedDashboard | null {
  if (!v) return null;
  const o: DashboardOptions = v === true ? {} : typeof v === "string" ? { path: v } : v;
  const { path, console, interval, ...route } = o;
  return {
    path: path ?? "/dashboard",
    console: console === true,
    interval: interval ?? 2000,
    route,
  };
}

const encoder = new TextEncoder();
const KEEPALIVE_MS = 15_000;
const FLUSH_MS = 100;

/** The dashboard of one gateway. */
export class Dashboard {
  readonly #broker: BrokerApi;
  readonly #logger: Logger;
  readonly #opts: ResolvedDashboard;
  readonly #streams = new Set<() => void>();

  /**
   * @param broker The gateway's broker.
   * @param logger Where failures go.
   * @param opts The resolved `dashboard` setting.
   */
  constructor(broker: BrokerApi, logger: Logger, opts: ResolvedDashboard) {
    this.#broker = broker;
    this.#logger = logger;
    this.#opts = opts;
  }

  /**
   * The dashboard's route.
   *
   * @param fullPath The route's full path (with the gateway's `path`), for the page's links.
   * @returns The route settings.
   */
  route(fullPath: (path: string) => string): RouteSettings {
    const base = fullPath(this.#opts.path).replace(/\/$/, "");
    const html = page.replace(
      /\/\*CONFIG\*\/\s*null/,
      JSON.stringify({ base, console: this.#opts.console }).replace(/</g, "\\u003c"),
    );
    const aliases: RouteSettings["aliases"] = {
      "GET /": () =>
        new Response(html, {
          headers: {
            "Content-Type": "text/html; charset=utf-8",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "X-Frame-Options": "DENY",
          },
        }),
      "GET api/snapshot": () => this.snapshot().then((s) => Response.json(s)),
      "GET api/events": () => this.#events(),
    };
    if (this.#opts.console) aliases["POST api/call"] = { type: CONSOLE_ALIAS };
    return {
      logging: false,
      bodyParsers: { json: { limit: "1mb" } },
      ...this.#opts.route,
      path: this.#opts.path,
      mappingPolicy: "restrict",
      aliases,
    };
  }

  /**
   * The cluster as the page shows it.
   *
   * @returns The snapshot.
   */
  snapshot(): ReturnType<typeof takeSnapshot> {
    return takeSnapshot(this.#broker, this.#opts.console);
  }

  // A stream ends when the client goes (the server cancels its body) or the gateway stops.
  #events(): Response {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let last = "";
    let lastSent = 0;
    let closed = false;
    let close = () => {};
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        close = () => {
          if (closed) return;
          closed = true;
          clearTimeout(timer);
          this.#streams.delete(close);
          try {
            controller.close();
          } catch { /* already closed by the client */ }
        };
        this.#streams.add(close);
        const tick = async () => {
          if (closed) return;
          try {
            const text = JSON.stringify(await this.snapshot());
            if (closed) return;
            const now = Date.now();
            if (text !== last) {
              last = text;
              lastSent = now;
              controller.enqueue(encoder.encode(`event: snapshot\ndata: ${text}\n\n`));
            } else if (now - lastSent >= KEEPALIVE_MS) {
              lastSent = now;
              controller.enqueue(encoder.encode(": keep-alive\n\n"));
            }
          } catch (err) {
            if (closed) return;
            this.#logger.warn("API gateway: the dashboard could not read the cluster", {
              error: err instanceof Error ? err.message : String(err),
            });
          }
          if (!closed) timer = setTimeout(tick, this.#opts.interval);
        };
        controller.enqueue(encoder.encode(`retry: ${Math.max(1000, this.#opts.interval)}\n\n`));
        tick();
      },
      cancel: () => close(),
    });
    return new Response(body, {
      headers: {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-store",
        "X-Accel-Buffering": "no",
      },
    });
  }

  /**
   * End every live stream (the gateway stops).
   *
   * @returns Once the streams' ends had a moment to reach the clients, before the server
   *   closes the connections under them.
   */
  async close(): Promise<void> {
    if (this.#streams.size === 0) return;
    for (const close of [...this.#streams]) close();
    await new Promise((resolve) => setTimeout(resolve, FLUSH_MS));
  }
}
