import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliSession, type CliSession } from '../helpers/cli-session.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * The CLI commands beyond the acceptance list, against one plain-HTTP server: mounts, auth
 * methods, tokens, token and approle logins, policies and policy fmt, path-help, the
 * operator's key commands (sealing last), and the network and output errors.
 */

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
let server: TestServer;
let cli: CliSession;
const root = (): NodeJS.ProcessEnv => ({ NOMAD_TOKEN: server.rootToken });

beforeAll(async () => {
  server = await startTestServer();
  cli = cliSession({ NOMAD_ADDR: server.url });
});
afterAll(async () => {
  cli?.cleanup();
  await server?.close();
});

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

describe('errors and output', () => {
  it('connection refused: exit 1, the cause and the NOMAD_ADDR hint', async () => {
    const address = `http://127.0.0.1:${await closedPort()}`;
    const result = await cli.run(['status'], { env: { NOMAD_ADDR: address, NOMAD_MAX_RETRIES: '0' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`Error: connect ECONNREFUSED ${address.slice(7)}\nHint: connection refused: is the server running at NOMAD_ADDR (${address})?\n`);
  });

  it('an https:// address for a plain-HTTP server: one line saying so, and the http:// hint', async () => {
    const result = await cli.run(['status', `-address=${server.url.replace('http:', 'https:')}`], { env: { NOMAD_MAX_RETRIES: '0' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Error: TLS handshake failed: the server did not answer in TLS \(\w+\)\nHint: the server may not speak TLS: .* use an http:\/\/ NOMAD_ADDR\n$/);
  });

  it('-address wins over NOMAD_ADDR, NOMAD_FORMAT=json switches the format, a missing -field is exit 1', async () => {
    const flag = await cli.run(['status', `-address=${server.url}`], { env: { NOMAD_ADDR: 'http://127.0.0.1:9', NOMAD_FORMAT: 'json' } });
    expect(flag.code, flag.stderr).toBe(0);
    expect(JSON.parse(flag.stdout)).toMatchObject({ sealed: false, t: 1, n: 1 });
    const field = await cli.run(['status', '-field=nope']);
    expect(field.code).toBe(1);
    expect(field.stderr).toBe('Error: field "nope" is not present in the answer\n');
    const sealed = await cli.run(['status', '-field=sealed']);
    expect(sealed.stdout).toBe('false');
  });

  it('write without data is a usage error; reading or listing nothing is exit 1', async () => {
    const empty = await cli.run(['write', 'secret/x'], { env: root() });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('no data to write');
    const list = await cli.run(['list', 'secret/nothing'], { env: root() });
    expect(list.code).toBe(1);
    expect(list.stderr).toBe('Error: no keys found under secret/nothing/\n');
    const badFile = await cli.run(['write', 'secret/x', 'v=@/nonexistent/file'], { env: root() });
    expect(badFile.code).toBe(2);
    expect(badFile.stderr).toContain('cannot read the file for v (/nonexistent/file): ENOENT');
  });
});

describe('secrets and auth mounts', () => {
  it('secrets enable, list, tune, move and disable', async () => {
    expect((await cli.run(['secrets', 'enable', '-path=kv2', '-description=team kv', 'kv'], { env: root() })).stdout).toBe('Success! Enabled the kv secrets engine at: kv2/\n');
    expect((await cli.run(['secrets', 'list'], { env: root() })).stdout).toMatch(/^kv2\/\s+kv\s+kv_\w+\s+team kv$/m);
    expect((await cli.run(['secrets', 'tune', '-default-lease-ttl=1h', 'kv2'], { env: root() })).code).toBe(0);
    expect((await server.request('GET', '/v1/sys/mounts/kv2/tune', { token: server.rootToken })).body.default_lease_ttl).toBe(3600);
    expect((await cli.run(['secrets', 'move', 'kv2', 'kv3'], { env: root() })).stdout).toBe('Success! Moved secrets engine kv2/ to: kv3/\n');
    expect((await cli.run(['secrets', 'disable', 'kv3'], { env: root() })).code).toBe(0);
    const json = JSON.parse((await cli.run(['secrets', 'list', '-format=json'], { env: root() })).stdout);
    expect(Object.keys(json.data).sort()).toEqual(['cubbyhole/', 'secret/', 'sys/']);
  });

  it('auth enable, list, tune and disable', async () => {
    expect((await cli.run(['auth', 'enable', '-path=people', 'userpass'], { env: root() })).stdout).toBe('Success! Enabled the userpass auth method at: auth/people/\n');
    expect((await cli.run(['auth', 'list'], { env: root() })).stdout).toMatch(/^people\/\s+userpass\s/m);
    expect((await cli.run(['auth', 'tune', '-max-lease-ttl=2h', 'people'], { env: root() })).code).toBe(0);
    expect((await server.request('GET', '/v1/sys/auth/people/tune', { token: server.rootToken })).body.max_lease_ttl).toBe(7200);
    expect((await cli.run(['auth', 'disable', 'people'], { env: root() })).code).toBe(0);
    expect((await cli.run(['auth', 'list'], { env: root() })).stdout).not.toContain('people/');
  });
});

describe('tokens', () => {
  let token = '';

  it('token create -field=token prints the token alone; lookup, capabilities and renew never print it', async () => {
    const created = await cli.run(['token', 'create', '-policy=default', '-ttl=1h', '-metadata=team=a', '-field=token'], { env: root(), mayPrintSecrets: true });
    expect(created.code, created.stderr).toBe(0);
    token = created.stdout;
    expect(token).toMatch(new RegExp(`^${UUID.source}$`));
    const lookup = await cli.run(['token', 'lookup', token], { env: root() });
    expect(lookup.stdout).toMatch(/policies\s+\[default\]/);
    expect(lookup.stdout).toMatch(/meta\s+\{"team":"a"\}/);
    const json = JSON.parse((await cli.run(['token', 'lookup', '-format=json'], { env: { NOMAD_TOKEN: token } })).stdout);
    expect(json.data.id).toBe('');
    expect((await cli.run(['token', 'capabilities', token, 'secret/x'], { env: root() })).stdout).toBe('deny\n');
    expect((await cli.run(['token', 'capabilities', 'secret/x'], { env: root() })).stdout).toBe('root\n');
    const renew = await cli.run(['token', 'renew', '-increment=30m', token], { env: root() });
    expect(renew.code, renew.stderr).toBe(0);
    expect(renew.stdout).toMatch(/token_duration\s+30m/);
  });

  it('login -method=token checks and stores the token; token revoke ends it', async () => {
    const login = await cli.run(['login', token]);
    expect(login.code, login.stderr).toBe(0);
    expect(readFileSync(join(cli.home, '.nomad-token'), 'utf8')).toBe(token);
    expect((await cli.run(['token', 'lookup'])).stdout).toMatch(/display_name\s+token/);
    const bogus = await cli.run(['login', '00000000-0000-4000-8000-000000000000']);
    expect(bogus.code).toBe(1);
    expect((await cli.run(['token', 'revoke', token], { env: root() })).stdout).toBe('Success! Revoked token (if it existed)\n');
    const after = await cli.run(['token', 'lookup']);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain('Hint: the token may have expired');
  });

  it('login -method=approle with role_id and secret_id', async () => {
    expect((await cli.run(['auth', 'enable', 'approle'], { env: root() })).code).toBe(0);
    expect((await cli.run(['write', 'auth/approle/role/r', 'token_policies=default'], { env: root() })).code).toBe(0);
    const roleId = (await cli.run(['read', '-field=role_id', 'auth/approle/role/r/role-id'], { env: root() })).stdout;
    const secretId = (await cli.run(['write', '-force', '-field=secret_id', 'auth/approle/role/r/secret-id'], { env: root(), mayPrintSecrets: true })).stdout;
    expect(secretId).toMatch(UUID);
    const login = await cli.run(['login', '-method=approle', `role_id=${roleId}`, `secret_id=${secretId}`]);
    expect(login.code, login.stderr).toBe(0);
    expect(login.stdout).toMatch(/token_policies\s+\[default\]/);
    expect(readFileSync(join(cli.home, '.nomad-token'), 'utf8')).toMatch(UUID);
  });
});

describe('policies and help', () => {
  it('policy fmt rewrites a file in its canonical layout, keeping comments, and refuses a bad policy', async () => {
    const file = join(cli.home, 'fmt.hcl');
    writeFileSync(file, '# team\npath "secret/*" {\ncapabilities = ["read","list"] # why\n}\npath   "sys/mounts" {policy="read"}\n');
    const result = await cli.run(['policy', 'fmt', file]);
    expect(result.code, result.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('# team\npath "secret/*" {\n  # why\n  capabilities = ["read", "list"]\n}\n\npath "sys/mounts" {\n  policy = "read"\n}\n');
    writeFileSync(file, 'path "secret/*" { capabilities = ["reed"] }\n');
    const bad = await cli.run(['policy', 'fmt', file]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/reed/);
    expect(readFileSync(file, 'utf8')).toBe('path "secret/*" { capabilities = ["reed"] }\n');
  });

  it('policy write from stdin, read, delete', async () => {
    expect((await cli.run(['policy', 'write', 'q', '-'], { env: root(), stdin: 'path "secret/q" { capabilities = ["read"] }' })).code).toBe(0);
    expect((await cli.run(['policy', 'read', 'q'], { env: root() })).stdout).toBe('path "secret/q" { capabilities = ["read"] }\n');
    expect((await cli.run(['policy', 'delete', 'q'], { env: root() })).stdout).toBe('Success! Deleted policy: q\n');
    const gone = await cli.run(['policy', 'read', 'q'], { env: root() });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe('Error: no policy named q\n');
  });

  it('path-help prints the route help', async () => {
    const result = await cli.run(['path-help', 'sys/mounts'], { env: root() });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('List the mounted secrets engines.');
  });
});

describe('operator', () => {
  it('key-status and rotate show the key term going up', async () => {
    expect((await cli.run(['operator', 'key-status'], { env: root() })).stdout).toMatch(/Key Term\s+1\n/);
    const rotate = await cli.run(['operator', 'rotate'], { env: root() });
    expect(rotate.stdout).toMatch(/^Success! Rotated key\n\n[\s\S]*Key Term\s+2\n/);
  });

  it('rekey -init, then the current key, prints new shares; seal, and only the new share unseals', async () => {
    const init = await cli.run(['operator', 'rekey', '-init', '-key-shares=1', '-key-threshold=1'], { env: root() });
    expect(init.code, init.stderr).toBe(0);
    expect(init.stdout).toMatch(/Nonce\s+\S+/);
    const update = await cli.run(['operator', 'rekey', server.keys[0]!], { mayPrintSecrets: true });
    expect(update.code, update.stderr).toBe(0);
    const newKey = update.stdout.match(/^Unseal Key 1: ([0-9a-f]+)$/m)![1]!;
    expect(newKey).not.toBe(server.keys[0]);
    expect((await cli.run(['operator', 'seal'], { env: root() })).stdout).toBe('Success! The server is sealed.\n');
    const old = await cli.run(['operator', 'unseal', server.keys[0]!]);
    expect(old.code).toBe(1);
    expect(old.stderr).toContain('(HTTP 400)');
    const fresh = await cli.run(['operator', 'unseal', '-'], { stdin: `${newKey}\n` });
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.stdout).toMatch(/Sealed\s+false/);
  });

  it('printed no token or key share outside the commands that exist to print them', () => {
    const printed = cli.ordinaryOutput();
    expect(printed.length).toBeGreaterThan(1000);
    for (const secret of [server.rootToken, server.keys[0]!]) expect(printed).not.toContain(secret);
  });
});
