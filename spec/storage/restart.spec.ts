import { afterEach, describe, expect, it } from 'vitest';
import { initialize, runCleanups, startTracked, unseal, writeFileConfig, type Cleanups, type ProgramServer } from './process.js';
import { tempDir } from './temp.js';
import { sysFields } from '../helpers/sys-body.js';

/** The restart story (issue #3, item 4): a server on `file` storage restarts sealed, and after unseal everything is back. */

const cleanups: Cleanups = [];
afterEach(() => runCleanups(cleanups));
const start = (configFile: string): Promise<ProgramServer> => startTracked(configFile, cleanups);

async function stop(server: ProgramServer): Promise<void> {
  server.proc.kill('SIGTERM');
  expect((await server.proc.exited).code).toBe(0);
}

describe('restart on file storage', () => {
  it('comes back sealed, and after unseal every mount, policy, token and secret is there', async () => {
    const { dir, remove } = await tempDir();
    cleanups.push(remove);
    const configFile = await writeFileConfig(dir, dir);
    let server = await start(configFile);
    expect((await server.request('GET', '/v1/sys/seal-status')).body).toMatchObject({ initialized: false, storage_type: 'file' });
    const { keys, rootToken } = await initialize(server, 3, 2);
    await unseal(server, keys.slice(0, 2));

    const root = { token: rootToken };
    const ok = async (method: string, path: string, body?: unknown): Promise<any> => {
      const res = await server.request(method, path, { ...root, body });
      expect(res.status, `${method} ${path}: ${res.text}`).toBeLessThan(300);
      return res.body;
    };
    await ok('POST', '/v1/sys/mounts/kv2', { type: 'kv', description: 'second store' });
    await ok('PUT', '/v1/secret/app/db', { password: 'hunter2', port: 5432 });
    await ok('PUT', '/v1/kv2/deep/er/key', { value: 'ünïcødé' });
    await ok('PUT', '/v1/secret/gone', { value: 'soon deleted' });
    await ok('DELETE', '/v1/secret/gone');
    await ok('PUT', '/v1/sys/policy/readers', { policy: 'path "secret/*" {\n  capabilities = ["read", "list"]\n}\n' });
    const child = (await ok('POST', '/v1/auth/token/create', { policies: ['readers'] })).auth.client_token as string;
    await ok('PUT', '/v1/sys/rotate');
    const mountsBefore = sysFields(await ok('GET', '/v1/sys/mounts'));
    await stop(server);

    server = await start(configFile);
    const status = (await server.request('GET', '/v1/sys/seal-status')).body;
    expect(status).toMatchObject({ initialized: true, sealed: true, t: 2, n: 3, progress: 0 });
    expect((await server.request('GET', '/v1/secret/app/db', root)).status).toBe(503);
    // Any threshold of shares works, not only the ones used before the restart.
    await unseal(server, keys.slice(1, 3));

    expect((await ok('GET', '/v1/auth/token/lookup-self')).data.policies).toEqual(['root']);
    expect(sysFields(await ok('GET', '/v1/sys/mounts'))).toEqual(mountsBefore);
    expect((await ok('GET', '/v1/secret/app/db')).data).toEqual({ password: 'hunter2', port: 5432 });
    expect((await ok('GET', '/v1/kv2/deep/er/key')).data).toEqual({ value: 'ünïcødé' });
    expect((await server.request('GET', '/v1/secret/gone', root)).status).toBe(404);
    expect((await ok('GET', '/v1/sys/policy/readers')).rules).toContain('capabilities = ["read", "list"]');
    expect((await ok('GET', '/v1/sys/key-status')).term).toBe(2);
    const childSelf = await server.request('GET', '/v1/auth/token/lookup-self', { token: child });
    expect(childSelf.status).toBe(200);
    expect(childSelf.body.data.policies).toEqual(['default', 'readers']);
    expect((await server.request('GET', '/v1/secret/app/db', { token: child })).status).toBe(200);
    expect((await server.request('PUT', '/v1/secret/app/db', { token: child, body: { x: 1 } })).status).toBe(401);
    await stop(server);
  });

  it('keeps a 3-of-5 → 2-of-3 rekey across a restart: old keys fail, new ones unseal', async () => {
    const { dir, remove } = await tempDir();
    cleanups.push(remove);
    const configFile = await writeFileConfig(dir, dir);
    let server = await start(configFile);
    const { keys, rootToken } = await initialize(server, 5, 3);
    await unseal(server, keys.slice(0, 3));
    await server.request('PUT', '/v1/secret/kept', { token: rootToken, body: { value: 'through the rekey' } });
    const { nonce } = (await server.request('PUT', '/v1/sys/rekey/init', { body: { secret_shares: 3, secret_threshold: 2 } })).body;
    let done;
    for (const key of [keys[1], keys[3], keys[4]]) done = await server.request('PUT', '/v1/sys/rekey/update', { body: { key, nonce } });
    expect(done!.body.complete).toBe(true);
    const newKeys = done!.body.keys as string[];
    await stop(server);

    server = await start(configFile);
    expect((await server.request('GET', '/v1/sys/seal-status')).body).toMatchObject({ sealed: true, t: 2, n: 3 });
    await server.request('PUT', '/v1/sys/unseal', { body: { key: keys[0] } });
    const old = await server.request('PUT', '/v1/sys/unseal', { body: { key: keys[2] } });
    expect(old.status).toBe(400);
    expect(old.body.errors).toEqual(['unseal failed, invalid key']);
    await unseal(server, [newKeys[1]!, newKeys[2]!]);
    const read = await server.request('GET', '/v1/secret/kept', { token: rootToken });
    expect(read.body.data).toEqual({ value: 'through the rekey' });
    await stop(server);
  });
});
