import { expect } from 'vitest';

/** The envelope keys every enveloped answer carries (api.md §5). */
export const ENVELOPE_KEYS = ['request_id', 'lease_id', 'renewable', 'lease_duration', 'data', 'wrap_info', 'warnings', 'auth'] as const;

/**
 * A `sys/` answer's own fields (api.md §5): it must carry them both at the top level and in
 * `data`, inside an envelope with a request id. Returns the fields, for further checks.
 */
export function sysFields(body: Record<string, unknown>): Record<string, unknown> {
  expect(typeof body.request_id).toBe('string');
  expect(body.request_id).not.toBe('');
  expect(body).toMatchObject({ wrap_info: null, auth: null });
  const data = body.data as Record<string, unknown>;
  expect(data).toBeTypeOf('object');
  expect(data).not.toBeNull();
  const top: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    // An envelope key is a field too when data has it (sys/leases/lookup's renewable).
    if (!(ENVELOPE_KEYS as readonly string[]).includes(key) || (key !== 'data' && key !== 'request_id' && Object.hasOwn(data, key))) top[key] = value;
  }
  expect(top).toEqual(data);
  return data;
}
