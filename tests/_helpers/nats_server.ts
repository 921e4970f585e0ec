/**
 * Spawns a private `nats-server` on a free port for a test, and stops it after.
 *
 * ```ts
 * await using nats = await startNatsServer();
 * const url = nats.url; // nats://127.0.0.1:<port>
 * ```
 */

/** Options for {@linkcode startNatsServer}. */
export interface NatsServerOptions {
  /** Port to listen on; a free one when omitted. Pass the old port to restart a server in place. */
  port?: number;
  /** Extra command-line arguments, e.g. `["--user", "a", "--pass", "b"]`. */
  args?: string[];
  /** Contents of a config file passed with `-c`. */
  config?: string;
}

/** A running private NATS server. */
export interface NatsServer extends AsyncDisposable {
  readonly port: number;
  readonly url: string;
  /** Kill the server (SIGKILL) and wait for it to exit. */
  kill(): Promise<void>;
  /** Start the server again on the same port after {@linkcode NatsServer.kill}. */
  restart(): Promise<void>;
}

const NATS_BIN = Deno.env.get("NATS_SERVER_BIN") ?? "nats-server";

/** Returns a TCP port nothing listens on right now. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function waitForPort(port: number, child: Deno.ChildProcess, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  let exited = false;
  child.status.then(() => exited = true);
  while (Date.now() < deadline) {
    if (exited) throw new Error(`nats-server on port ${port} exited before it listened`);
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error(`nats-server did not listen on port ${port} within ${ms} ms`);
}

/** Start a private `nats-server`. Dispose it (or call `kill`) when the test ends. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const port = options.port ?? freePort();
  let configPath: string | undefined;
  if (options.config !== undefined) {
    configPath = await Deno.makeTempFile({ suffix: ".conf" });
    await Deno.writeTextFile(configPath, options.config);
  }
  const spawn = () => {
    const args = ["-a", "127.0.0.1", "-p", String(port), ...(options.args ?? [])];
    if (configPath) args.push("-c", configPath);
    return new Deno.Command(NATS_BIN, { args, stdout: "null", stderr: "null" }).spawn();
  };
  let child: Deno.ChildProcess | undefined = spawn();
  await waitForPort(port, child);

  const kill = async () => {
    if (!child) return;
    const c = child;
    child = undefined;
    try {
      c.kill("SIGKILL");
    } catch { /* already gone */ }
    await c.status;
  };
  return {
    port,
    url: `nats://127.0.0.1:${port}`,
    kill,
    async restart() {
      await kill();
      child = spawn();
      await waitForPort(port, child);
    },
    async [Symbol.asyncDispose]() {
      await kill();
      if (configPath) await Deno.remove(configPath).catch(() => {});
    },
  };
}
