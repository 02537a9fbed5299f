/**
 * A small leveled logger writing one line per event, in one of two formats: `standard`
 * (`<time> [LEVEL] message key=value …`, for people) or `json` (one object a line:
 * `{"@timestamp","@level","@message", …fields}`, for log shippers). Callers pass structured
 * fields; nothing secret (tokens, keys, secret values) may ever be passed in.
 */

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
export type LogFormat = 'standard' | 'json';

const RANK: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

export interface Logger {
  level: LogLevel;
  readonly format: LogFormat;
  /** Whether a line at `at` would be written: check it before building costly fields. */
  enabled(at: LogLevel): boolean;
  trace(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export type LogSink = (line: string) => void;

function render(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(value.stack ?? value.message);
  if (typeof value === 'string') return /^[\w./:@-]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

/** JSON has no Error: its stack (or message) stands for it, as in the standard format. */
function jsonValue(value: unknown): unknown {
  if (value instanceof Error) return value.stack ?? value.message;
  return value === undefined ? null : value;
}

function standardLine(at: LogLevel, message: string, fields?: Record<string, unknown>): string {
  let line = `${new Date().toISOString()} [${at.toUpperCase()}] ${message}`;
  if (fields) for (const [key, value] of Object.entries(fields)) line += ` ${key}=${render(value)}`;
  return line;
}

function jsonLine(at: LogLevel, message: string, fields?: Record<string, unknown>): string {
  const out: Record<string, unknown> = { '@timestamp': new Date().toISOString(), '@level': at, '@message': message };
  // A field may not replace the three fixed keys.
  if (fields) for (const [key, value] of Object.entries(fields)) if (!key.startsWith('@')) out[key] = jsonValue(value);
  return JSON.stringify(out);
}

export function createLogger(level: LogLevel = 'info', sink: LogSink = (line) => process.stderr.write(`${line}\n`), format: LogFormat = 'standard'): Logger {
  const lineOf = format === 'json' ? jsonLine : standardLine;
  const logger: Logger = {
    level,
    format,
    enabled: (at) => RANK[at] >= RANK[logger.level],
    trace: (m, f) => write('trace', m, f),
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
  function write(at: LogLevel, message: string, fields?: Record<string, unknown>): void {
    if (RANK[at] < RANK[logger.level]) return;
    sink(lineOf(at, message, fields));
  }
  return logger;
}

/**
 * Discards everything: for library use and tests that do not look at logs. Shared by every
 * server given it, so its level stays `error` whatever is assigned (a reload's `log_level`
 * included): one server's reload must not make another time and build debug lines.
 */
export const silentLogger: Logger = Object.defineProperty(createLogger('error', () => {}), 'level', {
  get: () => 'error',
  set: () => {},
  enumerable: true,
});
