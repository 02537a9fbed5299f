import { isAbsolute, resolve } from 'node:path';
import { ApiError } from '../errors.js';
import { parseDurationMillis } from '../duration.js';

/**
 * The `file` device's options, checked at enable: every problem is a 400 naming the option.
 * Kept as strings, as Vault keeps and lists them.
 */

export interface FileOptions {
  file_path: string;
  log_raw: string;
  hmac_accessor: string;
  mode: string;
  write_timeout: string;
  /** `line`: a chain value on every line; `write` (the default, and what an absent option means): one per write (chain.ts). Listed only when given. */
  chain?: 'write' | 'line';
}

export const DEFAULT_WRITE_TIMEOUT = '5s';
const KNOWN = ['file_path', 'log_raw', 'hmac_accessor', 'mode', 'write_timeout', 'chain', 'format'];
const invalid = (message: string): ApiError => new ApiError('ERR_INVALID_FIELD', message);

function bool(name: string, value: unknown, fallback: boolean): string {
  if (value === undefined || value === null || value === '') return String(fallback);
  if (value === true || value === 'true' || value === '1' || value === 1) return 'true';
  if (value === false || value === 'false' || value === '0' || value === 0) return 'false';
  throw invalid(`option '${name}' must be true or false`);
}

export function parseFileOptions(raw: Record<string, unknown>): FileOptions {
  for (const name of Object.keys(raw)) {
    if (!KNOWN.includes(name)) throw invalid(`unknown option '${name}' for the file audit device; known: ${KNOWN.join(', ')}`);
  }
  if (raw.format !== undefined && raw.format !== 'json') throw invalid("option 'format' must be \"json\"");
  const filePath = raw.file_path;
  if (filePath === undefined || filePath === null || filePath === '') throw new ApiError('ERR_MISSING_FIELD', "missing required option 'file_path'");
  if (typeof filePath !== 'string' || filePath.includes('\0')) throw invalid("option 'file_path' must be a file path or \"stdout\"");
  const mode = raw.mode === undefined || raw.mode === null || raw.mode === '' ? '0600' : String(raw.mode);
  if (!/^[0-7]{1,4}$/.test(mode)) throw invalid("option 'mode' must be an octal file mode such as \"0600\"");
  const timeout = raw.write_timeout === undefined || raw.write_timeout === null || raw.write_timeout === '' ? DEFAULT_WRITE_TIMEOUT : raw.write_timeout;
  if (typeof timeout !== 'string' && typeof timeout !== 'number') throw invalid("option 'write_timeout' must be a duration such as \"5s\"");
  let millis: number;
  try {
    millis = parseDurationMillis(timeout);
  } catch {
    throw invalid("option 'write_timeout' must be a duration such as \"5s\"");
  }
  if (millis <= 0 || millis > 600_000) throw invalid("option 'write_timeout' must be more than 0 and at most 10m");
  const chain = raw.chain === undefined || raw.chain === null || raw.chain === '' ? undefined : raw.chain;
  if (chain !== undefined && chain !== 'write' && chain !== 'line') throw invalid("option 'chain' must be \"write\" (a chain value per write) or \"line\" (one on every line)");
  return {
    file_path: filePath,
    log_raw: bool('log_raw', raw.log_raw, false),
    hmac_accessor: bool('hmac_accessor', raw.hmac_accessor, true),
    mode,
    write_timeout: String(timeout),
    ...(chain === undefined ? {} : { chain }),
  };
}

/** The file a device writes, for telling whether two devices share one ('stdout' as is). */
export function targetOf(filePath: string): string {
  return filePath === 'stdout' ? filePath : isAbsolute(filePath) ? resolve(filePath) : resolve(process.cwd(), filePath);
}

export function writeTimeoutMillis(options: FileOptions): number {
  return parseDurationMillis(options.write_timeout);
}
