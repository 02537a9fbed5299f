import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer, type TestServerOptions } from '../helpers/server.js';
import { addressAllowed } from '../../lib/backends/approle/cidrs.js';

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
    const s = await withApprole();
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
