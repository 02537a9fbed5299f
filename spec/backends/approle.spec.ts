import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, type TestServerOptions } from '../helpers/server.js';
import { authBackends, secretBackends } from '../../lib/backends/registry.js';
import { createApproleBackend } from '../../lib/backends/approle/index.js';
import { addressAllowed } from '../../lib/backends/approle/cidrs.js';
import { createInmemStorage } from '../../lib/storage/inmem.js';
import type { ClosableStorage } from '../../lib/storage/storage.js';

/**
 * The approle auth method over real HTTP: roles, role ids, secret ids (uses, TTL, CIDRs,
 * accessors), the login and what its storage holds.
 */

const INVALID = { errors: ['invalid role_id or secret_id'] };
const A = '/v1/auth/approle';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function withApprole(options: TestServerOptions = {}): Promise<TestServer> {
  server = await startTestServer(options);
  const res = await server.request('POST', '/v1/sys/auth/approle', { token: server.rootToken, body: { type: 'approle' } });
  expect(res.status).toBe(204);
  return server;
}

const asRoot = (s: TestServer, method: string, path: string, body?: unknown) => s.request(method, `${A}/${path}`, { token: s.rootToken, body });

async function putRole(s: TestServer, name: string, body: Record<string, unknown> = {}): Promise<void> {
  const res = await asRoot(s, 'POST', `role/${name}`, body);
  expect(res.status, res.text).toBe(204);
}

async function roleIdOf(s: TestServer, name: string): Promise<string> {
  const res = await asRoot(s, 'GET', `role/${name}/role-id`);
  expect(res.status).toBe(200);
  return res.body.data.role_id as string;
}

async function newSecretId(s: TestServer, name: string, body: Record<string, unknown> = {}): Promise<{ secret_id: string; secret_id_accessor: string; secret_id_ttl: number; secret_id_num_uses: number }> {
  const res = await asRoot(s, 'POST', `role/${name}/secret-id`, body);
  expect(res.status, res.text).toBe(200);
  return res.body.data;
}

const login = (s: TestServer, body: Record<string, unknown>, agent?: http.Agent) => s.request('POST', `${A}/login`, { body, agent });

/** A role with its role_id and one secret id. */
async function credentials(s: TestServer, name: string, role: Record<string, unknown> = {}, secret: Record<string, unknown> = {}) {
  await putRole(s, name, role);
  const roleId = await roleIdOf(s, name);
  const sid = await newSecretId(s, name, secret);
  return { role_id: roleId, secret_id: sid.secret_id, accessor: sid.secret_id_accessor };
}

describe('approle login', () => {
  it('logs in once with a one-use secret id: auth block, cookie, role_name, policies; the second login fails', async () => {
    const s = await withApprole();
    const creds = await credentials(s, 'web', { token_policies: ['app', 'ops'], token_ttl: '1h', secret_id_num_uses: 1 }, { metadata: { env: 'prod' } });
    const first = await login(s, { role_id: creds.role_id, secret_id: creds.secret_id });
    expect(first.status, first.text).toBe(200);
    expect(first.body.data).toBeNull();
    expect(first.body.auth.policies).toEqual(expect.arrayContaining(['app', 'ops', 'default']));
    expect(first.body.auth.metadata).toEqual({ role_name: 'web', env: 'prod' });
    expect(first.body.auth.lease_duration).toBe(3600);
    expect(first.headers['set-cookie']?.[0]).toContain(`token=${first.body.auth.client_token}`);
    const self = await s.request('GET', '/v1/auth/token/lookup-self', { token: first.body.auth.client_token });
    expect(self.body.data).toMatchObject({ display_name: 'approle-web', meta: { role_name: 'web', env: 'prod' } });

    const second = await login(s, { role_id: creds.role_id, secret_id: creds.secret_id });
    expect(second.status).toBe(400);
    expect(second.body).toEqual(INVALID);
    expect(second.headers['set-cookie']).toBeUndefined();
    // Its last use spent, the secret id is gone.
    expect((await asRoot(s, 'POST', 'role/web/secret-id/lookup', { secret_id: creds.secret_id })).status).toBe(404);
  });

  it('renews a login token while its role is unchanged; a policy change or a deleted role refuses the renewal', async () => {
    const s = await withApprole();
    const { role_id: roleId } = await credentials(s, 'svc', { token_policies: ['p'], token_ttl: '1h' });
    const loginOnce = async (): Promise<string> => {
      const res = await login(s, { role_id: roleId, secret_id: (await newSecretId(s, 'svc')).secret_id });
      expect(res.status, res.text).toBe(200);
      return res.body.auth.client_token;
    };
    const renew = (token: string) => s.request('POST', '/v1/auth/token/renew-self', { token });
    const first = await loginOnce();
    expect((await renew(first)).status).toBe(200);
    await putRole(s, 'svc', { token_policies: ['p', 'q'] });
    const changed = await renew(first);
    expect(changed.status).toBe(400);
    expect(changed.body.errors).toEqual(["the role's policies changed since the login: log in again"]);
    const second = await loginOnce();
    expect((await renew(second)).status).toBe(200);
    expect((await asRoot(s, 'DELETE', 'role/svc')).status).toBe(204);
    expect((await renew(second)).body.errors).toEqual(['the role this token logged in as no longer exists']);
  });

  it('answers one message for an unknown role_id, a wrong, missing or foreign secret_id', async () => {
    const s = await withApprole();
    const web = await credentials(s, 'web');
    const db = await credentials(s, 'db');
    for (const body of [
      { role_id: 'no-such-role-id', secret_id: web.secret_id },
      { role_id: web.role_id, secret_id: 'wrong' },
      { role_id: web.role_id },
      { role_id: web.role_id, secret_id: db.secret_id },
    ]) {
      const res = await login(s, body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual(INVALID);
    }
    expect((await login(s, { secret_id: web.secret_id })).status).toBe(400);
    expect((await login(s, { role_id: web.role_id, secret_id: web.secret_id })).status).toBe(200);
  });

  it('lets exactly one of two concurrent logins spend a one-use secret id, and two of three spend a two-use one', async () => {
    // A slow disk: every storage call waits a few milliseconds, so two logins that were not
    // serialised would both read the secret id before either spends its use.
    const inner = createInmemStorage();
    const later = <T>(op: () => Promise<T>): Promise<T> => new Promise((resolve) => setTimeout(resolve, 3)).then(op);
    const storage: ClosableStorage = {
      get: (key) => later(() => inner.get(key)),
      put: (key, value) => later(() => inner.put(key, value)),
      delete: (key) => later(() => inner.delete(key)),
      list: (prefix) => later(() => inner.list(prefix)),
    };
    const s = await withApprole({ storage });
    await putRole(s, 'race', { secret_id_num_uses: 1 });
    const roleId = await roleIdOf(s, 'race');
    const race = async (secretId: string, n: number): Promise<number[]> => {
      const agents = Array.from({ length: n }, () => new http.Agent({ keepAlive: false }));
      const results = await Promise.all(agents.map((agent) => login(s, { role_id: roleId, secret_id: secretId }, agent)));
      for (const agent of agents) agent.destroy();
      return results.map((r) => r.status).sort();
    };
    for (let round = 0; round < 3; round++) {
      expect(await race((await newSecretId(s, 'race')).secret_id, 2)).toEqual([200, 400]);
    }
    await putRole(s, 'race', { secret_id_num_uses: 2 });
    expect(await race((await newSecretId(s, 'race')).secret_id, 3)).toEqual([200, 200, 400]);
  });

  it("refuses a client outside the role's secret_id_bound_cidrs and admits one inside", async () => {
    const s = await withApprole();
    const far = await credentials(s, 'far', { secret_id_bound_cidrs: ['10.0.0.0/8'] });
    const refused = await login(s, { role_id: far.role_id, secret_id: far.secret_id });
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0]).toMatch(/CIDR/);
    const near = await credentials(s, 'near', { secret_id_bound_cidrs: '127.0.0.1/32,10.0.0.0/8', token_bound_cidrs: ['10.0.0.0/8'] });
    const admitted = await login(s, { role_id: near.role_id, secret_id: near.secret_id });
    expect(admitted.status).toBe(200);
    // token_bound_cidrs reach the token: bound to 10.0.0.0/8, it is refused from 127.0.0.1.
    const self = await s.request('GET', '/v1/auth/token/lookup-self', { token: admitted.body.auth.client_token });
    expect(self.status).toBe(401);
    const unbound = await credentials(s, 'unbound');
    const token = (await login(s, { role_id: unbound.role_id, secret_id: unbound.secret_id })).body.auth.client_token;
    expect((await s.request('GET', '/v1/auth/token/lookup-self', { token })).status).toBe(200);
  });

  it('checks a secret id cidr_list: inside the role at generation, at login, without spending a use', async () => {
    const s = await withApprole();
    await putRole(s, 'bound', { secret_id_bound_cidrs: ['127.0.0.0/8'] });
    const outside = await asRoot(s, 'POST', 'role/bound/secret-id', { cidr_list: ['10.0.0.0/8'] });
    expect(outside.status).toBe(400);
    expect((await asRoot(s, 'POST', 'role/bound/secret-id', { cidr_list: ['127.0.0.0/7'] })).status).toBe(400);
    const inside = await newSecretId(s, 'bound', { cidr_list: ['127.0.0.1/32'] });
    expect((await login(s, { role_id: await roleIdOf(s, 'bound'), secret_id: inside.secret_id })).status).toBe(200);

    const free = await credentials(s, 'free', { secret_id_num_uses: 3 }, { cidr_list: '10.1.0.0/16' });
    const refused = await login(s, { role_id: free.role_id, secret_id: free.secret_id });
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0]).toMatch(/CIDR/);
    const looked = await asRoot(s, 'POST', 'role/free/secret-id/lookup', { secret_id: free.secret_id });
    expect(looked.body.data).toMatchObject({ cidr_list: ['10.1.0.0/16'], secret_id_num_uses: 3 });
  });

  it('logs a bind_secret_id=false role in with its role_id alone, from inside its CIDRs only', async () => {
    const s = await withApprole();
    expect((await asRoot(s, 'POST', 'role/open', { bind_secret_id: false })).status).toBe(400);
    await putRole(s, 'local', { bind_secret_id: false, secret_id_bound_cidrs: ['127.0.0.1/32'], token_policies: 'app' });
    const ok = await login(s, { role_id: await roleIdOf(s, 'local') });
    expect(ok.status).toBe(200);
    expect(ok.body.auth.metadata).toEqual({ role_name: 'local' });
    expect((await asRoot(s, 'POST', 'role/local/secret-id')).status).toBe(400);
    await putRole(s, 'remote', { bind_secret_id: false, secret_id_bound_cidrs: ['10.0.0.0/8'] });
    expect((await login(s, { role_id: await roleIdOf(s, 'remote') })).status).toBe(400);
  });

  it('matches IPv6 clients on a server listening on ::1', async () => {
    const s = await withApprole({ listener: { address: '[::1]:0' } });
    const v6 = await credentials(s, 'v6', { secret_id_bound_cidrs: ['::1/128'] });
    expect((await login(s, { role_id: v6.role_id, secret_id: v6.secret_id })).status).toBe(200);
    const v4 = await credentials(s, 'v4', { secret_id_bound_cidrs: ['127.0.0.1/32'] });
    expect((await login(s, { role_id: v4.role_id, secret_id: v4.secret_id })).status).toBe(400);
  });

  it('decides addresses: IPv4, IPv6 and IPv4-mapped IPv6 against both lists', () => {
    expect(addressAllowed('::ffff:127.0.0.1', ['127.0.0.0/8'])).toBe(true);
    expect(addressAllowed('::ffff:10.0.0.1', ['127.0.0.0/8'])).toBe(false);
    expect(addressAllowed('2001:db8::5', ['2001:db8::/32'], ['2001:db8::/64'])).toBe(true);
    expect(addressAllowed('2001:db8:1::5', ['2001:db8::/32'], ['2001:db8::/64'])).toBe(false);
    expect(addressAllowed('10.0.0.1', [], [])).toBe(true);
    expect(addressAllowed('not-an-address', ['0.0.0.0/0'])).toBe(false);
  });
});

describe('approle secret ids', () => {
  it('expires a secret id at its TTL, on a clock the test moves, and deletes it when met', async () => {
    let clock = Date.UTC(2030, 0, 1);
    const s = await withApprole({
      backends: {
        secret: secretBackends,
        auth: { ...authBackends, approle: (ctx) => createApproleBackend({ ...ctx, system: { ...ctx.system, now: () => clock } }) },
      },
    });
    const creds = await credentials(s, 'ttl', { secret_id_ttl: '60s' });
    expect((await asRoot(s, 'POST', 'role/ttl/secret-id', { ttl: '61s' })).status).toBe(400);
    expect((await newSecretId(s, 'ttl', { ttl: '10s' })).secret_id_ttl).toBe(10);
    const looked = await asRoot(s, 'POST', 'role/ttl/secret-id/lookup', { secret_id: creds.secret_id });
    expect(looked.body.data).toMatchObject({
      secret_id_ttl: 60, creation_time: '2030-01-01T00:00:00.000Z', expiration_time: '2030-01-01T00:01:00.000Z', secret_id_num_uses: 0,
    });
    clock += 59_000;
    expect((await login(s, { role_id: creds.role_id, secret_id: creds.secret_id })).status).toBe(200);
    clock += 1_000;
    const expired = await login(s, { role_id: creds.role_id, secret_id: creds.secret_id });
    expect(expired.status).toBe(400);
    expect(expired.body).toEqual(INVALID);
    expect((await asRoot(s, 'POST', 'role/ttl/secret-id-accessor/lookup', { secret_id_accessor: creds.accessor })).status).toBe(404);
    // Both secret ids are past their TTL now: the list meets and deletes them.
    expect((await asRoot(s, 'LIST', 'role/ttl/secret-id')).status).toBe(404);
  });

  it('lists accessors, looks up by secret_id or accessor without the secret_id, destroys by either', async () => {
    const s = await withApprole();
    const a = await credentials(s, 'app', {}, { metadata: '{"team":"blue"}' });
    const b = await newSecretId(s, 'app', { metadata: { team: 'red' } });
    const listed = await asRoot(s, 'LIST', 'role/app/secret-id');
    expect(listed.body.data.keys).toEqual([a.accessor, b.secret_id_accessor].sort());
    expect(listed.text).not.toContain(a.secret_id);

    for (const [path, body] of [['secret-id/lookup', { secret_id: a.secret_id }], ['secret-id-accessor/lookup', { secret_id_accessor: a.accessor }]] as const) {
      const res = await asRoot(s, 'POST', `role/app/${path}`, body);
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ secret_id_accessor: a.accessor, metadata: { team: 'blue' }, cidr_list: [], expiration_time: '0001-01-01T00:00:00Z' });
      expect(res.text).not.toContain(a.secret_id);
    }
    // Another role does not see this role's secret ids.
    await putRole(s, 'other');
    expect((await asRoot(s, 'POST', 'role/other/secret-id-accessor/lookup', { secret_id_accessor: a.accessor })).status).toBe(404);
    expect((await asRoot(s, 'POST', 'role/other/secret-id-accessor/destroy', { secret_id_accessor: a.accessor })).status).toBe(204);

    expect((await asRoot(s, 'POST', 'role/app/secret-id-accessor/destroy', { secret_id_accessor: a.accessor })).status).toBe(204);
    expect(await login(s, { role_id: a.role_id, secret_id: a.secret_id })).toMatchObject({ status: 400, body: INVALID });
    expect((await asRoot(s, 'POST', 'role/app/secret-id/lookup', { secret_id: a.secret_id })).status).toBe(404);

    expect((await login(s, { role_id: a.role_id, secret_id: b.secret_id })).status).toBe(200);
    expect((await asRoot(s, 'POST', 'role/app/secret-id/destroy', { secret_id: b.secret_id })).status).toBe(204);
    expect((await login(s, { role_id: a.role_id, secret_id: b.secret_id })).status).toBe(400);
    expect((await asRoot(s, 'POST', 'role/app/secret-id-accessor/lookup', { secret_id_accessor: b.secret_id_accessor })).status).toBe(404);
    expect((await asRoot(s, 'LIST', 'role/app/secret-id')).status).toBe(404);
  });
});

describe('approle roles and role ids', () => {
  it('creates, reads, lists (case-insensitively) and deletes roles; a deleted role takes its secret ids along', async () => {
    const s = await withApprole();
    expect((await asRoot(s, 'LIST', 'role')).status).toBe(404);
    await putRole(s, 'MyApp', { policies: 'a,b', secret_id_num_uses: 5, secret_id_ttl: '1h', secret_id_bound_cidrs: ['127.0.0.1'] });
    await putRole(s, 'myapp', { token_ttl: '10m' }); // the same role: only token_ttl changes
    const read = await asRoot(s, 'GET', 'role/MYAPP');
    expect(read.body.data).toMatchObject({
      bind_secret_id: true, secret_id_num_uses: 5, secret_id_ttl: 3600, secret_id_bound_cidrs: ['127.0.0.1/32'],
      token_policies: ['a', 'b'], policies: ['a', 'b'], token_ttl: 600,
    });
    expect(read.body.data.role_id).toBeUndefined();
    expect((await asRoot(s, 'LIST', 'role')).body.data).toEqual({ keys: ['myapp'] });

    const old = { role_id: await roleIdOf(s, 'myapp'), secret_id: (await newSecretId(s, 'myapp')).secret_id };
    expect((await asRoot(s, 'DELETE', 'role/myapp')).status).toBe(204);
    expect((await asRoot(s, 'GET', 'role/myapp')).status).toBe(404);
    await putRole(s, 'myapp', { role_id: old.role_id });
    expect(await login(s, old)).toMatchObject({ status: 400, body: INVALID });
    expect((await asRoot(s, 'LIST', 'role/myapp/secret-id')).status).toBe(404);
  });

  it('answers help for its routes, the login without a token', async () => {
    const s = await withApprole();
    const rootHelp = await asRoot(s, 'GET', '?help=1');
    expect(rootHelp.status).toBe(200);
    for (const route of ['role/:role_name/secret-id-accessor/destroy', 'role/:role_name/role-id', 'login']) expect(rootHelp.body.help).toContain(route);
    const loginHelp = await s.request('GET', `${A}/login?help=1`);
    expect(loginHelp.status).toBe(200);
    expect(loginHelp.body.help).toContain('secret_id');
  });

  it('reads and sets role ids: custom, unique, the old one stops working', async () => {
    const s = await withApprole();
    const web = await credentials(s, 'web');
    expect(web.role_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect((await asRoot(s, 'POST', 'role/web/role-id', { role_id: 'web-custom-id' })).status).toBe(204);
    expect(await roleIdOf(s, 'web')).toBe('web-custom-id');
    expect((await login(s, { role_id: 'web-custom-id', secret_id: web.secret_id })).status).toBe(200);
    expect(await login(s, { role_id: web.role_id, secret_id: web.secret_id })).toMatchObject({ status: 400, body: INVALID });

    await putRole(s, 'db');
    expect((await asRoot(s, 'POST', 'role/db/role-id', { role_id: 'web-custom-id' })).status).toBe(400);
    expect((await asRoot(s, 'POST', 'role/new', { role_id: 'web-custom-id' })).status).toBe(400);
    expect((await asRoot(s, 'GET', 'role/new')).status).toBe(404);
    expect((await asRoot(s, 'POST', 'role/db/role-id', {})).status).toBe(400);
    expect((await asRoot(s, 'POST', 'role/nobody/role-id', { role_id: 'x' })).status).toBe(404);
    expect((await asRoot(s, 'GET', 'role/nobody/role-id')).status).toBe(404);
  });

  it('tells create from update for the ACL (existence check)', async () => {
    const s = await withApprole();
    const policy = 'path "auth/approle/role/*" { capabilities = ["update", "read"] }';
    expect((await s.request('PUT', '/v1/sys/policy/updater', { token: s.rootToken, body: { policy } })).status).toBe(204);
    const token = (await s.request('POST', '/v1/auth/token/create', { token: s.rootToken, body: { policies: ['updater'] } })).body.auth.client_token;
    expect((await s.request('POST', `${A}/role/fresh`, { token, body: {} })).status).toBe(401);
    await putRole(s, 'fresh');
    expect((await s.request('POST', `${A}/role/fresh`, { token, body: { token_ttl: '5m' } })).status).toBe(204);
  });

  it('answers bad input 400 and writes nothing', async () => {
    const s = await withApprole();
    await putRole(s, 'good', { secret_id_bound_cidrs: ['127.0.0.0/8'] });
    const refusals: Array<[string, string, Record<string, unknown>]> = [
      ['POST', 'role/bad', { secret_id_bound_cidrs: ['10.0.0.0/33'] }],
      ['POST', 'role/bad', { secret_id_bound_cidrs: 'nonsense' }],
      ['POST', 'role/bad', { token_bound_cidrs: ['1.2.3'] }],
      ['POST', 'role/bad', { secret_id_num_uses: -1 }],
      ['POST', 'role/bad', { secret_id_ttl: '-5s' }],
      ['POST', 'role/bad', { bind_secret_id: 'maybe' }],
      ['POST', 'role/bad name!', {}],
      ['POST', 'role/good/secret-id', { num_uses: -1 }],
      ['POST', 'role/good/secret-id', { cidr_list: ['10.0.0.0/8'] }],
      ['POST', 'role/good/secret-id', { cidr_list: ['::1/128'] }],
      ['POST', 'role/good/secret-id', { cidr_list: ['not-a-cidr'] }],
      ['POST', 'role/good/secret-id', { metadata: { n: 1 } }],
      ['POST', 'role/good/secret-id', { metadata: '["a"]' }],
      ['POST', 'role/good/secret-id', { metadata: 'not json' }],
      ['POST', 'role/good/secret-id', { metadata: ['a'] }],
      ['POST', 'role/good/secret-id/lookup', {}],
      ['POST', 'role/good/secret-id-accessor/destroy', {}],
    ];
    for (const [method, path, body] of refusals) {
      const res = await asRoot(s, method, path, body);
      expect(res.status, `${path} ${JSON.stringify(body)}: ${res.text}`).toBe(400);
      expect(res.body.errors).toHaveLength(1);
    }
    expect((await asRoot(s, 'GET', 'role/bad')).status).toBe(404);
    expect((await asRoot(s, 'LIST', 'role/good/secret-id')).status).toBe(404);
    expect((await login(s, {})).status).toBe(400);
    expect((await s.request('POST', `${A}/login`, { body: '{"role_id": 5' })).status).toBe(400);
  });

  it('keeps no raw secret_id anywhere in storage, and a role_id only in its role (sys/raw)', async () => {
    const s = await withApprole({ config: { rawStorageEndpoint: true } });
    const secrets: string[] = [];
    const roleIds: Record<string, string> = {};
    for (const name of ['one', 'two']) {
      const c = await credentials(s, name, { secret_id_num_uses: 3 }, { metadata: { k: 'v' } });
      secrets.push(c.secret_id);
      roleIds[name] = c.role_id;
      expect((await login(s, { role_id: c.role_id, secret_id: c.secret_id })).status).toBe(200);
    }
    expect((await asRoot(s, 'POST', 'role/two/role-id', { role_id: 'custom-role-id-two' })).status).toBe(204);
    const replaced = roleIds.two!;
    roleIds.two = 'custom-role-id-two';
    secrets.push((await newSecretId(s, 'two')).secret_id);

    const seen: string[] = [];
    const walk = async (prefix: string): Promise<void> => {
      const res = await s.request('LIST', `/v1/sys/raw/${prefix}`, { token: s.rootToken });
      if (res.status === 404) return;
      expect(res.status).toBe(200);
      for (const key of res.body.data.keys as string[]) {
        const full = `${prefix}${key}`;
        if (key.endsWith('/')) await walk(full);
        else if (full !== 'core/keyring' && full !== 'core/seal-config') {
          const value = await s.request('GET', `/v1/sys/raw/${full}`, { token: s.rootToken });
          expect(value.status).toBe(200);
          seen.push(`${full}=${value.body.data.value}`);
        }
      }
    };
    await walk('');
    // The walk reached approle's records: its key, roles, role-id and accessor indexes, secret ids.
    for (const part of ['/hmac-key=', '/role/one=', '/role-id/', '/accessor/', '/secret-id/two/']) {
      expect(seen.some((entry) => entry.includes(part)), part).toBe(true);
    }
    for (const secret of secrets) expect(seen.filter((entry) => entry.includes(secret))).toEqual([]);
    // A role_id names its role, as in Vault: kept in the role record (for role-id reads), nowhere else.
    for (const [name, roleId] of Object.entries(roleIds)) {
      const holders = seen.filter((entry) => entry.includes(roleId));
      expect(holders).toHaveLength(1);
      expect(holders[0]).toContain(`/role/${name}=`);
    }
    // A replaced role_id is gone with its index entry.
    expect(seen.filter((entry) => entry.includes(replaced))).toEqual([]);
  });
});
