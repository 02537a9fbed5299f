import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSnapshot } from '../../lib/storage/snapshot-format.js';
import { cliSession, type CliSession } from '../helpers/cli-session.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { testTls } from '../helpers/tls.js';
import { tempDir } from '../storage/temp.js';

/**
 * `nomad-api operator snapshot save|restore` (issue 15 item 5): bin/nomad-api against a real
 * HTTPS server on file storage. The tests run in order and share the server.
 */

const certs = testTls();
let server: TestServer;
let cli: CliSession;
let storageDir: { dir: string; remove(): Promise<void> };
const root = (): NodeJS.ProcessEnv => ({ NOMAD_TOKEN: server.rootToken });
const file = (): string => join(cli.home, 'backup.snap');

beforeAll(async () => {
  storageDir = await tempDir('nomad-cli-snapshot-');
  server = await startTestServer({
    config: { storage: { type: 'file', options: { path: storageDir.dir } } },
    listener: { tlsDisable: false, tlsCertFile: certs.server.certFile, tlsKeyFile: certs.server.keyFile },
    ca: readFileSync(certs.ca.certFile),
  });
  cli = cliSession({ NOMAD_ADDR: server.url, NOMAD_CACERT: certs.ca.certFile });
});
afterAll(async () => {
  cli?.cleanup();
  await server?.close();
  await storageDir?.remove();
});

async function read(path: string): Promise<{ status: number; value?: string }> {
  const res = await server.request('GET', `/v1/${path}`, { token: server.rootToken });
  return { status: res.status, value: res.body?.data?.value };
}

describe('operator snapshot', () => {
  it('save writes the snapshot to a 0600 file, replacing one that was there', async () => {
    for (let i = 0; i < 50; i++) {
      expect((await server.request('PUT', `/v1/secret/cli/s${i}`, { token: server.rootToken, body: { value: `v${i}` } })).status).toBe(204);
    }
    writeFileSync(file(), 'an older file', { mode: 0o644 });
    const result = await cli.run(['operator', 'snapshot', 'save', file()], { env: root() });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Success! Saved a snapshot of \d+ entries \(\d+ bytes\) to .*backup\.snap\n$/);
    expect(statSync(file()).mode & 0o777).toBe(0o600);
    const entries = decodeSnapshot(readFileSync(file())).entries.map(([key]) => key);
    expect(entries.filter((key) => /\/cli\/s\d+$/.test(key))).toHaveLength(50);
    expect(entries).toContain('core/keyring');
  });

  it('restore puts it back and seals; the snapshot\'s key unseals; what came after is gone', async () => {
    for (let i = 0; i < 50; i++) await server.request('DELETE', `/v1/secret/cli/s${i}`, { token: server.rootToken });
    await server.request('PUT', '/v1/secret/cli/later', { token: server.rootToken, body: { value: 'later' } });
    const result = await cli.run(['operator', 'snapshot', 'restore', file()], { env: root() });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^Success! Restored \d+ entries from .*backup\.snap\. The server is sealed/);
    const status = await cli.run(['status', '-format=json']);
    expect(JSON.parse(status.stdout)).toMatchObject({ sealed: true });
    const unseal = await cli.run(['operator', 'unseal', server.keys[0]!], { mayPrintSecrets: true });
    expect(unseal.code, unseal.stderr).toBe(0);
    for (let i = 0; i < 50; i++) expect(await read(`secret/cli/s${i}`)).toEqual({ status: 200, value: `v${i}` });
    expect((await read('secret/cli/later')).status).toBe(404);
  });

  it('restore refuses a damaged file before sending it (exit 1), and the server refuses it too', async () => {
    const damaged = join(cli.home, 'damaged.snap');
    const bytes = readFileSync(file());
    bytes[Math.floor(bytes.length / 2)] ^= 0x10;
    writeFileSync(damaged, bytes);
    await server.request('PUT', '/v1/secret/cli/kept', { token: server.rootToken, body: { value: 'kept' } });
    const result = await cli.run(['operator', 'snapshot', 'restore', damaged], { env: root() });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/damaged\.snap: invalid snapshot: checksum mismatch/);
    const direct = await server.request('POST', '/v1/sys/storage/snapshot-force', { token: server.rootToken, body: bytes, headers: { 'Content-Type': 'application/octet-stream' } });
    expect(direct.status).toBe(400);
    expect(await read('secret/cli/kept')).toEqual({ status: 200, value: 'kept' });
    const missing = await cli.run(['operator', 'snapshot', 'restore', join(cli.home, 'nope.snap')], { env: root() });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read .*nope\.snap \(ENOENT\)/);
  });

  it('save without root exits 1 with the server\'s refusal and writes no file; a missing FILE is a usage error', async () => {
    const created = await server.request('POST', '/v1/auth/token/create', { token: server.rootToken, body: { policies: ['default'] } });
    const target = join(cli.home, 'denied.snap');
    const denied = await cli.run(['operator', 'snapshot', 'save', target], { env: { NOMAD_TOKEN: created.body.auth.client_token } });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/lack a policy for this path/);
    expect(existsSync(target)).toBe(false);
    const usage = await cli.run(['operator', 'snapshot', 'save'], { env: root() });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/not enough arguments \(expected 1, got 0\)[\s\S]*Usage: nomad-api operator snapshot save \[flags\] FILE/);
  });
});
