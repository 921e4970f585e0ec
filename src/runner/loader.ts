/**
 * Finding and importing service modules: paths (directories, files, globs) become sources,
 * sources list modules, modules are imported with dynamic `import()` and their service-like
 * exports become {@linkcode Service} instances.
 *
 * @module
 */

import { basename, dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { Service } from "../core/service.ts";
import { isPlainObject } from "./env.ts";
import { reasonOf, StartError, UsageError } from "./errors.ts";
import { globBase, globToRegExp, isGlob } from "./glob.ts";

/** File extensions loaded from directories and globs. */
export const MODULE_EXTENSIONS: readonly string[] = [".ts", ".js", ".mjs"];

/** Schema keys that make a plain object with a `name` a service schema. */
const SCHEMA_KEYS = [
  "actions",
  "events",
  "methods",
  "created",
  "started",
  "stopped",
  "mixins",
  "settings",
  "dependencies",
  "hooks",
  "version",
  "metadata",
];

/** Where services come from: one command-line path. */
export interface ServiceSource {
  /** The path as given. */
  readonly input: string;
  /** A directory (recursive), one file, or a glob. */
  readonly kind: "dir" | "file" | "glob";
  /** Absolute directory to walk and watch (the file itself for `file`). */
  readonly root: string;
  /** Whether an absolute path is a module of this source. */
  matches(path: string): boolean;
}

/** Options of {@linkcode resolveSources}. */
export interface SourceOptions {
  /** Directory that relative paths start from. */
  readonly cwd: string;
  /** `--mask`: a glob that files found in directories and globs must match. */
  readonly mask?: string | undefined;
  /**
   * Directories a relative path is looked up in, in order.
   *
   * @default {[cwd]} (a compiled binary puts its own directory first: that is where
   *   `deno compile --include` files are)
   */
  readonly searchDirs?: readonly string[] | undefined;
}

const toSlash = (p: string) => sep === "/" ? p : p.split(sep).join("/");

function skippedName(name: string): boolean {
  return name.startsWith("_") || name.startsWith(".") ||
    name === "node_modules";
}

function isModuleFile(name: string): boolean {
  if (!MODULE_EXTENSIONS.some((ext) => name.endsWith(ext))) return false;
  if (name.endsWith(".d.ts")) return false;
  return !/(_test|\.test)\.(ts|js|mjs)$/.test(name);
}

function maskTest(mask: string | undefined): (rel: string) => boolean {
  if (mask === undefined) return () => true;
  const re = globToRegExp(mask);
  return mask.includes("/") ? (rel) => re.test(rel) : (rel) => re.test(rel.split("/").pop()!);
}

/** Whether a path, relative to a source's root, passes the skip rules, extensions and mask. */
function candidate(rel: string, mask: (rel: string) => boolean): boolean {
  if (rel === "" || rel.startsWith("../")) return false;
  const parts = rel.split("/");
  if (parts.some(skippedName)) return false;
  return isModuleFile(parts[parts.length - 1]!) && mask(rel);
}

async function stat(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.stat(path);
  } catch {
    return null;
  }
}

async function locate(
  input: string,
  options: SourceOptions,
): Promise<{ path: string; info: Deno.FileInfo } | null> {
  const bases = isAbsolute(input) ? [""] : options.searchDirs ?? [options.cwd];
  for (const base of bases) {
    for (
      const candidatePath of [
        input,
        `${input}.service.ts`,
        `${input}.service.js`,
      ]
    ) {
      const path = base === "" ? candidatePath : resolve(base, candidatePath);
      const info = await stat(path);
      // The real path, so that file-watch events (which report real paths) match.
      if (info) {
        return { path: await Deno.realPath(path).catch(() => path), info };
      }
    }
  }
  return null;
}

/**
 * Turn command-line paths into sources.
 *
 * A path is tried as given, then as `<path>.service.ts` and `.service.js`, in each search
 * directory. A glob is anchored at its static prefix, found the same way.
 *
 * @param paths The paths as given.
 * @param options Base directory, mask and search directories.
 * @returns One source per path.
 * @throws {UsageError} naming a path that does not exist.
 */
export async function resolveSources(
  paths: readonly string[],
  options: SourceOptions,
): Promise<ServiceSource[]> {
  const mask = maskTest(options.mask);
  const sources: ServiceSource[] = [];
  for (const input of paths) {
    const slashed = toSlash(input);
    if (isGlob(slashed)) {
      const base = globBase(slashed);
      const found = await locate(base, options);
      if (!found?.info.isDirectory) {
        throw new UsageError(
          `no such directory for the glob '${input}': ${base}`,
        );
      }
      const root = found.path;
      const rest = slashed.slice(base === "." ? 0 : base.length + 1);
      const re = globToRegExp(rest);
      sources.push({
        input,
        kind: "glob",
        root,
        matches: (path) => {
          const rel = toSlash(relative(root, path));
          return re.test(rel) && candidate(rel, mask);
        },
      });
      continue;
    }
    const found = await locate(input, options);
    if (!found) throw new UsageError(`path not found: ${input}`);
    if (found.info.isDirectory) {
      const root = found.path;
      sources.push({
        input,
        kind: "dir",
        root,
        matches: (path) => candidate(toSlash(relative(root, path)), mask),
      });
    } else {
      const file = found.path;
      sources.push({
        input,
        kind: "file",
        root: file,
        matches: (path) => path === file,
      });
    }
  }
  return sources;
}

/**
 * The modules of a source, sorted.
 *
 * @param source The source.
 * @returns Absolute paths.
 */
export async function listModules(source: ServiceSource): Promise<string[]> {
  if (source.kind === "file") return [source.root];
  const out: string[] = [];
  const walk = async (dir: string) => {
    const entries: Deno.DirEntry[] = [];
    for await (const entry of Deno.readDir(dir)) entries.push(entry);
    entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    for (const entry of entries) {
      if (skippedName(entry.name)) continue;
      const path = resolve(dir, entry.name);
      let isDir = entry.isDirectory;
      let isFile = entry.isFile;
      if (entry.isSymlink) {
        const info = await stat(path);
        isDir = info?.isDirectory ?? false;
        isFile = info?.isFile ?? false;
      }
      if (isDir) await walk(path);
      else if (isFile && source.matches(path)) out.push(path);
    }
  };
  await walk(source.root);
  return out;
}

/** A service-like export that is not usable, with the reason. */
export interface RejectedExport {
  /** Export name (`default` for the default export). */
  readonly name: string;
  /** Why it was not registered. */
  readonly reason: string;
}

/** What one module provides. */
export interface ModuleServices {
  /** The services, ready to register. */
  readonly services: Service[];
  /** Export names that gave a service, in order. */
  readonly exports: string[];
  /** Exports that look like services from another copy of Denolecular. */
  readonly rejected: RejectedExport[];
}

function isServiceClass(value: unknown): value is new () => Service {
  return typeof value === "function" && value !== Service &&
    value.prototype instanceof Service;
}

function looksLikeForeignService(value: unknown): boolean {
  // For a class, start above it: a base class named Service (re-exported) is not a service.
  let proto = typeof value === "function"
    ? (value.prototype ? Object.getPrototypeOf(value.prototype) : null)
    : typeof value === "object" && value !== null
    ? Object.getPrototypeOf(value)
    : null;
  while (proto && proto !== Object.prototype) {
    if (
      proto.constructor?.name === "Service" &&
      typeof proto.attach === "function"
    ) return true;
    proto = Object.getPrototypeOf(proto);
  }
  return false;
}

function isSchema(value: unknown): value is { name: string } {
  return isPlainObject(value) && typeof value.name === "string" &&
    value.name !== "" &&
    SCHEMA_KEYS.some((k) => k in value);
}

/**
 * The services a module's exports define: each `Service` subclass (constructed with no
 * arguments), `Service` instance and service schema (a plain object with a string `name` and
 * `actions`, `events`, `methods`, … ), default export first, each value once.
 *
 * @param ns The module namespace.
 * @returns The services and the export names that gave them.
 * @throws {Error} when a class's constructor or a schema throws (e.g. a missing name); the
 *   message names the export.
 */
export function servicesFromModule(
  ns: Record<string, unknown>,
): ModuleServices {
  const names = Object.keys(ns).sort((a, b) => a === "default" ? -1 : b === "default" ? 1 : 0);
  const seen = new Set<unknown>();
  const services: Service[] = [];
  const exports: string[] = [];
  const rejected: RejectedExport[] = [];
  for (const name of names) {
    const value = ns[name];
    if (seen.has(value)) continue;
    seen.add(value);
    try {
      if (isServiceClass(value)) {
        services.push(new value());
      } else if (value instanceof Service) {
        services.push(value);
      } else if (isSchema(value)) {
        services.push(new Service(value));
      } else if (looksLikeForeignService(value)) {
        rejected.push({
          name,
          reason: "it extends a Service class from another copy of Denolecular; import Service " +
            "from the same module the CLI runs from",
        });
        continue;
      } else {
        continue;
      }
    } catch (err) {
      throw new Error(`export '${name}': ${reasonOf(err, true)}`, {
        cause: err,
      });
    }
    exports.push(name);
  }
  return { services, exports, rejected };
}

/**
 * Import a module and collect its services.
 *
 * @param path Absolute path.
 * @param version A cache-busting number added as `?v=<n>` (hot reload), or undefined.
 * @param cwd For the relative path in messages.
 * @returns The module's services.
 * @throws {StartError} naming the file and the reason when the import or a constructor fails.
 */
export async function importServices(
  path: string,
  version: number | undefined,
  cwd: string,
): Promise<ModuleServices> {
  const url = pathToFileURL(path);
  if (version !== undefined) url.searchParams.set("v", String(version));
  try {
    const ns = await import(url.href);
    return servicesFromModule(ns);
  } catch (err) {
    throw new StartError(
      `cannot load ${displayPath(path, cwd)}: ${reasonOf(err, true)}`,
      {
        cause: err,
      },
    );
  }
}

/**
 * A path for messages: relative to `cwd` when inside it.
 *
 * @param path Absolute path.
 * @param cwd The current directory.
 * @returns The path to show.
 */
export function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel === "" || rel.startsWith("..") || isAbsolute(rel) ? path : toSlash(rel);
}

/**
 * The directory to watch for a source, and whether to watch it recursively.
 *
 * @param source The source.
 * @returns Directory and recursion.
 */
export function watchTarget(
  source: ServiceSource,
): { dir: string; recursive: boolean } {
  return source.kind === "file"
    ? { dir: dirname(source.root), recursive: false }
    : { dir: source.root, recursive: true };
}

/**
 * Whether a changed file is a module under a source's directory that the source does not load
 * (a helper like `_shared.ts`): its change needs a restart.
 *
 * @param source The source.
 * @param path Absolute path.
 * @returns True for a skipped module file under a directory source.
 */
export function isHelperModule(source: ServiceSource, path: string): boolean {
  if (source.kind === "file") return false;
  const rel = toSlash(relative(source.root, path));
  if (rel.startsWith("../") || rel === "") return false;
  if (rel.split("/").includes("node_modules")) return false;
  return isModuleFile(basename(path)) && !source.matches(path);
}
