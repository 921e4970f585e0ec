/**
 * `bench`: call an action over and over — a number of times (`--num`) or for a time
 * (`--time`, 5 s by default), `--concurrency` calls at once — and print a summary: requests,
 * errors, requests per second and the latency (average, min, percentiles, max). Ctrl+C stops it
 * early and still prints the summary.
 *
 * @module
 */

import type { CallOptions } from "../../../core/context.ts";
import type { ReplCommand, ReplContext } from "../command.ts";
import { count, duration, errorBlock, show } from "../format.ts";
import { type ParsedWords, ReplUsageError } from "../line_args.ts";
import { payloadOf } from "./_params.ts";
import { replTimeout } from "./call.ts";

/** `--time` when neither `--num` nor `--time` is given, in seconds (moleculer-repl's). */
const DEFAULT_SECONDS = 5;
/** Calls between two turns of the event loop, so Ctrl+C and timers get through. */
const YIELD_EVERY = 500;

function positive(
  flag: string,
  value: string | boolean | undefined,
  integer: boolean,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== "string" || !(n > 0) || (integer && !Number.isInteger(n))) {
    throw new ReplUsageError(
      `--${flag} needs a ${integer ? "whole " : ""}number > 0, got '${value}'`,
    );
  }
  return n;
}

/** The latency at a percentile of sorted samples. */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function run(ctx: ReplContext, words: ParsedWords): Promise<void> {
  const { style } = ctx.out;
  const [action, json, metaJson] = words.positionals;
  if (action === undefined) {
    throw new ReplUsageError(
      "usage: bench <actionName> [jsonParams] [meta] [--num n | --time s] [--concurrency c]",
    );
  }
  const num = positive("num", words.flags.num, true);
  const seconds = positive("time", words.flags.time, false) ??
    (num === undefined ? DEFAULT_SECONDS : undefined);
  const concurrency = positive("concurrency", words.flags.concurrency, true) ?? 1;
  const nodeID = typeof words.flags.nodeID === "string" ? words.flags.nodeID : undefined;
  const payload = await payloadOf(words.params, json, metaJson, ctx.cwd);
  const timeout = replTimeout(ctx, payload.options);
  const opts: CallOptions = {
    ...(payload.options as CallOptions),
    timeout,
    meta: { ...payload.meta, $repl: true },
    ...(nodeID !== undefined ? { nodeID } : {}),
  };

  const what = num !== undefined ? `x ${count(num)} times` : `for ${seconds} second(s)`;
  ctx.out.print(
    `${
      style.yellow(
        `>> Call '${action}'${
          nodeID ? ` on '${nodeID}'` : ""
        } ${what}, concurrency ${concurrency}, with params:`,
      )
    } ` +
      show(payload.params, style),
  );

  const samples: number[] = [];
  let errors = 0;
  let firstError: unknown;
  let started = 0;
  const begin = performance.now();
  const deadline = seconds === undefined ? Infinity : begin + seconds * 1000;
  const more = () =>
    !ctx.signal.aborted && (num === undefined || started < num) && performance.now() < deadline;
  const worker = async () => {
    while (more()) {
      started++;
      const t0 = performance.now();
      try {
        await ctx.broker.call(action, payload.params, opts);
      } catch (err) {
        errors++;
        firstError ??= err;
      }
      samples.push(performance.now() - t0);
      if (started % YIELD_EVERY === 0) await new Promise((r) => setTimeout(r, 0));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = performance.now() - begin;

  const sorted = Float64Array.from(samples).sort();
  const total = sorted.length;
  const avg = total ? samples.reduce((a, b) => a + b, 0) / total : NaN;
  const errText = errors > 0
    ? style.red(`${count(errors)} error(s) ${count((errors / total) * 100, 1)}%`)
    : style.gray("0 error");
  const pad = (ms: number) => duration(ms).padStart(10);
  ctx.out.print(
    [
      "",
      style.green(
        style.bold(`Benchmark result${ctx.signal.aborted ? " (stopped by Ctrl+C)" : ""}:`),
      ),
      "",
      style.bold(`  ${count(total)} requests in ${duration(elapsed)}, ${errText}`),
      "",
      `  Requests/sec: ${style.bold(count(elapsed > 0 ? (total / elapsed) * 1000 : 0))}`,
      "",
      "  Latency:",
      `    Avg: ${style.bold(pad(avg))}`,
      `    Min: ${style.bold(pad(sorted[0] ?? NaN))}`,
      `    p50: ${style.bold(pad(percentile(sorted, 50)))}`,
      `    p90: ${style.bold(pad(percentile(sorted, 90)))}`,
      `    p99: ${style.bold(pad(percentile(sorted, 99)))}`,
      `    Max: ${style.bold(pad(sorted[total - 1] ?? NaN))}`,
      "",
    ].join("\n"),
  );
  if (firstError !== undefined) ctx.out.print(`First error:\n${errorBlock(firstError, style)}`);
}

/** The `bench` command. */
export const benchCommand: ReplCommand = {
  name: "bench",
  usage: "<actionName> [jsonParams] [meta]",
  description: "Benchmark an action",
  flags: [
    { name: "num", kind: "string", value: "<number>", description: "number of calls" },
    {
      name: "time",
      kind: "string",
      value: "<seconds>",
      description: `time to run (default ${DEFAULT_SECONDS} when --num is not given)`,
    },
    {
      name: "concurrency",
      kind: "string",
      value: "<number>",
      description: "calls in flight at once (default 1)",
    },
    {
      name: "nodeID",
      kind: "string",
      value: "<nodeID>",
      description: "call the action on this node",
    },
  ],
  freeParams: true,
  completes: "actions",
  examples: [
    "bench math.add --a 1 --b 2 --num 10000 --concurrency 10",
    `bench greeter.hello '{"name": "x"}' --time 10`,
  ],
  run,
};
