import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * One keep-alive connection, many tokens: the edge keeps a token memo per connection
 * (http/connection.ts, core/tokens.ts), and it must never let one token stand for another,
 * nor keep a revoked token usable.
 */

let server: TestServer;
let agent: http.Agent;
beforeAll(async () => {
  server = await startTestServer();
  agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const root = { token: server.rootToken };
  expect((await server.request('PUT', '/v1/sys/policy/a', { ...root, body: { policy: 'path "secret/a" { capabilities = ["read"] }' } })).status).toBe(204);
  expect((await server.request('PUT', '/v1/sys/policy/b', { ...root, body: { policy: 'path "secret/b" { capabilities = ["read"] }' } })).status).toBe(204);
  for (const name of ['a', 'b']) expect((await server.request('PUT', `/v1/secret/${name}`, { ...root, body: { v: name } })).status).toBe(204);
});
afterAll(async () => {
  agent.destroy();
  await server.close();
});

const token = async (policy: string): Promise<string> => (await server.request('POST', '/v1/auth/token/create', { token: server.rootToken, body: { policies: [policy] } })).body.auth.client_token;
const get = (path: string, clientToken: string) => server.request('GET', path, { token: clientToken, agent });

describe('the per-connection token memo', () => {
  it('tells tokens apart on one connection, however they alternate, and even when they differ in one character', async () => {
    const a = await token('a');
    const b = await token('b');
    // Same length, one character apart: the memo's compare must see the difference.
    const nearA = a.slice(0, -1) + (a.endsWith('0') ? '1' : '0');
    const ports = new Set<number | undefined>();
    for (const [clientToken, path, status] of [
      [a, '/v1/secret/a', 200],
      [a, '/v1/secret/a', 200],
      [b, '/v1/secret/a', 401],
      [b, '/v1/secret/b', 200],
      [a, '/v1/secret/b', 401],
      [nearA, '/v1/secret/a', 401],
      [a, '/v1/secret/a', 200],
      ['', '/v1/secret/a', 401],
      [a, '/v1/secret/a', 200],
    ] as const) {
      const res = await get(path, clientToken);
      expect(res.status, `${path} with ${clientToken === a ? 'a' : clientToken === b ? 'b' : 'another'}`).toBe(status);
      ports.add(res.localPort);
    }
    // Every request went over the same connection.
    expect(ports.size).toBe(1);
  });

  it('does not keep a revoked token usable on the connection that used it', async () => {
    const a = await token('a');
    expect((await get('/v1/secret/a', a)).status).toBe(200);
    expect((await get('/v1/secret/a', a)).status).toBe(200);
    expect((await server.request('POST', '/v1/auth/token/revoke', { token: server.rootToken, body: { token: a } })).status).toBe(204);
    const after = await get('/v1/secret/a', a);
    expect(after.status).toBe(401);
    expect(after.reused).toBe(true);
  });

  it('survives a seal and unseal on a kept-alive connection', async () => {
    const a = await token('a');
    expect((await get('/v1/secret/a', a)).status).toBe(200);
    expect((await server.request('PUT', '/v1/sys/seal', { token: server.rootToken, agent })).status).toBe(204);
    expect((await get('/v1/secret/a', a)).status).toBe(503);
    await server.unseal();
    const again = await get('/v1/secret/a', a);
    expect(again.status).toBe(200);
    expect(again.reused).toBe(true);
  });
});
