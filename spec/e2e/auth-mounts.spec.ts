import { afterEach, describe, expect, it } from 'vitest';
import { openFileStorage } from '../../lib/storage/file.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { testBackends } from '../helpers/login-backend.js';
import { registerLeasingBackend } from '../helpers/leasing-backend.js';
import { sysFields } from '../helpers/sys-body.js';
import { tempDir } from '../storage/temp.js';

/**
 * Auth mount management (issue 11, item 1): sys/auth enable, read, tune, disable. Disabling
 * takes everything the mount issued with it: its tokens, their children, leases and
 * cubbyholes, and its storage. The test auth method (helpers/login-backend.ts) keeps its
 * users in the mount's storage, so the storage can be seen to go.
 */

const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function start(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  const s = await startTestServer({ backends: testBackends, config: { rawStorageEndpoint: true }, ...options });
  servers.push(s);
  return s;
}

async function ok(s: TestServer, method: string, path: string, body?: unknown, token = s.rootToken): Promise<any> {
  const res = await s.request(method, path, { token, body });
  expect(res.status, `${method} ${path}: ${res.text}`).toBeLessThan(300);
  return res.body;
}

async function loginAs(s: TestServer, mount: string, name: string): Promise<string> {
  await ok(s, 'PUT', '/v1/sys/policy/creator', { policy: 'path "auth/token/create" { capabilities = ["update"] }' });
  await ok(s, 'PUT', `/v1/auth/${mount}/users/${name}`, { password: 'pw', policies: ['creator'], ttl: '1h' });
  const login = await s.request('POST', `/v1/auth/${mount}/login/${name}`, { body: { password: 'pw' } });
  expect(login.status, login.text).toBe(200);
  return login.body.auth.client_token;
}

const lookupSelf = (s: TestServer, token: string) => s.request('GET', '/v1/auth/token/lookup-self', { token });

describe('enabling an unknown type', () => {
  it('answers 400 naming the types that can be enabled, for auth methods and secrets engines', async () => {
    const s = await start();
    const auth = await s.request('POST', '/v1/sys/auth/nope', { token: s.rootToken, body: { type: 'ldap' } });
    expect(auth.status).toBe(400);
    const authTypes = Object.keys(testBackends.auth).sort().join(', ');
    expect(authTypes).toContain('test-login');
    expect(auth.body.errors).toEqual([`unknown auth method type 'ldap': known types are ${authTypes}`]);
    const engine = await s.request('POST', '/v1/sys/mounts/nope', { token: s.rootToken, body: { type: 'vault-kv' } });
    expect(engine.status).toBe(400);
    // Built-in-only types (cubbyhole, system) are not offered.
    expect(engine.body.errors).toEqual(["unknown secrets engine type 'vault-kv': known types are generic, kv, test-bad-login"]);
    // Nothing was mounted.
    expect(Object.keys(sysFields(await ok(s, 'GET', '/v1/sys/auth')))).toEqual(['token/']);
    expect(sysFields(await ok(s, 'GET', '/v1/sys/mounts'))['nope/']).toBeUndefined();
  });
});

describe('disabling an auth method', () => {
  it("revokes every token it issued, their children, leases and cubbyholes, and deletes its storage", async () => {
    const s = await start();
    await ok(s, 'POST', '/v1/sys/auth/test', { type: 'test-login' });
    const uuid = (sysFields(await ok(s, 'GET', '/v1/sys/auth'))['test/'] as { uuid: string }).uuid;
    const alice = await loginAs(s, 'test', 'alice');
    const bob = await loginAs(s, 'test', 'bob');
    const child = (await ok(s, 'POST', '/v1/auth/token/create', { policies: ['default'] }, alice)).auth.client_token as string;
    await ok(s, 'PUT', '/v1/cubbyhole/note', { text: 'for alice only' }, alice);
    // A token from elsewhere, which must survive.
    const other = (await ok(s, 'POST', '/v1/auth/token/create', { policies: ['default'] })).auth.client_token as string;
    expect((await ok(s, 'LIST', `/v1/sys/raw/auth/${uuid}/`)).data.keys).toEqual(['user/']);
    const cubbyholesBefore = (await ok(s, 'LIST', '/v1/sys/raw/logical/')).data.keys as string[];
    expect(await s.request('LIST', '/v1/sys/leases/lookup/auth/test/login/', { token: s.rootToken })).toMatchObject({ status: 200 });

    expect((await s.request('DELETE', '/v1/sys/auth/test', { token: s.rootToken })).status).toBe(204);

    for (const token of [alice, bob, child]) expect((await lookupSelf(s, token)).status).toBe(401);
    expect((await lookupSelf(s, other)).status).toBe(200);
    expect((await s.request('LIST', `/v1/sys/raw/auth/${uuid}/`, { token: s.rootToken })).status).toBe(404);
    expect((await s.request('LIST', '/v1/sys/leases/lookup/auth/test/', { token: s.rootToken })).status).toBe(404);
    // Alice's cubbyhole is gone with her token: the cubbyhole mount's storage lost a subtree.
    const cubbyholesAfter = await s.request('LIST', '/v1/sys/raw/logical/', { token: s.rootToken });
    const after = cubbyholesAfter.status === 404 ? [] : (cubbyholesAfter.body.data.keys as string[]);
    expect(after.length).toBeLessThan(cubbyholesBefore.length);
    expect(Object.keys(sysFields(await ok(s, 'GET', '/v1/sys/auth')))).toEqual(['token/']);
    // The path is free again, and a new mount there starts empty.
    await ok(s, 'POST', '/v1/sys/auth/test', { type: 'test-login' });
    expect((await s.request('POST', '/v1/auth/test/login/alice', { body: { password: 'pw' } })).status).toBe(401);
  });

  it('refuses to disable auth/token/ and revokes nothing', async () => {
    const s = await start();
    const token = (await ok(s, 'POST', '/v1/auth/token/create', { policies: ['default'], ttl: '1h' })).auth.client_token as string;
    const res = await s.request('DELETE', '/v1/sys/auth/token', { token: s.rootToken });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toContain("cannot disable 'auth/token/'");
    expect((await lookupSelf(s, token)).status).toBe(200);
    expect(Object.keys(sysFields(await ok(s, 'GET', '/v1/sys/auth')))).toEqual(['token/']);
  });

  it('answers 404 for a path where nothing is enabled', async () => {
    const s = await start();
    const res = await s.request('DELETE', '/v1/sys/auth/none', { token: s.rootToken });
    expect(res.status).toBe(404);
  });

  it('revokes leased secrets through the engine when a secrets engine is unmounted', async () => {
    const leasing = registerLeasingBackend();
    try {
      // The default registries, which the leasing type has just joined.
      const s = await startTestServer();
      servers.push(s);
      await ok(s, 'POST', '/v1/sys/mounts/db', { type: 'leasing' });
      const issued = await ok(s, 'GET', '/v1/db/creds/app');
      expect(issued.lease_id).toMatch(/^db\/creds\/app\//);
      expect((await s.request('DELETE', '/v1/sys/mounts/db', { token: s.rootToken })).status).toBe(204);
      expect(leasing.recorder.revoked).toEqual([issued.data.username]);
      expect((await s.request('LIST', '/v1/sys/leases/lookup/db/', { token: s.rootToken })).status).toBe(404);
    } finally {
      leasing.unregister();
    }
  });
});

describe('the auth table', () => {
  it('keeps its mounts, tuning and data through seal and unseal', async () => {
    const s = await start();
    await ok(s, 'POST', '/v1/sys/auth/test', { type: 'test-login', description: 'people' });
    await ok(s, 'POST', '/v1/sys/auth/test/tune', { default_lease_ttl: '2h', max_lease_ttl: '4h' });
    await ok(s, 'PUT', '/v1/auth/test/users/carol', { password: 'pw', policies: ['default'] });
    const before = sysFields(await ok(s, 'GET', '/v1/sys/auth'));
    await ok(s, 'PUT', '/v1/sys/seal');
    await s.unseal();
    expect(sysFields(await ok(s, 'GET', '/v1/sys/auth'))).toEqual(before);
    expect(sysFields(await ok(s, 'GET', '/v1/sys/auth/test/tune'))).toMatchObject({ default_lease_ttl: 7200, max_lease_ttl: 14400 });
    const login = await s.request('POST', '/v1/auth/test/login/carol', { body: { password: 'pw' } });
    expect(login.status).toBe(200);
    expect(login.body.auth.lease_duration).toBe(7200);
  });

  it('keeps its mounts and their data through a restart', async () => {
    const { dir, remove } = await tempDir();
    try {
      const first = await start({ storage: await openFileStorage(dir) });
      await ok(first, 'POST', '/v1/sys/auth/people', { type: 'test-login' });
      await ok(first, 'PUT', '/v1/auth/people/users/dave', { password: 'pw', policies: ['default'] });
      const before = sysFields(await ok(first, 'GET', '/v1/sys/auth'));
      const { keys, rootToken } = first;
      servers.splice(servers.indexOf(first), 1);
      await first.close();

      const second = await start({ storage: await openFileStorage(dir), uninitialized: true });
      for (const key of keys) expect((await second.request('PUT', '/v1/sys/unseal', { body: { key } })).status).toBe(200);
      second.rootToken = rootToken;
      expect(sysFields(await ok(second, 'GET', '/v1/sys/auth'))).toEqual(before);
      expect((await second.request('POST', '/v1/auth/people/login/dave', { body: { password: 'pw' } })).status).toBe(200);
    } finally {
      await remove();
    }
  });
});
