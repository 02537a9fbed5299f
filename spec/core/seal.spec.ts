import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { sysFields } from '../helpers/sys-body.js';

/** api.md §6 over real HTTP: init, unseal (progress, duplicates, reset, wrong keys), seal. */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
let server: TestServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function unsealWith(s: TestServer, keys: string[]) {
  let last;
  for (const key of keys) last = await s.request('PUT', '/v1/sys/unseal', { body: { key } });
  return last!;
}

/** Flips one bit of a share's y bytes, keeping its x coordinate (the last byte). */
function corrupt(hexKey: string): string {
  const bytes = Buffer.from(hexKey, 'hex');
  bytes[0] = bytes[0]! ^ 0x01;
  return bytes.toString('hex');
}

describe('before init', () => {
  it('reports uninitialized everywhere and refuses everything else', async () => {
    server = await startTestServer({ uninitialized: true });
    const status = await server.request('GET', '/v1/sys/seal-status');
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ sealed: true, initialized: false, t: 0, n: 0, progress: 0 });
    expect(sysFields((await server.request('GET', '/v1/sys/init')).body)).toEqual({ initialized: false });
    expect((await server.request('GET', '/v1/sys/health')).status).toBe(501);
    expect((await server.request('GET', '/v1/secret/foo', { token: 'x' })).status).toBe(503);
    const unseal = await server.request('PUT', '/v1/sys/unseal', { body: { key: 'ab'.repeat(32) } });
    expect(unseal.status).toBe(400);
    expect(unseal.body.errors.length).toBeGreaterThan(0);
  });

  it.each([
    ['0 shares', { secret_shares: 0, secret_threshold: 0 }],
    ['256 shares', { secret_shares: 256, secret_threshold: 3 }],
    ['threshold above shares', { secret_shares: 3, secret_threshold: 4 }],
    ['3 shares with threshold 1', { secret_shares: 3, secret_threshold: 1 }],
    ['threshold 0', { secret_shares: 1, secret_threshold: 0 }],
    ['missing threshold', { secret_shares: 3 }],
    ['non-integer shares', { secret_shares: 2.5, secret_threshold: 2 }],
    ['string shares', { secret_shares: 'five', secret_threshold: 2 }],
  ])('rejects an invalid seal configuration: %s', async (_name, body) => {
    server = await startTestServer({ uninitialized: true });
    const res = await server.request('PUT', '/v1/sys/init', { body });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toMatch(/invalid seal configuration|field|missing/);
    // Nothing was half-done: the server is still uninitialized and can be initialized.
    expect(sysFields((await server.request('GET', '/v1/sys/init')).body)).toEqual({ initialized: false });
    expect((await server.request('PUT', '/v1/sys/init', { body: { secret_shares: 1, secret_threshold: 1 } })).status).toBe(200);
  });
});

describe('init with 5 shares and threshold 3', () => {
  it('returns 5 distinct 33-byte keys and a root token, and stays sealed', async () => {
    server = await startTestServer({ shares: 5, threshold: 3, sealed: true });
    expect(server.keys).toHaveLength(5);
    expect(new Set(server.keys).size).toBe(5);
    for (const key of server.keys) expect(key).toMatch(/^[0-9a-f]{66}$/);
    // x coordinates (last byte) are distinct
    expect(new Set(server.keys.map((k) => k.slice(-2))).size).toBe(5);
    expect(server.rootToken).toMatch(UUID);
    const status = await server.request('GET', '/v1/sys/seal-status');
    expect(status.body).toMatchObject({ sealed: true, initialized: true, t: 3, n: 5, progress: 0 });
    expect((await server.request('GET', '/v1/secret/foo', { token: server.rootToken })).status).toBe(503);
    expect((await server.request('GET', '/v1/sys/health')).status).toBe(503);
    const again = await server.request('PUT', '/v1/sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
    expect(again.status).toBe(400);
  });

  it.each([
    [[0, 1, 2]],
    [[2, 3, 4]],
    [[4, 0, 2]],
    [[3, 1, 4]],
  ])('unseals with the subset %j, and data survives seal/unseal', async (subset) => {
    server = await startTestServer({ shares: 5, threshold: 3, sealed: true });
    const keys = subset.map((i) => server!.keys[i]!);
    const first = await unsealWith(server, keys.slice(0, 2));
    expect(first.body).toMatchObject({ sealed: true, progress: 2 });
    const done = await unsealWith(server, keys.slice(2));
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ sealed: false, progress: 0, t: 3, n: 5 });

    const token = server.rootToken;
    expect((await server.request('POST', '/v1/secret/kept', { token, body: { value: 'across seals' } })).status).toBe(204);
    expect((await server.request('PUT', '/v1/sys/seal', { token })).status).toBe(204);
    expect((await server.request('GET', '/v1/secret/kept', { token })).status).toBe(503);
    // Sealing again is a no-op that needs no token.
    expect((await server.request('PUT', '/v1/sys/seal')).status).toBe(204);
    // Unseal with a different subset than the one used before.
    await unsealWith(server, [server.keys[1]!, server.keys[3]!, server.keys[0]!]);
    const read = await server.request('GET', '/v1/secret/kept', { token });
    expect(read.status).toBe(200);
    expect(read.body.data).toEqual({ value: 'across seals' });
  });

  it('answers 400 and resets progress to 0 on a wrong combination', async () => {
    server = await startTestServer({ shares: 5, threshold: 3, sealed: true });
    await unsealWith(server, [server.keys[0]!, server.keys[1]!]);
    const res = await server.request('PUT', '/v1/sys/unseal', { body: { key: corrupt(server.keys[2]!) } });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual(['unseal failed, invalid key']);
    const status = await server.request('GET', '/v1/sys/seal-status');
    expect(status.body).toMatchObject({ sealed: true, progress: 0 });
    // The right shares still work afterwards.
    const ok = await unsealWith(server, server.keys.slice(2, 5));
    expect(ok.body.sealed).toBe(false);
  });

  it('ignores a share given twice in the same round', async () => {
    server = await startTestServer({ shares: 5, threshold: 3, sealed: true });
    const res = await unsealWith(server, [server.keys[0]!, server.keys[0]!, server.keys[0]!]);
    expect(res.body).toMatchObject({ sealed: true, progress: 1 });
  });

  it.each([
    ['not hex or base64', 'zz!!'],
    ['too short', 'abcd'],
    ['a 32-byte key where 33 are expected', 'ab'.repeat(32)],
    ['empty', ''],
    ['a number', 42],
  ])('rejects a malformed key (%s) with 400 and keeps the progress', async (_name, key) => {
    server = await startTestServer({ shares: 5, threshold: 3, sealed: true });
    await unsealWith(server, [server.keys[0]!]);
    const res = await server.request('PUT', '/v1/sys/unseal', { body: { key } });
    expect(res.status).toBe(400);
    expect((await server.request('GET', '/v1/sys/seal-status')).body.progress).toBe(1);
  });

  it('resets progress on request, and refuses reset once unsealed', async () => {
    server = await startTestServer({ shares: 5, threshold: 3, sealed: true });
    await unsealWith(server, [server.keys[0]!, server.keys[1]!]);
    const reset = await server.request('PUT', '/v1/sys/unseal', { body: { reset: true } });
    expect(reset.status).toBe(200);
    expect(reset.body.progress).toBe(0);
    await unsealWith(server, server.keys.slice(0, 3));
    expect((await server.request('PUT', '/v1/sys/unseal', { body: { reset: true } })).status).toBe(400);
    // Unsealing an unsealed server just reports the status.
    const again = await server.request('PUT', '/v1/sys/unseal', { body: { key: server.keys[4] } });
    expect(again.body).toMatchObject({ sealed: false, progress: 0 });
  });

  it('accepts base64 keys as well as hex', async () => {
    server = await startTestServer({ shares: 3, threshold: 2, sealed: true });
    const b64 = server.keys.map((k) => Buffer.from(k, 'hex').toString('base64'));
    await unsealWith(server, [b64[0]!]);
    const res = await unsealWith(server, [server.keys[2]!]);
    expect(res.body.sealed).toBe(false);
  });
});

describe('a single key share', () => {
  it('is the 32-byte master key itself and unseals alone', async () => {
    server = await startTestServer({ sealed: true });
    expect(server.keys).toHaveLength(1);
    expect(server.keys[0]).toMatch(/^[0-9a-f]{64}$/);
    const res = await unsealWith(server, server.keys);
    expect(res.body).toMatchObject({ sealed: false, t: 1, n: 1 });
  });
});

describe('sys/seal', () => {
  it('needs a token with root when unsealed', async () => {
    server = await startTestServer();
    expect((await server.request('PUT', '/v1/sys/seal')).status).toBe(401);
    expect((await server.request('PUT', '/v1/sys/seal', { token: 'not-a-token' })).status).toBe(401);
    expect((await server.request('GET', '/v1/sys/seal-status')).body.sealed).toBe(false);
    expect((await server.request('POST', '/v1/sys/seal', { token: server.rootToken })).status).toBe(204);
    expect((await server.request('GET', '/v1/sys/seal-status')).body.sealed).toBe(true);
  });
});

describe('sys/health and sys/leader', () => {
  it('answers the documented bodies and honours the status-code overrides', async () => {
    server = await startTestServer({ sealed: true });
    const sealed = await server.request('GET', '/v1/sys/health');
    expect(sealed.status).toBe(503);
    expect(Object.keys(sealed.body).sort()).toEqual(['initialized', 'performance_standby', 'replication_dr_mode', 'replication_performance_mode', 'sealed', 'server_time_utc', 'standby', 'version']);
    expect(sealed.body).toMatchObject({ initialized: true, sealed: true, standby: false });
    expect((await server.request('GET', '/v1/sys/health?sealedcode=200')).status).toBe(200);
    expect((await server.request('GET', '/v1/sys/health?sealedcode=abc')).status).toBe(400);
    await server.unseal();
    const active = await server.request('GET', '/v1/sys/health');
    expect(active.status).toBe(200);
    expect(active.body.sealed).toBe(false);
    expect((await server.request('GET', '/v1/sys/health?activecode=299')).status).toBe(299);
    // HEAD is a GET without the body: the status a load balancer needs, nothing else.
    const head = await server.request('HEAD', '/v1/sys/health');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    const leader = await server.request('GET', '/v1/sys/leader');
    expect(sysFields(leader.body)).toEqual({
      ha_enabled: false,
      is_self: false,
      active_time: '0001-01-01T00:00:00Z',
      leader_address: '',
      leader_cluster_address: '',
      performance_standby: false,
      performance_standby_last_remote_wal: 0,
    });
    // Without HA, stepping down does nothing (as in Vault), and still needs sudo.
    expect((await server.request('PUT', '/v1/sys/step-down', { token: server.rootToken })).status).toBe(204);
  });
});

describe('the root token', () => {
  it('looks itself up and never expires', async () => {
    server = await startTestServer();
    const res = await server.request('GET', '/v1/auth/token/lookup-self', { token: server.rootToken });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ id: server.rootToken, policies: ['root'], ttl: 0, expire_time: null, path: 'auth/token/root' });
    expect(res.body.data.accessor).toMatch(UUID);
    expect((await server.request('GET', '/v1/auth/token/lookup-self', { token: 'f3b09679-3001-009d-2b80-9c306ab81aa6' })).status).toBe(401);
  });
});
