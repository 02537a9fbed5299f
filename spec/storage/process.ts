import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnCli, type Spawned } from '../helpers/cli.js';
import { httpRequest, type HttpOptions, type HttpResult } from '../helpers/http.js';

/** The real program on `file` storage, for the restart and crash specs. */

export async function writeFileConfig(configDir: string, dataDir: string, extra = ''): Promise<string> {
  const file = join(configDir, 'server.hcl');
  await writeFile(
    file,
    `listener "tcp" {\n  address = "127.0.0.1:0"\n  tls_disable = true\n}\nstorage "file" {\n  path = ${JSON.stringify(dataDir)}\n}\n${extra}`,
    { mode: 0o600 },
  );
  return file;
}

export interface ProgramServer {
  proc: Spawned;
  url: string;
  request(method: string, path: string, options?: HttpOptions & { token?: string }): Promise<HttpResult>;
}

export async function startProgram(configFile: string): Promise<ProgramServer> {
  const proc = spawnCli(['server', `-config=${configFile}`, '-log-level=warn']);
  const [, url] = await proc.waitFor(/started on (http:\/\/127\.0\.0\.1:\d+)/);
  return {
    proc,
    url: url!,
    request(method, path, options = {}) {
      const headers = { ...options.headers };
      if (options.token !== undefined) headers['X-Nomad-Token'] = options.token;
      return httpRequest(`${url}${path}`, { ...options, method, headers });
    },
  };
}

/** Cleanups registered by a spec file and run (last first) after each test. */
export type Cleanups = Array<() => Promise<void>>;

export async function runCleanups(cleanups: Cleanups): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

/** Starts the program and makes sure it is killed after the test, however the test ends. */
export async function startTracked(configFile: string, cleanups: Cleanups): Promise<ProgramServer> {
  const server = await startProgram(configFile);
  cleanups.push(async () => {
    server.proc.kill('SIGKILL');
    await server.proc.exited;
  });
  return server;
}

export async function initialize(server: ProgramServer, shares = 1, threshold = 1): Promise<{ keys: string[]; rootToken: string }> {
  const res = await server.request('PUT', '/v1/sys/init', { body: { secret_shares: shares, secret_threshold: threshold } });
  if (res.status !== 200) throw new Error(`init failed: ${res.status} ${res.text}`);
  return { keys: res.body.keys, rootToken: res.body.root_token };
}

export async function unseal(server: ProgramServer, keys: string[]): Promise<void> {
  for (const key of keys) {
    const res = await server.request('PUT', '/v1/sys/unseal', { body: { key } });
    if (res.status !== 200) throw new Error(`unseal failed: ${res.status} ${res.text}`);
  }
  const status = await server.request('GET', '/v1/sys/seal-status');
  if (status.body.sealed !== false) throw new Error(`still sealed after unseal: ${status.text}`);
}
