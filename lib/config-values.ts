import { parseDuration, parseDurationMillis } from './duration.js';
import type { HclValue } from './hcl/parser.js';

/**
 * The value readers of the server configuration (config.ts): each takes what the HCL or JSON
 * said for one key and returns it typed, or calls `fail` with why it cannot be used.
 */

export type TlsVersion = 'tls12' | 'tls13';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'standard' | 'json';

/** Throws the startup error for the key being read, naming its file and line. */
export type Fail = (reason: string) => never;

function show(value: HclValue): string {
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

export function readText(value: HclValue, fail: Fail): string {
  if (typeof value !== 'string') return fail(`expected a string, got ${show(value)}`);
  if (value === '') return fail('must not be empty');
  return value;
}

/** Booleans as Vault takes them: true/false, or the strings "true"/"false"/"1"/"0", or 1/0. */
export function readBool(value: HclValue, fail: Fail): boolean {
  const text = typeof value === 'object' ? '' : String(value).toLowerCase();
  if (text === 'true' || text === '1') return true;
  if (text === 'false' || text === '0') return false;
  return fail(`expected true or false, got ${show(value)}`);
}

export function readTtl(value: HclValue, fail: Fail): number {
  if (typeof value !== 'string' && typeof value !== 'number') return fail(`expected a duration such as "768h", got ${show(value)}`);
  let seconds: number;
  try {
    seconds = parseDuration(value);
  } catch {
    return fail(`invalid duration ${show(value)}: use seconds or a string such as "90s", "15m", "768h"`);
  }
  return seconds > 0 ? seconds : fail('must be longer than zero seconds');
}

export function readLogLevel(value: HclValue, fail: Fail): LogLevel {
  const level = readText(value, fail).toLowerCase();
  const normalized = level === 'warning' ? 'warn' : level;
  if (['trace', 'debug', 'info', 'warn', 'error'].includes(normalized)) return normalized as LogLevel;
  return fail(`unsupported value ${show(value)}: use trace, debug, info, warn or error`);
}

export function readLogFormat(value: HclValue, fail: Fail): LogFormat {
  const format = readText(value, fail).toLowerCase();
  if (format === 'standard' || format === 'json') return format;
  return fail(`unsupported value ${show(value)}: use standard or json`);
}

export function readUrl(value: HclValue, fail: Fail): string {
  const text = readText(value, fail);
  if (!URL.canParse(text) || !['http:', 'https:'].includes(new URL(text).protocol)) {
    return fail(`expected an http:// or https:// URL, got ${show(value)}`);
  }
  return text;
}

export function readAddress(value: HclValue, fail: Fail): string {
  const text = readText(value, fail);
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(text);
  if (match === null || Number(match[2]) > 65535) return fail(`expected host:port, got ${show(value)}`);
  return text;
}

export function readTlsVersion(value: HclValue, fail: Fail): TlsVersion {
  const text = readText(value, fail);
  if (text === 'tls12' || text === 'tls13') return text;
  const insecure = text === 'tls10' || text === 'tls11' ? ': TLS 1.0 and 1.1 are insecure and refused' : '';
  return fail(`unsupported value ${show(value)}${insecure}; use "tls12" or "tls13"`);
}

export function readTimeout(value: HclValue, fail: Fail): number {
  if (typeof value !== 'string' && typeof value !== 'number') return fail(`expected a duration such as "10s" or "500ms", got ${show(value)}`);
  try {
    return parseDurationMillis(value);
  } catch {
    return fail(`invalid duration ${show(value)}: use seconds or a string such as "500ms", "10s", "1m"`);
  }
}

function readPositive(value: HclValue, fail: Fail, unit: string): number {
  const size = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof size === 'number' && Number.isSafeInteger(size) && size > 0) return size;
  return fail(`expected a positive whole number${unit}, got ${show(value)}`);
}

export function readSize(value: HclValue, fail: Fail): number {
  return readPositive(value, fail, ' of bytes');
}

export function readCount(value: HclValue, fail: Fail): number {
  return readPositive(value, fail, '');
}
