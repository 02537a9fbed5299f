import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Request, Response } from '../../lib/core/request.js';
import { isApiError, type ErrorCode } from '../../lib/errors.js';
import { addRoute, createMatcher, createRouter } from '../../lib/router/router.js';
import type { MemoryReport } from '../../lib/server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { tempDir } from '../storage/temp.js';

/**
 * Memory accounting (README, "Memory bounds"): a hostile mix of traffic — 50,000 distinct
 * paths, 8 KB paths, 50,000 tokens, thousands of made-up policy names, secrets larger than the
 * plaintext cache — leaves every cache in the report within its bound, and the hot read
 * still hits every cache on its way. Part goes through real HTTP; most goes straight into the
 * core's pipeline, which is the same code without the sockets.
 */

const LONG = 'x'.repeat(8192);
const READER = 'path "secret/*" { capabilities = ["read", "create", "update"] }';
/** What the flood may be answered: never a 500. */
const EXPECTED: ErrorCode[] = ['ERR_NOT_FOUND', 'ERR_INVALID_PATH', 'ERR_PERMISSION_DENIED'];

const expectWithinBounds = (report: MemoryReport): void => {
  for (const [name, size] of Object.entries(report.caches)) {
    expect(size.entries, `${name} entries`).toBeLessThanOrEqual(size.maxEntries);
    expect(size.bytes, `${name} bytes`).toBeLessThanOrEqual(size.maxBytes);
  }
};

describe('route memo', () => {
  const router = createRouter<string>();
  addRoute(router, 'secret/*path', 'kv');

  it('stays within its bounds, never remembers a long path, and still hits afterwards', () => {
    const match = createMatcher(router);
    const hot = match('secret/hot');
    expect(hot).toBe(match('secret/hot'));
    for (let i = 0; i < 50_000; i++) match(`secret/flood/${i}`);
    const size = match.size();
    expect(size.entries).toBeLessThanOrEqual(size.maxEntries);
    expect(size.bytes).toBeLessThanOrEqual(size.maxBytes);
    for (let i = 0; i < 100; i++) expect(match(`secret/${LONG}${i}`)?.params.path).toBe(`${LONG}${i}`);
    expect(match.size()).toEqual(size);
    // A remembered match is handed back as the same object: that is a hit.
    const again = match('secret/hot');
    expect(again).toEqual(hot);
    expect(match('secret/hot')).toBe(again);
  });

  it('counts bytes, so long (but remembered) paths fill it by bytes before entries', () => {
    const match = createMatcher(router, { maxEntries: 1000, maxBytes: 64 << 10, maxKeyLength: 1024 });
    for (let i = 0; i < 500; i++) match(`secret/${'y'.repeat(900)}${i}`);
    const size = match.size();
    expect(size.entries).toBeLessThan(100);
    expect(size.bytes).toBeLessThanOrEqual(64 << 10);
  });
});

describe('memory report under a hostile flood', () => {
  let server: TestServer;
  let hotToken = '';
  const unexpected: unknown[] = [];

  const request = (operation: Request['operation'], path: string, token: string, data: Record<string, unknown> = {}): Request => ({
    id: 'memory', operation, path, data, query: {}, clientToken: token, remoteAddress: '127.0.0.1',
  });
  /** The in-process pipeline; an expected refusal (404, 400, 401) counts as an answer. */
  const call = async (operation: Request['operation'], path: string, token: string, data?: Record<string, unknown>): Promise<Response | null> => {
    try {
      return await server.server.core.handleRequest(request(operation, path, token, data));
    } catch (err) {
      if (!EXPECTED.some((code) => isApiError(err, code))) unexpected.push(err);
      return null;
    }
  };
  /** Real HTTP, `concurrency` requests at a time; any 5xx is a failure. */
  const overHttp = async (count: number, concurrency: number, send: (i: number) => Promise<{ status: number }>): Promise<void> => {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < count) {
        const { status } = await send(next++);
        if (status >= 500) unexpected.push(new Error(`HTTP ${status}`));
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  };
  const createToken = async (data: Record<string, unknown>): Promise<string> => {
    const answer = await call('update', 'auth/token/create', server.rootToken, data);
    return answer!.auth!.clientToken;
  };

  beforeAll(async () => {
    server = await startTestServer();
    const root = server.rootToken;
    expect((await server.request('PUT', '/v1/sys/policy/reader', { token: root, body: { policy: READER } })).status).toBe(204);
    const created = await server.request('POST', '/v1/auth/token/create', { token: root, body: { policies: ['reader'] } });
    hotToken = created.body.auth.client_token;
    expect((await server.request('POST', '/v1/secret/hot', { token: root, body: { value: 'warm' } })).status).toBe(204);
    const hotRead = (): Promise<Response | null> => call('read', 'secret/hot', hotToken);

    // 50,000 distinct paths, on two mounts, as the non-root token (so the ACL memo sees them too).
    const pathOf = (i: number): string => (i % 4 === 0 ? `cubbyhole/flood/${i}` : `secret/flood/${i}`);
    await overHttp(2_000, 25, (i) => server.request('GET', `/v1/${pathOf(i)}`, { token: hotToken }));
    for (let i = 2_000; i < 50_000; i++) await call('read', pathOf(i), hotToken);

    // Long paths: 8 KB ones (storage refuses them: 400) and 3 KB ones (valid keys, not found).
    await overHttp(200, 10, (i) => server.request('GET', `/v1/secret/${LONG}${i}`, { token: hotToken }));
    for (let i = 0; i < 2_000; i++) await call('read', `secret/${i % 2 ? LONG : LONG.slice(0, 3000)}${i}`, hotToken);

    // Secrets worth more than the plaintext cache, each read once.
    const big = 'z'.repeat(60 << 10);
    for (let i = 0; i < 320; i++) await call('update', `secret/big/${i}`, root, { value: big });
    for (let i = 0; i < 320; i++) await call('read', `secret/big/${i}`, hotToken);

    // 50,000 tokens (each also a lease: data, reported, not capped); the hot one keeps being used.
    await overHttp(1_000, 25, () => server.request('POST', '/v1/auth/token/create', { token: root, body: { policies: ['default'] } }));
    for (let i = 1_000; i < 50_000; i++) {
      await createToken({ policies: ['default'] });
      if (i % 500 === 0) await hotRead();
    }

    // Made-up policy names (root may hand out any): each token's set is compiled on first use.
    for (let i = 0; i < 3_000; i++) {
      const name = i % 10 === 0 ? `long-${i}-${'n'.repeat(2000)}` : `made-up-${i}`;
      await call('read', 'secret/hot', await createToken({ policies: [name] }));
    }
    await hotRead();
    // The in-process part can outlast the server's keep-alive timeout (5 s) on a slow machine:
    // a pooled socket the server closed meanwhile would reset the next request over HTTP.
    http.globalAgent.destroy();
  }, 120_000);

  afterAll(async () => {
    await server?.close();
  });

  it('answered the whole flood without an internal error', () => {
    expect(unexpected).toEqual([]);
  });

  it('keeps every cache within its bound, and the bounds well under 100 MiB', () => {
    const report = server.server.memory();
    expectWithinBounds(report);
    for (const name of ['route memo', 'token cache', 'acl memo', 'compiled acls', 'unknown policy names', 'view keys', 'plaintext cache']) {
      expect(report.caches[name]!.entries, name).toBeGreaterThan(0);
    }
    // The flood reached the bounds that matter most.
    expect(report.caches['token cache']!.entries).toBeGreaterThan(1_000);
    expect(report.caches['plaintext cache']!.bytes).toBeGreaterThan(8 << 20);
    const total = Object.values(report.caches).reduce((sum, size) => sum + size.maxBytes, 0);
    expect(total).toBeLessThan(64 << 20);
    expect(report.data['lease timers']).toBeGreaterThanOrEqual(50_000);
    expect(report.data.mounts).toBe(4);
    expect(report.rss).toBeGreaterThan(0);
    expect(report.heapUsed).toBeGreaterThan(0);
  });

  it('still answers the hot read from every cache', async () => {
    const core = server.server.core;
    // The token was in use throughout, so the token cache kept it through 50,000 newcomers.
    expect(core.tokens.cached(hotToken)).toBeDefined();
    await call('read', 'secret/hot', hotToken);
    // The pipeline's read fills the caches; the first fast-path answer remembers the joined key.
    expect(core.answerNow(request('read', 'secret/hot', hotToken))?.dataJson).toBe('{"value":"warm"}');
    const before = server.server.memory().caches;
    for (let i = 0; i < 100; i++) {
      // Answered by the fast path: the token, the compiled ACL and the secret all came from memory.
      const answer = core.answerNow(request('read', 'secret/hot', hotToken));
      expect(answer?.dataJson).toBe('{"value":"warm"}');
    }
    // A hit does no bookkeeping: a miss would have added an entry somewhere.
    expect(server.server.memory().caches).toEqual(before);
    const res = await server.request('GET', '/v1/secret/hot', { token: hotToken });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ value: 'warm' });
  });

  it('counts open connections, and forgets them once closed', async () => {
    const connections = (): number => server.server.memory().connections.total;
    const until = async (done: () => boolean): Promise<void> => {
      for (let turn = 0; turn < 100_000 && !done(); turn++) await new Promise((resolve) => setImmediate(resolve));
      expect(done()).toBe(true);
    };
    // No keep-alive socket of earlier requests may come or go while this counts.
    http.globalAgent.destroy();
    await until(() => connections() === 0);
    const before = connections();
    const { port } = new URL(server.url);
    const sockets = await Promise.all(
      Array.from({ length: 20 }, () => new Promise<net.Socket>((resolve) => {
        const socket = net.connect(Number(port), '127.0.0.1', () => resolve(socket));
      })),
    );
    await until(() => connections() === before + 20);
    expect(server.server.memory().connections.perListener).toEqual([before + 20]);
    for (const socket of sockets) socket.destroy();
    await until(() => connections() <= before);
  });
});

describe('memory report on a durable storage', () => {
  it('adds the storage read cache and its write stamps', async () => {
    const { dir, remove } = await tempDir();
    const server = await startTestServer({ config: { storage: { type: 'file', options: { path: dir } } } });
    try {
      const token = server.rootToken;
      for (let i = 0; i < 50; i++) expect((await server.request('POST', `/v1/secret/s${i}`, { token, body: { value: i } })).status).toBe(204);
      for (let i = 0; i < 50; i++) expect((await server.request('GET', `/v1/secret/s${i}`, { token })).status).toBe(200);
      const report = server.server.memory();
      expectWithinBounds(report);
      expect(report.caches['storage cache']!.entries).toBeGreaterThan(0);
      expect(report.caches['storage write stamps']).toMatchObject({ maxEntries: expect.any(Number) });
    } finally {
      await server.close();
      await remove();
    }
  });
});
