import { describe, it, expect } from 'vitest';
import { formatDuration, parseDuration, parseDurationMillis } from '../lib/duration.js';
import { ApiError } from '../lib/errors.js';

describe('parseDuration', () => {
  it.each<[string | number, number]>([
    [0, 0],
    [90, 90],
    [2.9, 2],
    [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
    ['0', 0],
    ['10', 10],
    ['007', 7],
    ['0s', 0],
    ['90s', 90],
    ['15m', 900],
    ['768h', 2_764_800],
    ['1h30m', 5400],
    ['1h30m15s', 5415],
    ['30m1h', 5400],
    ['2d', 172_800],
    ['1d12h', 129_600],
    ['1.5h', 5400],
    ['0.1h', 360],
    ['2.75s', 2],
    ['1500ms', 1],
    ['999ms', 0],
    ['500ms', 0],
    ['1m500ms', 60],
    ['2000000us', 2],
    ['3000000µs', 3],
    ['1000000000ns', 1],
    ['1h0m0s', 3600],
  ])('%j is %i seconds', (input, seconds) => {
    expect(parseDuration(input)).toBe(seconds);
  });

  it.each<[string | number]>([
    [''], [' 1h'], ['1h '], ['1 h'], ['-1'], ['-5m'], ['+5m'], ['1'.repeat(65)],
    ['5w'], ['1y'], ['1H'], ['h'], ['1.5'], ['.5h'], ['1.h'], ['1h30'], ['abc'], ['1e3s'],
    ['99999999999999999999h'],
    [-1], [Number.NaN], [Number.POSITIVE_INFINITY], [Number.MAX_SAFE_INTEGER + 2],
  ])('refuses %j with ERR_INVALID_FIELD', (input) => {
    let caught: unknown;
    try {
      parseDuration(input);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ApiError);
    expect((caught as ApiError).code).toBe('ERR_INVALID_FIELD');
    expect((caught as ApiError).status).toBe(400);
    expect((caught as ApiError).message).toMatch(/^invalid duration "/);
  });

  it('names the offending value, shortened when long', () => {
    expect(() => parseDuration('5w')).toThrow('invalid duration "5w"');
    expect(() => parseDuration('x'.repeat(1000))).toThrow(`invalid duration "${'x'.repeat(64)}…"`);
  });
});

describe('parseDurationMillis', () => {
  it.each<[string | number, number]>([
    [10, 10_000],
    ['10', 10_000],
    [0.25, 250],
    ['250ms', 250],
    ['1.5s', 1_500],
    ['1m', 60_000],
    ['1500us', 1],
    ['999us', 0],
    ['0', 0],
  ])('reads %j as %d ms', (input, ms) => {
    expect(parseDurationMillis(input)).toBe(ms);
  });

  it.each<[unknown]>([[''], ['-1s'], ['5 s'], ['1w'], [-1], [Number.NaN], [Number.MAX_SAFE_INTEGER]])('refuses %j', (input) => {
    expect(() => parseDurationMillis(input as string)).toThrow(ApiError);
  });
});

describe('formatDuration', () => {
  it.each<[number, string]>([
    [0, '0s'],
    [45, '45s'],
    [90, '1m30s'],
    [3600, '1h0m0s'],
    [5415, '1h30m15s'],
    [2_764_800, '768h0m0s'],
  ])('%i seconds is %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each([[-1], [1.5], [Number.NaN]])('refuses %d', (seconds) => {
    expect(() => formatDuration(seconds)).toThrow(RangeError);
  });
});
