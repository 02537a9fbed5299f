import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, createClient, type Client } from '../../lib/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** The client's typed errors, over a real server: status and the server's messages, and the kind. */

let server: TestServer;
let client: Client;

beforeAll(async () => {
  server = await startTestServer();
  client = createClient({ address: server.url, token: server.rootToken });
});

afterAll(async () => {
  client.close();
  await server.close();
});

async function caught(promise: Promise<unknown>): Promise<ApiError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

describe('client.request', () => {
  it('resolves the parsed body, and undefined for a 204', async () => {
    const status = await client.request('GET', 'sys/seal-status');
    expect(status).toMatchObject({ sealed: false, initialized: true });
    expect(await client.request('POST', 'secret/a', { v: '1' })).toBeUndefined();
    expect(await client.request('GET', 'secret/a')).toMatchObject({ data: { v: '1' } });
  });

  it('throws a 404 with its status and the server messages', async () => {
    const err = await caught(client.request('GET', 'secret/nothing-here'));
    expect(err.status).toBe(404);
    expect(err.kind).toBe('response');
    expect(err.errors).toEqual(["no value found at 'secret/nothing-here'"]);
    expect(err.message).toBe("no value found at 'secret/nothing-here'");
    const noRoute = await caught(client.request('GET', 'nowhere/x'));
    expect(noRoute.status).toBe(404);
    expect(noRoute.errors.length).toBeGreaterThan(0);
    expect(noRoute.message).toBe(noRoute.errors.join('; '));
  });

  it('throws a 400 with the server messages', async () => {
    const err = await caught(client.request('POST', 'sys/policies/acl/bad', { policy: 'path "x" { capabilities = [' }));
    expect(err.status).toBe(400);
    expect(err.errors.length).toBeGreaterThan(0);
    expect(err.message).toBe(err.errors.join('; '));
  });

  it('throws a 401 for a bad token, and a per-call token override (null: none) wins', async () => {
    const err = await caught(client.request('GET', 'secret/a', undefined, { token: 'not-a-token' }));
    expect(err.status).toBe(401);
    expect(err.errors.length).toBeGreaterThan(0);
    const none = await caught(client.request('GET', 'secret/a', undefined, { token: null }));
    expect(none.status).toBe(401);
  });

  it('gives kind connection and ECONNREFUSED when nothing listens', async () => {
    const closed = createHttpServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const dead = createClient({ address: `http://127.0.0.1:${port}`, retries: 0 });
    const err = await caught(dead.request('GET', 'sys/seal-status'));
    dead.close();
    expect(err.kind).toBe('connection');
    expect(err.code).toBe('ECONNREFUSED');
    expect(err.status).toBe(0);
  });
});
