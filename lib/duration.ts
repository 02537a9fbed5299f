/**
 * Durations as the API and the configuration accept them, always resolved to whole seconds.
 *
 * Accepted: a non-negative number of seconds (a number, or a string of digits such as "10"),
 * or a Go-style sequence of decimal amounts with units, e.g. "768h", "1h30m", "1.5h", "90s".
 * Units: ns, us (µs), ms, s, m, h, and d (24h, which Go lacks but operators expect).
 * Sub-second remainders are floored ("1500ms" is 1, "500ms" is 0) because leases and TTLs
 * are counted in whole seconds; arithmetic is exact (BigInt nanoseconds), so "0.1h" is 360.
 * Signs, spaces, other units and values above Number.MAX_SAFE_INTEGER seconds are refused.
 */
import { ApiError } from './errors.js';

const NANOS_PER_UNIT: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n,
  'μs': 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
  d: 86_400_000_000_000n,
};
const NANOS_PER_SECOND = 1_000_000_000n;
const NANOS_PER_MILLI = 1_000_000n;
// "ms" must be tried before "m", or "1ms" would read as one minute followed by garbage.
const SEGMENT = /(\d+)(?:\.(\d+))?(ns|us|µs|μs|ms|s|m|h|d)/y;
/** Longer strings are not durations anyone means, and would only cost BigInt work. */
const MAX_INPUT_LENGTH = 64;

export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0 || value > Number.MAX_SAFE_INTEGER) throw invalid(value);
    return Math.floor(value);
  }
  return checked(nanosOf(value) / NANOS_PER_SECOND, value);
}

/**
 * The same forms in whole milliseconds, for timeouts where a second is too coarse: a bare
 * number still means seconds ("10" and 10 are 10000), "250ms" is 250, "1500us" is 1.
 */
export function parseDurationMillis(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0 || value * 1000 > Number.MAX_SAFE_INTEGER) throw invalid(value);
    return Math.floor(value * 1000);
  }
  return checked(nanosOf(value) / NANOS_PER_MILLI, value);
}

function nanosOf(value: string): bigint {
  if (typeof value !== 'string' || value === '' || value.length > MAX_INPUT_LENGTH) throw invalid(value);
  if (/^\d+$/.test(value)) return BigInt(value) * NANOS_PER_SECOND;
  let nanos = 0n;
  SEGMENT.lastIndex = 0;
  while (SEGMENT.lastIndex < value.length) {
    const start = SEGMENT.lastIndex;
    const match = SEGMENT.exec(value);
    if (match === null || match.index !== start) throw invalid(value);
    const [, whole, fraction = '', unit] = match;
    const perUnit = NANOS_PER_UNIT[unit!]!;
    nanos += BigInt(whole!) * perUnit;
    if (fraction !== '') nanos += (BigInt(fraction) * perUnit) / 10n ** BigInt(fraction.length);
  }
  return nanos;
}

/**
 * Go's time.Duration style without the sub-second part: 0 → "0s", 90 → "1m30s",
 * 2764800 → "768h0m0s". The output parses back to the same number with parseDuration.
 */
export function formatDuration(seconds: number): string {
  if (!Number.isSafeInteger(seconds) || seconds < 0) {
    throw new RangeError(`formatDuration needs a non-negative whole number of seconds, got ${seconds}`);
  }
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  if (hours > 0) return `${hours}h${minutes}m${rest}s`;
  if (minutes > 0) return `${minutes}m${rest}s`;
  return `${rest}s`;
}

function checked(amount: bigint, original: string): number {
  if (amount > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid(original);
  return Number(amount);
}

function invalid(value: unknown): ApiError {
  const shown = typeof value === 'string' && value.length > MAX_INPUT_LENGTH ? `${value.slice(0, MAX_INPUT_LENGTH)}…` : String(value);
  return new ApiError(
    'ERR_INVALID_FIELD',
    `invalid duration "${shown}": use whole seconds or a string such as "90s", "15m" or "768h"`,
  );
}
