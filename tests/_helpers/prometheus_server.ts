/**
 * A real Prometheus server for tests: Debian's `prometheus` binary started on a free loopback
 * port with a temporary config and data folder (never as a service), scraping the given targets
 * every second, and a PromQL query helper over its HTTP API. Missing binary: the test fails with
 * the install command.
 *
 * @module
 */

import { freePort } from "./nats_server.ts";

const BIN = Deno.env.get("PROMETHEUS_BIN") ?? "prometheus";

/** A running Prometheus. */
export interface PrometheusServer extends AsyncDisposable {
  /** Its HTTP API, e.g. `http://127.0.0.1:9090`. */
  readonly url: string;
  /**
   * An instant PromQL query.
   *
   * @param promql The query.
   * @returns The result vector.
   */
  query(
    promql: string,
  ): Promise<
    Array<{ metric: Record<string, string>; value: [number, string] }>
  >;
}

/**
 * Start Prometheus scraping `targets` (`host:port`) at `path` every second.
 *
 * @param targets The scrape targets.
 * @param path The metrics path.
 * @returns The server; dispose it to stop it and remove its folder.
 */
export async function startPrometheus(
  targets: string[],
  path = "/metrics",
): Promise<PrometheusServer> {
  const dir = await Deno.makeTempDir({ prefix: "prometheus-test-" });
  const config = `${dir}/prometheus.yml`;
  await Deno.writeTextFile(
    config,
    [
      "global:",
      "  scrape_interval: 1s",
      "  evaluation_interval: 1s",
      "scrape_configs:",
      "  - job_name: denolecular",
      `    metrics_path: ${path}`,
      "    static_configs:",
      `      - targets: [${targets.map((t) => JSON.stringify(t)).join(", ")}]`,
      "",
    ].join("\n"),
  );
  const port = freePort();
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(BIN, {
      args: [
        `--config.file=${config}`,
        `--storage.tsdb.path=${dir}/data`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=warn",
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
  } catch (err) {
    await Deno.remove(dir, { recursive: true });
    if (err instanceof Deno.errors.NotFound) {
      throw new Error(
        "prometheus is not installed: run `apt-get update && apt-get install -y prometheus`",
      );
    }
    throw err;
  }
  const stderr = child.stderr.pipeThrough(new TextDecoderStream());
  let log = "";
  const drained = stderr.pipeTo(
    new WritableStream({ write: (c) => void (log += c) }),
  );
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
    await drained.catch(() => {});
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const res = await fetch(`${url}/-/ready`);
      await res.body?.cancel();
      if (res.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `prometheus did not get ready within 20 s: ${log.slice(-2000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async query(promql) {
      const res = await fetch(
        `${url}/api/v1/query?query=${encodeURIComponent(promql)}`,
      );
      const body = await res.json() as {
        status: string;
        error?: string;
        data?: {
          result: Array<
            { metric: Record<string, string>; value: [number, string] }
          >;
        };
      };
      if (body.status !== "success") {
        throw new Error(`PromQL ${promql}: ${body.error}`);
      }
      return body.data!.result;
    },
    [Symbol.asyncDispose]: stop,
  };
}
