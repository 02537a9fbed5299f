import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeJsonHead } from '../../lib/http/direct-head.js';
import { sendJson } from '../../lib/http/respond.js';
import { connectRaw, type RawResponse } from '../helpers/raw-http.js';
import { startTestServer } from '../helpers/server.js';

/**
 * lib/http/direct-head.ts writes a JSON answer's header block itself, on node internals:
 * these specs hold it to what node's own `writeHead` sends for the same answer, on whichever
 * node runs them (CI runs spec/http on 20, 22 and 24), in every case where node decides
 * something (keep-alive, HTTP/1.0, HEAD, 204, 100-continue, headers set beforehand, the
 * listener's keep-alive settings), and checks that the plain case really takes it.
 */

const ID = '0123abcd-0000-4000-8000-00000000beef';
const DATE = /^Date: [A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** Whether storeJsonHead took each answer made by the `ours` handler, in order. */
const taken: boolean[] = [];

function answerOf(url: URL): { status: number; body: string } {
  const status = Number(url.searchParams.get('status') ?? '200');
  return { status, body: url.searchParams.get('body') ?? '{"data":{"value":"bar"}}' };
}

function handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const { status, body } = answerOf(url);
  if (url.searchParams.has('preset')) res.setHeader('X-Ratelimit-Limit', '5');
  const bytes = Buffer.byteLength(body);
  if (url.pathname === '/ours') {
    const used = storeJsonHead(res, status, ID, bytes);
    taken.push(used);
    if (used) {
      res.end(body);
      return;
    }
  }
  res.writeHead(status, ['Cache-Control', 'no-store', 'X-Request-Id', ID, 'Content-Type', 'application/json', 'Content-Length', String(bytes)]);
  res.end(body);
}

let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Each request on a connection of its own; the answers as sent, Date values masked after checking their form. */
async function exchange(requests: string[]): Promise<RawResponse[]> {
  const conn = await connectRaw(base);
  try {
    const answers: RawResponse[] = [];
    for (const request of requests) {
      await conn.write(request);
      answers.push(await conn.next());
    }
    return answers;
  } finally {
    conn.close();
  }
}

function shape(r: RawResponse): { statusLine: string; headerLines: string[]; text: string } {
  for (const line of r.headerLines.filter((l) => l.startsWith('Date:'))) expect(line).toMatch(DATE);
  return { statusLine: r.statusLine, headerLines: r.headerLines.map((l) => (l.startsWith('Date:') ? 'Date: …' : l)), text: r.text };
}

/** The same request to node's writeHead and to storeJsonHead: the answers must be the same bytes. */
async function compare(request: (path: string) => string, query = ''): Promise<{ ours: RawResponse; used: boolean }> {
  const [theirs] = await exchange([request(`/node${query}`)]);
  taken.length = 0;
  const [ours] = await exchange([request(`/ours${query}`)]);
  expect(shape(ours!)).toEqual(shape(theirs!));
  expect(taken).toHaveLength(1);
  return { ours: ours!, used: taken[0]! };
}

const get = (extra = '') => (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;

describe('storeJsonHead: the same header block as node writeHead', () => {
  it('a plain keep-alive answer is made by it, byte for byte as node makes it', async () => {
    const { ours, used } = await compare(get());
    expect(used).toBe(true);
    expect(ours.headerLines.slice(0, 4)).toEqual(['Cache-Control: no-store', `X-Request-Id: ${ID}`, 'Content-Type: application/json', 'Content-Length: 24']);
    expect(ours.headers.connection).toBe('keep-alive');
    expect(ours.headers['keep-alive']).toBe('timeout=5');
  });

  it('error statuses too (404, 429, 500), with their reason phrases', async () => {
    for (const status of [404, 429, 500, 503]) {
      const { ours, used } = await compare(get(), `?status=${status}`);
      expect(used).toBe(true);
      expect(ours.statusLine).toBe(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}`);
    }
  });

  it('steps aside where node decides otherwise: Connection: close, HTTP/1.0, HEAD, 204, headers set before', async () => {
    expect((await compare(get('Connection: close\r\n'))).used).toBe(false);
    expect((await compare((p) => `GET ${p} HTTP/1.0\r\nHost: x\r\n\r\n`)).used).toBe(false);
    // HTTP/1.0 asking for keep-alive: either way, the same bytes.
    await compare((p) => `GET ${p} HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n`);
    // HEAD: no body follows, which the raw reader cannot know; fetch reads it.
    taken.length = 0;
    const [headOurs, headNode] = [await fetch(`${base}/ours`, { method: 'HEAD' }), await fetch(`${base}/node`, { method: 'HEAD' })];
    expect(taken).toEqual([false]);
    expect([...headOurs.headers].filter(([k]) => k !== 'date')).toEqual([...headNode.headers].filter(([k]) => k !== 'date'));
    expect((await compare(get(), '?status=204&body=')).used).toBe(false);
    const preset = await compare(get(), '?preset=1');
    expect(preset.used).toBe(false);
    expect(preset.ours.headers['x-ratelimit-limit']).toBe('5');
  });

  it('steps aside for a request that asked for 100-continue', async () => {
    // node answers the 100 itself (no checkContinue listener here), then runs the handler.
    const request = (p: string): string => `GET ${p} HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n`;
    expect((await compare(request)).used).toBe(false);
  });

  it("follows the listener's keep-alive settings: no timeout, a request limit, the last allowed request", async () => {
    const saved = { keepAliveTimeout: server.keepAliveTimeout, maxRequestsPerSocket: server.maxRequestsPerSocket };
    try {
      server.keepAliveTimeout = 0;
      const none = await compare(get());
      expect(none.used).toBe(true);
      expect(none.ours.headers['keep-alive']).toBeUndefined();
      server.keepAliveTimeout = 7_000;
      server.maxRequestsPerSocket = 2;
      const limited = await compare(get());
      expect(limited.ours.headers['keep-alive']).toBe('timeout=7, max=2');
      // The second of two allowed requests on one connection: node says close, and so the same bytes.
      const theirs = await exchange([get()('/node'), get()('/node')]);
      taken.length = 0;
      const ours = await exchange([get()('/ours'), get()('/ours')]);
      expect(ours.map(shape)).toEqual(theirs.map(shape));
      expect(taken).toEqual([true, false]);
      expect(ours[1]!.headers.connection).toBe('close');
    } finally {
      server.keepAliveTimeout = saved.keepAliveTimeout;
      server.maxRequestsPerSocket = saved.maxRequestsPerSocket;
    }
  });

  it('pipelined requests are answered in order, each with its own block', async () => {
    const conn = await connectRaw(base);
    try {
      taken.length = 0;
      await conn.write(get()('/ours?status=200') + get()('/ours?status=404') + get()('/ours?status=200'));
      const answers = [await conn.next(), await conn.next(), await conn.next()];
      expect(answers.map((a) => a.status)).toEqual([200, 404, 200]);
      expect(taken).toEqual([true, true, true]);
      for (const a of answers) expect(JSON.parse(a.text)).toEqual({ data: { value: 'bar' } });
    } finally {
      conn.close();
    }
  });
});

describe('sendJson: the body encoding', () => {
  let json: http.Server;
  let url: string;
  beforeAll(async () => {
    json = http.createServer((req, res) => {
      const value = new URL(req.url ?? '/', 'http://x').searchParams.get('v') ?? '';
      sendJson(res, 200, ID, JSON.stringify({ value }));
    });
    await new Promise<void>((resolve) => json.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(json.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    json.closeAllConnections();
    await new Promise((resolve) => json.close(resolve));
  });

  it('ASCII and non-ASCII bodies arrive whole, with their UTF-8 length as Content-Length', async () => {
    for (const value of ['plain', 'bär – ünïcode ✓ 𝄞', '\u00ff\u00e9 latin-1 range', '']) {
      const res = await fetch(`${url}/?v=${encodeURIComponent(value)}`);
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(Number(res.headers.get('content-length'))).toBe(bytes.length);
      expect(JSON.parse(bytes.toString('utf8'))).toEqual({ value });
      expect(res.headers.get('x-request-id')).toBe(ID);
    }
  });
});

describe('a hot kv read: Content-Length from the length kv knows', () => {
  it('ASCII and non-ASCII secrets read hot, pipelined on one connection: every answer framed exactly', async () => {
    const server = await startTestServer();
    try {
      const values = ['plain', 'bär – ünïcode ✓ 𝄞', '\u00ff\u00e9', 'x'.repeat(5000)];
      for (const [i, value] of values.entries()) {
        expect((await server.request('POST', `/v1/secret/enc${i}`, { token: server.rootToken, body: { value } })).status).toBe(204);
        // Read once on its own: from here on it is in memory, and every read below is the fast path's.
        expect((await server.request('GET', `/v1/secret/enc${i}`, { token: server.rootToken })).body.data).toEqual({ value });
      }
      const conn = await connectRaw(server.url);
      try {
        const reads = values.flatMap((_, i) => [i, i]);
        await conn.write(reads.map((i) => `GET /v1/secret/enc${i} HTTP/1.1\r\nHost: x\r\nX-Nomad-Token: ${server.rootToken}\r\n\r\n`).join(''));
        for (const i of reads) {
          const answer = await conn.next();
          expect(answer.status).toBe(200);
          expect(Number(answer.headers['content-length'])).toBe(Buffer.byteLength(answer.text));
          expect(answer.body.data).toEqual({ value: values[i] });
        }
        expect(conn.leftover()).toBe('');
      } finally {
        conn.close();
      }
    } finally {
      await server.close();
    }
  });
});
