import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, createClient, type Client } from '../../lib/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Redirects and retries: a fake standby (node:http) that answers 307 to the real test server,
 * and a fake server that answers 503 and counts the attempts.
 */

let server: TestServer;
const fakes: Server[] = [];
const clients: Client[] = [];

beforeAll(async () => {
  server = await startTestServer();
});

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await Promise.all(fakes.splice(0).map((f) => new Promise<void>((resolve) => {
    f.close(() => resolve());
    f.closeAllConnections();
  })));
});

afterAll(async () => {
  await server.close();
});

async function fake(handler: (req: IncomingMessage, body: string, res: import('node:http').ServerResponse) => void): Promise<string> {
  const f = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, Buffer.concat(chunks).toString('utf8'), res));
  });
  await new Promise<void>((resolve) => f.listen(0, '127.0.0.1', resolve));
  fakes.push(f);
  return `http://127.0.0.1:${(f.address() as AddressInfo).port}`;
}

function clientFor(address: string, extra: Parameters<typeof createClient>[0] = {}): Client {
  const c = createClient({ address, token: server.rootToken, retryDelay: 5, ...extra });
  clients.push(c);
  return c;
}

describe('redirects', () => {
  it('follows a 307 from a standby to another host with the method and body intact', async () => {
    const seen: string[] = [];
    const standby = await fake((req, body, res) => {
      seen.push(`${req.method} ${req.url} ${body}`);
      res.writeHead(307, { Location: `${server.url}${req.url}` }).end();
    });
    const c = clientFor(standby);
    await c.kv.write('secret/redirected', { v: 'through the standby' });
    expect(seen).toEqual(['POST /v1/secret/redirected {"v":"through the standby"}']);
    // The write reached the real server: read it there directly.
    const direct = await server.request('GET', '/v1/secret/redirected', { token: server.rootToken });
    expect(direct.body.data).toEqual({ v: 'through the standby' });
    expect(await c.kv.read('secret/redirected')).toEqual({ v: 'through the standby' });
  });

  it('follows a 308 with a relative Location, and stops after a few hops', async () => {
    const relative = await fake((req, _body, res) => {
      if (req.url!.startsWith('/v1/moved/')) {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ method: req.method, url: req.url }));
      } else res.writeHead(308, { Location: `/v1/moved${req.url!.slice(3)}` }).end();
    });
    expect(await clientFor(relative).request('PUT', 'x/y', { a: 1 })).toEqual({ method: 'PUT', url: '/v1/moved/x/y' });

    let hops = 0;
    const loop = await fake((req, _body, res) => {
      hops++;
      res.writeHead(307, { Location: req.url! }).end();
    });
    const err = await clientFor(loop).request('GET', 'sys/leader').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(307);
    expect((err as ApiError).message).toMatch(/too many redirects/);
    expect(hops).toBe(6);
  });
});

describe('retries', () => {
  it('retries a GET on 503 the configured number of times, then throws the 503', async () => {
    let attempts = 0;
    const busy = await fake((_req, _body, res) => {
      attempts++;
      res.writeHead(503, { 'Content-Type': 'application/json' }).end(JSON.stringify({ errors: ['Nomad is sealed'] }));
    });
    const err = (await clientFor(busy, { retries: 2 }).request('GET', 'secret/a').catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(503);
    expect(err.errors).toEqual(['Nomad is sealed']);
    expect(attempts).toBe(3);

    attempts = 0;
    await clientFor(busy, { retries: 0 }).kv.list('secret/').catch(() => undefined);
    expect(attempts).toBe(1);
  });

  it('never retries a POST, PUT or DELETE', async () => {
    let attempts = 0;
    const busy = await fake((_req, _body, res) => {
      attempts++;
      res.writeHead(503).end();
    });
    const c = clientFor(busy, { retries: 3 });
    for (const method of ['POST', 'PUT', 'DELETE']) {
      attempts = 0;
      await expect(c.request(method, 'secret/a', { v: 1 })).rejects.toMatchObject({ status: 503 });
      expect(attempts, method).toBe(1);
    }
  });

  it('succeeds when the server comes back within the retries', async () => {
    let attempts = 0;
    const flaky = await fake((_req, _body, res) => {
      attempts++;
      if (attempts < 3) res.writeHead(503).end();
      else res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
    });
    expect(await clientFor(flaky, { retries: 2 }).request('GET', 'anything')).toEqual({ ok: true });
    expect(attempts).toBe(3);
  });

  it('retries a connection refused, with backoff, then gives kind connection', async () => {
    const gone = await fake(() => undefined);
    await new Promise<void>((resolve) => fakes.pop()!.close(() => resolve()));
    const started = Date.now();
    const err = (await clientFor(gone, { retries: 2, retryDelay: 40 }).request('GET', 'sys/health').catch((e: unknown) => e)) as ApiError;
    expect(err.kind).toBe('connection');
    expect(err.code).toBe('ECONNREFUSED');
    // 40 + 80 ms of backoff at least (not asserted tightly from above).
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
  });

  it('gives kind timeout when no answer comes in time', async () => {
    const silent = await fake((_req, _body, res) => setTimeout(() => res.end(), 1000));
    const err = (await clientFor(silent, { timeout: 100, retries: 0 }).request('GET', 'x').catch((e: unknown) => e)) as ApiError;
    expect(err.kind).toBe('timeout');
    expect(err.status).toBe(0);
  });
});

describe('keep-alive', () => {
  it('reuses one connection for repeated calls, and close() lets it go', async () => {
    const ports = new Set<number>();
    const counting = await fake((req, _body, res) => {
      ports.add(req.socket.remotePort!);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    });
    const c = clientFor(counting);
    for (let i = 0; i < 5; i++) await c.request('GET', 'x');
    expect(ports.size).toBe(1);
    c.close();
    await c.request('GET', 'x');
    expect(ports.size).toBe(2);
  });
});
