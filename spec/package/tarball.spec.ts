import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnProgram } from '../helpers/cli.js';
import { serveSeedCurl } from '../helpers/seed-curl.js';

/**
 * The air-gapped route without the binary: `npm pack`, then `npm install <tgz> --offline` into
 * an empty directory with an empty npm cache, so nothing can come from a registry.
 * `--ignore-scripts` on pack: the dist/ that `npm test` built is the one to pack, and `prepare`
 * rebuilding it here would rewrite it under the specs running beside this one.
 */

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let dir: string;
let tarball: string;
let files: string[];
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nomad-api-tarball-'));
  for (const d of ['pack', 'cache', 'app']) mkdirSync(join(dir, d));
  const npm = { cwd: ROOT, env: { ...process.env, npm_config_cache: join(dir, 'cache') } };
  const packed = await exec('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', join(dir, 'pack')], npm);
  const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = join(dir, 'pack', info!.filename);
  files = info!.files.map((f) => f.path);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the npm tarball', () => {
  it('holds the built program and no sources, specs, benches or binaries', () => {
    expect(files).toEqual(expect.arrayContaining(['package.json', 'bin/nomad-api', 'dist/cli/main.js', 'dist/index.js', 'dist/index.d.ts', 'README.md', 'LICENSE']));
    const unwanted = files.filter((f) => /^(spec|bench|scripts|lib|dist-bin|reports|node_modules)\//.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')));
    expect(unwanted).toEqual([]);
  });

  it('installs offline into an empty directory and its bin serves the seed curl write and read', async () => {
    const app = join(dir, 'app');
    await exec('npm', ['install', tarball, '--offline', '--no-audit', '--no-fund', '--cache', join(dir, 'cache')], { cwd: app, env: { ...process.env, npm_config_cache: join(dir, 'cache') } });
    expect(readdirSync(join(app, 'node_modules'))).toEqual(['.bin', '.package-lock.json', 'nomad-api']); // nothing else came along
    const bin = join(app, 'node_modules', '.bin', 'nomad-api');
    expect(existsSync(bin)).toBe(true);
    // bin/nomad-api says `#!/usr/bin/env node`: the node running the specs comes first on PATH, so
    // `npm run test:node -- 24` runs the installed program on 24.
    const env = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}` };
    const server = spawnProgram(bin, ['server', '-dev', '-dev-listen-address=127.0.0.1:0'], env);
    await serveSeedCurl(server);
  }, 60_000);
});
