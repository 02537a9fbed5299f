import { afterEach, describe, expect, it } from 'vitest';
import { httpRequest } from '../helpers/http.js';
import { spawnCli, type Spawned } from '../helpers/cli.js';

/** The `stdout` target of the file device, in the real program: audit lines on stdout, hashed and chained. */

let proc: Spawned | undefined;
afterEach(async () => {
  proc?.kill('SIGKILL');
  await proc?.exited;
  proc = undefined;
});

describe('an audit device on stdout', () => {
  it('writes the link line, then a hashed request and response line per request', async () => {
    proc = spawnCli(['server', '-dev', '-dev-listen-address=127.0.0.1:0', '-dev-root-token-id=stdout-root-token']);
    const [, url] = await proc.waitFor(/Address:\s+(http:\/\/127\.0\.0\.1:\d+)/);
    const headers = { 'X-Nomad-Token': 'stdout-root-token' };
    const enable = await httpRequest(`${url}/v1/sys/audit/out`, { method: 'PUT', headers, body: { type: 'file', options: { file_path: 'stdout' } } });
    expect(enable.status).toBe(204);
    expect((await httpRequest(`${url}/v1/secret/s`, { method: 'PUT', headers, body: { v: 'stdout-secret-value' } })).status).toBe(204);
    await proc.waitFor(/"type":"response"[^\n]*"path":"secret\/s"/);
    const text = proc
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{'));
    const lines = text.map((l) => JSON.parse(l) as Record<string, any>);
    expect(lines.map((l) => l.type)).toEqual(['link', 'request', 'response']);
    expect(lines.map((l) => l.seq)).toEqual([1, 2, 3]);
    expect(lines[1]!.request.data.v).toMatch(/^hmac-sha256:/);
    expect(proc.stdout()).not.toContain('stdout-secret-value');
    expect(lines[1]!.auth.client_token).toMatch(/^hmac-sha256:/);
    expect(text.join('\n')).not.toContain('stdout-root-token');
  });
});
