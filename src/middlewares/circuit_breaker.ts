/**
 * Built-in middleware: circuit breaker. Counts failures per endpoint (node ×
 * action) in a time window; past the threshold the endpoint opens and the
 * balancer skips it; after `halfOpenTime` one probe call is let through, and
 * its success closes the circuit again. State changes are broadcast as
 * `$circuit-breaker.opened`, `.half-opened` and `.closed`, as Moleculer does.
 *
 * @module
 */

import type { ServiceBroker } from "../broker.ts";
import type { Context } from "../context.ts";
import type { ActionInfo, Handler, MiddlewareHooks } from "../middleware.ts";

/** Circuit-breaker options, broker-wide (`circuitBreaker`) or per action. */
export interface CircuitBreakerOptions {
  /** Turn the breaker on. @default {false} */
  enabled?: boolean;
  /** Failure rate (0–1) in the window that opens the circuit. @default {0.5} */
  threshold?: number;
  /** Window length in seconds. @default {60} */
  windowTime?: number;
  /** Fewest calls in the window before the rate counts. @default {20} */
  minRequestCount?: number;
  /** Ms an open circuit waits before letting a probe through. @default {10000} */
  halfOpenTime?: number;
  /** Which errors count as failures. @default {errors with code ≥ 500} */
  check?: (error: unknown) => boolean;
}

/** Defaults of {@linkcode CircuitBreakerOptions}. */
export const CIRCUIT_BREAKER_DEFAULTS: Required<CircuitBreakerOptions> = {
  enabled: false,
  threshold: 0.5,
  windowTime: 60,
  minRequestCount: 20,
  halfOpenTime: 10_000,
  check: (err) => {
    const code = (err as { code?: unknown } | null)?.code;
    return typeof code !== "number" || code >= 500;
  },
};

/** The state of one endpoint's circuit. */
export type CircuitState = "closed" | "open" | "half-open";

interface Circuit {
  state: CircuitState;
  count: number;
  failures: number;
  windowStart: number;
  probing: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Tracks the circuit of every endpoint and wraps calls to count outcomes. */
export class CircuitBreaker {
  readonly #circuits = new Map<string, Circuit>();
  readonly #opts: Required<CircuitBreakerOptions>;
  #broker: ServiceBroker | undefined;

  /** @param opts Broker-wide options. */
  constructor(opts: CircuitBreakerOptions = {}) {
    this.#opts = { ...CIRCUIT_BREAKER_DEFAULTS, ...opts };
  }

  /**
   * The state of an endpoint's circuit.
   *
   * @param nodeID The node.
   * @param action The full action name.
   * @returns Its state; `closed` when unknown.
   */
  state(nodeID: string, action: string): CircuitState {
    return this.#circuits.get(`${nodeID}:${action}`)?.state ?? "closed";
  }

  /**
   * Whether the balancer may pick this endpoint: closed, or half-open with no
   * probe running.
   *
   * @param nodeID The node.
   * @param action The full action name.
   * @returns True when a call may go there.
   */
  isAvailable(nodeID: string, action: string): boolean {
    const c = this.#circuits.get(`${nodeID}:${action}`);
    return !c || c.state === "closed" ||
      (c.state === "half-open" && !c.probing);
  }

  /** Clear every timer; called when the broker stops. */
  clear(): void {
    for (const c of this.#circuits.values()) {
      if (c.timer !== undefined) clearTimeout(c.timer);
    }
    this.#circuits.clear();
  }

  #options(action: ActionInfo): Required<CircuitBreakerOptions> {
    const own = action.schema.circuitBreaker as
      | CircuitBreakerOptions
      | undefined;
    return own ? { ...this.#opts, ...own } : this.#opts;
  }

  #circuit(key: string): Circuit {
    let c = this.#circuits.get(key);
    if (!c) {
      c = {
        state: "closed",
        count: 0,
        failures: 0,
        windowStart: Date.now(),
        probing: false,
        timer: undefined,
      };
      this.#circuits.set(key, c);
    }
    return c;
  }

  #announce(event: string, nodeID: string, action: string, c: Circuit): void {
    const payload = {
      nodeID,
      action,
      failures: c.failures,
      count: c.count,
      rate: c.count ? c.failures / c.count : 0,
    };
    this.#broker?.broadcast(`$circuit-breaker.${event}`, payload).catch(
      () => {},
    );
  }

  #record(
    opts: Required<CircuitBreakerOptions>,
    nodeID: string,
    action: string,
    failed: boolean,
  ): void {
    const key = `${nodeID}:${action}`;
    const c = this.#circuit(key);
    const now = Date.now();
    if (now - c.windowStart > opts.windowTime * 1000) {
      c.windowStart = now;
      c.count = 0;
      c.failures = 0;
    }
    c.count++;
    if (failed) c.failures++;
    if (c.state === "half-open") {
      c.probing = false;
      if (failed) this.#open(opts, nodeID, action, c);
      else this.#close(nodeID, action, c);
      return;
    }
    if (
      failed && c.state === "closed" && c.count >= opts.minRequestCount &&
      c.failures / c.count >= opts.threshold
    ) {
      this.#open(opts, nodeID, action, c);
    }
  }

  #open(
    opts: Required<CircuitBreakerOptions>,
    nodeID: string,
    action: string,
    c: Circuit,
  ): void {
    c.state = "open";
    this.#announce("opened", nodeID, action, c);
    if (c.timer !== undefined) clearTimeout(c.timer);
    c.timer = setTimeout(() => {
      c.timer = undefined;
      c.state = "half-open";
      c.probing = false;
      this.#announce("half-opened", nodeID, action, c);
    }, opts.halfOpenTime);
  }

  #close(nodeID: string, action: string, c: Circuit): void {
    c.state = "closed";
    c.count = 0;
    c.failures = 0;
    c.windowStart = Date.now();
    this.#announce("closed", nodeID, action, c);
  }

  #wrap(next: Handler, action: ActionInfo, local: boolean): Handler {
    const opts = this.#options(action);
    if (!opts.enabled) return next;
    return (ctx: Context) => {
      const nodeID = ctx.nodeID ?? ctx.broker.nodeID;
      // A request from another node runs the local chain too; its caller keeps the count.
      if (local && nodeID !== ctx.broker.nodeID) return next(ctx);
      const c = this.#circuits.get(`${nodeID}:${action.name}`);
      if (c?.state === "half-open") c.probing = true;
      let result: unknown;
      try {
        result = next(ctx);
      } catch (err) {
        this.#record(opts, nodeID, action.name, opts.check(err));
        throw err;
      }
      return Promise.resolve(result).then(
        (v) => {
          this.#record(opts, nodeID, action.name, false);
          return v;
        },
        (err) => {
          this.#record(opts, nodeID, action.name, opts.check(err));
          throw err;
        },
      );
    };
  }

  /**
   * The middleware counting outcomes of local and remote calls.
   *
   * @returns The middleware.
   */
  middleware(): MiddlewareHooks {
    return {
      name: "CircuitBreaker",
      brokerCreated: (broker) => {
        this.#broker = broker;
      },
      remoteAction: (next, action) => this.#wrap(next, action, false),
      localAction: (next, action) => this.#wrap(next, action, true),
    };
  }
}
