import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isApiError } from '../../lib/errors.js';
import { startCore, type TestCore } from '../helpers/core.js';
import { registerLeasingBackend, type LeasingRecorder } from '../helpers/leasing-backend.js';

/** Token TTLs and leases on a fake clock (api.md §8, §11): expiry, renewal limits, restore on unseal. */

let t: TestCore;
let recorder: LeasingRecorder;
let unregister: () => void;

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
  ({ recorder, unregister } = registerLeasingBackend());
});
afterEach(() => {
  vi.useRealTimers();
  unregister();
});

async function denied(promise: Promise<unknown>): Promise<boolean> {
  try {
    await promise;
    return false;
  } catch (err) {
    return isApiError(err, 'ERR_PERMISSION_DENIED');
  }
}

async function createToken(body: Record<string, unknown>): Promise<string> {
  const res = await t.request('update', 'auth/token/create', t.rootToken, body);
  return res!.auth!.clientToken;
}

describe('token TTLs', () => {
  it('a 1s token works, then is 401 once expired, and is revoked by its timer', async () => {
    t = await startCore();
    const token = await createToken({ ttl: '1s', policies: ['default'] });
    expect((await t.request('read', 'auth/token/lookup-self', token))!.data!.ttl).toBe(1);
    await vi.advanceTimersByTimeAsync(1_100);
    expect(await denied(t.request('read', 'auth/token/lookup-self', token))).toBe(true);
    // Revoked, not just refused: the entry is gone.
    expect(await t.core.tokens.lookup(token)).toBeNull();
  });

  it('renew extends up to the maximum and never past it', async () => {
    t = await startCore({ defaultLeaseTtl: 5, maxLeaseTtl: 10 });
    const token = await createToken({ policies: ['default'] });
    expect((await t.request('read', 'auth/token/lookup-self', token))!.data!.ttl).toBe(5);
    await vi.advanceTimersByTimeAsync(3_000);
    const renewed = await t.request('update', 'auth/token/renew-self', token, { increment: '1h' });
    // created at 0, max 10 s, now 3 s: at most 7 s left, however much was asked for.
    expect(renewed!.auth!.leaseDuration).toBe(7);
    await vi.advanceTimersByTimeAsync(6_000);
    const again = await t.request('update', 'auth/token/renew-self', token, {});
    expect(again!.auth!.leaseDuration).toBe(1);
    await vi.advanceTimersByTimeAsync(1_100);
    expect(await denied(t.request('read', 'auth/token/lookup-self', token))).toBe(true);
  });

  it('renew without increment restores the original TTL', async () => {
    t = await startCore({ defaultLeaseTtl: 60, maxLeaseTtl: 3600 });
    const token = await createToken({ ttl: '30s' });
    await vi.advanceTimersByTimeAsync(20_000);
    expect((await t.request('update', 'auth/token/renew-self', token, {}))!.auth!.leaseDuration).toBe(30);
    await vi.advanceTimersByTimeAsync(25_000);
    expect((await t.request('read', 'auth/token/lookup-self', token))!.data!.ttl).toBe(5);
  });

  it('clamps a requested TTL to max_lease_ttl and to explicit_max_ttl', async () => {
    t = await startCore({ defaultLeaseTtl: 60, maxLeaseTtl: 120 });
    const long = await createToken({ ttl: '10h' });
    expect((await t.request('read', 'auth/token/lookup-self', long))!.data!.ttl).toBe(120);
    const capped = await createToken({ ttl: '100s', explicit_max_ttl: '50s' });
    expect((await t.request('read', 'auth/token/lookup-self', capped))!.data!.ttl).toBe(50);
  });

  it('a periodic token renews forever by its period', async () => {
    t = await startCore({ defaultLeaseTtl: 60, maxLeaseTtl: 120 });
    const token = await createToken({ period: '100s' });
    for (let i = 0; i < 5; i++) {
      await vi.advanceTimersByTimeAsync(90_000);
      expect((await t.request('update', 'auth/token/renew-self', token, {}))!.auth!.leaseDuration).toBe(100);
    }
  });

  it('revoking a parent on expiry revokes its children', async () => {
    t = await startCore();
    const parent = await createToken({ ttl: '2s' });
    const child = (await t.request('update', 'auth/token/create', parent, { ttl: '1h' }))!.auth!.clientToken;
    await vi.advanceTimersByTimeAsync(2_100);
    expect(await t.core.tokens.lookup(child)).toBeNull();
  });

  it('root tokens never expire', async () => {
    t = await startCore({ defaultLeaseTtl: 1, maxLeaseTtl: 1 });
    await vi.advanceTimersByTimeAsync(86_400_000);
    expect((await t.request('read', 'auth/token/lookup-self', t.rootToken))!.data!.expire_time).toBeNull();
  });
});

describe('leases', () => {
  it('a leased secret is revoked on time', async () => {
    t = await startCore();
    await t.request('update', 'sys/mounts/creds', t.rootToken, { type: 'leasing' });
    const res = await t.request('read', 'creds/creds/db', t.rootToken, { ttl: '30s' });
    expect(res!.secret).toMatchObject({ ttl: 30, renewable: true });
    expect(res!.secret!.leaseId).toMatch(/^creds\/creds\/db\/[0-9a-f-]{36}$/);
    await vi.advanceTimersByTimeAsync(29_000);
    expect(recorder.revoked).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_100);
    expect(recorder.revoked).toEqual(['db-1']);
    expect(await t.core.expiration.lookup(res!.secret!.leaseId!)).toBeNull();
  });

  it('leases survive seal and unseal and expire on time afterwards', async () => {
    t = await startCore();
    await t.request('update', 'sys/mounts/creds', t.rootToken, { type: 'leasing' });
    const res = await t.request('read', 'creds/creds/db', t.rootToken, { ttl: '60s' });
    await t.core.seal();
    // Sealed: no timer may fire (the keys are gone).
    await vi.advanceTimersByTimeAsync(30_000);
    expect(recorder.revoked).toEqual([]);
    await t.core.unseal(t.unsealKey);
    const lookup = await t.request('update', 'sys/leases/lookup', t.rootToken, { lease_id: res!.secret!.leaseId });
    expect(lookup!.data!.ttl).toBe(30);
    await vi.advanceTimersByTimeAsync(29_000);
    expect(recorder.revoked).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_100);
    expect(recorder.revoked).toEqual(['db-1']);
  });

  it('a lease that expired while sealed is revoked right after unseal', async () => {
    t = await startCore();
    await t.request('update', 'sys/mounts/creds', t.rootToken, { type: 'leasing' });
    await t.request('read', 'creds/creds/db', t.rootToken, { ttl: '10s' });
    await t.core.seal();
    await vi.advanceTimersByTimeAsync(60_000);
    await t.core.unseal(t.unsealKey);
    await vi.advanceTimersByTimeAsync(0);
    expect(recorder.revoked).toEqual(['db-1']);
  });

  it('renews within the mount maximum, and revokes on request', async () => {
    t = await startCore({ defaultLeaseTtl: 60, maxLeaseTtl: 100 });
    await t.request('update', 'sys/mounts/creds', t.rootToken, { type: 'leasing' });
    const res = await t.request('read', 'creds/creds/db', t.rootToken, { ttl: '60s' });
    const id = res!.secret!.leaseId!;
    await vi.advanceTimersByTimeAsync(50_000);
    const renewed = await t.request('update', `sys/renew/${id}`, t.rootToken, { increment: '1h' });
    expect(renewed!.secret).toMatchObject({ ttl: 50, leaseId: id });
    expect(await t.request('update', 'sys/leases/revoke', t.rootToken, { lease_id: id })).toBeNull();
    expect(recorder.revoked).toEqual(['db-1']);
  });

  it('revoking a token revokes the leases it created', async () => {
    t = await startCore();
    await t.request('update', 'sys/mounts/creds', t.rootToken, { type: 'leasing' });
    const token = await createToken({ policies: ['root'] });
    await t.request('read', 'creds/creds/a', token);
    await t.request('read', 'creds/creds/b', token);
    await t.request('update', 'auth/token/revoke', t.rootToken, { token });
    expect(recorder.revoked.sort()).toEqual(['a-1', 'b-2']);
  });

  it('revoke-prefix revokes everything under a prefix', async () => {
    t = await startCore();
    await t.request('update', 'sys/mounts/creds', t.rootToken, { type: 'leasing' });
    await t.request('read', 'creds/creds/a', t.rootToken);
    await t.request('read', 'creds/creds/b', t.rootToken);
    await t.request('update', 'sys/leases/revoke-prefix/creds/creds/a', t.rootToken);
    expect(recorder.revoked).toEqual(['a-1']);
    await t.request('update', 'sys/revoke-prefix/creds/', t.rootToken);
    expect(recorder.revoked.sort()).toEqual(['a-1', 'b-2']);
  });

  it('retries a failing revocation with backoff', async () => {
    t = await startCore();
    await t.request('update', 'sys/mounts/creds', t.rootToken, { type: 'leasing' });
    const backend = t.core.mounts.get('creds/')!.backend;
    let failures = 2;
    const original = backend.revokeLease!;
    backend.revokeLease = async (data, storage) => {
      if (failures-- > 0) throw new Error('backend down');
      return original(data, storage);
    };
    const res = await t.request('read', 'creds/creds/db', t.rootToken, { ttl: '5s' });
    await vi.advanceTimersByTimeAsync(5_100);
    expect(recorder.revoked).toEqual([]);
    expect(await t.core.expiration.lookup(res!.secret!.leaseId!)).not.toBeNull();
    await vi.advanceTimersByTimeAsync(1_000 + 2_000 + 100);
    expect(recorder.revoked).toEqual(['db-1']);
    expect(await t.core.expiration.lookup(res!.secret!.leaseId!)).toBeNull();
  });
});
