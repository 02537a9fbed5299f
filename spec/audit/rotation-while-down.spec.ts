import { mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyAuditFiles } from '../../lib/audit/verify.js';
import { createStorage } from '../../lib/storage/registry.js';
import { auditLines, enableFileDevice, tempDir } from '../helpers/audit.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { readFileSync } from 'node:fs';

/**
 * A log rotated while the server was sealed or stopped: the new file's link line carries the
 * chain value the old file ended with (saved with the device at seal), so both verify as one
 * sequence, as a file rotated while running does.
 */

const temp = tempDir();
const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const filesOf = (...paths: string[]) => paths.map((name) => ({ name, text: readFileSync(name, 'utf8') }));

async function someTraffic(server: TestServer, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    expect((await server.request('PUT', `/v1/secret/r${i}`, { token: server.rootToken, body: { v: `${i}` } })).status).toBe(204);
    expect((await server.request('GET', `/v1/secret/r${i}`, { token: server.rootToken })).status).toBe(200);
  }
}

describe('an audit log rotated while the server was down', () => {
  it('sealed, rotated, unsealed: the new file links to the old one', async () => {
    const server = await startTestServer();
    servers.push(server);
    const file = join(temp.dir, 'sealed.log');
    await enableFileDevice(server, 'file', { file_path: file });
    await someTraffic(server, 3);
    const key = Buffer.from((await server.request('GET', '/v1/sys/audit-chain/file', { token: server.rootToken })).body.data.key, 'hex');
    expect((await server.request('PUT', '/v1/sys/seal', { token: server.rootToken })).status).toBe(204);
    renameSync(file, `${file}.1`);
    await server.unseal();
    await someTraffic(server, 1);
    const next = auditLines(file);
    expect(next[0]!.type).toBe('link');
    const verdict = verifyAuditFiles(key, filesOf(`${file}.1`, file));
    expect(verdict.ok, JSON.stringify(verdict)).toBe(true);
  });

  it('stopped, rotated, started again on the same storage: the new file links to the old one', async () => {
    const dir = join(temp.dir, 'storage');
    mkdirSync(dir);
    const file = join(temp.dir, 'restart.log');
    const first = await startTestServer({ storage: await createStorage('file', { path: dir }) });
    await enableFileDevice(first, 'file', { file_path: file });
    await someTraffic(first, 2);
    const key = Buffer.from((await first.request('GET', '/v1/sys/audit-chain/file', { token: first.rootToken })).body.data.key, 'hex');
    await first.close();
    renameSync(file, `${file}.1`);
    const second = await startTestServer({ storage: await createStorage('file', { path: dir }), uninitialized: true });
    servers.push(second);
    second.keys = first.keys;
    second.rootToken = first.rootToken;
    await second.unseal();
    await someTraffic(second, 1);
    const verdict = verifyAuditFiles(key, filesOf(`${file}.1`, file));
    expect(verdict.ok, JSON.stringify(verdict)).toBe(true);
    // Without the saved head this is exactly what broke: the link pointed at the start of a chain.
    expect(auditLines(file)[0]!.prev).not.toBe('');
  });
});
