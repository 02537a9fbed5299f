import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../lib/config.js';
import { createRequestHandler } from '../../lib/http/handler.js';
import { startListener } from '../../lib/http/listener.js';
import { silentLogger } from '../../lib/log.js';
import { httpRequest, type HttpResult } from '../helpers/http.js';
import { connectRaw, type RawResponse } from '../helpers/raw-http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * The HTTP edge over real sockets (api.md §1–§3): framing, status codes, error bodies,
 * headers on every answer, the LIST method (node's parser would reject it), and where
 * the client token may come from.
 */

const LIMIT = 1024;
const JSON_LIMITS = { maxDepth: 300, maxStringLength: 1 << 20, maxObjectEntries: 10_000, maxArrayElements: 10_000 };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type Sent = HttpResult;

interface SendOptions {
  method?: string;
  token?: string;
  headers?: Record<string, string>;
  /** An object goes as JSON; a string or Buffer as is. */
  body?: unknown;
  agent?: http.Agent;
}

/** node:http with any method (LIST included), reporting which connection answered. */
function send(server: TestServer, path: string, options: SendOptions = {}): Promise<Sent> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token !== undefined) headers['X-Nomad-Token'] = options.token;
  return httpRequest(`${server.url}${path}`, { method: options.method, headers, body: options.body, agent: options.agent });
}

/** One TCP connection driven by hand (spec/helpers/raw-http.ts): write a request, read its response, then the next. */
async function openRaw(url: string): Promise<{ send(request: string | Buffer): Promise<RawResponse>; write(data: string | Buffer): void; close(): void }> {
  const connection = await connectRaw(url);
  return {
    async send(request) {
      await connection.write(request);
      return connection.next();
    },
    write: (data) => void connection.write(data),
    close: () => connection.close(),
  };
}

/** A request written out by hand, Content-Length included when there is a body. */
function rawRequest(method: string, path: string, headers: Record<string, string> = {}, body?: string): string {
  const all: Record<string, string> = { Host: '127.0.0.1', ...headers };
  if (body !== undefined) all['Content-Length'] = String(Buffer.byteLength(body));
  const head = Object.entries(all).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  return `${method} ${path} HTTP/1.1\r\n${head}\r\n${body ?? ''}`;
}

describe('the HTTP edge', () => {
  let server: TestServer;
  let token: string;

  beforeAll(async () => {
    server = await startTestServer({ listener: { maxRequestSize: LIMIT } });
    token = server.rootToken;
  });
  afterAll(() => server?.close());

  describe('paths outside /v1/', () => {
    it.each(['/', '/v1', '/v2/x', '/v2/secret/foo', '/favicon.ico', '/V1/sys/seal-status', '/x/v1/sys/seal-status'])(
      '%s answers 404 with an error body',
      async (path) => {
        for (const method of ['GET', 'PUT']) {
          const res = await send(server, path, { method, token });
          expect(res.status).toBe(404);
          expect(res.headers['content-type']).toBe('application/json');
          expect(res.body.errors).toEqual([expect.any(String)]);
        }
      },
    );
  });

  describe('headers on every answer', () => {
    // token 'root' stands for the root token, which exists only once beforeAll has run.
    it.each<[string, string, SendOptions, number]>([
      ['200 (seal status)', '/v1/sys/seal-status', {}, 200],
      ['200 (an envelope)', '/v1/auth/token/lookup-self', { token: 'root' }, 200],
      ['204 (a kv write)', '/v1/secret/headers', { method: 'PUT', token: 'root', body: { a: 1 } }, 204],
      ['400 (bad JSON)', '/v1/secret/headers', { method: 'PUT', token: 'root', body: '{' }, 400],
      ['401 (no token)', '/v1/secret/headers', {}, 401],
      ['404 (outside /v1/)', '/nowhere', {}, 404],
      ['404 (nothing stored)', '/v1/secret/absent', { token: 'root' }, 404],
      ['405 (unsupported method)', '/v1/sys/seal-status', { method: 'DELETE' }, 405],
      ['413 (body too large)', '/v1/secret/headers', { method: 'PUT', token: 'root', body: { big: 'x'.repeat(LIMIT) } }, 413],
    ])('%s has Cache-Control: no-store and an X-Request-Id', async (_label, path, options, status) => {
      const res = await send(server, path, { ...options, token: options.token === 'root' ? token : options.token });
      expect(res.status).toBe(status);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['x-request-id']).toMatch(UUID);
      if (status === 204) {
        expect(res.text).toBe('');
        expect(res.headers['content-type']).toBeUndefined();
      } else {
        expect(res.headers['content-type']).toBe('application/json');
        expect(res.headers['content-length']).toBe(String(Buffer.byteLength(res.text)));
        expect(res.body).toBeTypeOf('object');
      }
      if (status >= 400) {
        expect(Object.keys(res.body)).toEqual(['errors']);
        expect(res.body.errors.length).toBeGreaterThan(0);
        for (const message of res.body.errors) expect(message).toMatch(/^[^A-Z].*[^.]$/);
      }
    });

    it('gives each response its own request id, matching the envelope', async () => {
      const a = await send(server, '/v1/auth/token/lookup-self', { token });
      const b = await send(server, '/v1/auth/token/lookup-self', { token });
      expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
      expect(a.body.request_id).toBe(a.headers['x-request-id']);
    });

    it.each<[string, number, string]>([
      ['an unknown method', 400, 'FROB /v1/sys/seal-status HTTP/1.1\r\nHost: x\r\n\r\n'],
      ['a bad Content-Length', 400, 'PUT /v1/secret/x HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n'],
      ['a malformed request line', 400, 'GET\r\n\r\n'],
      ['headers over 16 KiB', 431, `GET /v1/sys/seal-status HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`],
    ])('answers %s, which node itself refuses, with %i, the error body and no-store', async (_label, status, request) => {
      const raw = await openRaw(server.url);
      try {
        const res = await raw.send(request);
        expect(res.status).toBe(status);
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.headers['content-type']).toBe('application/json');
        expect(res.headers['x-request-id']).toMatch(UUID);
        expect(res.headers.connection).toBe('close');
        expect(JSON.parse(res.text).errors).toEqual([expect.any(String)]);
      } finally {
        raw.close();
      }
    });
  });

  describe('405 with Allow', () => {
    it.each<[string, string, boolean, string[]]>([
      ['DELETE', '/v1/sys/seal-status', false, ['GET']],
      ['PUT', '/v1/sys/seal-status', false, ['GET']],
      ['GET', '/v1/sys/unseal', false, ['POST', 'PUT']],
      ['PATCH', '/v1/secret/foo', true, ['DELETE', 'GET', 'LIST', 'POST', 'PUT']],
      ['OPTIONS', '/v1/secret/foo', true, ['DELETE', 'GET', 'LIST', 'POST', 'PUT']],
      ['PATCH', '/v1/auth/token/lookup-self', true, ['GET', 'POST', 'PUT']],
    ])('%s %s', async (method, path, withToken, allowed) => {
      const res = await send(server, path, { method, token: withToken ? token : undefined });
      expect(res.status).toBe(405);
      expect(res.headers.allow!.split(/,\s*/).sort()).toEqual(allowed);
      expect(res.body.errors.length).toBeGreaterThan(0);
    });

    it('checks the token before saying which methods a path has', async () => {
      const res = await send(server, '/v1/secret/foo', { method: 'PATCH' });
      expect(res.status).toBe(401);
      expect(res.headers.allow).toBeUndefined();
    });
  });

  describe('request bodies', () => {
    /** A PUT whose headers promise `declared` bytes; resolves with the answer once it arrives. */
    async function partialPut(declared: Record<string, string>, chunks: string[]): Promise<Sent> {
      const req = http.request(`${server.url}/v1/secret/big`, {
        method: 'PUT',
        headers: { 'X-Nomad-Token': token, ...declared },
        agent: false,
      });
      // The server closes the connection on us while we still owe it bytes.
      const closed = new Promise<void>((resolve) => req.on('error', () => resolve()).on('close', () => resolve()));
      const responded = once(req, 'response') as Promise<[http.IncomingMessage]>;
      for (const chunk of chunks) req.write(chunk);
      const [res] = await responded;
      const text = (await res.toArray()).map((c: Buffer) => c.toString('utf8')).join('');
      req.destroy();
      await closed;
      return { status: res.statusCode ?? 0, headers: res.headers, text, bytes: Buffer.from(text), body: JSON.parse(text), reused: false, localPort: undefined };
    }

    it('answers 413 as soon as Content-Length is over the limit, without waiting for the body', async () => {
      // 10 MB promised, 5 bytes sent: the answer can only come if the server did not wait.
      const res = await partialPut({ 'Content-Length': String(10 * 1024 * 1024) }, ['{"a":']);
      expect(res.status).toBe(413);
      expect(res.headers.connection).toBe('close');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body.errors).toEqual([expect.any(String)]);
    }, 5_000);

    it('answers 413 once a chunked body crosses the limit, without waiting for its end', async () => {
      const half = 'x'.repeat(LIMIT / 2 + 100);
      const res = await partialPut({ 'Transfer-Encoding': 'chunked' }, [`{"a":"${half}`, `${half}`]);
      expect(res.status).toBe(413);
      expect(res.headers.connection).toBe('close');
    }, 5_000);

    it('accepts a body of exactly the limit and refuses one byte more', async () => {
      const exact = JSON.stringify({ v: 'x'.repeat(LIMIT - 8) });
      expect(Buffer.byteLength(exact)).toBe(LIMIT);
      expect((await send(server, '/v1/secret/limit', { method: 'PUT', token, body: exact })).status).toBe(204);
      const over = JSON.stringify({ v: 'x'.repeat(LIMIT - 7) });
      expect((await send(server, '/v1/secret/limit', { method: 'PUT', token, body: over })).status).toBe(413);
    });

    it('refuses an oversized body before checking the token', async () => {
      const res = await send(server, '/v1/secret/limit', { method: 'PUT', body: { v: 'x'.repeat(LIMIT) } });
      expect(res.status).toBe(413);
    });

    it.each<[string, string | Buffer]>([
      ['malformed JSON', '{"a": 1'],
      ['trailing garbage', '{"a": 1} x'],
      ['a JSON array', '[{"a": 1}]'],
      ['an empty array', '[]'],
      ['null', 'null'],
      ['a number', '42'],
      ['a string', '"text"'],
      ['true', 'true'],
      ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d])],
      ['a truncated UTF-8 sequence', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xe2, 0x82, 0x22, 0x7d])],
      ['an overlong UTF-8 encoding', Buffer.from([0x7b, 0x22, 0xc0, 0xaf, 0x22, 0x3a, 0x31, 0x7d])],
    ])('answers 400 to %s', async (_label, body) => {
      for (const method of ['PUT', 'POST']) {
        const res = await send(server, '/v1/secret/bodies', { method, token, body });
        expect(res.status).toBe(400);
        expect(res.body.errors).toEqual([expect.any(String)]);
      }
    });

    it('answers 400 to a bad body even without a token (framing comes first)', async () => {
      const res = await send(server, '/v1/secret/bodies', { method: 'PUT', body: '[1]' });
      expect(res.status).toBe(400);
    });

    it.each<[string, string]>([
      ['invalid JSON', '{"password": "MARKER-s3cr3t-7f3a" '],
      ['a non-object', '["MARKER-s3cr3t-7f3a"]'],
      ['invalid UTF-8', '{"password": "MARKER-s3cr3t-7f3a\xff"}'],
    ])('never echoes the body in the error for %s', async (_label, body) => {
      const bytes = Buffer.from(body, 'latin1');
      const res = await send(server, '/v1/secret/echo', { method: 'PUT', token, body: bytes });
      expect(res.status).toBe(400);
      expect(res.text).not.toContain('MARKER');
      expect(res.text).not.toContain('s3cr3t');
    });

    it('accepts a JSON object without a Content-Type, and a UTF-8 body with a BOM', async () => {
      expect((await send(server, '/v1/secret/bom', { method: 'PUT', token, body: '\ufeff{"v":"é"}' })).status).toBe(204);
      const read = await send(server, '/v1/secret/bom', { token });
      expect(read.body.data).toEqual({ v: 'é' });
    });
  });

  describe('LIST', () => {
    beforeAll(async () => {
      for (const key of ['list/a', 'list/b', 'list/sub/c']) {
        expect((await send(server, `/v1/secret/${key}`, { method: 'PUT', token, body: { v: key } })).status).toBe(204);
      }
    });

    it.each([
      ['LIST', '/v1/secret/list'],
      ['LIST', '/v1/secret/list/'],
      ['GET', '/v1/secret/list?list=true'],
      ['GET', '/v1/secret/list/?list=1'],
      ['GET', '/v1/secret/list?list=TRUE'],
      ['GET', '/v1/secret/list?other=x&list=true'],
    ])('%s %s lists one level', async (method, path) => {
      const res = await send(server, path, { method, token });
      expect(res.status).toBe(200);
      expect(res.body.data.keys).toEqual(['a', 'b', 'sub/']);
    });

    it.each(['false', '0', ''])('GET ?list=%s is a read', async (value) => {
      const res = await send(server, `/v1/secret/list/a?list=${value}`, { token });
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ v: 'list/a' });
    });

    it.each(['bogus', 'yes', '2'])('GET ?list=%s answers 400', async (value) => {
      const res = await send(server, `/v1/secret/list?list=${value}`, { token });
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([expect.any(String)]);
    });

    it('answers 404 for an empty folder and 401 without a token', async () => {
      expect((await send(server, '/v1/secret/list/none', { method: 'LIST', token })).status).toBe(404);
      expect((await send(server, '/v1/secret/list', { method: 'LIST' })).status).toBe(401);
    });

    it('mixes LIST, GET, LIST, POST, LIST on one keep-alive connection', async () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const on = { agent, token };
        const results: Sent[] = [];
        const step = async (sent: Promise<Sent>): Promise<Sent> => {
          results.push(await sent);
          return results.at(-1)!;
        };
        const list1 = await step(send(server, '/v1/secret/list', { ...on, method: 'LIST' }));
        expect(list1.body.data.keys).toEqual(['a', 'b', 'sub/']);
        const get = await step(send(server, '/v1/secret/list/b', on));
        expect(get.body.data).toEqual({ v: 'list/b' });
        const list2 = await step(send(server, '/v1/secret/list/sub', { ...on, method: 'LIST' }));
        expect(list2.body.data.keys).toEqual(['c']);
        const post = await step(send(server, '/v1/secret/list/sub/d', { ...on, method: 'POST', body: { v: 'd' } }));
        expect(post.status).toBe(204);
        const list3 = await step(send(server, '/v1/secret/list/sub/', { ...on, method: 'LIST' }));
        expect(list3.body.data.keys).toEqual(['c', 'd']);
        const bad = await step(send(server, '/v1/secret/list', { ...on, method: 'LIST', token: 'not-a-token' }));
        expect(bad.status).toBe(401);
        const list4 = await step(send(server, '/v1/secret/list/sub', { ...on, method: 'LIST' }));
        expect(list4.body.data.keys).toEqual(['c', 'd']);
        const del = await step(send(server, '/v1/secret/list/sub/d', { ...on, method: 'DELETE' }));
        expect(del.status).toBe(204);

        expect(results.map((r) => r.reused)).toEqual([false, ...Array(results.length - 1).fill(true)]);
        expect(new Set(results.map((r) => r.localPort)).size).toBe(1);
      } finally {
        agent.destroy();
      }
    });

    it('mixes LIST and other methods written by hand on one raw socket', async () => {
      const raw = await openRaw(server.url);
      const auth = { 'X-Nomad-Token': token };
      try {
        const list1 = await raw.send(rawRequest('LIST', '/v1/secret/list', auth));
        expect(list1.status).toBe(200);
        expect(JSON.parse(list1.text).data.keys).toEqual(['a', 'b', 'sub/']);
        const get = await raw.send(rawRequest('GET', '/v1/secret/list/a', auth));
        expect(JSON.parse(get.text).data).toEqual({ v: 'list/a' });
        const list2 = await raw.send(rawRequest('LIST', '/v1/secret/list/sub', auth));
        expect(JSON.parse(list2.text).data.keys).toEqual(['c']);
        const post = await raw.send(rawRequest('POST', '/v1/secret/list/sub/raw', auth, '{"v":"raw"}'));
        expect(post.status).toBe(204);
        expect(post.text).toBe('');
        const list3 = await raw.send(rawRequest('LIST', '/v1/secret/list/sub', auth));
        expect(JSON.parse(list3.text).data.keys).toEqual(['c', 'raw']);
        // A LIST with a body (some clients send `{}`), then a body-less one again.
        const list4 = await raw.send(rawRequest('LIST', '/v1/secret/list', auth, '{}'));
        expect(JSON.parse(list4.text).data.keys).toEqual(['a', 'b', 'sub/']);
        const del = await raw.send(rawRequest('DELETE', '/v1/secret/list/sub/raw', auth));
        expect(del.status).toBe(204);
        const list5 = await raw.send(rawRequest('LIST', '/v1/secret/list/sub', auth));
        expect(JSON.parse(list5.text).data.keys).toEqual(['c']);
      } finally {
        raw.close();
      }
    });

    it('moves a connection to the LIST-aware parser at its first LIST, after other requests', async () => {
      // Connections start on node's fast parser; the first LIST hands them over mid-stream.
      const raw = await openRaw(server.url);
      const auth = { 'X-Nomad-Token': token };
      try {
        expect((await raw.send(rawRequest('GET', '/v1/secret/list/a', auth))).status).toBe(200);
        expect((await raw.send(rawRequest('POST', '/v1/secret/list/sub/late', auth, '{"v":"late"}'))).status).toBe(204);
        const list1 = await raw.send(rawRequest('LIST', '/v1/secret/list/sub', auth));
        expect(list1.status).toBe(200);
        expect(JSON.parse(list1.text).data.keys).toEqual(['c', 'late']);
        const get = await raw.send(rawRequest('GET', '/v1/secret/list/sub/late', auth));
        expect(JSON.parse(get.text).data).toEqual({ v: 'late' });
        expect((await raw.send(rawRequest('DELETE', '/v1/secret/list/sub/late', auth))).status).toBe(204);
        const list2 = await raw.send(rawRequest('LIST', '/v1/secret/list/sub', auth));
        expect(JSON.parse(list2.text).data.keys).toEqual(['c']);
        // Methods node refuses for other reasons still get the JSON error answer.
        const bogus = await raw.send('BOGUS /v1/secret/list HTTP/1.1\r\nHost: x\r\n\r\n');
        expect(bogus.status).toBe(400);
        expect(JSON.parse(bogus.text).errors.length).toBeGreaterThan(0);
      } finally {
        raw.close();
      }
    });

    it('still accepts LIST after an answer that went out before its request body arrived', async () => {
      // A 404 outside /v1/ is answered from the headers alone, and the client sends the body
      // afterwards. Those late bytes are the end of the old request, not the start of a new
      // one, and must not hide the LIST that follows. The listener is built here from the
      // same parts as the server's so the test can see when the old request ended.
      const ended: Array<Promise<unknown>> = [];
      // Its 500s are recorded with the test server's, so the no-silent-500 guard sees them too.
      const handler = createRequestHandler({
        core: server.server.core,
        logger: silentLogger,
        maxRequestSize: LIMIT,
        jsonLimits: JSON_LIMITS,
        onInternalError: (err) => server.internalErrors.push(err),
      });
      const listener = await startListener({ ...defaultConfig().listeners[0]!, address: '127.0.0.1:0', tlsDisable: true }, (req, res) => {
        ended.push(once(req, 'end'));
        handler(req, res);
      });
      const raw = await openRaw(listener.url);
      try {
        const early = await raw.send('PUT /v2/elsewhere HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n');
        expect(early.status).toBe(404);
        raw.write('{"LIST":"x"}');
        await ended[0];
        const list = await raw.send(rawRequest('LIST', '/v1/secret/list', { 'X-Nomad-Token': token }));
        expect(list.status).toBe(200);
        expect(JSON.parse(list.text).data.keys).toEqual(['a', 'b', 'sub/']);
      } finally {
        raw.close();
        await listener.close();
      }
    });
  });

  describe('routing and authentication order', () => {
    it.each<[string, number, string, boolean]>([
      ['a path no mount matches, without a token', 401, '/v1/nothing/here', false],
      ['a path no mount matches, LIST without a token', 401, '/v1/nothing/', false],
      ['the bare /v1/ root, without a token', 401, '/v1/', false],
      ['a path no mount matches, with the root token', 404, '/v1/nothing/here', true],
      ['a sys path that does not exist, without a token', 401, '/v1/sys/nope', false],
      ['a sys path that does not exist, with the root token', 404, '/v1/sys/nope', true],
      ['an unauthenticated sys route, without a token', 200, '/v1/sys/seal-status', false],
    ])('%s → %i', async (_label, status, path, withToken) => {
      const res = await send(server, path, { method: path.endsWith('/') ? 'LIST' : 'GET', token: withToken ? token : undefined });
      expect(res.status).toBe(status);
      if (status >= 400) expect(res.body.errors.length).toBeGreaterThan(0);
    });

    it('percent-decodes the path: secret/a%20b is stored, read and listed as "a b"', async () => {
      expect((await send(server, '/v1/secret/pct/a%20b', { method: 'PUT', token, body: { v: 1 } })).status).toBe(204);
      expect((await send(server, '/v1/secret/pct/caf%C3%A9', { method: 'PUT', token, body: { v: 2 } })).status).toBe(204);
      const list = await send(server, '/v1/secret/pct', { method: 'LIST', token });
      expect(list.body.data.keys).toEqual(['a b', 'café']);
      expect((await send(server, '/v1/secret/pct/a%20b', { token })).body.data).toEqual({ v: 1 });
      expect((await send(server, '/v1/secret/pct/caf%c3%a9', { token })).body.data).toEqual({ v: 2 });
      expect((await send(server, '/v1/secret/pct/a+b', { token })).status).toBe(404);
    });

    it.each(['/v1/secret/%zz', '/v1/secret/%', '/v1/secret/a%2', '/v1/secret/%ff', '/v1/secret/%c3%28', '/v1/%zz/x'])(
      'answers 400 to the bad percent-encoding in %s, even without a token',
      async (path) => {
        for (const options of [{ token }, {}]) {
          const res = await send(server, path, options);
          expect(res.status).toBe(400);
          expect(res.body.errors).toEqual([expect.any(String)]);
        }
      },
    );
  });

  describe('token transports', () => {
    const WRONG = '00000000-0000-4000-8000-000000000000';
    type Slot = 'nomad' | 'vault' | 'bearer' | 'cookie';
    const headerFor = (slot: Slot, value: string): Record<string, string> => {
      switch (slot) {
        case 'nomad':
          return { 'X-Nomad-Token': value };
        case 'vault':
          return { 'X-Vault-Token': value };
        case 'bearer':
          return { Authorization: `Bearer ${value}` };
        case 'cookie':
          return { Cookie: `theme=dark; token=${value}; lang=en` };
      }
    };
    const lookupSelf = (headers: Record<string, string>): Promise<Sent> => send(server, '/v1/auth/token/lookup-self', { headers });

    it.each<Slot>(['nomad', 'vault', 'bearer', 'cookie'])('accepts the token in the %s slot alone', async (slot) => {
      const res = await lookupSelf(headerFor(slot, token));
      expect(res.status).toBe(200);
      expect(res.body.data.policies).toContain('root');
      expect((await lookupSelf(headerFor(slot, WRONG))).status).toBe(401);
    });

    const ORDER: Slot[] = ['nomad', 'vault', 'bearer', 'cookie'];
    const pairs = ORDER.flatMap((winner, i) => ORDER.slice(i + 1).map((loser) => [winner, loser] as const));

    it.each(pairs)('%s beats %s', async (winner, loser) => {
      const good = await lookupSelf({ ...headerFor(loser, WRONG), ...headerFor(winner, token) });
      expect(good.status).toBe(200);
      const bad = await lookupSelf({ ...headerFor(loser, token), ...headerFor(winner, WRONG) });
      expect(bad.status).toBe(401);
    });

    it('uses the X-Nomad-Token header of startTestServer().request as well', async () => {
      const res = await server.request('GET', '/v1/auth/token/lookup-self', { token, headers: { 'X-Vault-Token': WRONG } });
      expect(res.status).toBe(200);
    });

    // Rows build their headers from the root token, which exists only once beforeAll ran.
    it.each<[string, number, (root: string) => Record<string, string>]>([
      ['a lowercase "bearer" scheme', 200, (root) => ({ Authorization: `bearer ${root}` })],
      ['a Basic Authorization, falling back to the cookie', 200, (root) => ({ Authorization: 'Basic dXNlcjpwYXNz', Cookie: `token=${root}` })],
      ['an empty X-Nomad-Token, falling back to X-Vault-Token', 200, (root) => ({ 'X-Nomad-Token': '', 'X-Vault-Token': root })],
      ['a percent-encoded token cookie', 200, (root) => ({ Cookie: `token=${encodeURIComponent(root).replace(/-/g, '%2D')}` })],
      ['a cookie named like the token but longer', 401, (root) => ({ Cookie: `xtoken=${root}` })],
      ['a cookie with bad percent-encoding', 401, () => ({ Cookie: 'token=%zz' })],
      ['no token at all', 401, () => ({})],
    ])('%s → %i', async (_label, status, headers) => {
      const res = await lookupSelf(headers(token));
      expect(res.status).toBe(status);
    });
  });
});

describe('a server that stops', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('closes idle keep-alive connections on close()', async () => {
    server = await startTestServer();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const res = await send(server, '/v1/sys/seal-status', { agent, method: 'GET' });
      expect(res.status).toBe(200);
      const [socket] = Object.values(agent.freeSockets).flat();
      expect(socket).toBeDefined();
      const closed = once(socket!, 'close');
      await server.close();
      server = undefined;
      await closed;
    } finally {
      agent.destroy();
    }
  });
});

describe('slow clients', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  /** Connects, writes `partial`, and resolves with everything the server sends until it closes. */
  async function stall(partial: string): Promise<{ text: string; ms: number }> {
    const { hostname, port } = new URL(server!.url);
    const socket = net.connect({ host: hostname, port: Number(port) });
    await once(socket, 'connect');
    const started = Date.now();
    socket.write(partial);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    await once(socket, 'close');
    return { text: Buffer.concat(chunks).toString('latin1'), ms: Date.now() - started };
  }

  it('answers 408 in the error envelope and closes when the headers do not arrive in time', async () => {
    server = await startTestServer({ listener: { readHeaderTimeoutMs: 200, readTimeoutMs: 5_000 } });
    const { text, ms } = await stall('GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(text).toContain('Cache-Control: no-store');
    expect(text.slice(text.indexOf('\r\n\r\n') + 4)).toBe('{"errors":["request timed out"]}');
    // The sweep runs every 50 ms here (a quarter of the limit): not the 30 s node would wait.
    expect(ms).toBeGreaterThanOrEqual(200);
    expect(ms).toBeLessThan(2_000);
  });

  it('answers 408 when a body stops arriving before the whole-request limit', async () => {
    server = await startTestServer({ listener: { readHeaderTimeoutMs: 100, readTimeoutMs: 300 } });
    const { text, ms } = await stall('POST /v1/secret/slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"value":');
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(ms).toBeGreaterThanOrEqual(300);
    expect(ms).toBeLessThan(2_000);
  });
});
