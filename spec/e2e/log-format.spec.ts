import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnCli, type Spawned } from '../helpers/cli.js';
import { httpRequest, type HttpResult } from '../helpers/http.js';

/**
 * The real program's log lines in both formats (log_format = "standard" | "json"), and the
 * planted-secret search: at log level trace, a server is initialised and unsealed over
 * HTTP, a userpass user logs in, a secret is written and read, and requests fail in several
 * ways; then every line the process wrote, stdout and stderr, is searched for each unseal
 * key share (hex and base64), the root token, the login token, the password and the secret
 * value. None may appear.
 */

const dir = mkdtempSync(join(tmpdir(), 'nomad-log-format-'));
const running: Spawned[] = [];
afterAll(async () => {
  for (const proc of running) {
    proc.kill('SIGKILL');
    await proc.exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  lines: string[];
  planted: Record<string, string>;
}

/** Runs one server through the whole story; answers every line it wrote and what was planted. */
async function story(format: 'standard' | 'json', flag: boolean): Promise<Run> {
  const file = join(dir, `${format}.hcl`);
  writeFileSync(
    file,
    `listener "tcp" {\n  address = "127.0.0.1:0"\n  tls_disable = true\n}\nstorage "inmem" {}\nlog_level = "trace"\n${flag ? '' : `log_format = "${format}"\n`}`,
  );
  const proc = spawnCli(['server', `-config=${file}`, ...(flag ? [`-log-format=${format}`] : [])]);
  running.push(proc);
  const [, url] = (await proc.waitFor(/server started on (http:\/\/\S+)/))!;
  const call = (method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<HttpResult> =>
    httpRequest(`${url}${path}`, { method, headers: options.token ? { 'X-Nomad-Token': options.token } : {}, body: options.body });

  const init = await call('PUT', '/v1/sys/init', { body: { secret_shares: 3, secret_threshold: 2 } });
  expect(init.status).toBe(200);
  const keys: string[] = init.body.keys;
  const keysB64: string[] = init.body.keys_base64;
  const root: string = init.body.root_token;
  // A share that fails (malformed), then the threshold, one share in hex and one in base64.
  expect((await call('PUT', '/v1/sys/unseal', { body: { key: `${keys[2]}zz` } })).status).toBe(400);
  expect((await call('PUT', '/v1/sys/unseal', { body: { key: keys[0] } })).body.progress).toBe(1);
  expect((await call('PUT', '/v1/sys/unseal', { body: { key: keysB64[1] } })).body.sealed).toBe(false);

  const password = 'hunter2-correct-horse-battery-9f3a';
  const secret = 'planted-secret-value-7c41e2d9';
  expect((await call('POST', '/v1/sys/auth/userpass', { token: root, body: { type: 'userpass' } })).status).toBe(204);
  expect((await call('POST', '/v1/auth/userpass/users/alice', { token: root, body: { password, token_policies: 'default' } })).status).toBe(204);
  const login = await call('POST', '/v1/auth/userpass/login/alice', { body: { password } });
  expect(login.status).toBe(200);
  const userToken: string = login.body.auth.client_token;
  expect((await call('POST', '/v1/auth/userpass/login/alice', { body: { password: `${password}-wrong` } })).status).toBeGreaterThanOrEqual(400);

  expect((await call('PUT', '/v1/secret/app', { token: root, body: { value: secret } })).status).toBe(204);
  expect((await call('GET', '/v1/secret/app', { token: root })).body.data.value).toBe(secret);
  // Errors: denied, unknown token, a body that is not JSON, the secret in a query, the token in the URL.
  expect((await call('GET', '/v1/secret/app', { token: userToken })).status).toBe(401);
  expect((await call('GET', '/v1/secret/app', { token: `${root}x` })).status).toBe(401);
  expect((await call('PUT', '/v1/secret/other', { token: root, body: `{"value": "${secret}"` })).status).toBe(400);
  expect((await call('GET', `/v1/secret/app?value=${secret}`, { token: root })).status).toBe(200);
  expect((await call('GET', `/v1/auth/token/lookup/${userToken}`, { token: root })).status).toBe(200);
  expect((await call('GET', '/v1/secret/missing', { token: root })).status).toBe(404);
  expect((await call('PUT', '/v1/sys/seal', { token: root })).status).toBe(204);

  proc.kill('SIGTERM');
  expect((await proc.exited).code).toBe(0);
  const planted: Record<string, string> = { root, userToken, password, secret, [`${password}-wrong`]: `${password}-wrong` };
  keys.forEach((key, i) => {
    planted[`key ${i} hex`] = key;
    planted[`key ${i} base64`] = keysB64[i]!;
  });
  return { lines: `${proc.stdout()}\n${proc.stderr()}`.split('\n').filter((l) => l !== ''), planted };
}

function expectNothingPlanted(run: Run): void {
  for (const [name, value] of Object.entries(run.planted)) {
    const found = run.lines.filter((line) => line.includes(value));
    expect(found, `${name} appears in the output`).toEqual([]);
  }
}

describe('log_format = "json"', () => {
  it('writes one JSON object a line, one debug line per request, and no planted secret', async () => {
    const run = await story('json', false);
    const stderr = run.lines.filter((l) => l.startsWith('{'));
    expect(stderr.length).toBeGreaterThan(20);
    const entries = stderr.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const entry of entries) {
      expect(Object.keys(entry).slice(0, 3)).toEqual(['@timestamp', '@level', '@message']);
      expect(new Date(entry['@timestamp'] as string).toISOString()).toBe(entry['@timestamp']);
      expect(['trace', 'debug', 'info', 'warn', 'error']).toContain(entry['@level']);
    }
    const requests = entries.filter((e) => e['@level'] === 'debug' && e['@message'] === 'request');
    const read = requests.find((e) => e.path === '/v1/secret/app' && e.status === 200);
    expect(read).toMatchObject({ method: 'GET', remote_address: '127.0.0.1', route: 'secret/*path' });
    expect(read!.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof read!.duration_ms).toBe('number');
    expect(requests.find((e) => e.path === '/v1/auth/token/lookup/<redacted>')).toMatchObject({ status: 200 });
    expect(requests.filter((e) => e.status === 401).length).toBe(2);
    expect(entries.some((e) => e['@message'] === 'unsealed' && e['@level'] === 'info')).toBe(true);
    expectNothingPlanted(run);
  });
});

describe('log_format = "standard"', () => {
  it('writes readable lines, one per request at debug, and no planted secret (set by -log-format)', async () => {
    const run = await story('standard', true);
    const logLines = run.lines.filter((l) => /^\d{4}-\d\d-\d\dT/.test(l));
    expect(logLines.length).toBeGreaterThan(20);
    for (const line of logLines) expect(line).toMatch(/^\S+Z \[(TRACE|DEBUG|INFO|WARN|ERROR)\] \S/);
    expect(run.lines.some((l) => l.startsWith('{'))).toBe(false);
    const read = logLines.find((l) => l.includes('[DEBUG] request ') && l.includes('path=/v1/secret/app ') && l.includes('status=200'));
    expect(read).toMatch(/request_id=[0-9a-f-]{36} method=GET path=\/v1\/secret\/app status=200 duration_ms=[\d.e-]+ remote_address=127\.0\.0\.1 route="secret\/\*path"$/);
    expectNothingPlanted(run);
  });
});

describe('a bad -log-format', () => {
  it('is a usage error', async () => {
    const proc = spawnCli(['server', '-dev', '-dev-listen-address=127.0.0.1:0', '-log-format=xml']);
    running.push(proc);
    expect((await proc.exited).code).toBe(2);
    expect(proc.stderr()).toContain('-log-format must be one of standard, json');
  });
});
