import { describe, expect, it } from 'vitest';
import { createLogger } from '../lib/log.js';

/** lib/log.ts: both line formats and the level filter. */

describe('the logger', () => {
  it('writes JSON lines with the three fixed keys first, fields after, errors as their stack', () => {
    const lines: string[] = [];
    const logger = createLogger('debug', (line) => lines.push(line), 'json');
    const err = new Error('boom');
    logger.error('request failed', { request_id: 'r-1', error: err, '@level': 'spoofed', nothing: undefined });
    logger.trace('hidden');
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!);
    expect(Object.keys(entry)).toEqual(['@timestamp', '@level', '@message', 'request_id', 'error', 'nothing']);
    expect(entry).toMatchObject({ '@level': 'error', '@message': 'request failed', request_id: 'r-1', error: err.stack, nothing: null });
    expect(new Date(entry['@timestamp']).toISOString()).toBe(entry['@timestamp']);
  });

  it('writes standard lines: time, level, message, key=value', () => {
    const lines: string[] = [];
    const logger = createLogger('info', (line) => lines.push(line));
    logger.info('listening', { url: 'http://127.0.0.1:8200', note: 'two words' });
    logger.debug('hidden');
    expect(logger.format).toBe('standard');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\S+Z \[INFO\] listening url=http:\/\/127\.0\.0\.1:8200 note="two words"$/);
  });

  it('answers enabled() by level', () => {
    const logger = createLogger('warn', () => {});
    expect(['trace', 'debug', 'info', 'warn', 'error'].map((l) => logger.enabled(l as never))).toEqual([false, false, false, true, true]);
  });
});
