import { describe, expect, it } from 'vitest';
import { nextRequestId } from '../../lib/http/request-id.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('request ids', () => {
  it('are version-4-shaped UUIDs', () => {
    for (let i = 0; i < 100; i++) expect(nextRequestId()).toMatch(UUID_V4);
  });

  it('never repeat: a shared random prefix and a counter that counts up by one', () => {
    const ids = Array.from({ length: 10_000 }, () => nextRequestId());
    expect(new Set(ids).size).toBe(ids.length);
    const prefix = ids[0]!.slice(0, 24);
    expect(ids.every((id) => id.startsWith(prefix))).toBe(true);
    const counters = ids.map((id) => parseInt(id.slice(24), 16));
    expect(counters.every((c, i) => i === 0 || c === counters[i - 1]! + 1)).toBe(true);
  });
});
