import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliSession, type CliSession } from '../helpers/cli-session.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { testTls } from '../helpers/tls.js';

/**
 * Issue 12's acceptance list, end to end: bin/nomad-api against a real HTTPS server on the
 * test CA, from `operator init` to a userpass login kept in ~/.nomad-token. The tests run in
 * order and share the server, as one operator's session would.
 */

const certs = testTls();
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

let server: TestServer;
let cli: CliSession;
const keys: string[] = [];
let rootToken = '';
let childToken = '';
let loginToken = '';
const root = (): NodeJS.ProcessEnv => ({ NOMAD_TOKEN: rootToken });

beforeAll(async () => {
  server = await startTestServer({ uninitialized: true, listener: { tlsDisable: false, tlsCertFile: certs.server.certFile, tlsKeyFile: certs.server.keyFile } });
  cli = cliSession({ NOMAD_ADDR: server.url, NOMAD_CACERT: certs.ca.certFile });
});
afterAll(async () => {
  cli?.cleanup();
  await server?.close();
});

describe('TLS verification', () => {
  it('fails without NOMAD_CACERT with exit 1 and the TLS hint', async () => {
    const result = await cli.run(['status'], { env: { NOMAD_CACERT: '' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Error: TLS verification failed: .+\nHint: set NOMAD_CACERT \(or -ca-cert\).*-tls-skip-verify/);
    expect(result.stdout).toBe('');
  });

  it('works with -tls-skip-verify (and NOMAD_SKIP_VERIFY=1), and with the CA', async () => {
    const flag = await cli.run(['status', '-tls-skip-verify'], { env: { NOMAD_CACERT: '' } });
    expect(flag.code).toBe(0);
    expect(flag.stdout).toMatch(/Initialized\s+false/);
    const env = await cli.run(['status', '-format=json'], { env: { NOMAD_CACERT: '', NOMAD_SKIP_VERIFY: '1' } });
    expect(env.code).toBe(0);
    expect(JSON.parse(env.stdout)).toMatchObject({ initialized: false, sealed: true });
    const withCa = await cli.run(['status']);
    expect(withCa.code).toBe(0);
  });
});

describe('init, unseal, status', () => {
  it('operator init -key-shares=3 -key-threshold=2 prints three keys, the root token and how to store them', async () => {
    const result = await cli.run(['operator', 'init', '-key-shares=3', '-key-threshold=2'], { mayPrintSecrets: true });
    expect(result.code, result.stderr).toBe(0);
    for (const [, key] of result.stdout.matchAll(/^Unseal Key \d: ([0-9a-f]+)$/gm)) keys.push(key!);
    expect(keys).toHaveLength(3);
    rootToken = result.stdout.match(new RegExp(`^Initial Root Token: (${UUID.source})$`, 'm'))![1]!;
    expect(result.stdout).toMatch(/any 2 of them unseal[\s\S]*Store each share apart/);
    const again = await cli.run(['operator', 'init']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already initialized.*\(HTTP 400\)/);
  });

  it('answers a sealed server with exit 1 and the unseal hint', async () => {
    const result = await cli.run(['read', 'secret/a'], { env: { ...root(), NOMAD_MAX_RETRIES: '0' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/\(HTTP 503\)\nHint: the server is sealed, run `nomad-api operator unseal`/);
  });

  it('two operator unseal KEY unseal it, showing the progress', async () => {
    const first = await cli.run(['operator', 'unseal', keys[0]!]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/Sealed\s+true/);
    expect(first.stdout).toMatch(/Unseal Progress\s+1\/2/);
    const second = await cli.run(['operator', 'unseal', keys[2]!]);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/Sealed\s+false/);
    expect(second.stdout).not.toContain('Unseal Progress');
  });

  it('status shows it unsealed', async () => {
    const result = await cli.run(['status']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Key\s+Value\n---\s+-----\nInitialized\s+true\nSealed\s+false\nTotal Shares\s+3\nThreshold\s+2\n/);
  });
});

describe('secrets', () => {
  it('write secret/a v=1 w=@file, then read -field=v prints 1 alone', async () => {
    const file = join(cli.home, 'w.txt');
    writeFileSync(file, 'from a file');
    const write = await cli.run(['write', 'secret/a', 'v=1', `w=@${file}`], { env: root() });
    expect(write.code, write.stderr).toBe(0);
    expect(write.stdout).toBe('Success! Data written to: secret/a\n');
    const field = await cli.run(['read', '-field=v', 'secret/a'], { env: root() });
    expect(field.code).toBe(0);
    // stdout is a pipe here: the raw value, no newline.
    expect(field.stdout).toBe('1');
    const table = await cli.run(['read', 'secret/a'], { env: root() });
    expect(table.stdout).toMatch(/^Key\s+Value\n---\s+-----\n(.*\n)*v\s+1\nw\s+from a file\n$/);
    const json = await cli.run(['read', '-format=json', 'secret/a'], { env: root() });
    expect(JSON.parse(json.stdout).data).toEqual({ v: '1', w: 'from a file' });
  });

  it('write - takes a JSON object on stdin, KEY=- one value', async () => {
    const whole = await cli.run(['write', 'secret/b', '-'], { env: root(), stdin: '{"v": "2", "x": "y"}' });
    expect(whole.code, whole.stderr).toBe(0);
    const one = await cli.run(['write', 'secret/c', 'v=-'], { env: root(), stdin: 'piped' });
    expect(one.code, one.stderr).toBe(0);
    expect((await server.request('GET', '/v1/secret/b', { token: rootToken, ca: certs.ca.cert })).body.data).toEqual({ v: '2', x: 'y' });
    expect((await server.request('GET', '/v1/secret/c', { token: rootToken, ca: certs.ca.cert })).body.data).toEqual({ v: 'piped' });
  });

  it('list secret/ prints the keys; delete removes one', async () => {
    const list = await cli.run(['list', 'secret/'], { env: root() });
    expect(list.code).toBe(0);
    expect(list.stdout).toBe('Keys\n----\na\nb\nc\n');
    const del = await cli.run(['delete', 'secret/c'], { env: root() });
    expect(del.code).toBe(0);
    expect(del.stdout).toBe('Success! Data deleted (if it existed) at: secret/c\n');
    const gone = await cli.run(['read', 'secret/c'], { env: root() });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe('Error: no value found at secret/c\n');
  });
});

describe('policies, tokens, login', () => {
  it('policy write p file.hcl, then read and list it', async () => {
    const file = join(cli.home, 'p.hcl');
    writeFileSync(file, 'path "secret/*" {\n  capabilities = ["read", "list"]\n}\n');
    const write = await cli.run(['policy', 'write', 'p', file], { env: root() });
    expect(write.code, write.stderr).toBe(0);
    expect(write.stdout).toBe('Success! Uploaded policy: p\n');
    expect((await cli.run(['policy', 'read', 'p'], { env: root() })).stdout).toBe(readFileSync(file, 'utf8'));
    expect((await cli.run(['policy', 'list'], { env: root() })).stdout).toBe('Policies\n--------\ndefault\np\nroot\n');
  });

  it('token create -policy=p -format=json prints the new token, which can read but not write', async () => {
    const result = await cli.run(['token', 'create', '-policy=p', '-format=json'], { env: root(), mayPrintSecrets: true });
    expect(result.code, result.stderr).toBe(0);
    const body = JSON.parse(result.stdout);
    expect(body.auth.policies).toEqual(['default', 'p']);
    childToken = body.auth.client_token;
    expect(childToken).toMatch(UUID);
    expect((await cli.run(['read', '-field=v', 'secret/b'], { env: { NOMAD_TOKEN: childToken } })).stdout).toBe('2');
    const denied = await cli.run(['write', 'secret/b', 'v=3'], { env: { NOMAD_TOKEN: childToken } });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/\(HTTP 401\)\nHint: the token may have expired or lack a policy/);
  });

  it('without any token, a request fails with the log-in hint', async () => {
    const result = await cli.run(['read', 'secret/b']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/\(HTTP 401\)\nHint: no token: log in with `nomad-api login`, or set NOMAD_TOKEN/);
  });

  it('login -method=userpass writes ~/.nomad-token (0600) and later commands use it', async () => {
    expect((await cli.run(['auth', 'enable', 'userpass'], { env: root() })).code).toBe(0);
    expect((await cli.run(['write', 'auth/userpass/users/u', 'password=correct-horse', 'policies=p'], { env: root() })).code).toBe(0);
    const login = await cli.run(['login', '-method=userpass', 'username=u', 'password=correct-horse']);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toMatch(/^Success! You are now authenticated\. The token is stored in .*\.nomad-token/);
    expect(login.stdout).toMatch(/token_policies\s+\[default p\]/);
    const file = join(cli.home, '.nomad-token');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    loginToken = readFileSync(file, 'utf8');
    expect(loginToken).toMatch(new RegExp(`^${UUID.source}$`));
    const lookup = await cli.run(['token', 'lookup']);
    expect(lookup.code).toBe(0);
    expect(lookup.stdout).toMatch(/policies\s+\[default p\]/);
    expect(lookup.stdout).toMatch(/meta\s+\{"username":"u"\}/);
    expect((await cli.run(['read', '-field=x', 'secret/b'])).stdout).toBe('y');
    const wrong = await cli.run(['login', '-method=userpass', 'username=u', 'password=wrong']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('invalid username or password');
    expect(readFileSync(file, 'utf8')).toBe(loginToken);
  });

  it('login -format=json prints the token it stored', async () => {
    const login = await cli.run(['login', '-method=userpass', '-format=json', 'username=u', 'password=correct-horse'], { mayPrintSecrets: true });
    expect(login.code).toBe(0);
    expect(JSON.parse(login.stdout).auth.client_token).toBe(readFileSync(join(cli.home, '.nomad-token'), 'utf8'));
  });
});

describe('cert login', () => {
  it('login -method=cert with -client-cert and -client-key, -no-store prints the token instead of storing it', async () => {
    const stored = readFileSync(join(cli.home, '.nomad-token'), 'utf8');
    expect((await cli.run(['auth', 'enable', 'cert'], { env: root() })).code).toBe(0);
    const register = await cli.run(['write', 'auth/cert/certs/web', `certificate=@${certs.clientCa.certFile}`, 'policies=p'], { env: root() });
    expect(register.code, register.stderr).toBe(0);
    const login = await cli.run(['login', '-method=cert', '-no-store', '-client-cert', certs.client.certFile, '-client-key', certs.client.keyFile], { mayPrintSecrets: true });
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toContain('The token was not stored (-no-store).');
    const token = login.stdout.match(new RegExp(`^token\\s+(${UUID.source})$`, 'm'))?.[1];
    expect(token).toMatch(UUID);
    expect(readFileSync(join(cli.home, '.nomad-token'), 'utf8')).toBe(stored);
    const untrusted = await cli.run(['login', '-method=cert', '-client-cert', certs.untrustedClient.certFile, '-client-key', certs.untrustedClient.keyFile]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toMatch(/\(HTTP 40[01]\)/);
  });
});

describe('printed secrets', () => {
  it('no other command printed a key share or a token', () => {
    const printed = cli.ordinaryOutput();
    expect(printed).toContain('$ nomad-api token lookup');
    for (const secret of [...keys, rootToken, childToken, loginToken]) {
      expect(secret.length).toBeGreaterThan(30);
      expect(printed).not.toContain(secret);
    }
  });
});
