import nodeVault from 'node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerLeasingBackend } from '../helpers/leasing-backend.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { sysFields } from '../helpers/sys-body.js';

/**
 * What real Vault client libraries need, over real HTTP: a list path without its trailing
 * slash is the folder (Vault adds the `/` before the ACL check and routing), and every
 * `sys/` answer with data carries it in `data` as well as at the top level (api.md §5).
 */

let server: TestServer;
let leasing: ReturnType<typeof registerLeasingBackend>;
const req = (method: string, path: string, token: string, body?: unknown) => server.request(method, `/v1/${path}`, { token, body });

beforeAll(async () => {
  leasing = registerLeasingBackend();
  server = await startTestServer();
  const root = server.rootToken;
  for (const [path, body] of [
    ['secret/app/db', { password: 'p' }],
    ['secret/app/sub/x', { v: 1 }],
    ['secret/other', { v: 2 }],
  ] as const) {
    expect((await req('PUT', path, root, body)).status).toBe(204);
  }
  expect((await req('PUT', 'sys/policy/app-lister', root, { policy: 'path "secret/app/*" { capabilities = ["list", "read"] }' })).status).toBe(204);
  expect((await req('POST', 'sys/mounts/leasing', root, { type: 'leasing' })).status).toBe(204);
});
afterAll(async () => {
  await server.close();
  leasing.unregister();
});

async function tokenWith(policies: string[]): Promise<string> {
  const res = await req('POST', 'auth/token/create', server.rootToken, { policies });
  expect(res.status).toBe(200);
  return res.body.auth.client_token;
}

describe('listing a folder without its trailing slash', () => {
  it('is checked against the ACL and routed as the folder: LIST, ?list=true and with the slash agree', async () => {
    const token = await tokenWith(['app-lister']);
    for (const [method, path] of [
      ['LIST', 'secret/app'],
      ['LIST', 'secret/app/'],
      ['GET', 'secret/app?list=true'],
      ['GET', 'secret/app/?list=true'],
    ]) {
      const res = await req(method!, path!, token);
      expect(res.status, `${method} ${path}: ${res.text}`).toBe(200);
      expect(res.body.data).toEqual({ keys: ['db', 'sub/'] });
    }
    expect((await req('LIST', 'secret/app/sub', token)).body.data).toEqual({ keys: ['x'] });
    // The grant is for secret/app/*, nothing above it.
    expect((await req('LIST', 'secret', token)).status).toBe(401);
    expect((await req('LIST', 'secret/', token)).status).toBe(401);
    expect((await req('GET', 'secret/other', token)).status).toBe(401);
    // A read of the folder's name is still a read of a key, not a list.
    expect((await req('GET', 'secret/app', token)).status).toBe(401);
  });

  it('lists a cubbyhole under the default policy', async () => {
    const token = await tokenWith(['default']);
    expect((await req('PUT', 'cubbyhole/note', token, { text: 'mine' })).status).toBe(204);
    expect((await req('PUT', 'cubbyhole/dir/inner', token, { text: 'deeper' })).status).toBe(204);
    for (const [method, path] of [
      ['LIST', 'cubbyhole'],
      ['GET', 'cubbyhole?list=true'],
      ['LIST', 'cubbyhole/'],
    ]) {
      const res = await req(method!, path!, token);
      expect(res.status, `${method} ${path}: ${res.text}`).toBe(200);
      expect(res.body.data).toEqual({ keys: ['dir/', 'note'] });
    }
    expect((await req('LIST', 'cubbyhole/dir', token)).body.data).toEqual({ keys: ['inner'] });
  });

  it('keeps sys list routes working: policies and lease prefixes', async () => {
    const root = server.rootToken;
    const policies = await req('LIST', 'sys/policy', root);
    expect(policies.status).toBe(200);
    expect(policies.body.data.keys).toContain('app-lister');
    expect((await req('LIST', 'sys/policies/acl', root)).body.data.keys).toContain('default');
    expect((await req('GET', 'leasing/creds/db', root)).status).toBe(200);
    const leases = await req('LIST', 'sys/leases/lookup/leasing/creds/db', root);
    expect(leases.status).toBe(200);
    expect(leases.body.data.keys).toHaveLength(1);
  });

  it('works through node-vault, which strips trailing slashes', async () => {
    const vault = nodeVault({ endpoint: server.url, apiVersion: 'v1', token: await tokenWith(['app-lister']) });
    expect((await vault.list('secret/app')).data).toEqual({ keys: ['db', 'sub/'] });
    expect((await vault.list('secret/app/')).data).toEqual({ keys: ['db', 'sub/'] });
  });
});

describe('sys answers', () => {
  it('carry every field in data and at the top level, inside an envelope with a request id', async () => {
    const root = server.rootToken;
    const lease = await req('GET', 'leasing/creds/web', root);
    const leaseId = lease.body.lease_id;
    expect(leaseId).toMatch(/^leasing\/creds\/web\//);
    const reads: Array<[string, string, unknown?]> = [
      ['GET', 'sys/init'],
      ['GET', 'sys/seal-status'],
      ['GET', 'sys/leader'],
      ['GET', 'sys/key-status'],
      ['GET', 'sys/mounts'],
      ['GET', 'sys/mounts/secret/tune'],
      ['GET', 'sys/auth'],
      ['GET', 'sys/auth/token/tune'],
      ['GET', 'sys/policy'],
      ['GET', 'sys/policy/default'],
      ['GET', 'sys/policies/acl'],
      ['GET', 'sys/policies/acl/app-lister'],
      ['POST', 'sys/capabilities', { token: root, paths: ['secret/app/db'] }],
      ['POST', 'sys/capabilities-self', { paths: ['secret/app/db'] }],
      ['PUT', 'sys/leases/lookup', { lease_id: leaseId }],
      ['LIST', 'sys/leases/lookup/leasing/creds/web/'],
      ['GET', 'sys/rekey/init'],
    ];
    for (const [method, path, body] of reads) {
      const res = await req(method, path, root, body);
      expect(res.status, `${method} ${path}: ${res.text}`).toBe(200);
      const fields = sysFields(res.body);
      expect(Object.keys(fields).length, `${method} ${path} has fields`).toBeGreaterThan(0);
    }
    const keyStatus = await req('GET', 'sys/key-status', root);
    expect(keyStatus.body).toMatchObject({ term: 1, data: { term: 1, install_time: keyStatus.body.install_time } });
    expect(keyStatus.body.request_id).toBe(keyStatus.headers['x-request-id']);
    // The lease's own `renewable` wins at the top level over the envelope's; data has it too.
    const lookup = await req('PUT', 'sys/leases/lookup', root, { lease_id: leaseId });
    expect(lookup.body).toMatchObject({ id: leaseId, renewable: true, data: { id: leaseId, renewable: true } });
  });

  it('answers sys/unseal and a rekey start with the envelope too', async () => {
    const unseal = await server.request('PUT', '/v1/sys/unseal', { body: { key: server.keys[0] } });
    expect(sysFields(unseal.body)).toMatchObject({ sealed: false, t: 1, n: 1 });
    const started = await req('PUT', 'sys/rekey/init', server.rootToken, { secret_shares: 1, secret_threshold: 1 });
    expect(sysFields(started.body)).toMatchObject({ started: true, t: 1, n: 1 });
    expect((await req('DELETE', 'sys/rekey/init', server.rootToken)).status).toBe(204);
  });

  it('keeps sys/health and the OpenAPI document raw', async () => {
    const health = await server.request('GET', '/v1/sys/health');
    expect(health.body).not.toHaveProperty('data');
    expect(health.body).not.toHaveProperty('request_id');
    const openapi = await req('GET', 'sys/internal/specs/openapi', server.rootToken);
    expect(openapi.body.openapi).toMatch(/^3\./);
    expect(openapi.body).not.toHaveProperty('request_id');
  });
});
