import { expect } from 'vitest';
import type { HttpOptions, HttpResult } from './http.js';

/**
 * Logins are rate-limited per address by default (10/s, burst 20: lib/core/quotas). A spec
 * that logs in many times from 127.0.0.1 on purpose lifts the limit for its mount the way an
 * operator would: with a stored quota on the mount, which replaces the built-in one.
 */
export async function liftLoginLimit(
  request: (method: string, path: string, options: HttpOptions & { token?: string }) => Promise<HttpResult>,
  rootToken: string,
  mountPath: string,
  options: HttpOptions = {},
): Promise<void> {
  const name = `spec-${mountPath.replace(/[^a-z0-9]+/gi, '-').replace(/-+$/, '')}`;
  const res = await request('POST', `/v1/sys/quotas/rate-limit/${name}`, { ...options, token: rootToken, body: { path: mountPath, rate: 100_000, burst: 100_000 } });
  expect(res.status, res.text).toBe(204);
}
