/**
 * Event-name matching with Moleculer's wildcards: `*` matches anything but a
 * dot, `**` matches anything, `?` matches one character.
 *
 * Patterns come from other nodes' INFO packets, so matching must stay cheap whatever the
 * pattern: it runs as a set-of-states automaton in O(name length × pattern length), never as a
 * backtracking regular expression (`**a**a**a…` against a long name would take minutes).
 *
 * @module
 */

/** One step of a compiled pattern: a literal UTF-16 unit, or a wildcard. */
const ANY_ONE = -1; // `?`
const STAR = -2; // `*`: any run without a dot
const GLOBSTAR = -3; // `**`: any run

const DOT = 0x2e;

const cache = new Map<string, Int32Array>();

function compile(pattern: string): Int32Array {
  let steps = cache.get(pattern);
  if (!steps) {
    const out: number[] = [];
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern.charCodeAt(i);
      if (c === 0x2a /* * */) {
        let step = STAR;
        if (pattern.charCodeAt(i + 1) === 0x2a) {
          step = GLOBSTAR;
          i++;
        }
        // A repeated wildcard of the same kind adds nothing.
        if (out[out.length - 1] !== step) out.push(step);
      } else if (c === 0x3f /* ? */) out.push(ANY_ONE);
      else out.push(c);
    }
    steps = Int32Array.from(out);
    if (cache.size > 10_000) cache.clear();
    cache.set(pattern, steps);
  }
  return steps;
}

/** Line terminators: the `.` of the regular expressions Moleculer builds does not match them. */
function isLineTerminator(c: number): boolean {
  return c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029;
}

/** Mark every state reachable from the marked ones without consuming a character. */
function closure(steps: Int32Array, states: Uint8Array): void {
  for (let i = 0; i < steps.length; i++) {
    if (states[i] && (steps[i] === STAR || steps[i] === GLOBSTAR)) {
      states[i + 1] = 1;
    }
  }
}

// Two state sets reused by every match (`run` is synchronous and never re-entered): allocating
// two typed arrays per match cost more than the match itself (~0.5 µs each on Deno).
let scratchA = new Uint8Array(64);
let scratchB = new Uint8Array(64);

function run(name: string, steps: Int32Array): boolean {
  const m = steps.length;
  if (scratchA.length < m + 1) {
    scratchA = new Uint8Array(2 * (m + 1));
    scratchB = new Uint8Array(2 * (m + 1));
  }
  let states = scratchA;
  let next = scratchB;
  states.fill(0, 0, m + 1);
  states[0] = 1;
  closure(steps, states);
  for (let k = 0; k < name.length; k++) {
    const c = name.charCodeAt(k);
    next.fill(0, 0, m + 1);
    let alive = false;
    for (let i = 0; i < m; i++) {
      if (!states[i]) continue;
      const s = steps[i]!;
      if (s === STAR || s === GLOBSTAR) {
        // `*` is `[^.]*` (line terminators included), `**` is `.*` (they are not).
        if (s === STAR ? c === DOT : isLineTerminator(c)) continue;
        next[i] = 1;
        alive = true;
      } else if (s === ANY_ONE ? !isLineTerminator(c) : s === c) {
        next[i + 1] = 1;
        alive = true;
      }
    }
    if (!alive) return false;
    closure(steps, next);
    [states, next] = [next, states];
  }
  return states[m] === 1;
}

/**
 * True when `name` matches `pattern`.
 *
 * @param name A concrete event name, e.g. `user.created`.
 * @param pattern A subscription name, e.g. `user.*` or `**`.
 * @returns Whether it matches.
 *
 * @example
 * ```ts ignore
 * matchEventName("user.created", "user.*"); // true
 * matchEventName("user.created.v2", "user.*"); // false
 * matchEventName("user.created.v2", "user.**"); // true
 * ```
 */
export function matchEventName(name: string, pattern: string): boolean {
  if (pattern.indexOf("*") === -1 && pattern.indexOf("?") === -1) {
    return name === pattern;
  }
  if (pattern === "**") return true;
  return run(name, compile(pattern));
}
