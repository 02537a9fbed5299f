/**
 * The request clock for latencies. Reading node's clock costs 45 ns or more, and a request
 * needs two readings: on the hot cached read (well under a microsecond of work) that alone
 * would be a sixth of its cost. So the fast path's answers are sampled: about one in
 * SAMPLE_MEAN, at random gaps (a random gap cannot fall into step with a client that cycles
 * through a fixed set of paths), is timed, and its observation weighs SAMPLE_MEAN in the
 * histogram, so that bucket counts, `_sum` and `_count` stay unbiased estimates of the
 * whole traffic. Every request that goes on to the pipeline, or sends a body, is timed
 * (weight 1): it costs microseconds, the clock is noise there. Every request is counted.
 *
 * Readings are microseconds wrapped to 30 bits, so each is a small integer: V8 keeps those
 * inline, where a fractional `performance.now()` kept in a request object or a closure is
 * a heap allocation of its own. The wrap (about 17.9 minutes) is far beyond any request's
 * life: the listener times out in minutes.
 */

const WRAP = 2 ** 30;
export const SAMPLE_MEAN = 8;
/** Not timed (yet). */
export const UNTIMED = -1;

let countdown = 1;

/** Now, in wrapped microseconds. */
export function ticks(): number {
  return (performance.now() * 1000) % WRAP | 0;
}

/** ticks() for about one call in SAMPLE_MEAN, UNTIMED for the others: a decrement, mostly. */
export function sampledTicks(): number {
  if (--countdown !== 0) return UNTIMED;
  // The next gap: 1 to 2·SAMPLE_MEAN − 1 calls, SAMPLE_MEAN on average.
  countdown = 1 + Math.floor(Math.random() * (2 * SAMPLE_MEAN - 1));
  return ticks();
}

/** Seconds from `start` (a ticks() reading) to now. */
export function secondsSince(start: number): number {
  const elapsed = ticks() - start;
  return (elapsed < 0 ? elapsed + WRAP : elapsed) / 1e6;
}
