// Start / stop the nomad-api dev server (node bin/nomad-api server -dev …) as a tracked child.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, pollUntil } from './net.mjs';
import { spawnTracked, stopChild } from './proc.mjs';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(REPO_ROOT, 'bin', 'nomad-api');

/**
 * Spawn the dev server on 127.0.0.1:<port> (a free one unless given).
 * Options: rootToken, port, nodeArgs (e.g. ['--cpu-prof', …]), wait (default true: poll
 * /v1/sys/health until 200), pollIntervalMs, root (another checkout to run instead of this one).
 * Returns { url, port, handle, spawnedAt, readyAt, stop() } (times: process.hrtime.bigint()).
 */
export async function startDevServer({ rootToken, port, nodeArgs = [], wait = true, pollIntervalMs = 5, timeoutMs = 15000, root = REPO_ROOT } = {}) {
  port ??= await freePort();
  const args = [...nodeArgs, path.join(root, 'bin', 'nomad-api'), 'server', '-dev', `-dev-listen-address=127.0.0.1:${port}`];
  if (rootToken) args.push(`-dev-root-token-id=${rootToken}`);
  const spawnedAt = process.hrtime.bigint();
  const handle = spawnTracked(process.execPath, args, { cwd: root });
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
