/**
 * Hot reload: watch the service sources and, when a service module changes, destroy its
 * services and register those of the re-imported module (`?v=<n>` busts the module cache).
 * A module that fails to import leaves the running version in place.
 *
 * @module
 */

import type { ServiceBroker } from "../broker/broker.ts";
import type { Logger } from "../logging.ts";
import type { Service } from "../core/service.ts";
import { reasonOf } from "./errors.ts";
import { relative } from "node:path";
import {
  displayPath,
  importServices,
  isHelperModule,
  listModules,
  type ServiceSource,
  watchTarget,
} from "./loader.ts";

/** Options of {@linkcode HotReloader}. */
export interface HotReloaderOptions {
  /** The running broker. */
  readonly broker: ServiceBroker;
  /** The sources to watch. */
  readonly sources: readonly ServiceSource[];
  /** The loaded modules and their services, by absolute path; kept up to date. */
  readonly modules: Map<string, Service[]>;
  /** For relative paths in messages. */
  readonly cwd: string;
  /** Where to report. */
  readonly logger: Logger;
  /**
   * Quiet time after the last file event before reloading, in ms.
   *
   * @default {200}
   */
  readonly debounce?: number;
}

/** Watches service files and reloads changed ones. */
export class HotReloader {
  readonly #o: HotReloaderOptions;
  readonly #watchers: Deno.FsWatcher[] = [];
  readonly #pending = new Set<string>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #queue: Promise<void> = Promise.resolve();
  #version = 0;
  #closed = false;

  /**
   * @param options Broker, sources, module map, cwd and logger.
   */
  constructor(options: HotReloaderOptions) {
    this.#o = options;
  }

  /** Start watching. */
  start(): void {
    const seen = new Set<string>();
    for (const source of this.#o.sources) {
      const { dir, recursive } = watchTarget(source);
      const key = `${dir}\0${recursive}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const watcher = Deno.watchFs(dir, { recursive });
      this.#watchers.push(watcher);
      this.#consume(watcher);
    }
    const dirs = this.#o.sources.map((s) => displayPath(s.root, this.#o.cwd))
      .join(", ");
    this.#o.logger.info(`Hot reload: watching ${dirs}`);
  }

  async #consume(watcher: Deno.FsWatcher): Promise<void> {
    try {
      for await (const event of watcher) {
        if (event.kind === "access") continue;
        for (const path of event.paths) this.#pending.add(path);
        if (this.#timer !== undefined) clearTimeout(this.#timer);
        this.#timer = setTimeout(() => this.#flush(), this.#o.debounce ?? 200);
      }
    } catch (err) {
      if (!this.#closed) {
        this.#o.logger.warn(
          `Hot reload: file watching failed: ${reasonOf(err)}`,
        );
      }
    }
  }

  #flush(): void {
    this.#timer = undefined;
    const paths = [...this.#pending].sort();
    this.#pending.clear();
    this.#queue = this.#queue.then(async () => {
      const handled = new Set<string>();
      for (const path of paths) {
        if (this.#closed) return;
        await this.#handle(path, handled).catch((err) =>
          this.#o.logger.error(
            `Hot reload of ${this.#show(path)} failed: ${reasonOf(err)}`,
          )
        );
      }
    });
  }

  #show(path: string): string {
    return displayPath(path, this.#o.cwd);
  }

  async #handle(path: string, handled: Set<string>): Promise<void> {
    if (handled.has(path)) return;
    handled.add(path);
    const info = await Deno.stat(path).catch(() => null);
    if (info?.isDirectory) return this.#scan(path, handled);
    const loaded = this.#o.modules.get(path);
    if (this.#o.sources.some((s) => s.matches(path))) {
      if (info?.isFile) return this.#reload(path);
      if (!info && loaded) return this.#remove(path, loaded);
      return;
    }
    if (info?.isFile && this.#o.sources.some((s) => isHelperModule(s, path))) {
      this.#o.logger.warn(
        `${this.#show(path)} changed but is not a service module: restart to apply changes ` +
          "to shared modules (hot reload re-imports service files only)",
      );
    }
  }

  /** A new directory: files created in it before it was watched sent no event. */
  async #scan(dir: string, handled: Set<string>): Promise<void> {
    for (const source of this.#o.sources) {
      if (source.kind === "file" || !isInside(dir, source.root)) continue;
      for (const file of await listModules({ ...source, root: dir })) {
        if (this.#o.modules.has(file) || handled.has(file)) continue;
        handled.add(file);
        await this.#reload(file);
      }
    }
  }

  async #remove(path: string, services: Service[]): Promise<void> {
    for (const service of services) await this.#destroy(service);
    this.#o.modules.delete(path);
    this.#o.logger.info(`Removed ${this.#show(path)}: ${names(services)}`);
  }

  async #destroy(service: Service): Promise<void> {
    try {
      await this.#o.broker.destroyService(service);
    } catch (err) {
      this.#o.logger.warn(
        `Cannot destroy service '${service.fullName}': ${reasonOf(err)}`,
      );
    }
  }

  async #reload(path: string): Promise<void> {
    const shown = this.#show(path);
    let next;
    try {
      next = await importServices(path, ++this.#version, this.#o.cwd);
    } catch (err) {
      this.#o.logger.error(
        `Hot reload of ${shown} failed, the running version stays: ${
          reasonOf(err).replace(/^cannot load [^:]+: /, "")
        }`,
      );
      return;
    }
    for (const r of next.rejected) {
      this.#o.logger.warn(`${shown}: export '${r.name}' skipped: ${r.reason}`);
    }
    const old = this.#o.modules.get(path) ?? [];
    if (next.services.length === 0) {
      // Often a file caught half-written; deleting the file removes its services.
      this.#o.logger.warn(
        old.length
          ? `${shown} exports no service now: ${
            names(old)
          } keeps running (delete the file to remove it)`
          : `${shown} exports no service; skipped`,
      );
      return;
    }
    for (const service of old) await this.#destroy(service);
    const added: Service[] = [];
    try {
      for (const service of next.services) {
        await this.#o.broker.register(service);
        added.push(service);
      }
    } catch (err) {
      this.#o.logger.error(
        `Hot reload of ${shown} failed, restoring the running version: ${reasonOf(err)}`,
      );
      for (const service of added) await this.#destroy(service);
      const restored: Service[] = [];
      for (const service of old) {
        try {
          await this.#o.broker.register(service);
          restored.push(service);
        } catch (e) {
          this.#o.logger.error(
            `Cannot restore service '${service.fullName}': ${reasonOf(e)}`,
          );
        }
      }
      this.#o.modules.set(path, restored);
      return;
    }
    this.#o.modules.set(path, next.services);
    this.#o.logger.info(
      `${old.length ? "Reloaded" : "Loaded"} ${shown}: ${names(next.services)}`,
    );
  }

  /** Resolves once the reloads started so far have finished. */
  idle(): Promise<void> {
    return this.#queue;
  }

  /** Stop watching. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    for (const watcher of this.#watchers) {
      try {
        watcher.close();
      } catch { /* already closed */ }
    }
  }
}

function isInside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel !== "" && !rel.startsWith("..");
}

function names(services: readonly Service[]): string {
  return services.map((s) => s.fullName).join(", ") || "no services";
}
