import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import type { HttpResult } from '../helpers/http.js';
import { createGatedStorage } from '../helpers/gated-storage.js';
import { liftLoginLimit } from '../helpers/quotas.js';

/**
 * The userpass auth method over real HTTP: users, logins through the shared login path
 * (token, lease, cookie), and the promises about passwords: only an scrypt hash is stored,
 * never shown, and an unknown user looks and takes the same as a wrong password.
 */

let s: TestServer;
const root = () => ({ token: s.rootToken });

beforeAll(async () => {
  s = await startTestServer({ config: { rawStorageEndpoint: true } });
  expect((await s.request('POST', '/v1/sys/auth/userpass', { ...root(), body: { type: 'userpass' } })).status).toBe(204);
  // These specs log in far more than the default burst allows (the limit has its own spec).
  await liftLoginLimit(s.request, s.rootToken, 'auth/userpass/');
  expect((await s.request('PUT', '/v1/sys/policy/p', { ...root(), body: { policy: 'path "secret/app/*" { capabilities = ["read"] }' } })).status).toBe(204);
  expect((await s.request('PUT', '/v1/secret/app/x', { ...root(), body: { value: 'the secret' } })).status).toBe(204);
});

afterAll(async () => {
  await s.close();
});

async function createUser(name: string, body: Record<string, unknown>): Promise<void> {
  const res = await s.request('POST', `/v1/auth/userpass/users/${name}`, { ...root(), body });
  expect(res.status, res.text).toBe(204);
}

const login = (name: string, password: unknown): Promise<HttpResult> =>
  s.request('POST', `/v1/auth/userpass/login/${name}`, { body: password === undefined ? {} : { password } });

async function tokenOf(name: string, password: string): Promise<string> {
  const res = await login(name, password);
  expect(res.status, res.text).toBe(200);
  return res.body.auth.client_token;
}

const readX = (token: string) => s.request('GET', '/v1/secret/app/x', { token });

const INVALID = { errors: ['invalid username or password'] };

describe('userpass logins', () => {
  it('logs a user in: an auth block with the policies and metadata, a cookie that alone authenticates', async () => {
    await createUser('alice', { password: 'alice-pw', policies: 'p', token_ttl: '1h' });
    const res = await login('alice', 'alice-pw');
    expect(res.status).toBe(200);
    expect(res.body.data).toBeNull();
    const auth = res.body.auth;
    expect(auth.client_token).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(auth.policies).toEqual(expect.arrayContaining(['default', 'p']));
    expect(auth.metadata).toEqual({ username: 'alice' });
    expect(auth.lease_duration).toBe(3600);
    expect(auth.renewable).toBe(true);
    expect(res.headers['set-cookie']).toEqual([`token=${auth.client_token}; Path=/; Max-Age=3600; HttpOnly; SameSite=Strict`]);

    const cookie = { headers: { Cookie: `token=${auth.client_token}` } };
    const read = await s.request('GET', '/v1/secret/app/x', cookie);
    expect(read.status).toBe(200);
    expect(read.body.data).toEqual({ value: 'the secret' });
    expect((await s.request('GET', '/v1/secret/other', cookie)).status).toBe(401);
    const self = await s.request('GET', '/v1/auth/token/lookup-self', cookie);
    expect(self.body.data).toMatchObject({ display_name: 'userpass-alice', path: 'auth/userpass/login/alice', meta: { username: 'alice' } });
  });

  it('answers an unknown user exactly as a wrong password, with no token and no cookie', async () => {
    await createUser('bob', { password: 'bob-pw' });
    const wrong = await login('bob', 'not-bobs');
    const unknown = await login('nobody', 'not-bobs');
    const invalidName = await login('x'.repeat(500), 'not-bobs');
    for (const res of [wrong, unknown, invalidName]) {
      expect(res.status).toBe(400);
      expect(res.body).toEqual(INVALID);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    expect(unknown.body).toEqual(wrong.body);
    expect(unknown.text).toBe(wrong.text);
  });

  it('spends the same scrypt work on an unknown user as on a wrong password', async () => {
    await createUser('timed', { password: 'timed-pw' });
    const timeOf = async (name: string): Promise<number> => {
      const start = process.hrtime.bigint();
      const res = await login(name, 'wrong-pw');
      expect(res.status).toBe(400);
      return Number(process.hrtime.bigint() - start);
    };
    const wrong: number[] = [];
    const unknown: number[] = [];
    // Interleaved, so load from elsewhere on the machine falls on both alike.
    for (let i = 0; i < 10; i++) {
      wrong.push(await timeOf('timed'));
      unknown.push(await timeOf(`ghost-${i}`));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    // Generous: without the dummy hash an unknown user answers ~100× faster.
    expect(median(unknown)).toBeGreaterThanOrEqual(0.3 * median(wrong));
  });

  it('refuses a login without a password, naming the field, and a password that is not a string', async () => {
    await createUser('carl', { password: 'carl-pw' });
    const missing = await login('carl', undefined);
    expect(missing.status).toBe(400);
    expect(missing.body.errors[0]).toContain('password');
    for (const bad of [123, true, ['carl-pw'], { p: 'carl-pw' }]) {
      const res = await login('carl', bad);
      expect(res.status).toBe(400);
      expect(res.body.errors[0]).toContain("'password'");
    }
  });

  it('lower-cases usernames: an upper-case name creates, reads and logs in as the lower-case user', async () => {
    await createUser('Dora', { password: 'dora-pw', policies: ['p'] });
    expect((await s.request('GET', '/v1/auth/userpass/users/dora', root())).status).toBe(200);
    expect((await s.request('GET', '/v1/auth/userpass/users/DORA', root())).status).toBe(200);
    const res = await login('DoRa', 'dora-pw');
    expect(res.status).toBe(200);
    expect(res.body.auth.metadata).toEqual({ username: 'dora' });
    expect((await readX(res.body.auth.client_token)).status).toBe(200);
  });

  it("honours token_ttl and token_max_ttl, and renewals never pass token_max_ttl", async () => {
    await createUser('erin', { password: 'erin-pw', policies: 'p', token_ttl: '60s', token_max_ttl: '2m' });
    const res = await login('erin', 'erin-pw');
    expect(res.body.auth.lease_duration).toBe(60);
    expect(res.headers['set-cookie']![0]).toContain('Max-Age=60;');
    const token = { token: res.body.auth.client_token };
    expect((await s.request('GET', '/v1/auth/token/lookup-self', token)).body.data).toMatchObject({ creation_ttl: 60, explicit_max_ttl: 120 });
    const renewed = await s.request('POST', '/v1/auth/token/renew-self', { ...token, body: { increment: '1h' } });
    expect(renewed.status).toBe(200);
    expect(renewed.body.auth.lease_duration).toBeGreaterThan(60);
    expect(renewed.body.auth.lease_duration).toBeLessThanOrEqual(120);
    const again = await s.request('POST', '/v1/auth/token/renew-self', token);
    expect(again.body.auth.lease_duration).toBeLessThanOrEqual(120);
    expect((await s.request('GET', '/v1/auth/token/lookup-self', token)).body.data.ttl).toBeLessThanOrEqual(120);
    // The legacy names do the same.
    await createUser('erin2', { password: 'pw', ttl: 30, max_ttl: 40 });
    expect((await login('erin2', 'pw')).body.auth.lease_duration).toBe(30);
  });

  it('honours token_bound_cidrs and token_num_uses', async () => {
    await createUser('far', { password: 'far-pw', policies: 'p', token_bound_cidrs: ['10.0.0.0/8'] });
    const far = await tokenOf('far', 'far-pw');
    // This client is 127.0.0.1, outside 10.0.0.0/8.
    expect((await readX(far)).status).toBe(401);
    await createUser('near', { password: 'near-pw', policies: 'p', token_bound_cidrs: '127.0.0.0/8,::1/128' });
    expect((await readX(await tokenOf('near', 'near-pw'))).status).toBe(200);

    await createUser('once', { password: 'once-pw', policies: 'p', token_num_uses: 1 });
    const once = await tokenOf('once', 'once-pw');
    expect((await readX(once)).status).toBe(200);
    expect((await readX(once)).status).toBe(401);
  });

  it('changes the password: the old one stops working, the settings stay', async () => {
    await createUser('fay', { password: 'old-pw', policies: 'p', token_ttl: '5m' });
    const res = await s.request('POST', '/v1/auth/userpass/users/fay/password', { ...root(), body: { password: 'new-pw' } });
    expect(res.status).toBe(204);
    expect((await login('fay', 'old-pw')).body).toEqual(INVALID);
    const fresh = await login('fay', 'new-pw');
    expect(fresh.status).toBe(200);
    expect(fresh.body.auth.lease_duration).toBe(300);
    // A write to the user without a password keeps it; with one, replaces it.
    await createUser('fay', { token_ttl: '6m' });
    expect((await login('fay', 'new-pw')).body.auth.lease_duration).toBe(360);
    await createUser('fay', { password: 'third-pw' });
    expect((await login('fay', 'new-pw')).status).toBe(400);
    expect((await login('fay', 'third-pw')).status).toBe(200);
    // No such user, no password, an empty one.
    expect((await s.request('POST', '/v1/auth/userpass/users/nobody/password', { ...root(), body: { password: 'x' } })).status).toBe(404);
    expect((await s.request('POST', '/v1/auth/userpass/users/fay/password', { ...root(), body: {} })).status).toBe(400);
    expect((await s.request('POST', '/v1/auth/userpass/users/fay/password', { ...root(), body: { password: '' } })).status).toBe(400);
    expect((await login('fay', 'third-pw')).status).toBe(200);
  });

  it('changes only the policies through users/<name>/policies', async () => {
    await createUser('gus', { password: 'gus-pw', token_ttl: '7m' });
    expect((await readX(await tokenOf('gus', 'gus-pw'))).status).toBe(401);
    // Other token fields in the body are not this path's to change.
    const res = await s.request('POST', '/v1/auth/userpass/users/gus/policies', { ...root(), body: { token_policies: 'p,P', token_ttl: '1m' } });
    expect(res.status).toBe(204);
    const after = await login('gus', 'gus-pw');
    expect(after.body.auth.policies).toEqual(expect.arrayContaining(['default', 'p']));
    expect(after.body.auth.lease_duration).toBe(420);
    expect((await readX(after.body.auth.client_token)).status).toBe(200);
    const read = await s.request('GET', '/v1/auth/userpass/users/gus', root());
    expect(read.body.data).toMatchObject({ token_policies: ['p'], policies: ['p'], token_ttl: 420 });
    expect((await s.request('POST', '/v1/auth/userpass/users/gus/policies', { ...root(), body: {} })).status).toBe(400);
    expect((await s.request('POST', '/v1/auth/userpass/users/nobody/policies', { ...root(), body: { policies: 'p' } })).status).toBe(404);
  });

  it('renews a login token while the user is unchanged; changed policies or a deleted user refuse the renewal', async () => {
    await createUser('rita', { password: 'pw', policies: ['p'], token_ttl: '1h' });
    const renew = (token: string) => s.request('POST', '/v1/auth/token/renew-self', { token });
    const first = await tokenOf('rita', 'pw');
    expect((await renew(first)).status).toBe(200);
    // A password change keeps the policies: renewals go on.
    expect((await s.request('POST', '/v1/auth/userpass/users/rita/password', { ...root(), body: { password: 'pw2' } })).status).toBe(204);
    expect((await renew(first)).status).toBe(200);
    expect((await s.request('POST', '/v1/auth/userpass/users/rita/policies', { ...root(), body: { policies: 'p,q' } })).status).toBe(204);
    const changed = await renew(first);
    expect(changed.status).toBe(400);
    expect(changed.body.errors).toEqual(["the user's policies changed since the login: log in again"]);
    const second = await tokenOf('rita', 'pw2');
    expect((await renew(second)).status).toBe(200);
    expect((await s.request('DELETE', '/v1/auth/userpass/users/rita', root())).status).toBe(204);
    expect((await renew(second)).body.errors).toEqual(['the user this token logged in as no longer exists']);
  });

  it('deletes a user: its login then fails like an unknown one', async () => {
    await createUser('hal', { password: 'hal-pw' });
    expect((await login('hal', 'hal-pw')).status).toBe(200);
    expect((await s.request('DELETE', '/v1/auth/userpass/users/hal', root())).status).toBe(204);
    expect((await s.request('GET', '/v1/auth/userpass/users/hal', root())).status).toBe(404);
    const res = await login('hal', 'hal-pw');
    expect(res.status).toBe(400);
    expect(res.body).toEqual(INVALID);
    expect((await s.request('DELETE', '/v1/auth/userpass/users/hal', root())).status).toBe(204);
  });
});

describe('userpass users', () => {
  it('lists the users by LIST users, LIST users/ and GET ?list=true, and 404 when there is none', async () => {
    const t = await startTestServer();
    try {
      expect((await t.request('POST', '/v1/sys/auth/up', { token: t.rootToken, body: { type: 'userpass' } })).status).toBe(204);
      expect((await t.request('LIST', '/v1/auth/up/users', { token: t.rootToken })).status).toBe(404);
      for (const name of ['zed', 'Amy']) {
        expect((await t.request('POST', `/v1/auth/up/users/${name}`, { token: t.rootToken, body: { password: 'pw' } })).status).toBe(204);
      }
      for (const [method, path] of [['LIST', 'users'], ['LIST', 'users/'], ['GET', 'users?list=true']] as const) {
        const res = await t.request(method, `/v1/auth/up/${path}`, { token: t.rootToken });
        expect(res.status).toBe(200);
        expect(res.body.data).toEqual({ keys: ['amy', 'zed'] });
      }
    } finally {
      await t.close();
    }
  });

  it('shows the token settings on a read, never the password or its hash', async () => {
    await createUser('ivy', { password: 'ivy-secret-pw', token_policies: ['p'], token_ttl: '1h', token_max_ttl: '2h', token_num_uses: 3, token_bound_cidrs: '10.0.0.0/8', token_no_default_policy: true, token_period: 0 });
    const res = await s.request('GET', '/v1/auth/userpass/users/ivy', root());
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({
      token_policies: ['p'], policies: ['p'], token_ttl: 3600, ttl: 3600, token_max_ttl: 7200, max_ttl: 7200, token_period: 0, period: 0,
      token_bound_cidrs: ['10.0.0.0/8'], bound_cidrs: ['10.0.0.0/8'], token_num_uses: 3, token_no_default_policy: true, token_type: 'service',
    });
    expect(res.text).not.toContain('ivy-secret-pw');
    expect(res.text).not.toContain('scrypt');
    expect(res.text).not.toMatch(/password|hash/i);
  });

  /** The mount's storage prefix behind the barrier, from the auth table's uuid. */
  async function rawPrefix(): Promise<string> {
    const table = await s.request('GET', '/v1/sys/auth', root());
    return `/v1/sys/raw/auth/${table.body.data['userpass/'].uuid}/`;
  }

  it('stores an scrypt hash and never the password', async () => {
    await createUser('jo', { password: 'jo-plaintext-pw' });
    const prefix = await rawPrefix();
    expect((await s.request('LIST', `${prefix}user/`, root())).body.data.keys).toContain('jo');
    const entry = await s.request('GET', `${prefix}user/jo`, root());
    expect(entry.status).toBe(200);
    const record: string = entry.body.data.value;
    expect(record).not.toContain('jo-plaintext-pw');
    expect(record).not.toContain(Buffer.from('jo-plaintext-pw').toString('base64'));
    const parsed = JSON.parse(record);
    expect(parsed.passwordHash).toMatch(/^scrypt:16384:8:1:[A-Za-z0-9+/=]{24}:[A-Za-z0-9+/=]{44}$/);
    expect(Object.keys(parsed).sort()).toEqual(['passwordHash', 'token']);
  });

  it('refuses a login against a corrupt record like a wrong password, without running scrypt on its cost', async () => {
    const prefix = await rawPrefix();
    const salt = Buffer.alloc(16, 1).toString('base64');
    const hash = Buffer.alloc(32, 2).toString('base64');
    const corrupt = {
      // 1 TiB of scrypt memory if it were believed.
      huge: { passwordHash: `scrypt:1073741824:8:1:${salt}:${hash}`, token: {} },
      nohash: { token: {} },
      garbage: { passwordHash: 'plaintext-pw', token: {} },
    };
    for (const [name, record] of Object.entries(corrupt)) {
      expect((await s.request('PUT', `${prefix}user/${name}`, { ...root(), body: { value: JSON.stringify(record) } })).status).toBe(204);
      const res = await login(name, 'plaintext-pw');
      expect(res.status).toBe(400);
      expect(res.body).toEqual(INVALID);
    }
  });

  it('refuses bad fields with 400 and writes nothing', async () => {
    await createUser('kim', { password: 'kim-pw', token_ttl: '1h' });
    const bodies: Array<Record<string, unknown>> = [
      { password: 'x', token_bound_cidrs: ['10.0.0.0/33'] },
      { password: 'x', bound_cidrs: 'not-a-cidr' },
      { password: 'x', token_num_uses: -1 },
      { password: 42 },
      { password: false },
      { password: '' },
      { password: 'x', token_ttl: 'soon' },
      { password: 'x', policies: 7 },
    ];
    for (const body of bodies) {
      const res = await s.request('POST', '/v1/auth/userpass/users/kim', { ...root(), body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.errors).toHaveLength(1);
    }
    // kim is unchanged: the old password and TTL.
    expect((await login('kim', 'kim-pw')).body.auth.lease_duration).toBe(3600);
    // Creating needs a password; a bad name is refused.
    const missing = await s.request('POST', '/v1/auth/userpass/users/newbie', { ...root(), body: { policies: 'p' } });
    expect(missing.status).toBe(400);
    expect(missing.body.errors[0]).toContain("'password'");
    expect((await s.request('GET', '/v1/auth/userpass/users/newbie', root())).status).toBe(404);
    expect((await s.request('POST', `/v1/auth/userpass/users/${'n'.repeat(129)}`, { ...root(), body: { password: 'pw' } })).status).toBe(400);
  });

  it('keeps both of two overlapping partial updates of a user (over a slow storage)', async () => {
    const gated = createGatedStorage();
    const t = await startTestServer({ storage: gated.storage });
    try {
      const rootToken = { token: t.rootToken };
      expect((await t.request('POST', '/v1/sys/auth/userpass', { ...rootToken, body: { type: 'userpass' } })).status).toBe(204);
      const user = '/v1/auth/userpass/users/max';
      expect((await t.request('POST', user, { ...rootToken, body: { password: 'max-pw' } })).status).toBe(204);
      // The first update's write is held at the storage; the second starts meanwhile.
      const gate = gated.gate('user/max');
      const first = t.request('POST', `${user}/policies`, { ...rootToken, body: { policies: 'p' } });
      await gate.reached;
      const second = t.request('POST', user, { ...rootToken, body: { token_ttl: '3m' } });
      // A round trip sent after the second update: by its answer, the second has started.
      expect((await t.request('GET', user, rootToken)).body.data.token_policies).toEqual([]);
      gate.open();
      expect([(await first).status, (await second).status]).toEqual([204, 204]);
      expect((await t.request('GET', user, rootToken)).body.data).toMatchObject({ token_policies: ['p'], token_ttl: 180 });
    } finally {
      await t.close();
    }
  });

  it('lets the ACL tell creating a user from updating one', async () => {
    await createUser('lee', { password: 'lee-pw' });
    const policy = 'path "auth/userpass/users/*" { capabilities = ["update"] }';
    expect((await s.request('PUT', '/v1/sys/policy/updater', { ...root(), body: { policy } })).status).toBe(204);
    const created = await s.request('POST', '/v1/auth/token/create', { ...root(), body: { policies: ['updater'] } });
    const updater = { token: created.body.auth.client_token };
    expect((await s.request('POST', '/v1/auth/userpass/users/lee', { ...updater, body: { token_ttl: '2m' } })).status).toBe(204);
    expect((await s.request('POST', '/v1/auth/userpass/users/lee/password', { ...updater, body: { password: 'lee-pw2' } })).status).toBe(204);
    expect((await s.request('POST', '/v1/auth/userpass/users/mallory', { ...updater, body: { password: 'pw' } })).status).toBe(401);
    expect((await s.request('GET', '/v1/auth/userpass/users/mallory', root())).status).toBe(404);
  });

  it('answers help: the mount root lists its routes, the login path needs no token', async () => {
    const res = await s.request('GET', '/v1/auth/userpass/?help=1', root());
    expect(res.status).toBe(200);
    for (const route of ['users', 'users/:username', 'users/:username/password', 'users/:username/policies', 'login/:username']) {
      expect(res.body.help).toContain(route);
    }
    const loginHelp = await s.request('GET', '/v1/auth/userpass/login/anyone?help=1');
    expect(loginHelp.status).toBe(200);
    expect(loginHelp.body.help).toContain('password');
  });
});
