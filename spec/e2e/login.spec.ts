import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { testBackends } from '../helpers/login-backend.js';
import { testTls } from '../helpers/tls.js';

/**
 * The shared login path (pipeline → core/login.ts): a test auth method answers only who
 * logged in; the pipeline makes the token, its lease and TTL, and the edge the cookie.
 */

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function withLoginMount(options: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
  server = await startTestServer({ backends: testBackends, ...options });
  const root = { token: server.rootToken };
  expect((await server.request('POST', '/v1/sys/auth/test', { ...root, body: { type: 'test-login' } })).status).toBe(204);
  expect((await server.request('PUT', '/v1/sys/policy/reader', { ...root, body: { policy: 'path "secret/app/*" { capabilities = ["read", "list"] }' } })).status).toBe(204);
  expect((await server.request('PUT', '/v1/secret/app/db', { ...root, body: { password: 'hunter2' } })).status).toBe(204);
  return server;
}

async function addUser(s: TestServer, name: string, body: Record<string, unknown>): Promise<void> {
  const res = await s.request('PUT', `/v1/auth/test/users/${name}`, { token: s.rootToken, body: { password: 'pw', policies: ['reader'], ...body } });
  expect(res.status).toBe(204);
}

const cookieOf = (setCookie: string[] | undefined): string => {
  expect(setCookie).toHaveLength(1);
  return setCookie![0]!.split(';')[0]!;
};

describe('the login path', () => {
  it('logs in without a token, answers the token as JSON and as a cookie, and the cookie alone authenticates', async () => {
    const s = await withLoginMount();
    await addUser(s, 'alice', { ttl: '1h' });
    const login = await s.request('POST', '/v1/auth/test/login/alice', { body: { password: 'pw' } });
    expect(login.status).toBe(200);
    const auth = login.body.auth;
    expect(auth).toMatchObject({ policies: ['default', 'reader'], token_policies: ['default', 'reader'], metadata: { username: 'alice' }, lease_duration: 3600, renewable: true, orphan: true });
    expect(auth.client_token).toMatch(/^[0-9a-f-]{36}$/);
    expect(auth.accessor).toMatch(/./);
    expect(login.body.data).toBeNull();
    const setCookie = login.headers['set-cookie'];
    expect(setCookie![0]).toBe(`token=${auth.client_token}; Path=/; Max-Age=3600; HttpOnly; SameSite=Strict`);

    // The cookie and nothing else: read, list, lookup-self.
    const cookie = { headers: { Cookie: cookieOf(setCookie) } };
    const read = await s.request('GET', '/v1/secret/app/db', cookie);
    expect(read.status).toBe(200);
    expect(read.body.data).toEqual({ password: 'hunter2' });
    expect((await s.request('LIST', '/v1/secret/app', cookie)).body.data).toEqual({ keys: ['db'] });
    const self = await s.request('GET', '/v1/auth/token/lookup-self', cookie);
    expect(self.status).toBe(200);
    expect(self.body.data).toMatchObject({ display_name: 'test-alice', path: 'auth/test/login/alice', orphan: true, policies: ['default', 'reader'], meta: { username: 'alice' } });
    // What the policy does not grant stays refused.
    expect((await s.request('GET', '/v1/secret/other', cookie)).status).toBe(401);
    // Renewing answers auth but sets no cookie: only a login does.
    const renewed = await s.request('POST', '/v1/auth/token/renew-self', cookie);
    expect(renewed.status).toBe(200);
    expect(renewed.headers['set-cookie']).toBeUndefined();
  });

  it('answers a failed login 401 with no cookie and no token', async () => {
    const s = await withLoginMount();
    await addUser(s, 'alice', {});
    for (const body of [{ password: 'wrong' }, {}]) {
      const res = await s.request('POST', '/v1/auth/test/login/alice', { body });
      expect(res.status).toBe(401);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.body).toEqual({ errors: ['invalid username or password'] });
    }
    expect((await s.request('POST', '/v1/auth/test/login/nobody', { body: { password: 'pw' } })).status).toBe(401);
  });

  it('never sets a cookie for auth/token/*', async () => {
    const s = await withLoginMount();
    const created = await s.request('POST', '/v1/auth/token/create', { token: s.rootToken, body: { policies: ['reader'] } });
    expect(created.status).toBe(200);
    expect(created.body.auth.client_token).toMatch(/./);
    expect(created.headers['set-cookie']).toBeUndefined();
    const orphan = await s.request('POST', '/v1/auth/token/create-orphan', { token: s.rootToken, body: { policies: ['reader'] } });
    expect(orphan.status).toBe(200);
    expect(orphan.body.auth.orphan).toBe(true);
    expect(created.body.auth.orphan).toBe(false);
    expect(orphan.headers['set-cookie']).toBeUndefined();
  });

  it('clamps the TTL by the mount\'s tuned maximum, also for renewals, and the system view sees the tune', async () => {
    const s = await withLoginMount();
    await addUser(s, 'bob', { ttl: '10h' });
    const root = { token: s.rootToken };
    expect((await s.request('GET', '/v1/auth/test/info', root)).body.data).toEqual({ mount: 'auth/test/', default_ttl: 2764800, max_ttl: 2764800 });
    expect((await s.request('POST', '/v1/sys/auth/test/tune', { ...root, body: { default_lease_ttl: '30s', max_lease_ttl: '1m' } })).status).toBe(204);
    expect((await s.request('GET', '/v1/auth/test/info', root)).body.data).toEqual({ mount: 'auth/test/', default_ttl: 30, max_ttl: 60 });
    const login = await s.request('POST', '/v1/auth/test/login/bob', { body: { password: 'pw' } });
    expect(login.body.auth.lease_duration).toBe(60);
    expect(login.headers['set-cookie']![0]).toContain('Max-Age=60;');
    const token = { token: login.body.auth.client_token };
    const self = await s.request('GET', '/v1/auth/token/lookup-self', token);
    expect(self.body.data).toMatchObject({ creation_ttl: 60, explicit_max_ttl: 60 });
    const renewed = await s.request('POST', '/v1/auth/token/renew-self', { ...token, body: { increment: '10h' } });
    expect(renewed.status).toBe(200);
    expect(renewed.body.auth.lease_duration).toBeLessThanOrEqual(60);
    // No ttl asked: the mount's default.
    await addUser(s, 'carol', {});
    expect((await s.request('POST', '/v1/auth/test/login/carol', { body: { password: 'pw' } })).body.auth.lease_duration).toBe(30);
  });

  it('asks the auth method before a renewal: a deleted user or changed policies end it, through either renewal route', async () => {
    const s = await withLoginMount();
    await addUser(s, 'erin', { ttl: '1h' });
    const login = async (): Promise<{ token: string; lease: string }> => {
      const res = await s.request('POST', '/v1/auth/test/login/erin', { body: { password: 'pw' } });
      expect(res.status).toBe(200);
      const token = res.body.auth.client_token as string;
      const self = await s.request('GET', '/v1/auth/token/lookup-self', { token });
      return { token, lease: `${self.body.data.path}/` };
    };
    const first = await login();
    expect((await s.request('POST', '/v1/auth/token/renew-self', { token: first.token })).status).toBe(200);

    await addUser(s, 'erin', { ttl: '1h', policies: ['reader', 'extra'] });
    const changed = await s.request('POST', '/v1/auth/token/renew-self', { token: first.token });
    expect(changed.status).toBe(400);
    expect(changed.body.errors).toEqual(["the user's policies changed"]);

    const second = await login();
    expect((await s.request('DELETE', '/v1/auth/test/users/erin', { token: s.rootToken })).status).toBe(204);
    const gone = await s.request('POST', '/v1/auth/token/renew-self', { token: second.token });
    expect(gone.status).toBe(400);
    expect(gone.body.errors).toEqual(['the user no longer exists']);
    const leases = await s.request('LIST', `/v1/sys/leases/lookup/${second.lease}`, { token: s.rootToken });
    const leaseId = `${second.lease}${leases.body.data.keys[0]}`;
    const viaSys = await s.request('PUT', '/v1/sys/leases/renew', { token: s.rootToken, body: { lease_id: leaseId } });
    expect(viaSys.status).toBe(400);
    // Refusing a renewal does not revoke: the token lives out its TTL.
    expect((await s.request('GET', '/v1/auth/token/lookup-self', { token: second.token })).status).toBe(200);
  });

  it('makes the token\'s limits hold: num_uses and bound CIDRs', async () => {
    const s = await withLoginMount();
    await addUser(s, 'once', { num_uses: 1 });
    const once = await s.request('POST', '/v1/auth/test/login/once', { body: { password: 'pw' } });
    const onceToken = { token: once.body.auth.client_token };
    expect((await s.request('GET', '/v1/secret/app/db', onceToken)).status).toBe(200);
    expect((await s.request('GET', '/v1/secret/app/db', onceToken)).status).toBe(401);

    await addUser(s, 'far', { bound_cidrs: ['10.0.0.0/8'] });
    const far = await s.request('POST', '/v1/auth/test/login/far', { body: { password: 'pw' } });
    expect(far.status).toBe(200);
    // The client is 127.0.0.1: outside the token's CIDRs, on every path (the fast path included, twice over).
    for (let i = 0; i < 2; i++) expect((await s.request('GET', '/v1/secret/app/db', { token: far.body.auth.client_token })).status).toBe(401);
    await addUser(s, 'near', { bound_cidrs: ['127.0.0.0/8', '::1/128'] });
    const near = await s.request('POST', '/v1/auth/test/login/near', { body: { password: 'pw' } });
    for (let i = 0; i < 2; i++) expect((await s.request('GET', '/v1/secret/app/db', { token: near.body.auth.client_token })).status).toBe(200);

    await addUser(s, 'bad', { bound_cidrs: ['10.0.0.0/33'] });
    const bad = await s.request('POST', '/v1/auth/test/login/bad', { body: { password: 'pw' } });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0]).toContain("token_bound_cidrs: '10.0.0.0/33'");
    expect(bad.headers['set-cookie']).toBeUndefined();
  });

  it('refuses a login answer from a secrets engine (500, no token, no cookie)', async () => {
    const s = await withLoginMount();
    expect((await s.request('POST', '/v1/sys/mounts/bad', { token: s.rootToken, body: { type: 'test-bad-login' } })).status).toBe(204);
    const res = await s.request('GET', '/v1/bad/login', { token: s.rootToken });
    expect(res.status).toBe(500);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(res.text).not.toContain('client_token');
    const errors = s.expectInternalErrors();
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toContain('only auth methods log in');
  });

  it('marks the cookie Secure over TLS', async () => {
    const certs = testTls();
    const s = await withLoginMount({
      ca: certs.ca.cert,
      listener: { tlsDisable: false, tlsCertFile: certs.server.certFile, tlsKeyFile: certs.server.keyFile },
    });
    await addUser(s, 'tls', { ttl: '2m' });
    const login = await s.request('POST', '/v1/auth/test/login/tls', { body: { password: 'pw' } });
    expect(login.status).toBe(200);
    expect(login.headers['set-cookie']![0]).toBe(`token=${login.body.auth.client_token}; Path=/; Max-Age=120; HttpOnly; SameSite=Strict; Secure`);
    const read = await s.request('GET', '/v1/secret/app/db', { headers: { Cookie: cookieOf(login.headers['set-cookie']) } });
    expect(read.status).toBe(200);
  });
});
