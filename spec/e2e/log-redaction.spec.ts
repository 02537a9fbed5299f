import { afterAll, describe, expect, it } from 'vitest';
import { loggedPath } from '../../lib/http/redact.js';
import { spawnCli, type Spawned } from '../helpers/cli.js';
import { httpRequest, type HttpResult } from '../helpers/http.js';

/**
 * No log line ever holds a token (api.md §3), wherever the request carried it. The real
 * program runs at `trace` (a line per request, with its path); tokens go in every slot a
 * client can use, the URL forms of the token store included, mistyped ones too; then every
 * byte the process wrote is searched for them.
 */

describe('loggedPath', () => {
  const T = 'c0ffee00-1111-4222-8333-444455556666';
  it.each<[string, string | null, string]>([
    ['a kv path', '/v1/secret/app/db', '/v1/secret/app/db'],
    ['lookup', `/v1/auth/token/lookup/${T}`, '/v1/auth/token/lookup/<redacted>'],
    ['renew', `/v1/auth/token/renew/${T}`, '/v1/auth/token/renew/<redacted>'],
    ['revoke-orphan', `/v1/auth/token/revoke-orphan/${T}`, '/v1/auth/token/revoke-orphan/<redacted>'],
    ['another case and doubled slashes', `/v1/AUTH//TOKEN//Lookup//${T}`, '/v1/AUTH//TOKEN//Lookup/<redacted>'],
    ['a mistyped operation', `/v1/auth/token/lookupp/${T}`, '/v1/auth/token/<redacted>'],
    ['a token where the operation goes', `/v1/auth/token/${T}`, '/v1/auth/token/<redacted>'],
    ['an accessor, which is no secret', `/v1/auth/token/lookup-accessor/${T}`, `/v1/auth/token/lookup-accessor/${T}`],
    ['an operation without a token', '/v1/auth/token/lookup-self', '/v1/auth/token/lookup-self'],
    ['a trailing slash', '/v1/auth/token/create/', '/v1/auth/token/create/'],
    ['an undecodable path', null, '<not valid percent-encoding>'],
  ])('%s', (_name, path, logged) => expect(loggedPath(path)).toBe(logged));
});

describe('the program at log level trace', () => {
  let proc: Spawned | undefined;
  afterAll(async () => {
    proc?.kill('SIGKILL');
    await proc?.exited;
  });

  it('writes no token into any line, wherever the request carried it', async () => {
    const root = '9d1e6c0a-7f3b-4c2d-8e5f-a1b2c3d4e5f6';
    proc = spawnCli(['server', '-dev', `-dev-root-token-id=${root}`, '-dev-listen-address=127.0.0.1:0', '-log-level=trace']);
    const [, url] = (await proc.waitFor(/Address:\s+(http:\/\/\S+)/))!;
    const call = (method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<HttpResult> =>
      httpRequest(`${url}${path}`, { method, headers, body });
    const asRoot = { 'X-Nomad-Token': root };

    const planted: string[] = [];
    const newToken = async (): Promise<string> => {
      const res = await call('POST', '/v1/auth/token/create', asRoot, { policies: ['default'] });
      expect(res.status).toBe(200);
      planted.push(res.body.auth.client_token);
      return res.body.auth.client_token;
    };

    // Header, Vault header, bearer and cookie slots.
    const slots = await newToken();
    for (const headers of <Array<Record<string, string>>>[{ 'X-Nomad-Token': slots }, { 'X-Vault-Token': slots }, { Authorization: `Bearer ${slots}` }, { Cookie: `token=${slots}` }]) {
      expect((await call('GET', '/v1/auth/token/lookup-self', headers)).status).toBe(200);
    }
    // Bodies.
    const inBody = await newToken();
    for (const op of ['lookup', 'renew']) expect((await call('POST', `/v1/auth/token/${op}`, asRoot, { token: inBody })).status).toBe(200);
    // The URL forms, a secret of the caller's in a kv value, and the token as a query parameter.
    const inUrl = await newToken();
    expect((await call('GET', `/v1/auth/token/lookup/${inUrl}`, asRoot)).status).toBe(200);
    expect((await call('POST', `/v1/auth/token/renew/${inUrl}`, asRoot)).status).toBe(200);
    expect((await call('POST', `/v1/secret/planted?token=${inUrl}`, asRoot, { value: inUrl })).status).toBe(204);
    // Forms that do not route: mistyped, another case, doubled slashes, percent-encoded, undecodable.
    const stray = await newToken();
    const encoded = [...stray].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('');
    for (const path of [
      `/v1/auth/token/lookupp/${stray}`,
      `/v1/AUTH/TOKEN/LOOKUP/${stray}`,
      `/v1/auth//token//lookup//${stray}`,
      `/v1/auth/token/lookup/${encoded}`,
      `/v1/auth/token/lookup/${stray}%zz`,
      `/v1/auth/token/${stray}`,
    ]) {
      expect((await call('GET', path, asRoot)).status).toBeGreaterThanOrEqual(200);
    }
    // Revocations last: revoke and revoke-orphan in the URL.
    expect((await call('POST', `/v1/auth/token/revoke-orphan/${inUrl}`, asRoot)).status).toBe(204);
    expect((await call('POST', `/v1/auth/token/revoke/${stray}`, asRoot)).status).toBe(204);
    // An unknown token in the header.
    const unknown = 'deadbeef-0000-4000-8000-000000000000';
    planted.push(unknown);
    expect((await call('GET', '/v1/secret/planted', { 'X-Nomad-Token': unknown })).status).toBe(401);

    proc.kill('SIGTERM');
    expect((await proc.exited).code).toBe(0);
    const log = proc.stderr();
    // Not vacuous: there is a trace line per request, with the redacted URL forms in it.
    expect(log.split('\n').filter((line) => line.includes('[TRACE] request')).length).toBeGreaterThanOrEqual(20);
    expect(log).toContain('path="/v1/auth/token/lookup/<redacted>"');
    expect(log).toContain('<not valid percent-encoding>');
    for (const token of [root, ...planted]) expect(log.includes(token), `a token is in the log:\n${log}`).toBe(false);
    // stdout is the dev banner, which prints the root token on purpose, and nothing else.
    expect(proc.stdout().split(root).length - 1).toBe(2);
    for (const token of planted) expect(proc.stdout().includes(token)).toBe(false);
  });
});
