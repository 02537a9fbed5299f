/**
 * The request clock for latencies. Reading node's clock costs about 45 ns, and a request
 * needs two readings: on the hot cached read (well under a microsecond of work) that alone
 * would be a sixth of its cost. So latencies are sampled: about one request in
 * SAMPLE_EVERY, picked at random (a random pick cannot fall into step with a client that
 * cycles through a fixed set of paths), is timed; every request is still counted. The
 * histograms' `_count` is then the number of timed requests, and their quantiles and mean
 * are those of an unbiased sample.
 *
 * Readings are microseconds wrapped to 30 bits, so each is a small integer: V8 keeps those
 * inline, where a fractional `performance.now()` kept in a request object or a closure is
 * a heap allocation of its own. The wrap (about 17.9 minutes) is far beyond any request's
 * life: the listener times out in minutes.
 */

const WRAP = 2 ** 30;
export const SAMPLE_EVERY = 8;
/** Not timed. */
export const UNTIMED = -1;

// xorshift32 state, in a typed array so it never becomes a heap number.
const state = new Int32Array([0x2545f491]);

/** Now, in wrapped microseconds. */
export function ticks(): number {
  return (performance.now() * 1000) % WRAP | 0;
}

/** ticks() for about one call in SAMPLE_EVERY, UNTIMED for the others. */
export function sampledTicks(): number {
  let s = state[0]!;
  s ^= s << 13;
  s ^= s >>> 17;
  s ^= s << 5;
  state[0] = s;
  return (s & (SAMPLE_EVERY - 1)) === 0 ? ticks() : UNTIMED;
}

/** Seconds from `start` (a ticks() reading) to now. */
export function secondsSince(start: number): number {
  const elapsed = ticks() - start;
  return (elapsed < 0 ? elapsed + WRAP : elapsed) / 1e6;
}
