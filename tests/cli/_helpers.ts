/**
 * Helpers for CLI tests: run `cli.ts` as a subprocess with a clean environment, read its output
 * as it comes, wait for lines, send signals; write temporary service directories.
 */

import { fileURLToPath } from "node:url";

/** Absolute path of cli.ts. */
export const CLI: string = fileURLToPath(
  new URL("../../cli.ts", import.meta.url),
);
/** URL of mod.ts, for temporary service files to import. */
export const MOD_URL: string = new URL("../../mod.ts", import.meta.url).href;

/** A minimal environment for the child: what Deno needs to find its cache, no option variables. */
export function cliEnv(
  extra: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const key of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME", "TMPDIR"]) {
    const value = Deno.env.get(key);
    if (value !== undefined) env[key] = value;
  }
  return { ...env, ...extra };
}

/** Options of {@linkcode spawnCli}. */
export interface SpawnOptions {
  /** Working directory. */
  cwd?: string;
  /** Extra environment variables (the rest of the environment is cleared). */
  env?: Record<string, string>;
}

/** A running CLI process. */
export interface CliProcess extends AsyncDisposable {
  /** Everything written to stdout so far. */
  readonly stdout: string;
  /** Everything written to stderr so far. */
  readonly stderr: string;
  /** Length of stdout + stderr so far: pass it as `from` to wait for later output. */
  readonly offset: number;
  /**
   * Wait until stdout + stderr (from `from` on) match; rejects on timeout or exit.
   *
   * @returns The offset just past the match, to wait for later lines.
   */
  waitFor(
    pattern: RegExp | string,
    options?: { timeout?: number; from?: number },
  ): Promise<number>;
  /** Send a signal. */
  signal(signal: Deno.Signal): void;
  /** The exit code, once the process exited and its output was read. */
  readonly code: Promise<number>;
}

/** Start `deno run -A cli.ts ...args`. Dispose it (or await `code`) in every test. */
export function spawnCli(
  args: string[],
  options: SpawnOptions = {},
): CliProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    env: cliEnv(options.env),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let out = "";
  let err = "";
  let all = "";
  let exited = false;
  const listeners = new Set<() => void>();
  const notify = () => listeners.forEach((l) => l());
  const pump = async (
    stream: ReadableStream<Uint8Array>,
    onText: (t: string) => void,
  ) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      onText(text);
      all += text;
      notify();
    }
  };
  const pumps = Promise.all([
    pump(child.stdout, (t) => out += t),
    pump(child.stderr, (t) => err += t),
  ]);
  const code = Promise.all([child.status, pumps]).then(([status]) => {
    exited = true;
    notify();
    return status.code;
  });
  return {
    get stdout() {
      return out;
    },
    get stderr() {
      return err;
    },
    get offset() {
      return all.length;
    },
    code,
    waitFor(pattern, { timeout = 15_000, from = 0 } = {}) {
      const find = (): number | undefined => {
        const text = all.slice(from);
        if (typeof pattern === "string") {
          const i = text.indexOf(pattern);
          return i < 0 ? undefined : from + i + pattern.length;
        }
        const m = pattern.exec(text);
        return m ? from + m.index + m[0].length : undefined;
      };
      return new Promise((resolve, reject) => {
        const check = () => {
          const at = find();
          if (at !== undefined) done(() => resolve(at));
          else if (exited) {
            done(() => reject(new Error(`exited before ${pattern} appeared:\n${all}`)));
          }
        };
        const timer = setTimeout(
          () => done(() => reject(new Error(`timed out waiting for ${pattern}:\n${all}`))),
          timeout,
        );
        const done = (fn: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          fn();
        };
        listeners.add(check);
        check();
      });
    },
    signal(signal) {
      try {
        child.kill(signal);
      } catch { /* already exited */ }
    },
    async [Symbol.asyncDispose]() {
      if (!exited) {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
      }
      await code;
    },
  };
}

/** Result of {@linkcode runCliOnce}. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run the CLI to completion. */
export async function runCliOnce(
  args: string[],
  options: SpawnOptions = {},
): Promise<CliResult> {
  await using p = spawnCli(args, options);
  const code = await p.code;
  return { code, stdout: p.stdout, stderr: p.stderr };
}

/** Non-empty lines of a text. */
export function lines(text: string): string[] {
  return text.split("\n").filter((l) => l.trim() !== "");
}

/** A temporary directory, removed on dispose. */
export interface TempDir extends AsyncDisposable {
  readonly path: string;
  /** Write a file (creating directories); `{{MOD}}` in the text becomes mod.ts's URL. */
  write(name: string, text: string): Promise<void>;
  /** Replace a file in one step (write a hidden temp file, then rename). */
  replace(name: string, text: string): Promise<void>;
}

/** Make a temporary directory. */
export async function tempDir(): Promise<TempDir> {
  const path = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "denolecular-cli-" }),
  );
  const write = async (name: string, text: string) => {
    const file = `${path}/${name}`;
    await Deno.mkdir(file.slice(0, file.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(file, text.replaceAll("{{MOD}}", MOD_URL));
  };
  return {
    path,
    write,
    async replace(name, text) {
      const dir = name.includes("/") ? name.slice(0, name.lastIndexOf("/") + 1) : "";
      const tmp = `${dir}.tmp-${crypto.randomUUID()}`;
      await write(tmp, text);
      await Deno.rename(`${path}/${tmp}`, `${path}/${name}`);
    },
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}

/** A class-style service (decorators) and a schema-style service, importing mod.ts. */
export const GREETER_SERVICE = `import { action, type Context, Service } from "{{MOD}}";
export class Greeter extends Service {
  constructor() { super("greeter"); }
  @action({ params: { name: "string" } })
  hello(ctx: Context<{ name: string }>): string { return \`Hello, \${ctx.params.name}!\`; }
}
`;

/** A schema-style service. */
export const MATH_SERVICE = `export default {
  name: "math",
  actions: {
    add: { params: { a: "number", b: "number" }, handler: (ctx: any) => ctx.params.a + ctx.params.b },
  },
};
`;
