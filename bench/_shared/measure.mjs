// Measurement loops shared by the Deno and Node sides of bench/compare.ts (plain JS so both
// runtimes run the very same code). Types: measure.d.mts.

/** Yield to the event loop (I/O, timers) without the 4 ms clamp of nested timeouts. */
export const tick = () => new Promise((resolve) => globalThis.setImmediate(resolve));

/**
 * The params of a `math.echo` call of the payload measurements: the `math.add` params plus `data`,
 * a string of `size` characters, which the responder sends back. Plain ASCII that JSON writes as
 * is, so the packets are `size` bytes plus the envelope on every stack.
 */
export function echoParams(size) {
  return { a: 1, b: 2, data: "0123456789abcdef".repeat(Math.ceil(size / 16)).slice(0, size) };
}

/** Percentile (0..1) of a sorted Float64Array. */
function pct(sorted, p) {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[i];
}

/** Median of numbers. */
export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return 0;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Throughput of `fn` called back to back (awaited one by one) for `ms` milliseconds; the clock is
 * read every 256 calls, so the loop itself costs next to nothing.
 */
export async function throughput(fn, ms) {
  let n = 0;
  const start = performance.now();
  const end = start + ms;
  for (;;) {
    for (let i = 0; i < 256; i++) await fn();
    n += 256;
    if (performance.now() >= end) break;
  }
  const elapsed = performance.now() - start;
  return { count: n, ms: elapsed, opsPerSec: (n * 1000) / elapsed };
}

/**
 * `inFlight` workers, each awaiting `fn` in a loop for `ms` milliseconds; every call is timed.
 * Returns ops/s over the wall time until the last worker finished, and latency percentiles (ms).
 */
export async function latency(fn, inFlight, ms) {
  let lat = new Float64Array(1 << 16);
  let n = 0;
  const start = performance.now();
  const end = start + ms;
  const worker = async () => {
    for (;;) {
      const t0 = performance.now();
      if (t0 >= end) return;
      await fn();
      const t1 = performance.now();
      if (n === lat.length) {
        const bigger = new Float64Array(lat.length * 2);
        bigger.set(lat);
        lat = bigger;
      }
      lat[n++] = t1 - t0;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsed = performance.now() - start;
  const sorted = lat.subarray(0, n).sort();
  return {
    count: n,
    ms: elapsed,
    opsPerSec: (n * 1000) / elapsed,
    p50: pct(sorted, 0.5),
    p99: pct(sorted, 0.99),
  };
}

/**
 * Fire-and-forget `send()` as fast as a credit window allows for `ms` milliseconds, then wait
 * until the receiver has acknowledged every message. The receiver acknowledges every 512
 * messages and whenever asked with `sync()`. `acked()` returns how many it reported so far
 * (relative to this run); `waitAck(ms)` resolves true at the next acknowledgement, false after
 * `ms`. The window keeps both sides honest: nothing piles up unbounded in a socket, the server or
 * the receiver.
 */
export async function flood({ send, acked, waitAck, sync }, ms, window = 8192, burst = 128) {
  let sent = 0;
  const start = performance.now();
  const end = start + ms;
  // A lost message would stall the window forever: give up after STALL_MS without progress.
  const STALL_MS = 5_000;
  let progressAt = start;
  let last = 0;
  const stalled = () => {
    const a = acked();
    if (a !== last) {
      last = a;
      progressAt = performance.now();
    }
    return performance.now() - progressAt > STALL_MS;
  };
  while (performance.now() < end) {
    let room = window - (sent - acked());
    if (room <= 0) {
      if (!(await waitAck(250))) sync();
      if (stalled()) break;
      continue;
    }
    if (room > burst) room = burst;
    for (let i = 0; i < room; i++) send();
    sent += room;
    await tick();
  }
  const sendMs = performance.now() - start;
  sync();
  while (acked() < sent && !stalled()) if (!(await waitAck(250))) sync();
  const elapsed = performance.now() - start;
  const received = Math.min(acked(), sent);
  return {
    count: received,
    ms: elapsed,
    opsPerSec: (received * 1000) / elapsed,
    sendRate: (sent * 1000) / sendMs,
    lost: sent - received,
  };
}

/**
 * Ask for an acknowledgement until one comes: the receiver can only answer once it has
 * discovered the sender (Moleculer 0.15 announces a node about 1 s after it started).
 */
export async function handshake({ waitAck, sync }, timeoutMs = 15_000) {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    sync();
    if (await waitAck(100)) return;
  }
  throw new Error("the receiver never acknowledged");
}

/**
 * Serve measurement commands, one JSON object per line of `lines`:
 * `{cmd: "run", name, ms, warmup?}` runs `measurements[name](ms)` and reports
 * `{type: "result", name, result}`, wrapped (unless `warmup`) in `{type: "phase", edge}` lines so
 * the orchestrator can sample CPU time exactly around the measured run. Ends when `lines` ends or
 * on `{cmd: "exit"}`. The orchestrator interleaves runs of the different stacks this way, so slow
 * drifts of the machine hit every stack alike.
 */
export async function serve(lines, measurements, report) {
  for await (const line of lines) {
    let cmd;
    try {
      cmd = JSON.parse(line);
    } catch {
      continue;
    }
    if (cmd.cmd === "exit") return;
    if (cmd.cmd !== "run") continue;
    const measure = measurements[cmd.name];
    if (!measure) {
      report({ type: "result", name: cmd.name, error: `unknown measurement '${cmd.name}'` });
      continue;
    }
    if (!cmd.warmup) report({ type: "phase", name: cmd.name, edge: "start" });
    const result = await measure(cmd.ms);
    if (!cmd.warmup) report({ type: "phase", name: cmd.name, edge: "end" });
    report({ type: "result", name: cmd.name, result });
  }
}
