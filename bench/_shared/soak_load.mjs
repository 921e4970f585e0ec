// The paced load of the soak callers, bench/deno/soak_caller.ts and bench/node/soak_caller.mjs
// (plain JS so both runtimes run the very same loop and mix). Types: soak_load.d.mts.
//
// Every TICK_MS it makes the calls and events that are due by the clock, so the rate holds
// whatever the latency: calls are not awaited one by one. Call i goes to svc(i % 10); one in
// INVALID_EVERY is `add` with a string param (the validation error path and an error RES), the
// others alternate `add` and `echo` in runs of ten so that every service gets both. Results are
// checked; a validation error on an invalid call is expected, any other error is not.

/** One call in this many is `svcN.add` with invalid params. */
export const INVALID_EVERY = 64;
/** The pacing interval: calls due are made in one batch per tick. */
const TICK_MS = 10;
/** At most this many ticks' worth of calls in one batch: a late tick catches up over the next. */
const MAX_TICKS_PER_BATCH = 4;
/** A backlog of more than this (a stalled machine) is dropped: the rate achieved shows it. */
const MAX_BACKLOG_MS = 1_000;
/** At most this many unexpected errors are kept, to be shown. */
const KEEP_ERRORS = 5;

/**
 * Start calling `rate` times a second and emitting `rate / 10` events a second.
 * `call(action, params, {timeout})` and `emit(event, payload)` are the broker's own.
 * A call still unsettled `timeoutMs + 5 s` after it was made counts as hung: the broker's own
 * timeout should have ended it.
 */
export function startLoad({ call, emit, rate, timeoutMs = 5_000, services = 10 }) {
  const c = {
    calls: 0,
    ok: 0,
    expectedErrors: 0,
    unexpectedErrors: 0,
    timeouts: 0,
    hung: 0,
    events: 0,
    dropped: 0,
    inFlight: 0,
    maxInFlight: 0,
    errors: [],
  };
  const eventRate = rate / 10;
  const opts = { timeout: timeoutMs };
  const hangS = Math.ceil((timeoutMs + 5_000) / 1000);
  // Unsettled calls per second of issue: cheap to keep, and a hang shows as an old bucket.
  const pending = new Map();
  const start = performance.now();
  let due = 0;
  let eventsDue = 0;
  let stopped = false;
  let timer;

  const unexpected = (what) => {
    c.unexpectedErrors++;
    if (c.errors.length < KEEP_ERRORS) c.errors.push(what);
  };
  const settled = (sec) => {
    c.inFlight--;
    const left = pending.get(sec);
    if (left === undefined) return; // already counted as hung
    if (left === 1) pending.delete(sec);
    else pending.set(sec, left - 1);
  };
  const failed = (err, invalid) => {
    if (err?.name === "RequestTimeoutError" || err?.type === "REQUEST_TIMEOUT") c.timeouts++;
    else if (invalid && err?.type === "VALIDATION_ERROR" && err?.code === 422) c.expectedErrors++;
    else unexpected(`${err?.name}: ${err?.message}`);
  };

  const one = (i, sec) => {
    const svc = `svc${i % services}`;
    const invalid = i % INVALID_EVERY === INVALID_EVERY - 1;
    const echo = !invalid && Math.floor(i / services) % 2 === 1;
    const params = invalid ? { a: "x", b: 1 } : echo ? { n: i, s: "soak" } : { a: i, b: 1 };
    c.calls++;
    if (++c.inFlight > c.maxInFlight) c.maxInFlight = c.inFlight;
    pending.set(sec, (pending.get(sec) ?? 0) + 1);
    call(`${svc}.${echo ? "echo" : "add"}`, params, opts).then((res) => {
      settled(sec);
      if (invalid) unexpected(`${svc}.add with invalid params succeeded`);
      else if (echo ? res?.n === i : res === i + 1) c.ok++;
      else unexpected(`${svc}.${echo ? "echo" : "add"}: wrong result ${JSON.stringify(res)}`);
    }, (err) => {
      settled(sec);
      failed(err, invalid);
    });
  };

  /** [to make now, to drop] on a schedule of `perS` a second, of which `made` are done. */
  const owed = (now, perS, made) => {
    const want = Math.floor(((now - start) * perS) / 1000) - made;
    const backlog = Math.ceil((perS * MAX_BACKLOG_MS) / 1000);
    const drop = want > backlog ? want - backlog : 0;
    return [Math.min(want - drop, Math.ceil((perS * TICK_MS * MAX_TICKS_PER_BATCH) / 1000)), drop];
  };

  const tick = () => {
    if (stopped) return;
    const now = performance.now();
    const sec = Math.floor((now - start) / 1000);
    const [calls, droppedCalls] = owed(now, rate, due);
    due += calls + droppedCalls;
    c.dropped += droppedCalls;
    for (let k = 0; k < calls; k++) one(c.calls, sec);
    const [events, droppedEvents] = owed(now, eventRate, eventsDue);
    eventsDue += events + droppedEvents;
    for (let k = 0; k < events; k++) {
      const n = c.events++;
      Promise.resolve(emit(`svc${n % services}.changed`, { n })).catch((err) =>
        unexpected(`emit: ${err?.message}`)
      );
    }
    for (const [s, left] of pending) {
      if (s > sec - hangS) break; // insertion order is issue order
      c.hung += left;
      pending.delete(s);
    }
    timer = setTimeout(tick, TICK_MS);
  };
  timer = setTimeout(tick, TICK_MS);

  return {
    /** The counters so far (a copy). */
    counts: () => ({ ...c, errors: [...c.errors] }),
    /**
     * Stop making calls, wait (at most `timeoutMs + 5 s`) for those in flight, and return the
     * counters with `ms` (start to stop) and `callsPerSec`; calls still unsettled count as hung.
     */
    async stop() {
      stopped = true;
      clearTimeout(timer);
      const ms = performance.now() - start;
      const deadline = performance.now() + timeoutMs + 5_000;
      while (c.inFlight > 0 && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      for (const left of pending.values()) c.hung += left;
      pending.clear();
      return { ...c, errors: [...c.errors], ms, callsPerSec: (c.calls * 1000) / ms };
    },
  };
}
