import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { httpRequest } from '../helpers/http.js';
import { runCli, spawnCli, type Spawned } from '../helpers/cli.js';

/** `nomad-api server`: the dev server, config files, startup errors, and signals (api.md §16). */

const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'nomad-cli-'));
const running: Spawned[] = [];
afterEach(async () => {
  for (const proc of running.splice(0)) {
    proc.kill('SIGKILL');
    await proc.exited;
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function start(args: string[]): Spawned {
  const proc = spawnCli(args);
  running.push(proc);
  return proc;
}

describe('server -dev', () => {
  it('serves the seed curl examples verbatim on 127.0.0.1:8200, then exits 0 on SIGTERM', async () => {
    const proc = start(['server', '-dev', '-dev-root-token-id=f3b09679-3001-009d-2b80-9c306ab81aa6']);
    await proc.waitFor(/Root Token:\s+f3b09679-3001-009d-2b80-9c306ab81aa6/);
    expect(proc.stdout()).toMatch(/Unseal Key:\s+\S+/);
    // The two curl commands of the seed page, character for character.
    const write = await exec('sh', ['-c', `curl \\
  -H "X-Nomad-Token: f3b09679-3001-009d-2b80-9c306ab81aa6" \\
  -H "Content-Type: application/json" \\
  -X POST \\
  -d '{"value":"bar"}' \\
  http://127.0.0.1:8200/v1/secret/baz -s -o /dev/null -w '%{http_code}'`]);
    expect(write.stdout).toBe('204');
    await exec('sh', ['-c', `curl \\
  -H "X-Nomad-Token: f3b09679-3001-009d-2b80-9c306ab81aa6" \\
  -H "Content-Type: application/json" \\
  -X POST \\
  -d '{"value":"bar"}' \\
  http://127.0.0.1:8200/v1/secret/foo -s`]);
    const read = await exec('sh', ['-c', `curl \\
  -H "X-Nomad-Token: f3b09679-3001-009d-2b80-9c306ab81aa6" \\
  -X GET \\
   http://127.0.0.1:8200/v1/secret/foo -s`]);
    expect(JSON.parse(read.stdout).data).toEqual({ value: 'bar' });
    proc.kill('SIGTERM');
    expect((await proc.exited).code).toBe(0);
    expect(proc.stderr()).toMatch(/sealed/);
  });

  it('listens where -dev-listen-address says and prints a fresh root token', async () => {
    const proc = start(['server', '-dev', '-dev-listen-address=127.0.0.1:0']);
    const [, url] = await proc.waitFor(/Address:\s+(http:\/\/127\.0\.0\.1:\d+)/);
    const [, token] = await proc.waitFor(/Root Token:\s+(\S+)/);
    expect(token).toMatch(/^[0-9a-f-]{36}$/);
    const res = await httpRequest(`${url}/v1/auth/token/lookup-self`, { headers: { 'X-Nomad-Token': token! } });
    expect(res.status).toBe(200);
    expect(res.body.data.policies).toEqual(['root']);
    proc.kill('SIGINT');
    expect((await proc.exited).code).toBe(0);
  });

  it('finishes an in-flight request before exiting on SIGTERM', async () => {
    const proc = start(['server', '-dev', '-dev-listen-address=127.0.0.1:0', '-dev-root-token-id=root', '-log-level=trace']);
    const [, url] = await proc.waitFor(/Address:\s+(http:\/\/127\.0\.0\.1:\d+)/);
    const { request } = await import('node:http');
    const body = JSON.stringify({ value: 'late' });
    const req = request(`${url}/v1/secret/late`, { method: 'POST', headers: { 'X-Nomad-Token': 'root', 'Content-Length': body.length } });
    const answered = new Promise<number>((resolve, reject) => {
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
    });
    req.write(body.slice(0, 5));
    // The server has the headers and half the body when the signal arrives.
    await proc.waitFor(/\[TRACE\] request .*path=\/v1\/secret\/late/, 'stderr');
    proc.kill('SIGTERM');
    await proc.waitFor(/shutting down/, 'stderr');
    req.end(body.slice(5));
    expect(await answered).toBe(204);
    expect((await proc.exited).code).toBe(0);
  });
});

describe('memory report', () => {
  /** The `caches=` and `data=` fields of a report line, parsed; the JSON has spaces in its names. */
  const parse = (line: string): { caches: Record<string, Record<string, number>>; data: Record<string, number> } => {
    const match = / caches=(\{.*\}) data=(\{.*\})$/.exec(line);
    if (!match) throw new Error(`not a memory report: ${line}`);
    return { caches: JSON.parse(match[1]!), data: JSON.parse(match[2]!) };
  };

  it('logs one line at debug on startup and one at info on SIGUSR2, with sizes and nothing secret', async () => {
    const token = 'memory-report-root-token';
    const proc = start(['server', '-dev', '-dev-listen-address=127.0.0.1:0', `-dev-root-token-id=${token}`, '-log-level=debug']);
    const [, url] = await proc.waitFor(/Address:\s+(http:\/\/127\.0\.0\.1:\d+)/);
    const [startup] = await proc.waitFor(/^.*\[DEBUG\] memory report .*$/m, 'stderr');
    expect(parse(startup!).caches['token cache']).toMatchObject({ maxEntries: expect.any(Number), maxBytes: expect.any(Number) });
    const write = await httpRequest(`${url}/v1/secret/telltale-path`, { method: 'POST', headers: { 'X-Nomad-Token': token }, body: { value: 'telltale-value' } });
    expect(write.status).toBe(204);
    expect((await httpRequest(`${url}/v1/secret/telltale-path`, { headers: { 'X-Nomad-Token': token } })).status).toBe(200);
    proc.kill('SIGUSR2');
    const [line] = await proc.waitFor(/^.*\[INFO\] memory report .*$/m, 'stderr');
    const report = parse(line!);
    expect(report.caches['plaintext cache']!.entries).toBeGreaterThan(0);
    for (const [name, size] of Object.entries(report.caches)) {
      expect(Object.keys(size).sort(), name).toEqual(['bytes', 'entries', 'maxBytes', 'maxEntries']);
      expect(size.entries, name).toBeLessThanOrEqual(size.maxEntries!);
      expect(size.bytes, name).toBeLessThanOrEqual(size.maxBytes!);
    }
    expect(report.data).toMatchObject({ mounts: 4 });
    expect(line).toMatch(/ rss=\d+ heap_used=\d+ connections=\{"total":\d+,"perListener":\[\d+\]\} /);
    for (const secret of [token, 'telltale', 'secret/', '127.0.0.1']) expect(line).not.toContain(secret);
    // Still serving, and still stopping cleanly.
    proc.kill('SIGTERM');
    expect((await proc.exited).code).toBe(0);
  });
});

describe('server -config', () => {
  it('starts sealed and uninitialized from an HCL file', async () => {
    const file = join(dir, 'ok.hcl');
    writeFileSync(file, `listener "tcp" {\n  address = "127.0.0.1:0"\n  tls_disable = true\n}\nstorage "inmem" {}\n`);
    const proc = start(['server', `-config=${file}`]);
    const [, url] = await proc.waitFor(/started on (http:\/\/127\.0\.0\.1:\d+)/);
    const status = await httpRequest(`${url}/v1/sys/seal-status`);
    expect(status.body).toMatchObject({ sealed: true, initialized: false, storage_type: 'inmem' });
    proc.kill('SIGTERM');
    expect((await proc.exited).code).toBe(0);
  });

  it.each([
    ['a missing file', () => join(dir, 'missing.hcl'), /missing\.hcl/],
    ['an unknown key', () => writeConfig('unknown.hcl', 'listener "tcp" {\n  address = "127.0.0.1:0"\n  tls_disable = true\n}\nbogus_key = 1\n'), /unknown\.hcl:5.*bogus_key/],
    ['a syntax error', () => writeConfig('syntax.hcl', 'listener "tcp" {\n  address = "127.0.0.1:0\n}\n'), /syntax\.hcl:2/],
    ['an unknown storage type', () => writeConfig('storage.hcl', 'listener "tcp" {\n  address = "127.0.0.1:0"\n  tls_disable = true\n}\nstorage "nope" {}\n'), /unknown storage type 'nope'/],
    ['TLS without a certificate', () => writeConfig('tls.hcl', 'listener "tcp" {\n  address = "127.0.0.1:0"\n}\n'), /tls\.hcl:1.*tls_cert_file/],
    ['a certificate file that does not exist', () => writeConfig('nocert.hcl', 'listener "tcp" {\n  address = "127.0.0.1:0"\n  tls_cert_file = "/nonexistent/cert.pem"\n  tls_key_file = "/nonexistent/key.pem"\n}\n'), /nonexistent/],
  ])('exits 1 with a clear message for %s', async (_name, make, message) => {
    const result = await runCli(['server', `-config=${make()}`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it.each([
    [['server'], /-config=FILE or -dev/],
    [['server', '-dev', '-config=x.hcl'], /cannot be combined/],
    [['server', '-bogus'], /unknown flag -bogus/],
    [['nonsense'], /Unknown command/],
  ])('exits 2 on the usage error %j', async (args, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('prints the version', async () => {
    const result = await runCli(['version']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^nomad-api v\d+\.\d+\.\d+/);
  });
});

function writeConfig(name: string, text: string): string {
  const file = join(dir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, text);
  chmodSync(file, 0o600);
  return file;
}
