import { createHmac } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { appendFileSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyAuditFiles } from '../../lib/audit/verify.js';
import { auditLines, enableFileDevice, tempDir } from '../helpers/audit.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** The file audit device over HTTP (api.md §13): what it writes, what it hashes, what it never holds. */

let server: TestServer | undefined;
let temp: ReturnType<typeof tempDir> | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
  temp?.remove();
  temp = undefined;
});

async function setup(): Promise<{ s: TestServer; file: string }> {
  server = await startTestServer();
  temp = tempDir();
  const file = join(temp.dir, 'audit.log');
  await enableFileDevice(server, 'file', { file_path: file });
  return { s: server, file };
}

const hashOf = async (s: TestServer, input: string, path = 'file'): Promise<string> => {
  const res = await s.request('POST', `/v1/sys/audit-hash/${path}`, { token: s.rootToken, body: { input } });
  expect(res.status, res.text).toBe(200);
  return res.body.data.hash as string;
};

describe('the file audit device', () => {
  it('writes a request and a response line for a write and a read, with the secret and the token only as hashes', async () => {
    const { s, file } = await setup();
    const secret = 'correct-horse-battery-staple-81726';
    expect((await s.request('PUT', '/v1/secret/app', { token: s.rootToken, body: { password: secret } })).status).toBe(204);
    const read = await s.request('GET', '/v1/secret/app', { token: s.rootToken });
    expect(read.status).toBe(200);
    expect(read.body.data.password).toBe(secret);

    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(secret);
    expect(text).not.toContain(s.rootToken);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const lines = auditLines(file);
    expect(lines[0]!.type).toBe('link');
    const forApp = lines.filter((l) => l.request?.path === 'secret/app');
    expect(forApp.map((l) => `${l.request.operation}:${l.type}`)).toEqual(['update:request', 'update:response', 'read:request', 'read:response']);
    const secretHash = await hashOf(s, secret);
    const tokenHash = await hashOf(s, s.rootToken);
    expect(secretHash).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(forApp[0]!.request.data.password).toBe(secretHash);
    expect(forApp[3]!.response!.data.password).toBe(secretHash);
    for (const line of forApp) {
      expect(line.auth!.client_token).toBe(tokenHash);
      expect(line.request.client_token).toBe(tokenHash);
      expect(line.auth!.policies).toEqual(['root']);
      expect(line.request.mount_point).toBe('secret/');
      expect(line.request.remote_address).toBe('127.0.0.1');
      expect(line.error).toBe('');
    }
    // Request and response share the request id; seq counts up with no gap.
    expect(forApp[0]!.request.id).toBe(forApp[1]!.request.id);
    expect(lines.map((l) => l.seq)).toEqual(lines.map((_, i) => i + 1));

    // What the README says: every line has a crc of its text before the field; the last line of
    // each write has chain = HMAC-SHA256(key, previous chain + "\n" + the write's text without that field).
    const key = Buffer.from((await s.request('GET', '/v1/sys/audit-chain/file', { token: s.rootToken })).body.data.key, 'hex');
    const raw = readFileSync(file, 'utf8').split('\n').slice(0, -1);
    let previous = '';
    let covered = '';
    for (const line of raw) {
      const { chain, crc, ...rest } = JSON.parse(line) as Record<string, unknown>;
      expect(crc).toBe(crc32(Buffer.from(JSON.stringify(rest).slice(0, -1))).toString(16).padStart(8, '0'));
      if (chain === undefined) {
        covered += `${line}\n`;
        continue;
      }
      const expected = createHmac('sha256', key).update(`${previous}\n${covered}${JSON.stringify({ ...rest, crc })}`).digest('hex');
      expect(chain).toBe(expected);
      previous = expected;
      covered = '';
    }
    expect(covered).toBe('');
    expect(previous).not.toBe('');
  });

  it('logs every hot read: the fast path steps aside while a device is enabled', async () => {
    const { s, file } = await setup();
    expect((await s.request('PUT', '/v1/secret/hot', { token: s.rootToken, body: { v: 'x' } })).status).toBe(204);
    for (let i = 0; i < 5; i++) expect((await s.request('GET', '/v1/secret/hot', { token: s.rootToken })).status).toBe(200);
    const reads = auditLines(file).filter((l) => l.request?.path === 'secret/hot' && l.request.operation === 'read');
    expect(reads.map((l) => l.type)).toEqual(Array.from({ length: 5 }, () => ['request', 'response']).flat());
  });

  it('hashes the password of a login and the token it answers, and a token in a token-store path', async () => {
    const { s, file } = await setup();
    const root = { token: s.rootToken };
    expect((await s.request('POST', '/v1/sys/auth/userpass', { ...root, body: { type: 'userpass' } })).status).toBe(204);
    expect((await s.request('PUT', '/v1/auth/userpass/users/alice', { ...root, body: { password: 'pa55-w0rd-xyz' } })).status).toBe(204);
    const login = await s.request('POST', '/v1/auth/userpass/login/alice', { body: { password: 'pa55-w0rd-xyz' } });
    expect(login.status).toBe(200);
    const token = login.body.auth.client_token as string;
    const accessor = login.body.auth.accessor as string;
    expect((await s.request('GET', `/v1/auth/token/lookup/${token}`, root)).status).toBe(200);

    const text = readFileSync(file, 'utf8');
    for (const planted of ['pa55-w0rd-xyz', token, accessor, s.rootToken]) expect(text).not.toContain(planted);
    const lines = auditLines(file);
    const loginResponse = lines.find((l) => l.type === 'response' && l.request.path === 'auth/userpass/login/alice')!;
    expect(loginResponse.auth).toBeNull();
    expect(loginResponse.response!.auth.client_token).toBe(await hashOf(s, token));
    expect(loginResponse.response!.auth.accessor).toBe(await hashOf(s, accessor));
    const lookup = lines.find((l) => l.type === 'request' && String(l.request.path).startsWith('auth/token/lookup/'))!;
    expect(lookup.request.path).toBe(`auth/token/lookup/${await hashOf(s, token)}`);
  });

  it('logs a refused request with its error, and writes raw values with log_raw', async () => {
    server = await startTestServer();
    temp = tempDir();
    const file = join(temp.dir, 'raw.log');
    await enableFileDevice(server, 'raw', { file_path: file, log_raw: true, hmac_accessor: false, mode: '0640' });
    expect(statSync(file).mode & 0o777).toBe(0o640);
    const denied = await server.request('GET', '/v1/secret/nothing', { token: 'not-a-token' });
    expect(denied.status).toBe(401);
    await server.request('PUT', '/v1/secret/plain', { token: server.rootToken, body: { v: 'visible-value' } });
    const lines = auditLines(file);
    const refused = lines.filter((l) => l.request?.path === 'secret/nothing');
    expect(refused).toHaveLength(1);
    expect(refused[0]!.type).toBe('request');
    expect(refused[0]!.auth).toBeNull();
    expect(refused[0]!.error).toBe('permission denied');
    expect(readFileSync(file, 'utf8')).toContain('visible-value');
  });

  it('ends a line torn by a crash when it reopens the file, and chains on from the last complete line', async () => {
    const { s, file } = await setup();
    const root = { token: s.rootToken };
    await s.request('GET', '/v1/secret/before', root);
    const key = Buffer.from((await s.request('GET', '/v1/sys/audit-chain/file', root)).body.data.key, 'hex');
    expect((await s.request('PUT', '/v1/sys/seal', root)).status).toBe(204);
    appendFileSync(file, '{"time":"2026-01-01T00:00:00.000Z","type":"requ');
    await s.unseal();
    await s.request('GET', '/v1/secret/after', root);
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n');
    const torn = lines.findIndex((l) => l.endsWith('"type":"requ'));
    expect(torn).toBeGreaterThan(0);
    const verdict = verifyAuditFiles(key, [{ name: file, text }]);
    expect(verdict).toMatchObject({ ok: false, kind: 'modified', line: torn + 1 });
    // Without the torn fragment the chain is whole: the device went on from the line before it.
    lines.splice(torn, 1);
    expect(verifyAuditFiles(key, [{ name: file, text: lines.join('\n') }])).toMatchObject({ ok: true });
  });

  it('lists, refuses bad input with 400 and nothing enabled, disables, and keeps the table across seal and unseal', async () => {
    const { s, file } = await setup();
    const root = { token: s.rootToken };
    const list = await s.request('GET', '/v1/sys/audit', root);
    expect(list.status).toBe(200);
    expect(list.body.data['file/']).toMatchObject({ type: 'file', path: 'file/', options: { file_path: file, log_raw: 'false', hmac_accessor: 'true', mode: '0600' } });
    expect(JSON.stringify(list.body)).not.toMatch(/salt|chain_?key/i);

    const bad: Array<[string, unknown]> = [
      ['a', { type: 'syslog', options: { file_path: join(temp!.dir, 'x') } }],
      ['b', { type: 'file', options: {} }],
      ['c', { type: 'file', options: { file_path: join(temp!.dir, 'no', 'such', 'dir', 'x.log') } }],
      ['d', { type: 'file', options: { file_path: temp!.dir } }],
      ['e', { type: 'file', options: { file_path: join(temp!.dir, 'e'), mode: 'rw' } }],
      ['f', { type: 'file', options: { file_path: join(temp!.dir, 'f'), log_raw: 'maybe' } }],
      ['g', { type: 'file', options: { file_path: file } }],
      ['file', { type: 'file', options: { file_path: join(temp!.dir, 'other') } }],
      ['h', { type: 'file', options: 'nope' }],
      ['i', { type: 'file', options: { file_path: join(temp!.dir, 'i'), chain: 'batch' } }],
    ];
    for (const [path, body] of bad) {
      const res = await s.request('PUT', `/v1/sys/audit/${path}`, { ...root, body });
      expect(res.status, `${path}: ${res.text}`).toBe(400);
    }
    const unknownType = await s.request('PUT', '/v1/sys/audit/a', { ...root, body: { type: 'syslog', options: { file_path: 'stdout' } } });
    expect(unknownType.body.errors[0]).toContain('file');
    expect(Object.keys((await s.request('GET', '/v1/sys/audit', root)).body.data)).toEqual(['file/']);
    expect((await s.request('DELETE', '/v1/sys/audit/nothing-here', root)).status).toBe(400);
    expect((await s.request('POST', '/v1/sys/audit-hash/nothing-here', { ...root, body: { input: 'x' } })).status).toBe(400);

    // A token without sudo cannot see or change the audit table.
    const child = await s.request('POST', '/v1/auth/token/create', { ...root, body: { policies: ['default'] } });
    const user = { token: child.body.auth.client_token as string };
    expect((await s.request('GET', '/v1/sys/audit', user)).status).toBe(401);
    expect((await s.request('DELETE', '/v1/sys/audit/file', user)).status).toBe(401);
    expect((await s.request('GET', '/v1/sys/audit-chain/file', user)).status).toBe(401);
    // Refused by the ACL, with the caller known: logged once, with its error.
    const denied = auditLines(file).filter((l) => l.request?.path === 'sys/audit' && l.auth?.policies?.includes('default'));
    expect(denied).toHaveLength(1);
    expect(denied[0]!).toMatchObject({ type: 'request', error: 'permission denied' });

    const hashBefore = (await s.request('POST', '/v1/sys/audit-hash/file', { ...root, body: { input: 'same' } })).body.data.hash;
    expect((await s.request('PUT', '/v1/sys/seal', root)).status).toBe(204);
    await s.unseal();
    const after = await s.request('GET', '/v1/sys/audit', root);
    expect(Object.keys(after.body.data)).toEqual(['file/']);
    // The salt survived too: the same value hashes the same.
    expect((await s.request('POST', '/v1/sys/audit-hash/file', { ...root, body: { input: 'same' } })).body.data.hash).toBe(hashBefore);
    await s.request('GET', '/v1/secret/after-unseal', root);
    expect(auditLines(file).some((l) => l.request?.path === 'secret/after-unseal')).toBe(true);
    // Reopened at unseal, the device went on with the chain of the file's last line: one link line, one chain.
    expect(auditLines(file).filter((l) => l.type === 'link')).toHaveLength(1);
    const key = (await s.request('GET', '/v1/sys/audit-chain/file', root)).body.data.key as string;
    expect(verifyAuditFiles(Buffer.from(key, 'hex'), [{ name: file, text: readFileSync(file, 'utf8') }])).toMatchObject({ ok: true });

    expect((await s.request('DELETE', '/v1/sys/audit/file', root)).status).toBe(204);
    expect((await s.request('GET', '/v1/sys/audit', root)).body.data).toEqual({});
    const count = auditLines(file).length;
    await s.request('GET', '/v1/secret/after-disable', root);
    expect(auditLines(file)).toHaveLength(count);
  });
});
