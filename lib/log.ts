/**
 * A small leveled logger writing one line per event. Callers pass structured fields;
 * nothing secret (tokens, keys, secret values) may ever be passed in.
 */

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

const RANK: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4 };

export interface Logger {
  level: LogLevel;
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

export function createLogger(level: LogLevel = 'info', sink: LogSink = (line) => process.stderr.write(`${line}\n`)): Logger {
  const logger: Logger = {
    level,
    trace: (m, f) => write('trace', m, f),
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
  function write(at: LogLevel, message: string, fields?: Record<string, unknown>): void {
    if (RANK[at] < RANK[logger.level]) return;
    let line = `${new Date().toISOString()} [${at.toUpperCase()}] ${message}`;
    if (fields) for (const [key, value] of Object.entries(fields)) line += ` ${key}=${render(value)}`;
    sink(line);
  }
  return logger;
}

/** Discards everything: for library use and tests that do not look at logs. */
export const silentLogger: Logger = createLogger('error', () => {});
