import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** The seed page's examples (seed/000_…txt), over real HTTP. */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe('the seed examples', () => {
  it('writes a secret with POST and reads it back with GET', async () => {
    const write = await server.request('POST', '/v1/secret/baz', {
      token: server.rootToken,
      headers: { 'Content-Type': 'application/json' },
      body: '{"value":"bar"}',
    });
    expect(write.status).toBe(204);
    expect(write.text).toBe('');
    const read = await server.request('GET', '/v1/secret/baz', { token: server.rootToken });
    expect(read.status).toBe(200);
    expect(read.headers['content-type']).toMatch(/^application\/json/);
    expect(read.body).toMatchObject({ lease_id: '', renewable: false, data: { value: 'bar' }, auth: null });
    expect(typeof read.body.request_id).toBe('string');
    expect(typeof read.body.lease_duration).toBe('number');
  });

  it('accepts the token as the `token` cookie', async () => {
    const read = await server.request('GET', '/v1/secret/baz', { headers: { Cookie: `token=${server.rootToken}` } });
    expect(read.status).toBe(200);
    expect(read.body.data.value).toBe('bar');
  });

  it('answers 401 with an errors list when no token is sent', async () => {
    const read = await server.request('GET', '/v1/secret/baz');
    expect(read.status).toBe(401);
    expect(Array.isArray(read.body.errors)).toBe(true);
    expect(read.body.errors.length).toBeGreaterThan(0);
    expect(Object.keys(read.body)).toEqual(['errors']);
  });

  it.each(['/v1/secret/foo?help=1', '/v1/sys/mounts?help=1', '/v1/secret/?help=1', '/v1/sys/seal-status?help=1'])(
    'answers help for %s',
    async (path) => {
      const res = await server.request('GET', path, { token: server.rootToken });
      expect(res.status).toBe(200);
      expect(typeof res.body.help).toBe('string');
      expect(res.body.help.length).toBeGreaterThan(20);
      expect(res.body).toHaveProperty('see_also', null);
    },
  );

  it('needs a token for help on authenticated paths, but not on unauthenticated ones', async () => {
    expect((await server.request('GET', '/v1/secret/foo?help=1')).status).toBe(401);
    expect((await server.request('GET', '/v1/sys/init?help=1')).status).toBe(200);
  });

  it('lists the mount root help with every route', async () => {
    const res = await server.request('GET', '/v1/sys/?help=1', { token: server.rootToken });
    expect(res.status).toBe(200);
    for (const route of ['init', 'seal-status', 'unseal', 'mounts', 'rotate', 'key-status']) expect(res.body.help).toContain(route);
  });
});
