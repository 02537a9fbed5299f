import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { registerLeasingBackend, type LeasingRecorder } from '../helpers/leasing-backend.js';
import { sysFields } from '../helpers/sys-body.js';

/** The access model over real HTTP: policies, child tokens, revocation trees, uses, cubbyholes. */

let server: TestServer;
let root: string;
let recorder: LeasingRecorder;
let unregister: () => void;

beforeAll(async () => {
  ({ recorder, unregister } = registerLeasingBackend());
  server = await startTestServer();
  root = server.rootToken;
  await req('POST', 'sys/mounts/creds', root, { type: 'leasing' });
  await req('PUT', 'sys/policy/p', root, { policy: 'path "secret/app/*" { capabilities = ["read"] }' });
  await req('PUT', 'sys/policy/creds', root, { policy: 'path "creds/*" { capabilities = ["read"] }\npath "auth/token/create" { capabilities = ["update"] }' });
  await req('POST', 'secret/app/x', root, { value: 'app secret' });
  await req('POST', 'secret/other', root, { value: 'other secret' });
});
afterAll(async () => {
  await server.close();
  unregister();
});

function req(method: string, path: string, token: string | undefined, body?: unknown) {
  return server.request(method, `/v1/${path}`, { token, body });
}

async function createToken(parent: string, body: Record<string, unknown> = {}): Promise<string> {
  const res = await req('POST', 'auth/token/create', parent, body);
  if (res.status !== 200) throw new Error(`token create failed: ${res.status} ${res.text}`);
  expect(res.headers['set-cookie']).toBeUndefined();
  return res.body.auth.client_token;
}

describe('a token with policy p (read on secret/app/*)', () => {
  let token: string;
  beforeAll(async () => {
    token = await createToken(root, { policies: ['p'] });
  });

  it('carries p and default', async () => {
    const self = await req('GET', 'auth/token/lookup-self', token);
    expect(self.body.data.policies).toEqual(['default', 'p']);
    expect(self.body.data.ttl).toBeGreaterThan(0);
  });

  it('reads secret/app/x', async () => {
    const res = await req('GET', 'secret/app/x', token);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ value: 'app secret' });
  });

  it.each([
    ['a write there', 'POST', 'secret/app/x', { value: 'changed' }],
    ['a delete there', 'DELETE', 'secret/app/x', undefined],
    ['an existing path outside', 'GET', 'secret/other', undefined],
    ['a missing path outside', 'GET', 'secret/nothing-here', undefined],
    ['a path under no mount at all', 'GET', 'nowhere/at/all', undefined],
    ['sys/mounts', 'GET', 'sys/mounts', undefined],
    ['mounting', 'POST', 'sys/mounts/mine', { type: 'kv' }],
    ['sealing', 'PUT', 'sys/seal', undefined],
    ['help outside its paths', 'GET', 'sys/mounts?help=1', undefined],
  ])('gets 401 for %s', async (_name, method, path, body) => {
    const res = await req(method, path, token, body);
    expect(res.status).toBe(401);
    expect(res.body.errors).toEqual(['permission denied']);
  });

  it('still reads what it could after the refusals (nothing was written)', async () => {
    expect((await req('GET', 'secret/app/x', root)).body.data).toEqual({ value: 'app secret' });
  });

  it('gets help where it has a capability', async () => {
    expect((await req('GET', 'secret/app/x?help=1', token)).status).toBe(200);
  });

  it('cannot give a child policies it lacks', async () => {
    const res = await req('POST', 'auth/token/create', token, { policies: ['p', 'creds'] });
    // It has no update on auth/token/create at all: 401 first.
    expect(res.status).toBe(401);
    const parent = await createToken(root, { policies: ['p', 'creds'] });
    const child = await req('POST', 'auth/token/create', parent, { policies: ['p', 'root'] });
    expect(child.status).toBe(400);
    expect(child.body.errors[0]).toMatch(/subset/);
    const ok = await req('POST', 'auth/token/create', parent, { policies: ['p'] });
    expect(ok.status).toBe(200);
    expect(ok.body.auth.policies).toEqual(['default', 'p']);
  });

  it('needs sudo to choose the token id or make an orphan', async () => {
    const parent = await createToken(root, { policies: ['creds'] });
    expect((await req('POST', 'auth/token/create', parent, { id: 'chosen-id' })).status).toBe(401);
    expect((await req('POST', 'auth/token/create', parent, { no_parent: true })).status).toBe(401);
    const chosen = await req('POST', 'auth/token/create', root, { id: 'chosen-id', policies: ['p'] });
    expect(chosen.body.auth.client_token).toBe('chosen-id');
    expect((await req('GET', 'secret/app/x', 'chosen-id')).status).toBe(200);
  });
});

describe('create vs update', () => {
  it('needs create for a new key and update for an existing one', async () => {
    await req('PUT', 'sys/policy/creator', root, { policy: 'path "secret/drop/*" { capabilities = ["create"] }' });
    const token = await createToken(root, { policies: ['creator'] });
    expect((await req('POST', 'secret/drop/new', token, { v: 1 })).status).toBe(204);
    expect((await req('POST', 'secret/drop/new', token, { v: 2 })).status).toBe(401);
    expect((await req('GET', 'secret/drop/new', root)).body.data).toEqual({ v: 1 });
  });
});

describe('num_uses', () => {
  it('allows exactly num_uses requests, then 401', async () => {
    const token = await createToken(root, { policies: ['p'], num_uses: 2 });
    expect((await req('GET', 'secret/app/x', token)).status).toBe(200);
    expect((await req('GET', 'secret/app/x', token)).status).toBe(200);
    expect((await req('GET', 'secret/app/x', token)).status).toBe(401);
    // The token is gone for good, not just refused.
    expect((await req('POST', 'auth/token/lookup', root, { token })).status).toBe(404);
  });

  it('refuses negative uses and children of limited tokens', async () => {
    expect((await req('POST', 'auth/token/create', root, { num_uses: -1 })).status).toBe(400);
    const limited = await createToken(root, { num_uses: 5 });
    expect((await req('POST', 'auth/token/create', limited, {})).status).toBe(400);
  });
});

describe('revocation trees', () => {
  async function tree() {
    const a = await createToken(root, { policies: ['creds'] });
    const b = await createToken(a, { policies: ['creds'] });
    const c = await createToken(b, { policies: ['creds'] });
    const leases: Record<string, string> = {};
    for (const [name, token] of Object.entries({ a, b, c })) {
      const creds = await req('GET', `creds/creds/${name}`, token);
      expect(creds.status).toBe(200);
      expect(creds.body.lease_id).toMatch(/^creds\/creds\//);
      leases[name] = creds.body.lease_id;
      expect((await req('POST', 'cubbyhole/note', token, { owner: name })).status).toBe(204);
    }
    return { a, b, c, leases };
  }

  const cubbyholeOwners = async () => {
    const storage = server.server.core.mounts.get('cubbyhole/')!.storage;
    return storage.list('');
  };

  it('revoking A takes B, C, their leases and cubbyholes', async () => {
    const before = await cubbyholeOwners();
    const { a, b, c, leases } = await tree();
    const issued = recorder.issued.slice(-3);
    expect((await cubbyholeOwners()).length).toBe(before.length + 3);
    expect((await req('POST', 'auth/token/revoke', root, { token: a })).status).toBe(204);
    for (const token of [a, b, c]) expect((await req('GET', 'auth/token/lookup-self', token)).status).toBe(401);
    for (const id of Object.values(leases)) expect((await req('PUT', 'sys/leases/lookup', root, { lease_id: id })).status).toBe(404);
    // The backend was asked to revoke every credential the three tokens held.
    expect(recorder.revoked).toEqual(expect.arrayContaining(issued));
    expect(await cubbyholeOwners()).toEqual(before);
  });

  it('revoke-orphan on A keeps B (now an orphan) and C', async () => {
    const { a, b, c, leases } = await tree();
    expect((await req('POST', 'auth/token/revoke-orphan', root, { token: a })).status).toBe(204);
    expect((await req('GET', 'auth/token/lookup-self', a)).status).toBe(401);
    const lookB = await req('GET', 'auth/token/lookup-self', b);
    expect(lookB.status).toBe(200);
    expect(lookB.body.data.orphan).toBe(true);
    expect((await req('GET', 'auth/token/lookup-self', c)).body.data.orphan).toBe(false);
    expect((await req('PUT', 'sys/leases/lookup', root, { lease_id: leases.a })).status).toBe(404);
    expect((await req('PUT', 'sys/leases/lookup', root, { lease_id: leases.b })).status).toBe(200);
    expect((await req('GET', 'cubbyhole/note', b)).body.data).toEqual({ owner: 'b' });
    // Revoking B now takes C.
    await req('POST', 'auth/token/revoke', root, { token: b });
    expect((await req('GET', 'auth/token/lookup-self', c)).status).toBe(401);
  });

  it('revoke-orphan needs sudo', async () => {
    const a = await createToken(root, { policies: ['creds'] });
    await req('PUT', 'sys/policy/orphaner', root, { policy: 'path "auth/token/revoke-orphan" { capabilities = ["update"] }' });
    const orphaner = await createToken(root, { policies: ['orphaner'] });
    expect((await req('POST', 'auth/token/revoke-orphan', orphaner, { token: a })).status).toBe(401);
  });

  it('revoke-self and revoke-accessor work and reveal nothing about unknown tokens', async () => {
    const t = await createToken(root, {});
    expect((await req('POST', 'auth/token/revoke-self', t)).status).toBe(204);
    expect((await req('GET', 'auth/token/lookup-self', t)).status).toBe(401);
    const u = await createToken(root, {});
    const accessor = (await req('GET', 'auth/token/lookup-self', u)).body.data.accessor;
    expect((await req('POST', 'auth/token/lookup-accessor', root, { accessor })).body.data.id).toBe('');
    expect((await req('POST', 'auth/token/revoke-accessor', root, { accessor })).status).toBe(204);
    expect((await req('GET', 'auth/token/lookup-self', u)).status).toBe(401);
    expect((await req('POST', 'auth/token/revoke', root, { token: 'no-such-token' })).status).toBe(204);
    expect((await req('POST', 'auth/token/lookup', root, { token: 'no-such-token' })).status).toBe(404);
  });
});

describe('cubbyhole', () => {
  it('is private to each token, even from root', async () => {
    const a = await createToken(root, {});
    const b = await createToken(root, {});
    expect((await req('POST', 'cubbyhole/secret', a, { v: 'a' })).status).toBe(204);
    expect((await req('GET', 'cubbyhole/secret', a)).body.data).toEqual({ v: 'a' });
    expect((await req('GET', 'cubbyhole/secret', b)).status).toBe(404);
    expect((await req('GET', 'cubbyhole/secret', root)).status).toBe(404);
    expect((await req('LIST', 'cubbyhole/', a)).body.data.keys).toEqual(['secret']);
  });

  it('cannot be unmounted or mounted again', async () => {
    expect((await req('DELETE', 'sys/mounts/cubbyhole', root)).status).toBe(400);
    expect((await req('POST', 'sys/mounts/cubby2', root, { type: 'cubbyhole' })).status).toBe(400);
  });
});

describe('the default policy', () => {
  it('allows self-service and the cubbyhole, nothing else', async () => {
    const t = await createToken(root, { policies: [] });
    expect((await req('GET', 'auth/token/lookup-self', t)).status).toBe(200);
    expect((await req('POST', 'auth/token/renew-self', t, {})).status).toBe(200);
    expect((await req('POST', 'cubbyhole/mine', t, { v: 1 })).status).toBe(204);
    expect((await req('GET', 'secret/app/x', t)).status).toBe(401);
    const caps = await req('POST', 'sys/capabilities-self', t, { path: 'cubbyhole/x' });
    expect(caps.body.capabilities).toEqual(['create', 'read', 'update', 'delete', 'list']);
    expect((await req('POST', 'sys/capabilities-self', t, { path: 'secret/x' })).body.capabilities).toEqual(['deny']);
  });

  it('is not attached with no_default_policy', async () => {
    const t = await createToken(root, { policies: ['p'], no_default_policy: true });
    expect((await req('GET', 'auth/token/lookup-self', t)).status).toBe(401);
  });
});

describe('sys/policy', () => {
  it('writes (policy or rules), reads, lists and deletes', async () => {
    expect((await req('PUT', 'sys/policy/Ops', root, { rules: 'path "ops/*" { capabilities = ["read"] }' })).status).toBe(204);
    const read = await req('GET', 'sys/policy/ops', root);
    expect(sysFields(read.body)).toEqual({ name: 'ops', rules: 'path "ops/*" { capabilities = ["read"] }' });
    expect((await req('GET', 'sys/policies/acl/OPS', root)).body.policy).toContain('ops/*');
    const list = await req('GET', 'sys/policy', root);
    expect(list.body.policies).toEqual(expect.arrayContaining(['default', 'ops', 'root']));
    expect((await req('LIST', 'sys/policies/acl', root)).body.keys).toContain('ops');
    expect((await req('DELETE', 'sys/policy/ops', root)).status).toBe(204);
    expect((await req('GET', 'sys/policy/ops', root)).status).toBe(404);
  });

  it.each([
    ['write root', 'PUT', 'sys/policy/root', { policy: 'path "x" { capabilities = ["read"] }' }],
    ['delete root', 'DELETE', 'sys/policy/root', undefined],
    ['delete default', 'DELETE', 'sys/policy/default', undefined],
    ['write without a policy', 'PUT', 'sys/policy/empty', {}],
    ['write a bad name', 'PUT', 'sys/policy/bad%20name', { policy: 'path "x" { capabilities = ["read"] }' }],
  ])('refuses to %s', async (_name, method, path, body) => {
    expect((await req(method, path, root, body)).status).toBe(400);
  });

  it('answers 400 with line and column for a bad document, and keeps the old one', async () => {
    await req('PUT', 'sys/policy/kept', root, { policy: 'path "a/*" { capabilities = ["read"] }' });
    const res = await req('PUT', 'sys/policy/kept', root, { policy: 'path "a/*" {\n  capabilities = ["read", "fly"]\n}' });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toMatch(/line 2, column 18/);
    expect((await req('GET', 'sys/policy/kept', root)).body.rules).toContain('["read"]');
  });

  it('applies an edited policy to existing tokens at once', async () => {
    await req('PUT', 'sys/policy/live', root, { policy: 'path "secret/app/*" { capabilities = ["read"] }' });
    const t = await createToken(root, { policies: ['live'] });
    expect((await req('GET', 'secret/app/x', t)).status).toBe(200);
    await req('PUT', 'sys/policy/live', root, { policy: 'path "secret/app/*" { capabilities = ["deny"] }' });
    expect((await req('GET', 'secret/app/x', t)).status).toBe(401);
  });

  it('reports capabilities for another token and by accessor', async () => {
    const t = await createToken(root, { policies: ['p'] });
    const caps = await req('POST', 'sys/capabilities', root, { token: t, path: 'secret/app/x' });
    expect(caps.body).toMatchObject({ capabilities: ['read'], 'secret/app/x': ['read'] });
    const accessor = (await req('GET', 'auth/token/lookup-self', t)).body.data.accessor;
    expect((await req('POST', 'sys/capabilities-accessor', root, { accessor, path: 'sys/mounts' })).body.capabilities).toEqual(['deny']);
    expect((await req('POST', 'sys/capabilities-self', root, { path: 'anything' })).body.capabilities).toEqual(['root']);
  });
});
