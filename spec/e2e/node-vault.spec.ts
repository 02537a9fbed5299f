import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodeVault from 'node-vault';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * A real, unmodified Vault client (node-vault 0.12) against the server: the whole life
 * cycle through its own API calls, including LIST and the `rules` policy field.
 */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ uninitialized: true });
});
afterAll(() => server.close());

describe('node-vault', () => {
  it('initialises, unseals, writes, reads, lists, deletes, creates tokens and policies, seals', async () => {
    const vault = nodeVault({ endpoint: server.url, apiVersion: 'v1' });
    // api.md §5: sys answers carry their fields at the top level and in `data`.
    expect(await vault.initialized()).toMatchObject({ initialized: false, data: { initialized: false } });
    const init = await vault.init({ secret_shares: 3, secret_threshold: 2 });
    expect(init.keys).toHaveLength(3);
    vault.token = init.root_token;
    const status1 = await vault.unseal({ key: init.keys[0] });
    expect(status1).toMatchObject({ sealed: true, progress: 1 });
    const status2 = await vault.unseal({ key: init.keys[1] });
    expect(status2.sealed).toBe(false);
    expect((await vault.status()).sealed).toBe(false);
    expect((await vault.health()).initialized).toBe(true);

    await vault.write('secret/app/db', { password: 'p@ss' });
    await vault.write('secret/app/api', { key: 'k' });
    expect((await vault.read('secret/app/db')).data).toEqual({ password: 'p@ss' });
    // node-vault sends the LIST method here.
    expect((await vault.list('secret/app')).data.keys).toEqual(['api', 'db']);
    await vault.delete('secret/app/api');
    await expect(vault.read('secret/app/api')).rejects.toMatchObject({ response: { statusCode: 404 } });

    await vault.mount({ mount_point: 'team', type: 'kv', description: 'team kv' });
    expect((await vault.mounts())['team/'].type).toBe('kv');
    await vault.write('team/x', { v: 1 });
    await vault.unmount({ mount_point: 'team' });

    await vault.addPolicy({ name: 'reader', rules: 'path "secret/app/*" { capabilities = ["read", "list"] }' });
    expect((await vault.getPolicy({ name: 'reader' })).rules).toContain('secret/app/*');
    expect((await vault.policies()).policies).toEqual(expect.arrayContaining(['default', 'reader', 'root']));

    const created = await vault.tokenCreate({ policies: ['reader'], ttl: '1h' });
    const child = created.auth.client_token;
    expect(created.auth.policies).toEqual(['default', 'reader']);
    // tokenCreate switches the client to the new token, as node-vault does.
    expect(vault.token).toBe(child);
    expect((await vault.tokenLookupSelf()).data.policies).toEqual(['default', 'reader']);
    expect((await vault.read('secret/app/db')).data.password).toBe('p@ss');
    await expect(vault.write('secret/app/db', { password: 'x' })).rejects.toMatchObject({ response: { statusCode: 401 } });
    const error = await vault.write('secret/app/db', { password: 'x' }).catch((e: Error) => e);
    expect(error.message).toBe('permission denied');

    vault.token = init.root_token;
    await vault.tokenRevoke({ token: child });
    await vault.removePolicy({ name: 'reader' });
    await vault.seal();
    expect((await vault.status()).sealed).toBe(true);
  });

  it('lists with noCustomHTTPVerbs (GET ?list=1) and sends X-Vault-Token', async () => {
    const fresh = await startTestServer();
    try {
      const client = nodeVault({ endpoint: fresh.url, token: fresh.rootToken, noCustomHTTPVerbs: true });
      await client.write('secret/a/b', { v: 1 });
      expect((await client.list('secret/a')).data.keys).toEqual(['b']);
    } finally {
      await fresh.close();
    }
  });
});
