import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * Embedding (README "Embedding"): a program imports `createServer` from 'nomad-api' (the
 * package root, as installed: dist/ built by `npm test`) and runs two servers in one process.
 * The script (fixtures/embed-two-servers.mjs) ends without process.exit: if either server left
 * a socket, timer or handle behind, the process would not exit by itself.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCRIPT = fileURLToPath(new URL('./fixtures/embed-two-servers.mjs', import.meta.url));
const EXIT_WITHIN_MS = 8_000;

const dir = mkdtempSync(join(tmpdir(), 'nomad-embed-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A program directory with the package installed as a dependency would be: node_modules/nomad-api. */
function programDir(): string {
  const app = join(dir, 'app');
  mkdirSync(join(app, 'node_modules'), { recursive: true });
  symlinkSync(ROOT, join(app, 'node_modules', 'nomad-api'), 'dir');
  return app;
}

function runScript(cwd: string, storageDir: string): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  // Copied next to its node_modules, so `import 'nomad-api'` resolves as in a real program.
  const script = join(cwd, 'main.mjs');
  return import('node:fs/promises').then(({ copyFile }) => copyFile(SCRIPT, script)).then(
    () =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, [script, storageDir], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        // Only a bound on a hung script: a pass needs it to exit by itself well before this.
        const guard = setTimeout(() => child.kill('SIGKILL'), EXIT_WITHIN_MS);
        child.on('close', (code, signal) => {
          clearTimeout(guard);
          resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
        });
      }),
  );
}

describe('embedding: two servers in one process', () => {
  it('serve separately (inmem and file storage), unseal programmatically, and close without leaving a handle', async () => {
    const storageDir = join(dir, 'storage');
    mkdirSync(storageDir, { mode: 0o700 });
    const run = await runScript(programDir(), storageDir);
    expect(run.signal, `killed: the process did not exit by itself within ${EXIT_WITHIN_MS} ms\n${run.stderr}`).toBeNull();
    expect(run.code, run.stderr).toBe(0);
    expect(run.ms).toBeLessThan(5_000);
    expect(run.stderr).toBe('');
    const result = JSON.parse(run.stdout);

    expect(result.closed).toBe(true);
    const [inmemUrl, fileUrl] = result.urls as string[];
    // Port 0 picked a free port for each, and each has its own.
    expect(inmemUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(fileUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(inmemUrl).not.toBe(fileUrl);

    for (const [name, storage] of [['inmem', 'inmem'], ['file', 'file']] as const) {
      const server = result.servers[name];
      expect(server.before).toEqual({ initialized: false, sealed: true });
      expect(server.keys).toBe(3);
      expect(server.afterFirst).toEqual({ sealed: true, progress: 1 });
      expect(server.afterSecond).toEqual({ sealed: false, t: 2, n: 3, storage });
      expect(server.write).toBe(204);
      expect(server.own).toEqual({ value: `from ${name}` });
      // Neither sees the other's secret, nor takes the other's root token.
      expect(server.theirs).toBe(404);
      expect(server.list).toEqual([`only-${name}`]);
      expect(server.foreignToken).toBe(401);
    }
    // The file storage is real: what it wrote is on disk.
    expect(readdirSync(storageDir).length).toBeGreaterThan(0);
    expect(result.logLevels).toEqual({ inmem: 'warn', file: 'error' });
    expect(result.signalHandlers).toEqual([0, 0, 0, 0]);
  });
});
