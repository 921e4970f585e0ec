/**
 * Wall-clock time from a `performance.now()` reading. A traced or measured call needs both a
 * precise duration and the epoch time it happened at; reading both clocks costs two clock reads
 * (each ~60–130 ns on a virtual machine), so the epoch time is derived from the monotonic reading
 * the duration needs anyway.
 *
 * The derivation starts at `performance.timeOrigin` and is checked against `Date.now()` at most
 * once a second (only when a reading comes more than a second after the last check, so there is
 * no timer): a step of the system clock shows within a second, as the next `Date.now()` would.
 *
 * @module
 */

/** How often the derived time is checked against `Date.now()`, in ms of monotonic time. */
const CHECK_EVERY_MS = 1000;

/** Epoch ms minus monotonic ms. */
let offset = performance.timeOrigin;
/** The monotonic time of the last check. */
let checkedAt = -Infinity;

/** Bring the offset back within `Date.now()`'s millisecond when the system clock moved. */
function check(ticks: number): void {
  checkedAt = ticks;
  // Read Date.now() after the reading: it is at least the truncated epoch time of `ticks`.
  const wall = Date.now();
  const derived = offset + ticks;
  // Date.now() read later than `ticks`: a derived time up to 1 ms later than it was read is
  // within its truncation, anything else is a clock step (or drift) to follow.
  if (derived < wall - 1 || derived >= wall + 1) offset = wall - ticks;
}

/**
 * The epoch time, in whole ms as `Date.now()` gives it, at which `performance.now()` read
 * `ticks`.
 *
 * @param ticks A `performance.now()` reading (recent: the check follows the latest reading).
 * @returns Epoch ms.
 *
 * @example
 * ```ts
 * import { epochMs } from "./clock.ts";
 *
 * const ticks = performance.now();
 * console.log(Math.abs(epochMs(ticks) - Date.now()) <= 1); // true
 * ```
 */
export function epochMs(ticks: number): number {
  if (ticks - checkedAt >= CHECK_EVERY_MS) check(ticks);
  return Math.floor(offset + ticks);
}
