import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATH_CHECK_MS } from '../../lib/audit/file-device.js';
import { auditLines, enableFileDevice, tempDir } from '../helpers/audit.js';
import { runCli } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * `nomad-api audit verify` (spawned) on a log a real server wrote: OK untouched, and the first
 * problem named with its line for each kind of tampering; rotation links across files.
 */

let server: TestServer;
let temp: ReturnType<typeof tempDir>;
let file: string;
let key: string;
let pristine: string[];

beforeAll(async () => {
  server = await startTestServer();
  temp = tempDir();
  file = join(temp.dir, 'audit.log');
  await enableFileDevice(server, 'file', { file_path: file });
  const root = { token: server.rootToken };
  for (let i = 0; i < 4; i++) {
    expect((await server.request('PUT', `/v1/secret/app${i}`, { ...root, body: { value: `v${i}` } })).status).toBe(204);
    expect((await server.request('GET', `/v1/secret/app${i}`, root)).status).toBe(200);
  }
  const chain = await server.request('GET', '/v1/sys/audit-chain/file', root);
  expect(chain.status).toBe(200);
  key = chain.body.data.key;
  expect(key).toMatch(/^[0-9a-f]{64}$/);
  pristine = readFileSync(file, 'utf8').split('\n').slice(0, -1);
  expect(pristine.length).toBeGreaterThan(10);
});

afterAll(async () => {
  await server.close();
  temp.remove();
});

const variant = (name: string, lines: string[], ending = '\n'): string => {
  const path = join(temp.dir, name);
  writeFileSync(path, lines.join('\n') + ending);
  return path;
};

async function verify(...args: string[]): Promise<{ code: number | null; out: string }> {
  const { code, stdout, stderr } = await runCli(['audit', 'verify', ...args], { NOMAD_TOKEN: server.rootToken });
  return { code, out: stdout + stderr };
}

describe('nomad-api audit verify', () => {
  it('says OK with the line count on an untouched log, by key and from the server', async () => {
    const copy = variant('copy.log', pristine);
    const byKey = await verify(`-key=${key}`, copy);
    expect(byKey.code, byKey.out).toBe(0);
    expect(byKey.out).toContain(`OK: ${pristine.length} lines`);
    const keyFile = join(temp.dir, 'key');
    writeFileSync(keyFile, `${key}\n`);
    expect((await verify(`-key-file=${keyFile}`, copy)).code).toBe(0);
    // From the server: the live file, up to the last line the device wrote.
    const live = await verify(`-salt-from=${server.url}`, file);
    expect(live.code, live.out).toBe(0);
    expect(live.out).toContain('up to the last line the device wrote');
  });

  it('names a deleted line', async () => {
    const lines = [...pristine];
    lines.splice(5, 1);
    const res = await verify(`-key=${key}`, variant('deleted.log', lines));
    expect(res.code).toBe(1);
    expect(res.out).toMatch(/:6: deleted: 1 line missing before line 6: seq 6 was deleted/);
  });

  it('names an edited value', async () => {
    const lines = [...pristine];
    const target = lines.findIndex((l) => l.includes('"path":"secret/app2"'));
    lines[target] = lines[target]!.replace('"path":"secret/app2"', '"path":"secret/app9"');
    const res = await verify(`-key=${key}`, variant('edited.log', lines));
    expect(res.code).toBe(1);
    expect(res.out).toContain(`:${target + 1}: modified: line ${target + 1}`);
  });

  it('names two swapped lines', async () => {
    const lines = [...pristine];
    [lines[3], lines[4]] = [lines[4]!, lines[3]!];
    const res = await verify(`-key=${key}`, variant('swapped.log', lines));
    expect(res.code).toBe(1);
    expect(res.out).toMatch(/:4: reordered: line 4 \(seq 5\) comes before seq 4 \(line 5\)/);
  });

  it('names an inserted line, even one copied from the log itself', async () => {
    const lines = [...pristine];
    lines.splice(7, 0, lines[2]!);
    const res = await verify(`-key=${key}`, variant('inserted.log', lines));
    expect(res.code).toBe(1);
    expect(res.out).toMatch(/:8: inserted: /);
  });

  it('reports a truncated tail as such', async () => {
    const lines = [...pristine];
    const last = lines.pop()!;
    const res = await verify(`-key=${key}`, variant('truncated.log', [...lines, last.slice(0, 40)], ''));
    expect(res.code).toBe(1);
    expect(res.out).toContain(`:${pristine.length}: truncated:`);
  });

  it('tells lines cut from the end when it asks the server, and a wrong key', async () => {
    const cut = variant('cut.log', pristine.slice(0, -2));
    expect((await verify(`-key=${key}`, cut)).code).toBe(0);
    const res = await verify(`-salt-from=${server.url}`, cut);
    expect(res.code).toBe(1);
    expect(res.out).toMatch(/tail: the log ends at seq \d+ but the device has written up to seq \d+/);
    const wrong = await verify(`-key=${'0'.repeat(64)}`, variant('copy2.log', pristine));
    expect(wrong.code).toBe(1);
    expect(wrong.out).toContain("or the key is not this device's");
  });

  it('verifies the link between a rotated file and the next one, in order only', async () => {
    const rotated = `${file}.1`;
    renameSync(file, rotated);
    await new Promise((resolve) => setTimeout(resolve, PATH_CHECK_MS + 20));
    expect((await server.request('GET', '/v1/secret/app0', { token: server.rootToken })).status).toBe(200);
    const next = auditLines(file);
    expect(next[0]!.type).toBe('link');
    const both = await verify(`-key=${key}`, rotated, file);
    expect(both.code, both.out).toBe(0);
    expect(both.out).toContain('in 2 files');
    const wrongOrder = await verify(`-key=${key}`, file, rotated);
    expect(wrongOrder.code).toBe(1);
    expect(wrongOrder.out).toMatch(/link: the file does not continue/);
    // A line deleted at the end of the old file breaks the link to the new one.
    const shortened = variant('rotated-short.log', readFileSync(rotated, 'utf8').split('\n').slice(0, -2));
    const gap = await verify(`-key=${key}`, shortened, file);
    expect(gap.code).toBe(1);
    expect(gap.out).toMatch(/audit\.log:1: link: /);
  });

  it('refuses bad usage with exit 2', async () => {
    expect((await verify(pristine.length > 0 ? variant('u.log', pristine) : '')).code).toBe(2);
    expect((await verify(`-key=nothex`, variant('u2.log', pristine))).code).toBe(2);
    expect((await runCli(['audit', 'check'])).code).toBe(2);
  });
});
