// Start / stop the nomad-api dev server (node bin/nomad-api server -dev …) as a tracked child.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, pollUntil } from './net.mjs';
import { spawnTracked, stopChild } from './proc.mjs';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(REPO_ROOT, 'bin', 'nomad-api');

const versions = new Map();
/**
 * The node binary the servers run on: `bin` (the --node option) or, when empty, the one
 * running the bench. Resolves { path, version }; throws when `bin` does not run.
 */
export function serverNode(bin) {
  const p = bin ? path.resolve(bin) : process.execPath;
  if (!versions.has(p)) {
    let version;
    try {
      version = execFileSync(p, ['-p', 'process.version'], { encoding: 'utf8', timeout: 10000 }).trim();
    } catch (err) {
      throw new Error(`--node=${bin}: cannot run it (${err.code ?? err.message})`);
    }
    versions.set(p, version);
  }
  return { path: p, version: versions.get(p) };
}

/** `dir` as a checkout startDevServer can run (bin/nomad-api and a built dist/), resolved; throws otherwise. */
export function checkoutRoot(dir) {
  const root = path.resolve(dir);
  for (const f of ['bin/nomad-api', 'dist']) {
    if (!existsSync(path.join(root, f))) throw new Error(`${root} has no ${f}: not a built nomad-api checkout (run \`npx tsc -p tsconfig.json\` there)`);
  }
  return root;
}

/**
 * Spawn the dev server on 127.0.0.1:<port> (a free one unless given).
 * Options: rootToken, port, nodeArgs (e.g. ['--cpu-prof', …]), wait (default true: poll
 * /v1/sys/health until 200), pollIntervalMs, root (another checkout to run instead of this one),
 * node (the node binary to run it with; default: the one running the bench).
 * Returns { url, port, handle, spawnedAt, readyAt, stop() } (times: process.hrtime.bigint()).
 */
export async function startDevServer({ rootToken, port, nodeArgs = [], wait = true, pollIntervalMs = 5, timeoutMs = 15000, root = REPO_ROOT, node = process.execPath } = {}) {
  port ??= await freePort();
  const args = [...nodeArgs, path.join(root, 'bin', 'nomad-api'), 'server', '-dev', `-dev-listen-address=127.0.0.1:${port}`];
  if (rootToken) args.push(`-dev-root-token-id=${rootToken}`);
  const spawnedAt = process.hrtime.bigint();
  const handle = spawnTracked(node, args, { cwd: root });
  const url = `http://127.0.0.1:${port}`;
  const server = {
    url,
    port,
    handle,
    spawnedAt,
    readyAt: undefined,
    /** SIGTERM and wait for exit; resolves { code, signal, ms } */
    async stop() {
      const t0 = process.hrtime.bigint();
      const r = await stopChild(handle);
      return { ...r, ms: Number(process.hrtime.bigint() - t0) / 1e6 };
    },
    describeFailure() {
      return `dev server (pid ${handle.child.pid}) stdout:\n${handle.stdout.text}\nstderr:\n${handle.stderr.text}`;
    },
  };
  if (wait) {
    const isDead = () => {
      const { exitCode, signalCode } = handle.child;
      return exitCode !== null || signalCode !== null ? `dev server exited (${exitCode ?? signalCode})\n${server.describeFailure()}` : false;
    };
    try {
      server.readyAt = await pollUntil(`${url}/v1/sys/health`, { intervalMs: pollIntervalMs, timeoutMs, isDead });
    } catch (err) {
      await stopChild(handle);
      throw err;
    }
  }
  return server;
}
