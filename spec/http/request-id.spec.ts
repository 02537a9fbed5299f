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
    // Within one prefix the last six digits count up by one; a new prefix may start in between.
    const prefixes = new Set(ids.map((id) => id.slice(0, 30)));
    expect(prefixes.size).toBeLessThanOrEqual(2);
    const steps = ids.slice(1).filter((id, i) => id.slice(0, 30) === ids[i]!.slice(0, 30));
    expect(steps.length).toBeGreaterThanOrEqual(ids.length - 2);
    for (const [i, id] of ids.entries()) {
      if (i > 0 && id.slice(0, 30) === ids[i - 1]!.slice(0, 30)) expect(parseInt(id.slice(30), 16)).toBe(parseInt(ids[i - 1]!.slice(30), 16) + 1);
    }
  });
});
