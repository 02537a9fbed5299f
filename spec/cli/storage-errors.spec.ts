import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli, spawnCli, type Spawned } from '../helpers/cli.js';
import { LOCK_FILE } from '../../lib/storage/lock.js';

/** `storage "file"` startup errors: a clear message and exit status 1, never a stack trace. */

let dir: string;
const running: Spawned[] = [];
const undo: Array<() => void> = [];
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nomad-storage-cli-'));
});
afterEach(async () => {
  for (const proc of running.splice(0)) {
    proc.kill('SIGKILL');
    await proc.exited;
  }
  for (const step of undo.splice(0)) step();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function config(name: string, storage: string): Promise<string> {
  const file = join(dir, `${name}.hcl`);
  await writeFile(file, `listener "tcp" {\n  address = "127.0.0.1:0"\n  tls_disable = true\n}\n${storage}\n`, { mode: 0o600 });
  return file;
}

async function fails(configFile: string, message: RegExp): Promise<void> {
  const result = await runCli(['server', `-config=${configFile}`]);
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/^Error starting the server: /);
  expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

/**
 * Root ignores permission bits, so as root the directory is made immutable instead
 * (chattr +i, which root cannot write through either).
 */
function makeUnwritable(path: string): void {
  if (process.getuid?.() === 0) {
    execFileSync('chattr', ['+i', path]);
    undo.push(() => execFileSync('chattr', ['-i', path]));
  } else {
    execFileSync('chmod', ['0500', path]);
    undo.push(() => execFileSync('chmod', ['0700', path]));
  }
}

describe('server -config with storage "file"', () => {
  it('starts sealed on an empty directory and reports the storage type', async () => {
    const data = join(dir, 'fresh');
    await mkdir(data, { mode: 0o700 });
    const proc = spawnCli(['server', `-config=${await config('fresh', `storage "file" {\n  path = "${data}"\n}`)}`]);
    running.push(proc);
    const [, url] = await proc.waitFor(/started on (http:\/\/127\.0\.0\.1:\d+)/);
    const { httpRequest } = await import('../helpers/http.js');
    const status = await httpRequest(`${url}/v1/sys/seal-status`);
    expect(status.body).toMatchObject({ sealed: true, initialized: false, storage_type: 'file' });
    proc.kill('SIGTERM');
    expect((await proc.exited).code).toBe(0);
    expect(await readdir(data)).not.toContain(LOCK_FILE);
  });

  it('exits 1 when the path is a file, not a directory', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'x');
    await fails(await config('file-path', `storage "file" {\n  path = "${file}"\n}`), /storage path .*a-file is not a directory/);
  });

  it('exits 1 when the directory does not exist', async () => {
    await fails(await config('missing', `storage "file" {\n  path = "${join(dir, 'missing')}"\n}`), /storage directory .*missing does not exist/);
  });

  it('exits 1 when the directory is not writable', async () => {
    const data = join(dir, 'readonly');
    await mkdir(data, { mode: 0o700 });
    makeUnwritable(data);
    await fails(await config('readonly', `storage "file" {\n  path = "${data}"\n}`), /storage directory .*readonly is not writable by this process/);
  });

  it('exits 1 when another running server holds the directory, naming it and the pid', async () => {
    const data = join(dir, 'shared');
    await mkdir(data, { mode: 0o700 });
    const file = await config('shared', `storage "file" {\n  path = "${data}"\n}`);
    const first = spawnCli(['server', `-config=${file}`]);
    running.push(first);
    await first.waitFor(/started on/);
    await fails(file, new RegExp(`storage directory ${data} is in use by another running server \\(pid ${first.child.pid}\\)`));
  });

  it.each([
    ['no path', 'storage "file" {}', /storage "file": path is required/],
    ['an unknown option', `storage "file" {\n  path = "/tmp"\n  bogus = 1\n}`, /storage "file": unknown option 'bogus' \(known: path\)/],
  ])('exits 1 for %s', async (name, storage, message) => {
    await fails(await config(name.replace(/ /g, '-'), storage), message);
  });

  it('releases the lock when startup fails after opening the storage', async () => {
    const data = join(dir, 'listen-fails');
    await mkdir(data, { mode: 0o700 });
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = taken.address() as { port: number };
      const file = join(dir, 'listen-fails.hcl');
      await writeFile(file, `listener "tcp" {\n  address = "127.0.0.1:${port}"\n  tls_disable = true\n}\nstorage "file" {\n  path = "${data}"\n}\n`);
      const result = await runCli(['server', `-config=${file}`]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/EADDRINUSE|in use/);
      // The storage was opened (its log exists) and closed again (no lock left).
      expect(await readdir(data)).toEqual(['log-0000000001.nlog']);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
