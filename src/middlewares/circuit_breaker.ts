/**
 * Built-in middleware: circuit breaker. Counts the outcomes of calls per
 * endpoint (node × action) in a time window; when the failure rate reaches the
 * threshold the endpoint's circuit opens and the balancer skips it; after
 * `halfOpenTime` one probe call is let through, and its outcome closes the
 * circuit or opens it again. Changes are broadcast as
 * `$circuit-breaker.opened`, `.half-opened` and `.closed`, as Moleculer does.
 *
 * @module
 */

import type { CircuitBreakerOptions } from "../core/schema.ts";
import type { Context } from "../core/context.ts";
import type { Logger } from "../logging.ts";
import type { ActionInfo, Handler, MiddlewareHooks } from "../core/middleware.ts";
import { isPromiseLike } from "../_util/async.ts";
import { mergeOwn } from "./_merge.ts";
import { boolOption, functionOption, numberOption, optionGroup, ratioOption } from "./_options.ts";

/** Defaults of {@linkcode CircuitBreakerOptions} (Moleculer's). */
export const CIRCUIT_BREAKER_DEFAULTS: Readonly<Required<CircuitBreakerOptions>> = Object.freeze({
  enabled: false,
  threshold: 0.5,
  windowTime: 60,
  minRequestCount: 20,
  halfOpenTime: 10_000,
  check: (err: unknown) => {
    const code = (err as { code?: unknown } | null)?.code;
    return typeof code !== "number" || code >= 500;
  },
});

const BREAKER_KEYS: ReadonlySet<string> = new Set(Object.keys(CIRCUIT_BREAKER_DEFAULTS));

/**
 * The broker option `circuitBreaker`, checked and completed with
 * {@linkcode CIRCUIT_BREAKER_DEFAULTS}.
 *
 * @param value The user's `circuitBreaker`, or `undefined`.
 * @returns The complete options.
 * @throws {BrokerOptionsError} naming the key that is unknown or ill-typed.
 */
export function resolveCircuitBreakerOptions(value: unknown): Required<CircuitBreakerOptions> {
  const o = optionGroup("circuitBreaker", value, BREAKER_KEYS) as CircuitBreakerOptions;
  const d = CIRCUIT_BREAKER_DEFAULTS;
  return {
    enabled: boolOption("circuitBreaker.enabled", o.enabled, d.enabled),
    threshold: ratioOption("circuitBreaker.threshold", o.threshold, d.threshold),
    windowTime: numberOption("circuitBreaker.windowTime", o.windowTime, d.windowTime),
    minRequestCount: numberOption(
      "circuitBreaker.minRequestCount",
      o.minRequestCount,
      d.minRequestCount,
    ),
    halfOpenTime: numberOption("circuitBreaker.halfOpenTime", o.halfOpenTime, d.halfOpenTime),
    check: functionOption("circuitBreaker.check", o.check, d.check),
  };
}

/** The state of one endpoint's circuit. */
export type CircuitState = "closed" | "open" | "half-open";

type InnerState = CircuitState | "half-open-wait";

interface Circuit {
  readonly nodeID: string;
  readonly action: string;
  readonly opts: Required<CircuitBreakerOptions>;
  state: InnerState;
  count: number;
  failures: number;
  windowStart: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** What the circuit breaker needs from its broker. */
export interface CircuitBreakerHost {
  /** This node's id. */
  readonly nodeID: string;
  /** Where state changes are logged. */
  readonly logger: Logger;
  /** Broadcast an event to every node (the `$circuit-breaker.*` events). */
  broadcast(event: string, payload: unknown): Promise<void>;
  /** The full name of the service serving `action` on `nodeID`, if known. */
  serviceOf(action: string, nodeID: string): string | undefined;
}

/** An endpoint as the breaker's availability test sees it. */
export interface BreakerEndpoint {
  /** Node id. */
  readonly id: string;
  /** The action served. */
  readonly action: { readonly name: string };
}

/** The circuit breaker as a broker shows it (`broker.circuitBreaker`). */
export interface CircuitBreakerView {
  /** How many circuits are open (or half-open) now. */
  readonly openCount: number;
  /**
   * The state of the circuit of one action on one node.
   *
   * @param nodeID The node.
   * @param action The full action name.
   */
  state(nodeID: string, action: string): CircuitState;
}

/**
 * Tracks the circuit of every endpoint. The broker keeps one, wires its
 * {@linkcode CircuitBreaker.middleware} and asks {@linkcode CircuitBreaker.isAvailable}
 * while {@linkcode CircuitBreaker.openCount} is not zero.
 */
export class CircuitBreaker implements CircuitBreakerView {
  readonly #byAction = new Map<string, Map<string, Circuit>>();
  readonly #opts: Required<CircuitBreakerOptions>;
  readonly #host: CircuitBreakerHost;
  #notClosed = 0;

  /**
   * Make a circuit breaker.
   *
   * @param opts Broker-wide options, complete.
   * @param host The broker side.
   */
  constructor(opts: Required<CircuitBreakerOptions>, host: CircuitBreakerHost) {
    this.#opts = opts;
    this.#host = host;
  }

  /** Number of circuits not closed (open or half-open). */
  get openCount(): number {
    return this.#notClosed;
  }

  /**
   * The state of an endpoint's circuit.
   *
   * @param nodeID The node.
   * @param action The full action name.
   * @returns Its state; `closed` when never seen.
   */
  state(nodeID: string, action: string): CircuitState {
    const s = this.#byAction.get(action)?.get(nodeID)?.state ?? "closed";
    return s === "half-open-wait" ? "half-open" : s;
  }

  /**
   * Whether the balancer may pick an endpoint: its circuit is closed, or
   * half-open with no probe running. A bound function, handed to the
   * endpoint list as is.
   *
   * @param ep The endpoint.
   * @returns True when a call may go there.
   */
  readonly isAvailable = (ep: BreakerEndpoint): boolean => {
    const s = this.#byAction.get(ep.action.name)?.get(ep.id)?.state;
    return s === undefined || s === "closed" || s === "half-open";
  };

  /** Clear every timer and forget every circuit; the broker calls it when it stops. */
  clear(): void {
    for (const circuits of this.#byAction.values()) {
      for (const c of circuits.values()) clearTimeout(c.timer);
    }
    this.#byAction.clear();
    this.#notClosed = 0;
  }

  /**
   * The middleware counting outcomes of local and remote calls. An action is
   * wrapped only when its options (broker-wide, overlaid with its own
   * `circuitBreaker`) enable the breaker.
   *
   * @returns The middleware.
   */
  middleware(): MiddlewareHooks {
    return {
      name: "CircuitBreaker",
      localAction: (next, action) => this.#wrap(next, action, true),
      remoteAction: (next, action) => this.#wrap(next, action, false),
    };
  }

  #wrap(next: Handler, action: ActionInfo, local: boolean): Handler {
    const opts = mergeOwn(this.#opts, action.schema.circuitBreaker);
    if (!opts.enabled) return next;
    const self = this.#host.nodeID;
    const name = action.name;
    return (ctx: Context) => {
      const nodeID = ctx.nodeID ?? self;
      // A request from another node runs the local chain too: its caller keeps the count.
      if (local && nodeID !== self) return next(ctx);
      // Circuits are forgotten on stop; the map is looked up again rather than captured.
      let c = this.#byAction.get(name)?.get(nodeID);
      if (!c) {
        c = {
          nodeID,
          action: name,
          opts,
          state: "closed",
          count: 0,
          failures: 0,
          windowStart: Date.now(),
          timer: undefined,
        };
        let map = this.#byAction.get(name);
        if (!map) {
          map = new Map();
          this.#byAction.set(name, map);
        }
        map.set(nodeID, c);
      }
      if (c.state === "half-open") this.#halfOpenWait(c);
      const circuit = c;
      let result: unknown;
      try {
        result = next(ctx);
      } catch (err) {
        this.#outcome(circuit, ctx, err);
        throw err;
      }
      if (!isPromiseLike(result)) {
        this.#outcome(circuit, ctx, undefined);
        return result;
      }
      return (result as Promise<unknown>).then(
        (value) => {
          this.#outcome(circuit, ctx, undefined);
          return value;
        },
        (err) => {
          this.#outcome(circuit, ctx, err);
          throw err;
        },
      );
    };
  }

  #outcome(c: Circuit, ctx: Context, err: unknown): void {
    // A circuit forgotten on stop, or an old call finishing after the circuit opened.
    if (c.state === "open" || this.#byAction.get(c.action)?.get(c.nodeID) !== c) return;
    const failed = err !== undefined && c.opts.check(err) && this.#fromEndpoint(err, ctx);
    const now = Date.now();
    if (now - c.windowStart >= c.opts.windowTime * 1000) {
      c.windowStart = now;
      c.count = 0;
      c.failures = 0;
    }
    c.count++;
    if (failed) c.failures++;
    if (c.state === "half-open-wait" || c.state === "half-open") {
      if (failed) this.#trip(c);
      else this.#close(c);
      return;
    }
    if (c.count >= c.opts.minRequestCount && c.failures / c.count >= c.opts.threshold) {
      this.#trip(c);
    }
  }

  /** Only errors raised by the endpoint's own node count (not one relayed from a third node). */
  #fromEndpoint(err: unknown, ctx: Context): boolean {
    const origin = (err as { nodeID?: unknown } | null)?.nodeID;
    return typeof origin !== "string" || origin === ctx.nodeID;
  }

  #setState(c: Circuit, state: InnerState): void {
    if ((c.state === "closed") !== (state === "closed")) {
      this.#notClosed += state === "closed" ? -1 : 1;
    }
    c.state = state;
  }

  #trip(c: Circuit): void {
    this.#setState(c, "open");
    clearTimeout(c.timer);
    c.timer = setTimeout(() => this.#halfOpen(c), c.opts.halfOpenTime);
    const rate = c.count > 0 ? c.failures / c.count : 0;
    this.#host.logger.warn(
      `Circuit breaker opened on '${c.action}' of node '${c.nodeID}' ` +
        `(${c.failures} failures of ${c.count} calls)`,
    );
    this.#announce("opened", c, { failures: c.failures, count: c.count, rate });
  }

  #halfOpen(c: Circuit): void {
    c.timer = undefined;
    this.#setState(c, "half-open");
    this.#host.logger.info(`Circuit breaker half-opened on '${c.action}' of node '${c.nodeID}'`);
    this.#announce("half-opened", c, {});
  }

  #halfOpenWait(c: Circuit): void {
    this.#setState(c, "half-open-wait");
    clearTimeout(c.timer);
    // If the probe never settles, let another one through after a while.
    c.timer = setTimeout(() => this.#halfOpen(c), c.opts.halfOpenTime);
  }

  #close(c: Circuit): void {
    clearTimeout(c.timer);
    c.timer = undefined;
    this.#setState(c, "closed");
    c.count = 0;
    c.failures = 0;
    c.windowStart = Date.now();
    this.#host.logger.info(`Circuit breaker closed on '${c.action}' of node '${c.nodeID}'`);
    this.#announce("closed", c, {});
  }

  #announce(event: string, c: Circuit, extra: Record<string, unknown>): void {
    const payload = {
      nodeID: c.nodeID,
      service: this.#host.serviceOf(c.action, c.nodeID),
      action: c.action,
      ...extra,
    };
    this.#host.broadcast(`$circuit-breaker.${event}`, payload).catch(() => {});
  }
}
