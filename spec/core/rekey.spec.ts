import { afterEach, describe, expect, it } from 'vitest';
import { createInmemStorage } from '../../lib/storage/inmem.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { sysFields } from '../helpers/sys-body.js';

/** sys/rekey (api.md §6): replace the master key and shares; old keys stop working, across a restart. */

const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function start(options: Parameters<typeof startTestServer>[0]) {
  const s = await startTestServer(options);
  servers.push(s);
  return s;
}

async function unsealWith(s: TestServer, keys: string[]) {
  let last;
  for (const key of keys) last = await s.request('PUT', '/v1/sys/unseal', { body: { key } });
  return last!;
}

describe('rekey', () => {
  it('turns 3-of-5 into 2-of-3; old keys fail and new ones unseal, also after a restart', async () => {
    const storage = createInmemStorage();
    const first = await start({ storage, shares: 5, threshold: 3 });
    const root = first.rootToken;
    await first.request('POST', '/v1/secret/kept', { token: root, body: { v: 'through the rekey' } });

    const status0 = await first.request('GET', '/v1/sys/rekey/init');
    expect(sysFields(status0.body)).toEqual({ started: false, nonce: '', t: 0, n: 0, progress: 0, required: 3 });
    const started = await first.request('PUT', '/v1/sys/rekey/init', { body: { secret_shares: 3, secret_threshold: 2 } });
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ started: true, t: 2, n: 3, progress: 0, required: 3 });
    const nonce = started.body.nonce as string;
    expect(nonce).toMatch(/^[0-9a-f-]{36}$/);

    const u1 = await first.request('PUT', '/v1/sys/rekey/update', { body: { key: first.keys[4], nonce } });
    expect(u1.body).toMatchObject({ complete: false, progress: 1, nonce });
    await first.request('PUT', '/v1/sys/rekey/update', { body: { key: first.keys[0], nonce } });
    const done = await first.request('PUT', '/v1/sys/rekey/update', { body: { key: first.keys[2], nonce } });
    expect(done.status).toBe(200);
    expect(done.body.complete).toBe(true);
    const newKeys = done.body.keys as string[];
    expect(newKeys).toHaveLength(3);
    expect(done.body.keys_base64).toHaveLength(3);
    for (const key of newKeys) expect(first.keys).not.toContain(key);
    expect((await first.request('GET', '/v1/sys/seal-status')).body).toMatchObject({ t: 2, n: 3 });

    // Seal, then the old keys no longer unseal (the combination is wrong: 400, progress reset).
    await first.request('PUT', '/v1/sys/seal', { token: root });
    // The new threshold is 2, so two old shares already make a (wrong) combination.
    const old = await unsealWith(first, [first.keys[0]!, first.keys[3]!]);
    expect(old.status).toBe(400);
    expect(old.body.errors).toEqual(['unseal failed, invalid key']);
    expect((await first.request('GET', '/v1/sys/seal-status')).body).toMatchObject({ sealed: true, progress: 0 });
    await first.close();
    servers.length = 0;

    // Restart on the same storage: sealed, 2-of-3, new keys work, data intact.
    const second = await start({ storage, uninitialized: true });
    expect((await second.request('GET', '/v1/sys/seal-status')).body).toMatchObject({ sealed: true, initialized: true, t: 2, n: 3 });
    const unsealed = await unsealWith(second, [newKeys[2]!, newKeys[0]!]);
    expect(unsealed.body.sealed).toBe(false);
    expect((await second.request('GET', '/v1/secret/kept', { token: root })).body.data).toEqual({ v: 'through the rekey' });
  });

  it('refuses a wrong nonce, a second start, and updates with no attempt', async () => {
    const s = await start({ shares: 3, threshold: 2 });
    expect((await s.request('PUT', '/v1/sys/rekey/update', { body: { key: s.keys[0], nonce: 'x' } })).status).toBe(400);
    const { nonce } = (await s.request('PUT', '/v1/sys/rekey/init', { body: { secret_shares: 1, secret_threshold: 1 } })).body;
    expect((await s.request('PUT', '/v1/sys/rekey/init', { body: { secret_shares: 1, secret_threshold: 1 } })).status).toBe(400);
    expect((await s.request('PUT', '/v1/sys/rekey/update', { body: { key: s.keys[0], nonce: 'not-the-nonce' } })).status).toBe(400);
    expect((await s.request('GET', '/v1/sys/rekey/init')).body.progress).toBe(0);
    expect((await s.request('DELETE', '/v1/sys/rekey/init')).status).toBe(204);
    expect((await s.request('GET', '/v1/sys/rekey/init')).body.started).toBe(false);
    expect((await s.request('PUT', '/v1/sys/rekey/update', { body: { key: s.keys[0], nonce } })).status).toBe(400);
  });

  it('answers 400 and resets progress on a wrong combination, keeping the old keys valid', async () => {
    const s = await start({ shares: 3, threshold: 2 });
    const { nonce } = (await s.request('PUT', '/v1/sys/rekey/init', { body: { secret_shares: 1, secret_threshold: 1 } })).body;
    await s.request('PUT', '/v1/sys/rekey/update', { body: { key: s.keys[0], nonce } });
    const bad = Buffer.from(s.keys[1]!, 'hex');
    bad[3] = bad[3]! ^ 0xff;
    const res = await s.request('PUT', '/v1/sys/rekey/update', { body: { key: bad.toString('hex'), nonce } });
    expect(res.status).toBe(400);
    expect((await s.request('GET', '/v1/sys/rekey/init')).body).toMatchObject({ started: true, progress: 0 });
    await s.request('PUT', '/v1/sys/seal', { token: s.rootToken });
    expect((await unsealWith(s, s.keys.slice(1, 3))).body.sealed).toBe(false);
  });

  it('refuses invalid configurations and is unavailable while sealed', async () => {
    const s = await start({ shares: 3, threshold: 2 });
    expect((await s.request('PUT', '/v1/sys/rekey/init', { body: { secret_shares: 3, secret_threshold: 1 } })).status).toBe(400);
    expect((await s.request('PUT', '/v1/sys/rekey/init', { body: { secret_shares: 256, secret_threshold: 2 } })).status).toBe(400);
    await s.request('PUT', '/v1/sys/seal', { token: s.rootToken });
    expect((await s.request('GET', '/v1/sys/rekey/init')).status).toBe(503);
  });
});

describe('sys/raw', () => {
  it('does not exist unless raw_storage_endpoint is set', async () => {
    const s = await start({});
    expect((await s.request('GET', '/v1/sys/raw/core/mounts', { token: s.rootToken })).status).toBe(404);
  });

  it('reads and writes decrypted entries for root, never the keyring or seal config', async () => {
    const s = await start({ config: { rawStorageEndpoint: true } });
    const token = s.rootToken;
    const mounts = await s.request('GET', '/v1/sys/raw/core/mounts', { token });
    expect(mounts.status).toBe(200);
    expect(JSON.parse(mounts.body.data.value).map((m: { path: string }) => m.path)).toContain('secret/');
    expect((await s.request('PUT', '/v1/sys/raw/scratch/x', { token, body: { value: 'hello' } })).status).toBe(204);
    expect((await s.request('GET', '/v1/sys/raw/scratch/x', { token })).body.data).toEqual({ value: 'hello' });
    expect((await s.request('LIST', '/v1/sys/raw/scratch/', { token })).body.data.keys).toEqual(['x']);
    expect((await s.request('DELETE', '/v1/sys/raw/scratch/x', { token })).status).toBe(204);
    for (const path of ['core/keyring', 'core/seal-config']) {
      expect((await s.request('GET', `/v1/sys/raw/${path}`, { token })).status).toBe(400);
      expect((await s.request('PUT', `/v1/sys/raw/${path}`, { token, body: { value: 'x' } })).status).toBe(400);
      expect((await s.request('DELETE', `/v1/sys/raw/${path}`, { token })).status).toBe(400);
    }
    // Non-root tokens need sudo.
    await s.request('PUT', '/v1/sys/policy/rawread', { token, body: { policy: 'path "sys/raw/*" { capabilities = ["read"] }' } });
    const limited = (await s.request('POST', '/v1/auth/token/create', { token, body: { policies: ['rawread'] } })).body.auth.client_token;
    expect((await s.request('GET', '/v1/sys/raw/core/mounts', { token: limited })).status).toBe(401);
  });
});
