/**
 * A child process of a bench orchestrator (bench/compare.ts, bench/idle_soak.ts) that speaks JSON
 * lines: it prints one JSON object per line on stdout (`{"type": "ready"}`, …) and reads commands
 * on stdin. Lines that are not JSON are skipped; the last 4 000 characters of stderr are kept for
 * error messages.
 *
 * @module
 */

/** One JSON line printed by a child. */
export type Line = Record<string, unknown> & { type?: string };

class LineSplitter extends TransformStream<string, string> {
  constructor() {
    let rest = "";
    super({
      transform(chunk, ctl) {
        const parts = (rest + chunk).split("\n");
        rest = parts.pop() ?? "";
        for (const p of parts) if (p.trim()) ctl.enqueue(p);
      },
      flush(ctl) {
        if (rest.trim()) ctl.enqueue(rest);
      },
    });
  }
}

const live = new Set<Child>();
const te = new TextEncoder();

/** A child process speaking JSON lines: reports on stdout, commands on stdin. */
export class Child {
  readonly name: string;
  readonly proc: Deno.ChildProcess;
  readonly started: number = performance.now();
  /** Called with every JSON line that `expect` skips. */
  onLine: ((line: Line) => void) | undefined;
  readonly #lines: AsyncIterator<string>;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #stderr = "";
  #closed = false;

  /**
   * Spawn `cmd args`.
   *
   * @param name Shown in error messages.
   * @param cmd The executable.
   * @param args Its arguments.
   * @param cwd Its working directory.
   */
  constructor(name: string, cmd: string, args: string[], cwd?: string) {
    this.name = name;
    const proc = new Deno.Command(cmd, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
      ...(cwd === undefined ? {} : { cwd }),
    }).spawn();
    this.proc = proc;
    this.#stdin = proc.stdin.getWriter();
    this.#lines = proc.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(
      new LineSplitter(),
    )[Symbol.asyncIterator]();
    (async () => {
      for await (const chunk of proc.stderr.pipeThrough(new TextDecoderStream())) {
        this.#stderr = (this.#stderr + chunk).slice(-4000);
      }
    })().catch(() => {});
    live.add(this);
  }

  /** The next JSON line of `type`, within `ms`; lines of other types go to `onLine`. */
  async expect(type: string, ms: number): Promise<Line> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${this.name}: no '${type}' within ${ms} ms\n${this.#stderr}`)),
        ms,
      );
    });
    try {
      for (;;) {
        const next = await Promise.race([this.#lines.next(), timeout]);
        if (next.done) throw new Error(`${this.name} exited before '${type}'\n${this.#stderr}`);
        let line: Line;
        try {
          line = JSON.parse(next.value);
        } catch {
          continue; // not ours
        }
        if (line.type === type) return line;
        this.onLine?.(line);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Write one line to the child's stdin. */
  async send(line: string): Promise<void> {
    await this.#stdin.write(te.encode(line + "\n"));
  }

  /** Close stdin (the child stops and exits); kill it if it is still there after `graceMs`. */
  async close(graceMs = 3_000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#stdin.close().catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<"late">((r) => timer = setTimeout(() => r("late"), graceMs));
    const how = await Promise.race([this.proc.status, late]);
    clearTimeout(timer);
    if (how === "late") this.kill();
    await this.proc.status;
    await this.proc.stdout.cancel().catch(() => {});
    live.delete(this);
  }

  /** Kill the child now. */
  kill(): void {
    try {
      this.proc.kill("SIGKILL");
    } catch {
      // gone
    }
  }

  /** Kill every child not closed yet (an orchestrator that fails leaves none behind). */
  static killAll(): void {
    for (const c of live) c.kill();
  }
}
