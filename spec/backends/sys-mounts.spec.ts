import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { sysFields } from '../helpers/sys-body.js';

/** sys/mounts, sys/remount, sys/auth (api.md §10). */

let server: TestServer;
let token: string;
beforeAll(async () => {
  server = await startTestServer();
  token = server.rootToken;
});
afterAll(() => server.close());

const req = (method: string, path: string, body?: unknown) => server.request(method, `/v1/${path}`, { token, body });

describe('sys/mounts', () => {
  it('lists the default mounts', async () => {
    const res = await req('GET', 'sys/mounts');
    expect(res.status).toBe(200);
    expect(res.body['secret/']).toMatchObject({ type: 'kv', config: { default_lease_ttl: 0, max_lease_ttl: 0 } });
    expect(res.body['sys/']).toMatchObject({ type: 'system' });
    const fields = sysFields(res.body);
    expect(fields['secret/']).toEqual(res.body['secret/']);
    const auth = await req('GET', 'sys/auth');
    expect(auth.body['token/']).toMatchObject({ type: 'token' });
  });

  it('mounts a kv backend with its own storage, then unmounts it and its data', async () => {
    expect((await req('POST', 'sys/mounts/team', { type: 'kv', description: 'team secrets' })).status).toBe(204);
    expect((await req('GET', 'sys/mounts')).body['team/']).toMatchObject({ type: 'kv', description: 'team secrets' });
    expect((await req('POST', 'team/a', { v: 'team' })).status).toBe(204);
    expect((await req('GET', 'secret/a')).status).toBe(404);
    expect((await req('GET', 'team/a')).body.data).toEqual({ v: 'team' });
    expect((await req('DELETE', 'sys/mounts/team')).status).toBe(204);
    expect((await req('GET', 'sys/mounts')).body['team/']).toBeUndefined();
    // Remounting at the same path starts empty.
    await req('POST', 'sys/mounts/team', { type: 'generic' });
    expect((await req('GET', 'team/a')).status).toBe(404);
    await req('DELETE', 'sys/mounts/team');
  });

  it.each([
    ['nested inside secret/', 'secret/inner', { type: 'kv' }],
    ['around secret/', '', { type: 'kv' }],
    ['at sys/', 'sys', { type: 'kv' }],
    ['under auth/', 'auth/x', { type: 'kv' }],
    ['at cubbyhole/', 'cubbyhole', { type: 'kv' }],
    ['twice', 'secret', { type: 'kv' }],
    ['with an unknown type', 'other', { type: 'nope' }],
    ['without a type', 'other', {}],
    ['with a bad ttl', 'other', { type: 'kv', config: { default_lease_ttl: 'soon' } }],
  ])('refuses a mount %s', async (_name, path, body) => {
    const res = await req('POST', `sys/mounts/${path}`, body);
    expect(res.status).toBe(400);
    expect(res.body.errors.length).toBeGreaterThan(0);
  });

  it.each(['sys', 'auth/token'])('refuses to unmount %s/', async (path) => {
    const res = await req('DELETE', `sys/mounts/${path}`);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });

  it('tunes lease settings and reports them', async () => {
    await req('POST', 'sys/mounts/tuned', { type: 'kv', config: { default_lease_ttl: '1h', max_lease_ttl: '2h' } });
    expect((await req('GET', 'sys/mounts/tuned/tune')).body).toMatchObject({ default_lease_ttl: 3600, max_lease_ttl: 7200 });
    expect((await req('POST', 'sys/mounts/tuned/tune', { default_lease_ttl: '30m' })).status).toBe(204);
    expect((await req('GET', 'sys/mounts/tuned/tune')).body).toMatchObject({ default_lease_ttl: 1800, max_lease_ttl: 7200 });
    await req('POST', 'tuned/x', { v: 1 });
    expect((await req('GET', 'tuned/x')).body.lease_duration).toBe(1800);
    await req('DELETE', 'sys/mounts/tuned');
  });

  it('remounts with the data', async () => {
    await req('POST', 'sys/mounts/old', { type: 'kv' });
    await req('POST', 'old/k', { v: 'moved' });
    expect((await req('POST', 'sys/remount', { from: 'old', to: 'new' })).status).toBe(204);
    expect((await req('GET', 'new/k')).body.data).toEqual({ v: 'moved' });
    // The old path no longer routes anywhere (root sees 404; others would see 401).
    expect((await req('GET', 'old/k')).status).toBe(404);
    expect((await req('POST', 'sys/remount', { from: 'sys', to: 'elsewhere' })).status).toBe(400);
    expect((await req('POST', 'sys/remount', { from: 'new', to: 'secret/inside' })).status).toBe(400);
    await req('DELETE', 'sys/mounts/new');
  });

  it('needs a token for every mount route', async () => {
    expect((await server.request('GET', '/v1/sys/mounts')).status).toBe(401);
    expect((await server.request('POST', '/v1/sys/mounts/x', { body: { type: 'kv' } })).status).toBe(401);
  });
});

describe('sys/internal/specs/openapi', () => {
  it('describes every mounted route', async () => {
    const res = await req('GET', 'sys/internal/specs/openapi');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\./);
    expect(Object.keys(res.body.paths)).toEqual(expect.arrayContaining(['/secret/{path}', '/sys/init', '/sys/unseal', '/auth/token/lookup-self']));
    expect(res.body.paths['/sys/init'].post.requestBody.content['application/json'].schema.required).toEqual(['secret_shares', 'secret_threshold']);
  });
});

describe('sys/key-status and sys/rotate', () => {
  it('rotates the barrier key; data from both terms reads back', async () => {
    const before = (await req('GET', 'sys/key-status')).body;
    expect(before.term).toBeGreaterThanOrEqual(1);
    expect(Date.parse(before.install_time)).not.toBeNaN();
    await req('POST', 'secret/term-a', { v: 'a' });
    expect((await req('PUT', 'sys/rotate')).status).toBe(204);
    expect((await req('GET', 'sys/key-status')).body.term).toBe(before.term + 1);
    await req('POST', 'secret/term-b', { v: 'b' });
    expect((await req('GET', 'secret/term-a')).body.data).toEqual({ v: 'a' });
    expect((await req('GET', 'secret/term-b')).body.data).toEqual({ v: 'b' });
  });
});
