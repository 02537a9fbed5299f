import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, createClient, type Client } from '../../lib/index.js';
import { liftLoginLimit } from '../helpers/quotas.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** The typed groups over a real server: logins, tokens, mounts, auth methods, policies, keys, capabilities. */

let server: TestServer;
let root: Client;
const clients: Client[] = [];

function fresh(token?: string): Client {
  const c = createClient({ address: server.url, token, retries: 0 });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  server = await startTestServer();
  root = fresh(server.rootToken);
  await root.sys.auth.enable('userpass', { type: 'userpass' });
  await root.sys.auth.enable('approle', { type: 'approle', description: 'machines' });
  await liftLoginLimit(server.request, server.rootToken, 'auth/userpass/');
  await liftLoginLimit(server.request, server.rootToken, 'auth/approle/');
  await root.sys.policies.write('app', 'path "secret/app/*" { capabilities = ["read", "create", "update"] }');
  await root.kv.write('secret/app/config', { color: 'blue' });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await server.close();
});

describe('logins', () => {
  it('userpass: switches the client to the new token, which carries the user\'s policies', async () => {
    await root.request('POST', 'auth/userpass/users/alice', { password: 'correct horse', token_policies: ['app'] });
    const c = fresh('a-stale-token-that-must-not-matter');
    const auth = await c.logins.userpass('alice', 'correct horse');
    expect(auth.client_token).toMatch(/\S/);
    expect(auth.policies).toEqual(['app', 'default']);
    expect(c.token).toBe(auth.client_token);
    expect(await c.kv.read('secret/app/config')).toEqual({ color: 'blue' });
    expect((await c.tokens.lookupSelf()).policies).toEqual(['app', 'default']);

    const bad = (await c.logins.userpass('alice', 'wrong').catch((e: unknown) => e)) as ApiError;
    expect(bad).toBeInstanceOf(ApiError);
    expect(bad.status).toBe(400);
    expect(bad.errors).toEqual(['invalid username or password']);
    expect(c.token).toBe(auth.client_token);
  });

  it('approle: role id and secret id, at a mount given by name', async () => {
    await root.request('POST', 'auth/approle/role/web', { token_policies: ['app'] });
    const roleId = (await root.request('GET', 'auth/approle/role/web/role-id')).data.role_id as string;
    const secretId = (await root.request('POST', 'auth/approle/role/web/secret-id')).data.secret_id as string;
    const c = fresh();
    const auth = await c.logins.approle(roleId, secretId, 'auth/approle/');
    expect(auth.policies).toEqual(['app', 'default']);
    expect(c.token).toBe(auth.client_token);
    expect(await c.kv.read('secret/app/config')).toEqual({ color: 'blue' });
  });

  it('token: checks the token, then uses it; a bad one throws and changes nothing', async () => {
    const made = await root.tokens.create({ policies: ['app'], ttl: '1h' });
    const c = fresh();
    const auth = await c.logins.token(made.client_token);
    expect(auth).toMatchObject({ client_token: made.client_token, accessor: made.accessor });
    expect(c.token).toBe(made.client_token);
    await expect(fresh().logins.token('nope')).rejects.toMatchObject({ status: 401, kind: 'response' });
  });
});

describe('tokens', () => {
  it('creates, looks up, renews and revokes', async () => {
    const child = await root.tokens.create({ policies: ['app'], ttl: '1h', display_name: 'child' });
    expect(child).toMatchObject({ policies: ['app', 'default'], renewable: true, lease_duration: 3600 });
    expect((await root.tokens.lookup(child.client_token)).policies).toEqual(['app', 'default']);
    expect((await root.tokens.lookupAccessor(child.accessor)).display_name).toBe('token-child');
    expect((await root.tokens.renew(child.client_token, '2h')).lease_duration).toBeGreaterThan(0);
    expect(await root.sys.capabilities('secret/app/x', child.client_token)).toEqual(['create', 'read', 'update']);
    expect(await root.sys.capabilities('secret/app/x', { accessor: child.accessor })).toEqual(['create', 'read', 'update']);
    expect(await fresh(child.client_token).sys.capabilities('secret/other')).toEqual(['deny']);
    await root.tokens.revokeAccessor(child.accessor);
    await expect(root.tokens.lookup(child.client_token)).rejects.toBeInstanceOf(ApiError);

    const orphan = await root.tokens.createOrphan({ ttl: '1h' });
    const self = fresh(orphan.client_token);
    expect((await self.tokens.renewSelf()).client_token).toBe(orphan.client_token);
    await self.tokens.revokeSelf();
    await expect(self.tokens.lookupSelf()).rejects.toMatchObject({ status: 401 });
  });
});

describe('sys', () => {
  it('mounts: enable, list, tune, read tune, move, disable', async () => {
    await root.sys.mounts.enable('team-kv', { type: 'kv', description: 'team secrets' });
    expect((await root.sys.mounts.list())['team-kv/']).toMatchObject({ type: 'kv', description: 'team secrets' });
    await root.sys.mounts.tune('team-kv', { default_lease_ttl: '1h', max_lease_ttl: '2h' });
    expect(await root.sys.mounts.readTune('team-kv')).toMatchObject({ default_lease_ttl: 3600, max_lease_ttl: 7200 });
    await root.kv.write('team-kv/a', { v: 1 });
    await root.sys.mounts.move('team-kv', 'moved-kv');
    expect(await root.kv.read('moved-kv/a')).toEqual({ v: 1 });
    await root.sys.mounts.disable('moved-kv');
    expect(Object.keys(await root.sys.mounts.list())).not.toContain('moved-kv/');
  });

  it('auth methods: list, tune, read tune, disable', async () => {
    const methods = await root.sys.auth.list();
    expect(methods['approle/']).toMatchObject({ type: 'approle', description: 'machines' });
    expect(methods['token/']).toMatchObject({ type: 'token' });
    await root.sys.auth.enable('extra', { type: 'userpass' });
    await root.sys.auth.tune('extra', { default_lease_ttl: '30m' });
    expect((await root.sys.auth.readTune('extra')).default_lease_ttl).toBe(1800);
    await root.sys.auth.disable('extra');
    expect(Object.keys(await root.sys.auth.list())).not.toContain('extra/');
  });

  it('policies: list, read, write, delete', async () => {
    await root.sys.policies.write('temp', 'path "x/*" { capabilities = ["read"] }');
    expect(await root.sys.policies.list()).toEqual(expect.arrayContaining(['app', 'default', 'root', 'temp']));
    expect(await root.sys.policies.read('temp')).toBe('path "x/*" { capabilities = ["read"] }');
    await root.sys.policies.delete('temp');
    expect(await root.sys.policies.list()).not.toContain('temp');
    await expect(root.sys.policies.read('temp')).rejects.toMatchObject({ status: 404 });
  });

  it('leader, key status and rotate, rekey init/status/cancel', async () => {
    expect(await root.sys.leader()).toMatchObject({ ha_enabled: false });
    const before = await root.sys.keyStatus();
    await root.sys.rotate();
    expect((await root.sys.keyStatus()).term).toBe(before.term + 1);
    const started = await root.sys.rekey.init({ secret_shares: 1, secret_threshold: 1 });
    expect(started).toMatchObject({ started: true, n: 1, t: 1 });
    expect((await root.sys.rekey.status()).nonce).toBe(started.nonce);
    await root.sys.rekey.cancel();
    expect((await root.sys.rekey.status()).started).toBe(false);
  });
});
