import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../lib/version.js';
import { spawnProgram } from '../helpers/cli.js';
import { serveSeedCurl } from '../helpers/seed-curl.js';

/**
 * The single executable (scripts/package.mjs, `npm run package`), built from the dist/ that
 * `npm test` built, on the node running the specs, copied alone into an empty directory and
 * run with a PATH in which there is no `node` at all.
 */

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let dir: string;
let binary: string;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nomad-api-sea-'));
  const built = await exec(process.execPath, [join(ROOT, 'scripts', 'package.mjs'), `--out-dir=${join(dir, 'build')}`], { cwd: ROOT });
  expect(built.stdout).toMatch(/nomad-api-linux-x64: \d+ bytes/);
  mkdirSync(join(dir, 'run'));
  mkdirSync(join(dir, 'empty-path'));
  binary = join(dir, 'run', 'nomad-api');
  copyFileSync(join(dir, 'build', `nomad-api-${process.platform}-${process.arch}`), binary);
  chmodSync(binary, 0o755);
  rmSync(join(dir, 'build'), { recursive: true });
  env = { PATH: join(dir, 'empty-path'), HOME: dir };
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the single executable', () => {
  it('is a native executable run where no node can be found', () => {
    expect(readFileSync(binary).subarray(0, 4)).toEqual(Buffer.from([0x7f, 0x45, 0x4c, 0x46])); // ELF, not a script
    const which = spawnSync('/bin/sh', ['-c', 'command -v node'], { env });
    expect(which.status).not.toBe(0);
    expect(which.stdout.toString()).toBe('');
  });

  it('prints its version and the commit it was built from', async () => {
    const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
    const commit = git.status === 0 ? git.stdout.trim() : 'unknown';
    const version = spawnProgram(binary, ['version'], env);
    expect(await version.exited).toEqual({ code: 0, signal: null });
    expect(version.stdout()).toBe(`nomad-api v${VERSION} (commit ${commit})\n`);
    expect(version.stderr()).toBe('');
  });

  it('serves the seed curl write and read from server -dev', async () => {
    const server = spawnProgram(binary, ['server', '-dev', '-dev-listen-address=127.0.0.1:0'], env);
    await serveSeedCurl(server);
    expect(server.stderr()).not.toMatch(/ExperimentalWarning|Error/);
  }, 30_000);
});
