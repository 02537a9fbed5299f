import { afterEach, describe, expect, it } from 'vitest';
import { createClient, type Client } from '../../lib/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** The README example's path, over the client, from an uninitialised server. */

let server: TestServer | undefined;
let client: Client | undefined;

afterEach(async () => {
  client?.close();
  await server?.close();
  server = undefined;
  client = undefined;
});

describe('the client over a new server', () => {
  it('inits, unseals, writes, reads, lists and deletes', async () => {
    server = await startTestServer({ uninitialized: true });
    client = createClient({ address: server.url });
    expect(await client.sys.initStatus()).toBe(false);
    expect(await client.sys.health()).toMatchObject({ initialized: false, sealed: true });

    const init = await client.sys.init({ secret_shares: 3, secret_threshold: 2 });
    expect(init.keys).toHaveLength(3);
    expect(init.root_token).toMatch(/\S/);
    expect((await client.sys.status()).sealed).toBe(true);
    expect(await client.sys.health()).toMatchObject({ initialized: true, sealed: true });

    const first = await client.sys.unseal(init.keys[0]!);
    expect(first).toMatchObject({ sealed: true, progress: 1, t: 2, n: 3 });
    expect((await client.sys.unseal({ reset: true })).progress).toBe(0);
    await client.sys.unseal(init.keys[1]!);
    const opened = await client.sys.unseal(init.keys[2]!);
    expect(opened.sealed).toBe(false);

    client.token = init.root_token;
    await client.kv.write('secret/app/db', { user: 'u', port: 5432 });
    await client.kv.write('secret/app/api', { key: 'k' });
    expect(await client.kv.read('secret/app/db')).toEqual({ user: 'u', port: 5432 });
    expect((await client.kv.list('secret/app')).sort()).toEqual(['api', 'db']);
    expect(await client.kv.list('secret/')).toEqual(['app/']);
    await client.kv.delete('secret/app/db');
    expect(await client.kv.read('secret/app/db')).toBeUndefined();
    await client.kv.delete('secret/app/api');
    expect(await client.kv.list('secret/app')).toEqual([]);

    expect(await client.sys.health()).toMatchObject({ initialized: true, sealed: false, standby: false });
    await client.sys.seal();
    expect((await client.sys.status()).sealed).toBe(true);
  });

  it('health answers the body of a 503 and honours its code overrides', async () => {
    server = await startTestServer({ sealed: true });
    client = createClient({ address: server.url, retries: 0 });
    expect(await client.sys.health()).toMatchObject({ initialized: true, sealed: true });
    expect(await client.sys.health({ sealedcode: 299 })).toMatchObject({ sealed: true });
    const raw = await server.request('GET', '/v1/sys/health?sealedcode=418');
    expect(raw.status).toBe(418);
    expect(await client.sys.health({ sealedcode: 418 })).toMatchObject({ sealed: true });
    // Other routes still throw while sealed: only health turns its statuses into answers.
    await expect(client.request('GET', 'secret/a', undefined, { token: server.rootToken })).rejects.toMatchObject({ status: 503, kind: 'response' });
  });
});
