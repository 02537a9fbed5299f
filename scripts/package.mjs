#!/usr/bin/env node
// `npm run package` (builds dist/ first) or `node scripts/package.mjs [--out-dir=DIR]`:
// dist-bin/nomad-api-<platform>-<arch>, a Node single-executable application (SEA) holding the
// whole program, server and CLI, so that a host without Node can run it. The node inside is the
// one running this script. Steps (see ../shared/reference/toolchain.md §2):
//  1. esbuild bundles dist/ (the tsc output, so the binary runs exactly what the tarball ships)
//     into one CommonJS script: a Node 20 SEA main cannot be an ES module. The commit is written
//     in with `define` (lib/version.ts reads NOMAD_API_COMMIT).
//  2. node --experimental-sea-config turns it into a blob. No code cache: it breaks import().
//  3. a copy of node, stripped when `strip` exists (before injecting: stripping afterwards
//     would cut the blob out), gets the blob injected by postject.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// The fuse node's SEA support looks for; fixed by node, the same in every version that has SEAs.
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

function parseArgs(argv) {
  const opts = { outDir: path.join(ROOT, 'dist-bin') };
  for (const arg of argv) {
    if (arg.startsWith('--out-dir=')) opts.outDir = path.resolve(arg.slice('--out-dir='.length));
    else throw new Error(`unknown argument ${arg}\nusage: node scripts/package.mjs [--out-dir=DIR]`);
  }
  return opts;
}

/** `git rev-parse --short HEAD` of the checkout, or 'unknown' outside git (an unpacked tarball, say). */
function gitCommit() {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : 'unknown';
}

function hasStrip() {
  return spawnSync('strip', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Runs `file` and returns its output; on failure throws with that output (postject's is long, and only then worth showing). */
function run(file, args) {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    throw new Error(`${path.basename(file)} ${args.join(' ')} failed:\n${err.stdout ?? ''}${err.stderr ?? err.message}`);
  }
}

export async function packageBinary({ outDir }) {
  // macOS needs a Mach-O segment name and a new signature, Windows an .exe: not done (nor testable here).
  if (process.platform !== 'linux') throw new Error(`packaging for ${process.platform} is not supported yet (linux only)`);
  if (!existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is not built: run `npm run build` first (`npm run package` does)');
  const commit = gitCommit();
  const work = mkdtempSync(path.join(tmpdir(), 'nomad-api-package-'));
  try {
    const bundle = path.join(work, 'nomad-api.cjs');
    await build({
      entryPoints: [path.join(ROOT, 'scripts', 'sea-main.mjs')],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      define: { NOMAD_API_COMMIT: JSON.stringify(commit) },
      // lib/http/takeover.ts falls back to process.execPath when import.meta.url is empty.
      logOverride: { 'empty-import-meta': 'silent' },
      logLevel: 'warning',
    });
    const blob = path.join(work, 'sea-prep.blob');
    const config = path.join(work, 'sea-config.json');
    writeFileSync(config, JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: false, useSnapshot: false }));
    run(process.execPath, ['--experimental-sea-config', config]);

    mkdirSync(outDir, { recursive: true });
    const binary = path.join(outDir, `nomad-api-${process.platform}-${process.arch}`);
    rmSync(binary, { force: true });
    copyFileSync(process.execPath, binary);
    chmodSync(binary, 0o755);
    const stripped = hasStrip();
    if (stripped) run('strip', ['--strip-all', binary]);
    const postject = path.join(path.dirname(createRequire(import.meta.url).resolve('postject')), 'cli.js');
    run(process.execPath, [postject, binary, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE]);
    return { binary, bytes: statSync(binary).size, commit, node: process.version, stripped };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const r = await packageBinary(parseArgs(process.argv.slice(2)));
    process.stdout.write(`${path.relative(process.cwd(), r.binary) || r.binary}: ${r.bytes} bytes, node ${r.node}, commit ${r.commit}${r.stripped ? ', stripped' : ', not stripped (no strip on PATH)'}\n`);
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 1;
  }
}
