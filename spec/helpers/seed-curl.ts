import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import type { Spawned } from './cli.js';

const exec = promisify(execFile);

/**
 * For a spawned `server -dev` (any build of it: the single executable, an installed tarball):
 * waits for the address and root token it prints, then runs the seed page's curl write and read
 * (seed/000_…txt, with that address and token) and a curl LIST (the node:http takeover,
 * lib/http/takeover.ts, is the part most likely to break in another packaging). Ends the
 * server with SIGTERM and expects it to exit 0.
 */
export async function serveSeedCurl(server: Spawned): Promise<void> {
  const [, address] = await server.waitFor(/Address:\s+(http:\/\/127\.0\.0\.1:\d+)/);
  const [, token] = await server.waitFor(/Root Token:\s+(\S+)/);
  const write = await exec('sh', ['-c', `curl \\
  -H "X-Nomad-Token: ${token}" \\
  -H "Content-Type: application/json" \\
  -X POST \\
  -d '{"value":"bar"}' \\
  ${address}/v1/secret/baz -s -o /dev/null -w '%{http_code}'`]);
  expect(write.stdout).toBe('204');
  const read = await exec('sh', ['-c', `curl \\
  -H "X-Nomad-Token: ${token}" \\
  -X GET \\
   ${address}/v1/secret/baz -s`]);
  expect(JSON.parse(read.stdout)).toMatchObject({ data: { value: 'bar' }, lease_id: '', renewable: false });
  const list = await exec('curl', ['-s', '-X', 'LIST', '-H', `X-Nomad-Token: ${token}`, `${address}/v1/secret/`]);
  expect(JSON.parse(list.stdout).data).toEqual({ keys: ['baz'] });
  server.kill('SIGTERM');
  expect(await server.exited).toEqual({ code: 0, signal: null });
}
