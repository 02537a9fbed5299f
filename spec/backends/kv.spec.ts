import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** kv v1 semantics (api.md §10) over real HTTP. */

let server: TestServer;
let token: string;
beforeAll(async () => {
  server = await startTestServer();
  token = server.rootToken;
});
afterAll(() => server.close());

const write = (path: string, body: unknown) => server.request('POST', `/v1/secret/${path}`, { token, body });
const read = (path: string) => server.request('GET', `/v1/secret/${path}`, { token });
const list = (path: string) => server.request('LIST', `/v1/secret/${path}`, { token });

describe('kv', () => {
  it('stores any non-empty JSON object exactly', async () => {
    const value = { user: 'admin', n: 3, nested: { ok: true, list: [1, 'two', null] }, unicode: 'päss wörd ✓' };
    expect((await write('app/db', value)).status).toBe(204);
    expect((await read('app/db')).body.data).toEqual(value);
  });

  it('PUT behaves like POST and replaces the whole object', async () => {
    await write('replace', { a: '1', b: '2' });
    expect((await server.request('PUT', '/v1/secret/replace', { token, body: { c: '3' } })).status).toBe(204);
    expect((await read('replace')).body.data).toEqual({ c: '3' });
  });

  it.each([
    ['an empty object', {}],
    ['an empty body', ''],
    ['only a ttl', { ttl: '1h' }],
    ['an invalid ttl', { value: 'x', ttl: 'forever' }],
  ])('rejects %s with 400 and stores nothing', async (_name, body) => {
    const res = await write('rejected', body);
    expect(res.status).toBe(400);
    expect(res.body.errors.length).toBeGreaterThan(0);
    expect((await read('rejected')).status).toBe(404);
  });

  it('answers 404 with an errors list for a missing secret', async () => {
    const res = await read('does/not/exist');
    expect(res.status).toBe(404);
    expect(res.body.errors.length).toBeGreaterThan(0);
  });

  it('deletes with 204, also when nothing is there', async () => {
    await write('gone', { v: '1' });
    expect((await server.request('DELETE', '/v1/secret/gone', { token })).status).toBe(204);
    expect((await read('gone')).status).toBe(404);
    expect((await server.request('DELETE', '/v1/secret/gone', { token })).status).toBe(204);
  });

  it('lists one level deep with folders ending in /, a key and a folder of the same name side by side', async () => {
    await write('tree/a', { v: 1 });
    await write('tree/b/c', { v: 1 });
    await write('tree/b', { v: 1 });
    await write('tree/d/e/f', { v: 1 });
    const res = await list('tree/');
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ keys: ['a', 'b', 'b/', 'd/'] });
    // Without the trailing slash the folder is meant, as in Vault.
    expect((await list('tree')).body.data.keys).toEqual(['a', 'b', 'b/', 'd/']);
    expect((await server.request('GET', '/v1/secret/tree/d/?list=true', { token })).body.data.keys).toEqual(['e/']);
  });

  it('answers 404 for an empty or missing folder', async () => {
    expect((await list('nothing-here/')).status).toBe(404);
    await write('emptied/x', { v: 1 });
    await server.request('DELETE', '/v1/secret/emptied/x', { token });
    expect((await list('emptied/')).status).toBe(404);
  });

  it('returns the ttl as lease_duration without a lease id, and the mount default otherwise', async () => {
    await write('with-ttl', { value: 'x', ttl: '1h' });
    const res = await read('with-ttl');
    expect(res.body).toMatchObject({ lease_id: '', renewable: false, lease_duration: 3600 });
    const plain = await read('app/db');
    expect(plain.body.lease_duration).toBe(768 * 3600);
  });

  it('refuses writes to the mount root or to a folder path', async () => {
    expect((await server.request('POST', '/v1/secret/', { token, body: { a: 1 } })).status).toBe(400);
    expect((await write('folder/', { a: 1 })).status).toBe(400);
  });

  it('keeps keys with spaces, unicode and dots apart', async () => {
    // ('..' cannot be tested from here: WHATWG URL clients resolve it away before sending.)
    const names = ['with space', 'ünï', 'dot.ted', '...', 'pct%25'];
    for (const name of names) expect((await write(`odd/${encodeURIComponent(name)}`, { name })).status).toBe(204);
    for (const name of names) expect((await read(`odd/${encodeURIComponent(name)}`)).body.data).toEqual({ name });
  });
});
