/**
 * Spawns a private `redis-server` or `mosquitto` on a free port for a test (one that restarts
 * its server must not disturb the shared ones), and stops it after.
 *
 * ```ts
 * await using redis = await startRedisServer();
 * const url = redis.url; // redis://127.0.0.1:<port>
 * await redis.restart(); // SIGKILL, then the same port again
 * ```
 *
 * A missing binary fails the test with the command that installs it.
 */

import { freePort } from "./nats_server.ts";

/** A running private server. */
export interface PrivateServer extends AsyncDisposable {
  readonly port: number;
  readonly url: string;
  /** Kill the server (SIGKILL) and wait for it to exit. */
  kill(): Promise<void>;
  /** Start it again on the same port (after {@linkcode PrivateServer.kill}, or killing it). */
  restart(): Promise<void>;
}

async function waitForPort(
  name: string,
  port: number,
  child: Deno.ChildProcess,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  let exited = false;
  child.status.then(() => exited = true);
  while (Date.now() < deadline) {
    if (exited) {
      throw new Error(`${name} on port ${port} exited before it listened`);
    }
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  throw new Error(`${name} did not listen on port ${port} within 10 s`);
}

async function startServer(
  bin: string,
  install: string,
  scheme: string,
  args: (port: number) => Promise<string[]>,
): Promise<PrivateServer> {
  const port = freePort();
  const argv = await args(port);
  const spawn = () => {
    try {
      return new Deno.Command(bin, {
        args: argv,
        stdout: "null",
        stderr: "null",
      }).spawn();
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        throw new Error(`${bin} is not installed: run \`${install}\``);
      }
      throw error;
    }
  };
  let child: Deno.ChildProcess | undefined = spawn();
  await waitForPort(bin, port, child);
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
    url: `${scheme}://127.0.0.1:${port}`,
    kill,
    async restart() {
      await kill();
      child = spawn();
      await waitForPort(bin, port, child);
    },
    [Symbol.asyncDispose]: kill,
  };
}

/** Start a private `redis-server` (no persistence). */
export function startRedisServer(): Promise<PrivateServer> {
  return startServer(
    "redis-server",
    "apt-get install redis-server",
    "redis",
    (port) =>
      Promise.resolve([
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
      ]),
  );
}

/** Start a private `mosquitto` MQTT broker (anonymous clients allowed). */
export function startMosquitto(): Promise<PrivateServer> {
  return startServer(
    "mosquitto",
    "apt-get install mosquitto",
    "mqtt",
    async (port) => {
      const config = await Deno.makeTempFile({ suffix: ".conf" });
      await Deno.writeTextFile(
        config,
        `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`,
      );
      return ["-c", config];
    },
  );
}

/** A RabbitMQ virtual host of a test's own on the shared server, deleted when disposed. */
export interface RabbitVhost extends AsyncDisposable {
  readonly name: string;
  /** `amqp://guest:guest@127.0.0.1:5672/<name>` (or `AMQP_URL`'s server). */
  readonly url: string;
}

async function rabbitmqctl(...args: string[]): Promise<void> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command("rabbitmqctl", { args, stdout: "null", stderr: "piped" }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error("rabbitmqctl is not installed: run `apt-get install rabbitmq-server`");
    }
    throw error;
  }
  if (!out.success) {
    throw new Error(
      `rabbitmqctl ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
}

/** Create a RabbitMQ vhost (with guest's permissions) that isolates one test's queues. */
export async function startRabbitVhost(): Promise<RabbitVhost> {
  const name = `test-${crypto.randomUUID().slice(0, 8)}`;
  await rabbitmqctl("add_vhost", name);
  await rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*");
  const server = Deno.env.get("AMQP_URL") ?? "amqp://guest:guest@127.0.0.1:5672";
  return {
    name,
    url: `${server.replace(/\/+$/, "")}/${name}`,
    [Symbol.asyncDispose]: () => rabbitmqctl("delete_vhost", name),
  };
}
