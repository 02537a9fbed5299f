import { flagString, UsageError, type ParsedFlags } from './flags.js';

/** A whole-number flag, or its default; anything else is a usage error. */
export function intFlag(flags: ParsedFlags, name: string, fallback: number): number {
  const raw = flagString(flags, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new UsageError(`-${name} must be a whole number, not '${raw}'`);
  return Number(raw);
}
