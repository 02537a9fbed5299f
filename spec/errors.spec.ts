import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ApiError, STATUS, statusOf, type ErrorCode } from '../lib/errors.js';
import { VERSION } from '../lib/version.js';

describe('the status table', () => {
  const TABLE: Array<[ErrorCode, number]> = [
    ['ERR_INVALID_REQUEST', 400],
    ['ERR_MISSING_FIELD', 400],
    ['ERR_INVALID_FIELD', 400],
    ['ERR_INVALID_JSON', 400],
    ['ERR_INVALID_PATH', 400],
    ['ERR_INVALID_QUERY', 400],
    ['ERR_INVALID_MOUNT', 400],
    ['ERR_INVALID_POLICY', 400],
    ['ERR_INVALID_TOKEN_PARAMS', 400],
    ['ERR_NOT_RENEWABLE', 400],
    ['ERR_REKEY', 400],
    ['ERR_ALREADY_UNSEALED', 400],
    ['ERR_NOT_INITIALIZED', 400],
    ['ERR_ALREADY_INITIALIZED', 400],
    ['ERR_INVALID_SEAL_CONFIG', 400],
    ['ERR_INVALID_KEY', 400],
    ['ERR_INVALID_CREDENTIALS', 400],
    ['ERR_PERMISSION_DENIED', 401],
    ['ERR_NOT_FOUND', 404],
    ['ERR_UNSUPPORTED_OPERATION', 405],
    ['ERR_BODY_TOO_LARGE', 413],
    ['ERR_RATE_LIMITED', 429],
    ['ERR_HTTP_VERSION', 505],
    ['ERR_INTERNAL', 500],
    ['ERR_INTEGRITY', 500],
    ['ERR_STORAGE', 500],
    ['ERR_SEALED', 503],
    ['ERR_SHUTTING_DOWN', 503],
    ['ERR_NO_ACTIVE_NODE', 503],
  ];

  it.each(TABLE)('%s is %i', (code, status) => {
    expect(STATUS[code]).toBe(status);
    expect(statusOf(new ApiError(code, 'x'))).toBe(status);
  });

  it('lists every code, once', () => {
    expect(TABLE.map(([code]) => code).sort()).toEqual(Object.keys(STATUS).sort());
  });

  it('maps anything that is not an ApiError to 500', () => {
    expect(statusOf(new Error('boom'))).toBe(500);
    expect(statusOf('string')).toBe(500);
  });
});

describe('the version', () => {
  it('matches package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string; dependencies?: object };
    expect(VERSION).toBe(pkg.version);
    expect(pkg.dependencies ?? {}).toEqual({});
  });
});

describe('ApiError stacks', () => {
  it('captures no stack for a 4xx (answered, never logged with one) and keeps one for a 5xx', () => {
    const limit = Error.stackTraceLimit;
    const refusal = new ApiError('ERR_PERMISSION_DENIED', 'permission denied');
    expect(refusal.stack).toBe('ApiError: permission denied');
    const internal = new ApiError('ERR_STORAGE', 'storage failed');
    expect(internal.stack?.split('\n').length).toBeGreaterThan(1);
    expect(internal.stack).toContain('errors.spec.ts');
    expect(Error.stackTraceLimit).toBe(limit);
    expect(refusal).toBeInstanceOf(Error);
  });
});
