/**
 * The runtime port: everything the broker needs to know about the process and host it runs on.
 * The core and the broker speak only to this interface; `src/runtime/deno.ts` implements it
 * for Deno, and a port to another runtime implements it again.
 *
 * @module
 */

/** Process memory in bytes, as `Deno.memoryUsage()` and Node's `process.memoryUsage()` give it. */
export interface MemoryUsage {
  /** Resident set size. */
  readonly rss: number;
  /** Heap reserved. */
  readonly heapTotal: number;
  /** Heap in use. */
  readonly heapUsed: number;
  /** Memory outside the heap (buffers). */
  readonly external: number;
}

/** What `$node.health` reports of the host: Moleculer's `cpu`, `mem` and `os` sections. */
export interface HostInfo {
  /** Load averages over 1, 5 and 15 minutes (zeros where the platform has none). */
  readonly load: readonly [number, number, number];
  /** Logical CPU cores. */
  readonly cores: number;
  /** Total and free memory in bytes. */
  readonly mem: { readonly total: number; readonly free: number };
  /** Seconds since the host booted. */
  readonly uptime: number;
  /** The OS: `type`, `release`, `arch`, `platform` (empty strings when unknown). */
  readonly os: {
    readonly type: string;
    readonly release: string;
    readonly arch: string;
    readonly platform: string;
  };
  /** The user the process runs as (`os.userInfo()`), or an empty object. */
  readonly user: unknown;
}

/**
 * The platform a broker runs on. Every probe degrades to a neutral value (never throws) when
 * the runtime or its permissions do not allow it.
 */
export interface Runtime {
  /** The runtime's name, e.g. `"deno"`. */
  readonly name: string;
  /** The runtime's version, announced in INFO as `client.langVersion`. */
  version(): string;
  /** The host name, lower-cased, or `"localhost"` when unknown. */
  hostname(): string;
  /** The first IPv4 address of each external interface (loopback only if there is nothing else). */
  ipList(): string[];
  /** Whole-machine CPU usage in percent (0–100) since the previous call; null when unknown. */
  cpuUsage(): number | null;
  /** The process id, or 0 when unknown. */
  pid(): number;
  /** The process's command-line arguments. */
  args(): string[];
  /** The process's memory, or null when unknown. */
  memoryUsage(): MemoryUsage | null;
  /** Host facts for `$node.health`. */
  hostInfo(): HostInfo;
  /**
   * Call `handler` when the process is asked to stop (SIGINT, SIGTERM).
   *
   * @param handler Receives the signal's name.
   * @returns A function that removes the listeners.
   */
  onShutdownSignal(handler: (signal: string) => void): () => void;
  /**
   * Let the process exit while this timer is pending (housekeeping timers).
   *
   * @param timer What `setTimeout` / `setInterval` returned.
   */
  unrefTimer(timer: ReturnType<typeof setTimeout>): void;
  /** The working directory relative paths (e.g. of `broker.loadService`) start from. */
  cwd?(): string;
}
