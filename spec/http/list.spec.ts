import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatedStorage, type GatedStorage } from '../helpers/gated-storage.js';
import { connectRaw, rawRequest, type RawConnection, type RawResponse } from '../helpers/raw-http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { testTls } from '../helpers/tls.js';

/**
 * LIST and pipelining over raw sockets, plain and TLS (api.md §1): every byte of a
 * connection is parsed once; every request is answered once and in order; a connection is
 * refused only after the earlier answers are out; no request runs whose answer is an error.
 * node's parser refuses LIST, so these are the specs of lib/http/list-method.ts and
 * takeover.ts, which lean on node internals: .ci/run runs this file on Node 24 as well.
 */

const certs = testTls();
const MAX_REQUEST_SIZE = 4096;

const TRANSPORTS = [
  ['plain', false],
  ['TLS', true],
] as const;

describe.each(TRANSPORTS)('over %s', (_name, useTls) => {
  let server: TestServer;
  let gated: GatedStorage;
  let token: string;
  let connections: RawConnection[] = [];

  beforeAll(async () => {
    gated = createGatedStorage();
    server = await startTestServer({
      storage: gated.storage,
      ca: certs.ca.cert,
      listener: {
        maxRequestSize: MAX_REQUEST_SIZE,
        ...(useTls ? { tlsDisable: false, tlsCertFile: certs.server.certFile, tlsKeyFile: certs.server.keyFile } : {}),
      },
    });
    token = server.rootToken;
    for (const [path, value] of [['folder/a', 'A'], ['folder/b', 'B'], ['read/me', 'read']] as const) {
      const res = await server.request('POST', `/v1/secret/${path}`, { token, body: { v: value } });
      expect(res.status).toBe(204);
    }
  });
  afterAll(async () => {
    for (const c of connections) c.close();
    await server?.close();
  });

  const open = async (): Promise<RawConnection> => {
    const connection = await connectRaw(server.url, { ca: certs.ca.cert });
    connections.push(connection);
    return connection;
  };
  const auth = (): Record<string, string> => ({ 'X-Nomad-Token': token });
  const read = async (path: string): Promise<{ status: number; body: any }> => {
    const res = await server.request('GET', `/v1/secret/${path}`, { token });
    return { status: res.status, body: res.body };
  };
  const expectEnvelope = (res: RawResponse, status: number): void => {
    expect(res.status).toBe(status);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers['content-type']).toBe('application/json');
    expect(Array.isArray(res.body?.errors) && res.body.errors.length > 0).toBe(true);
  };

  describe('a request hidden in a body', () => {
    const smuggled = (key: string): Buffer =>
      Buffer.concat([
        rawRequest('LIST', '/v1/secret/', auth()),
        rawRequest('POST', `/v1/secret/${key}`, auth(), '{"v":"smuggled"}'),
      ]);

    it('is never executed when the body arrives in its own write after the headers', async () => {
      const c = await open();
      const body = smuggled('pwned-split');
      // A GET first, in the same write as the POST's headers: its answer proves the server has
      // parsed those headers before the body is written.
      await c.write(
        Buffer.concat([
          rawRequest('GET', '/v1/secret/read/me', auth()),
          rawRequest('POST', '/v1/secret/outer', { ...auth(), 'Content-Length': String(body.length) }),
        ]),
      );
      expect((await c.next()).status).toBe(200);
      // The body, then a real LIST: the LIST is what makes node's parser fail and hand over.
      await c.write(Buffer.concat([body, rawRequest('LIST', '/v1/secret/folder', auth())]));
      const outer = await c.next();
      expectEnvelope(outer, 400);
      const list = await c.next();
      expect(list.status).toBe(200);
      expect(list.body.data.keys).toEqual(['a', 'b']);
      // Nothing else answers, and nothing else ran.
      await c.write(rawRequest('GET', '/v1/secret/read/me', auth()));
      expect((await c.next()).body.data).toEqual({ v: 'read' });
      expect((await read('pwned-split')).status).toBe(404);
      expect((await read('outer')).status).toBe(404);
    });

    it('is never executed when nothing follows the body', async () => {
      const c = await open();
      const body = smuggled('pwned-plain');
      await c.write(Buffer.concat([rawRequest('GET', '/v1/secret/read/me', auth()), rawRequest('POST', '/v1/secret/outer', { ...auth(), 'Content-Length': String(body.length) })]));
      expect((await c.next()).status).toBe(200);
      await c.write(body);
      expectEnvelope(await c.next(), 400);
      await c.write(rawRequest('LIST', '/v1/secret/folder', auth()));
      expect((await c.next()).body.data.keys).toEqual(['a', 'b']);
      expect((await read('pwned-plain')).status).toBe(404);
    });

    it('is never executed behind Expect: 100-continue', async () => {
      const c = await open();
      const body = smuggled('pwned-continue');
      await c.write(rawRequest('POST', '/v1/secret/outer', { ...auth(), Expect: '100-continue', 'Content-Length': String(body.length) }));
      await c.continued();
      await c.write(Buffer.concat([body, rawRequest('LIST', '/v1/secret/folder', auth())]));
      expectEnvelope(await c.next(), 400);
      expect((await c.next()).body.data.keys).toEqual(['a', 'b']);
      expect((await read('pwned-continue')).status).toBe(404);
    });

    it('is never executed on a connection already handed over by an earlier LIST', async () => {
      const c = await open();
      await c.write(rawRequest('LIST', '/v1/secret/folder', auth()));
      expect((await c.next()).status).toBe(200);
      const body = smuggled('pwned-after');
      await c.write(rawRequest('POST', '/v1/secret/outer', { ...auth(), Expect: '100-continue', 'Content-Length': String(body.length) }));
      await c.continued();
      await c.write(Buffer.concat([body, rawRequest('LIST', '/v1/secret/folder', auth())]));
      expectEnvelope(await c.next(), 400);
      expect((await c.next()).body.data.keys).toEqual(['a', 'b']);
      expect((await read('pwned-after')).status).toBe(404);
    });
  });

  describe('pipelining', () => {
    type Kind = 'POST' | 'GET' | 'LIST' | 'BOGUS';
    const KINDS: Kind[] = ['POST', 'GET', 'LIST', 'BOGUS'];
    const combos = KINDS.flatMap((a) => KINDS.flatMap((b) => KINDS.map((c) => [a, b, c] as Kind[])));
    let run = 0;

    const requestFor = (kind: Kind, key: string): Buffer => {
      switch (kind) {
        case 'POST':
          return rawRequest('POST', `/v1/secret/piped/${key}`, auth(), JSON.stringify({ v: key }));
        case 'GET':
          return rawRequest('GET', '/v1/secret/read/me', auth());
        case 'LIST':
          return rawRequest('LIST', '/v1/secret/folder', auth());
        case 'BOGUS':
          return rawRequest('BOGUS', '/v1/secret/read/me', auth());
      }
    };
    const expectAnswer = (kind: Kind, res: RawResponse): void => {
      if (kind === 'POST') expect(res.status).toBe(204);
      if (kind === 'GET') expect(res.body.data).toEqual({ v: 'read' });
      if (kind === 'LIST') expect(res.body.data.keys).toEqual(['a', 'b']);
      if (kind === 'BOGUS') expectEnvelope(res, 400);
    };

    it('answers every combination of three requests in one write in order, and runs none it refused', async () => {
      for (const combo of combos) {
        const c = await open();
        const keys = combo.map((_, i) => `r${run}-${i}`);
        run++;
        await c.write(Buffer.concat(combo.map((kind, i) => requestFor(kind, keys[i]!))));
        const refusedAt = combo.indexOf('BOGUS');
        const answered = refusedAt === -1 ? combo.length : refusedAt + 1;
        const responses: RawResponse[] = [];
        for (let i = 0; i < answered; i++) responses.push(await c.next());
        if (refusedAt !== -1) expect(await c.untilClosed()).toEqual([]);
        c.close();
        combo.slice(0, answered).forEach((kind, i) => expectAnswer(kind, responses[i]!));
        for (const [i, kind] of combo.entries()) {
          if (kind !== 'POST') continue;
          // Stored exactly when it was answered 204: nothing after the refusal ran.
          expect({ combo: combo.join(' '), i, status: (await read(`piped/${keys[i]}`)).status }).toEqual({ combo: combo.join(' '), i, status: i < answered ? 200 : 404 });
        }
      }
    });

    it('answers a LIST sent while an earlier write is still being stored, after that write', async () => {
      const gate = gated.gate('/held-list');
      const c = await open();
      await c.write(rawRequest('POST', '/v1/secret/held-list', auth(), '{"v":"held"}'));
      await gate.reached;
      await c.write(Buffer.concat([rawRequest('LIST', '/v1/secret/folder', auth()), rawRequest('GET', '/v1/secret/read/me', auth())]));
      gate.open();
      expect((await c.next()).status).toBe(204);
      expect((await c.next()).body.data.keys).toEqual(['a', 'b']);
      expect((await c.next()).body.data).toEqual({ v: 'read' });
      expect((await read('held-list')).body.data).toEqual({ v: 'held' });
    });

    it('refuses a bad request only after the pending write before it is answered', async () => {
      const gate = gated.gate('/held-bogus');
      const c = await open();
      await c.write(Buffer.concat([rawRequest('POST', '/v1/secret/held-bogus', auth(), '{"v":"held"}'), rawRequest('BOGUS', '/v1/secret/x', auth()), rawRequest('POST', '/v1/secret/after-bogus', auth(), '{"v":1}')]));
      await gate.reached;
      gate.open();
      const [write, refusal, ...rest] = await c.untilClosed();
      expect(write!.status).toBe(204);
      expectEnvelope(refusal!, 400);
      expect(rest).toEqual([]);
      expect((await read('held-bogus')).body.data).toEqual({ v: 'held' });
      expect((await read('after-bogus')).status).toBe(404);
    });

    it('answers LIST after LIST after LIST in one write, each taking the connection over in turn', async () => {
      const c = await open();
      await c.write(Buffer.concat([1, 2, 3, 4].map(() => rawRequest('LIST', '/v1/secret/folder', auth()))));
      for (let i = 0; i < 4; i++) expect((await c.next()).body.data.keys).toEqual(['a', 'b']);
    });
  });

  describe('a LIST cut across writes', () => {
    const list = (): Buffer => rawRequest('LIST', '/v1/secret/folder', auth());

    it.each([1, 2, 3, 4, 5, 8])('is answered when split after byte %i, first on its connection and after a GET', async (cut) => {
      for (const afterGet of [false, true]) {
        const c = await open();
        if (afterGet) {
          await c.write(rawRequest('GET', '/v1/secret/read/me', auth()));
          expect((await c.next()).status).toBe(200);
        }
        const bytes = list();
        await c.write(bytes.subarray(0, cut));
        await new Promise((resolve) => setImmediate(resolve));
        await c.write(bytes.subarray(cut));
        expect((await c.next()).body.data.keys).toEqual(['a', 'b']);
        // And the connection goes on.
        await c.write(list());
        expect((await c.next()).body.data.keys).toEqual(['a', 'b']);
      }
    });

    it('is answered when it arrives one byte a write', async () => {
      const c = await open();
      const bytes = list();
      for (let i = 0; i < bytes.length; i++) await c.write(bytes.subarray(i, i + 1));
      expect((await c.next()).body.data.keys).toEqual(['a', 'b']);
    });

    it('that is not a LIST after all (LISTEN) is refused with the envelope', async () => {
      const c = await open();
      await c.write('LISTEN /v1/secret/folder HTTP/1.1\r\nHost: x\r\n\r\n');
      const [res, ...rest] = await c.untilClosed();
      expectEnvelope(res!, 400);
      expect(rest).toEqual([]);
    });
  });

  describe('bodies that contain LIST', () => {
    const value = 'x LIST /v1/secret/ HTTP/1.1\r\nHost: y\r\n\r\nLIST LIST ';
    const json = JSON.stringify({ v: value });
    const at = json.indexOf('LIST');

    it.each([0, 1, 2, 3, 4, 5])('stores a Content-Length body split %i bytes into its first LIST, byte for byte', async (shift) => {
      for (const handedOver of [false, true]) {
        const c = await open();
        if (handedOver) {
          await c.write(rawRequest('LIST', '/v1/secret/folder', auth()));
          expect((await c.next()).status).toBe(200);
        }
        const key = `bodies/cl-${shift}-${handedOver}`;
        const whole = rawRequest('POST', `/v1/secret/${key}`, auth(), json);
        const cut = whole.length - json.length + at + shift;
        await c.write(whole.subarray(0, cut));
        await new Promise((resolve) => setImmediate(resolve));
        await c.write(Buffer.concat([whole.subarray(cut), rawRequest('LIST', '/v1/secret/folder', auth())]));
        expect((await c.next()).status).toBe(204);
        expect((await c.next()).body.data.keys).toEqual(['a', 'b']);
        expect((await read(key)).body.data).toEqual({ v: value });
      }
    });

    it('stores a chunked body whose chunks start and end inside LIST, byte for byte', async () => {
      for (const handedOver of [false, true]) {
        const c = await open();
        if (handedOver) {
          await c.write(rawRequest('LIST', '/v1/secret/folder', auth()));
          expect((await c.next()).status).toBe(200);
        }
        const key = `bodies/chunked-${handedOver}`;
        const pieces = [json.slice(0, at), json.slice(at, at + 2), json.slice(at + 2, at + 9), json.slice(at + 9)];
        await c.write(rawRequest('POST', `/v1/secret/${key}`, { ...auth(), 'Transfer-Encoding': 'chunked' }));
        for (const piece of pieces) {
          await c.write(`${Buffer.byteLength(piece).toString(16)}\r\n${piece}\r\n`);
          await new Promise((resolve) => setImmediate(resolve));
        }
        await c.write(Buffer.concat([Buffer.from('0\r\n\r\n'), rawRequest('LIST', '/v1/secret/folder', auth())]));
        expect((await c.next()).status).toBe(204);
        expect((await c.next()).body.data.keys).toEqual(['a', 'b']);
        expect((await read(key)).body.data).toEqual({ v: value });
      }
    });
  });

  describe('what follows a refusal, a half-close, an Expect', () => {
    it.each<[string, (body: string) => Buffer]>([
      ['a missing Host', () => Buffer.from('GET /v1/secret/read/me HTTP/1.1\r\n\r\n')],
      ['an HTTP/2.0 request line', () => Buffer.from('GET /v1/secret/read/me HTTP/2.0\r\nHost: x\r\n\r\n')],
      ['a declared body over max_request_size', () => rawRequest('POST', '/v1/secret/too-big', auth(), `{"v":"${'x'.repeat(MAX_REQUEST_SIZE)}"}`)],
      [
        'a chunked body that crosses max_request_size',
        () => rawRequest('POST', '/v1/secret/too-big', { ...auth(), 'Transfer-Encoding': 'chunked' }, `${(MAX_REQUEST_SIZE + 1).toString(16)}\r\n${'x'.repeat(MAX_REQUEST_SIZE + 1)}\r\n0\r\n\r\n`),
      ],
    ])('runs nothing pipelined after %s, which closes the connection', async (_what, refused) => {
      const c = await open();
      const key = `behind-${_what.replace(/\W+/g, '-')}`;
      await c.write(Buffer.concat([rawRequest('GET', '/v1/secret/read/me', auth()), refused(''), rawRequest('POST', `/v1/secret/${key}`, auth(), '{"v":1}')]));
      const [first, refusal, ...rest] = await c.untilClosed();
      expect(first!.body.data).toEqual({ v: 'read' });
      expect(refusal!.status).toBeGreaterThanOrEqual(400);
      expectEnvelope(refusal!, refusal!.status);
      expect(refusal!.headers.connection).toBe('close');
      expect(rest).toEqual([]);
      expect((await read(key)).status).toBe(404);
    });

    it('answers every request, a pending write included, after the client half-closes', async () => {
      const gate = gated.gate('/half-closed');
      const c = await open();
      await c.write(Buffer.concat([rawRequest('GET', '/v1/secret/read/me', auth()), rawRequest('POST', '/v1/secret/half-closed', auth(), '{"v":"half"}'), rawRequest('GET', '/v1/secret/read/me', auth())]));
      await gate.reached;
      c.end();
      // The FIN must reach the server while the write is still held; nothing the client can
      // observe says when it has, so give it a moment.
      await new Promise((resolve) => setTimeout(resolve, 50));
      gate.open();
      const answers = await c.untilClosed();
      expect(answers.map((a) => a.status)).toEqual([200, 204, 200]);
      expect((await read('half-closed')).body.data).toEqual({ v: 'half' });
    });

    it.each<[string, string]>([
      ['a body cut short', 'POST /v1/secret/cut-short HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\nX-Nomad-Token: TOKEN\r\n\r\n{"v":'],
      ['chunked trailers cut short', 'POST /v1/secret/cut-short HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nX-Nomad-Token: TOKEN\r\n\r\n7\r\n{"v":1}\r\n0\r\n2\n'],
    ])('refuses a request the client\'s FIN cuts short (%s), after the answer before it', async (_what, request) => {
      const c = await open();
      await c.write(Buffer.concat([rawRequest('GET', '/v1/secret/read/me', auth()), Buffer.from(request.replace('TOKEN', token))]));
      c.end();
      const [first, refusal, ...rest] = await c.untilClosed();
      expect(first!.body.data).toEqual({ v: 'read' });
      expectEnvelope(refusal!, 400);
      expect(rest).toEqual([]);
      expect((await read('cut-short')).status).toBe(404);
    });

    it('answers a LIST behind pending answers, and what follows it, when the client half-closes at once', async () => {
      for (const first of ['GET', 'PUT']) {
        const c = await open();
        await c.write(
          Buffer.concat([
            rawRequest('DELETE', '/v1/secret/nothing', auth()),
            first === 'GET' ? rawRequest('GET', '/v1/secret/read/me', auth()) : rawRequest('PUT', '/v1/secret/half-list', auth(), '{"v":1}'),
            rawRequest('LIST', '/v1/secret/folder', auth()),
            rawRequest('DELETE', '/v1/secret/nothing', auth()),
          ]),
        );
        c.end();
        const answers = await c.untilClosed();
        expect(answers.map((a) => a.status)).toEqual([204, first === 'GET' ? 200 : 204, 200, 204]);
        expect(answers[2]!.body.data.keys).toEqual(['a', 'b']);
      }
    });

    it('sends 100 Continue for a request waiting behind another only when its turn comes', async () => {
      const c = await open();
      // Answered first (404), then the request with Expect: node used to put its interim answer
      // inside the second response's body.
      await c.write(Buffer.concat([rawRequest('GET', '/v1/secret/nothing-here', auth()), rawRequest('GET', '/v1/secret/read/me', { ...auth(), Expect: '100-continue' })]));
      const missing = await c.next();
      expectEnvelope(missing, 404);
      const found = await c.next();
      expect(found.body.data).toEqual({ v: 'read' });
      expect(c.interim).toEqual([]);
      expect(c.leftover()).toBe('');
      // It had no body to wait for, so its answer does not close the connection.
      expect(found.headers.connection).toBe('keep-alive');
      await c.write(rawRequest('GET', '/v1/secret/read/me', auth()));
      expect((await c.next()).body.data).toEqual({ v: 'read' });
    });

    it('runs nothing behind a waiting Expect: 100-continue answered before its body came', async () => {
      const gate = gated.gate('/held-expect');
      const c = await open();
      // The second request is answered from its headers alone (404: not under /v1/), before its
      // body is read; node then closes the connection after it, so the write parsed behind it
      // must not run.
      await c.write(
        Buffer.concat([
          rawRequest('POST', '/v1/secret/held-expect', auth(), '{"v":1}'),
          rawRequest('POST', '/v2/elsewhere', { ...auth(), Expect: '100-continue' }, '{"v":1}'),
          rawRequest('POST', '/v1/secret/behind-expect', auth(), '{"v":1}'),
        ]),
      );
      await gate.reached;
      gate.open();
      const [write, refused, ...rest] = await c.untilClosed();
      expect(write!.status).toBe(204);
      expectEnvelope(refused!, 404);
      expect(refused!.headers.connection).toBe('close');
      expect(rest).toEqual([]);
      expect((await read('behind-expect')).status).toBe(404);
    });

    it('lets a body behind Expect: 100-continue wait for a pending write, then stores both', async () => {
      const gate = gated.gate('/before-continue');
      const c = await open();
      await c.write(Buffer.concat([rawRequest('POST', '/v1/secret/before-continue', auth(), '{"v":"first"}'), rawRequest('POST', '/v1/secret/after-continue', { ...auth(), Expect: '100-continue', 'Content-Length': '14' })]));
      await gate.reached;
      expect(c.interim).toEqual([]);
      gate.open();
      expect((await c.next()).status).toBe(204);
      await c.continued();
      await c.write('{"v":"second"}');
      expect((await c.next()).status).toBe(204);
      expect((await read('after-continue')).body.data).toEqual({ v: 'second' });
    });

    it('accepts a request target in absolute form', async () => {
      const c = await open();
      await c.write(rawRequest('GET', `${useTls ? 'https' : 'http'}://127.0.0.1/v1/secret/read/me`, auth()));
      expect((await c.next()).body.data).toEqual({ v: 'read' });
    });
  });

  describe('what node would answer by itself', () => {
    it.each<[string, string, number]>([
      ['a missing Host', 'GET /v1/sys/health HTTP/1.1\r\n\r\n', 400],
      ['an unknown Expect', 'GET /v1/sys/health HTTP/1.1\r\nHost: x\r\nExpect: tea\r\n\r\n', 417],
      ['headers too large', `GET /v1/sys/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
      ['a request line that is not HTTP', 'GET /v1/sys/health FTP/1.1\r\nHost: x\r\n\r\n', 400],
      ['HTTP/3.1', 'GET /v1/sys/health HTTP/3.1\r\nHost: x\r\n\r\n', 505],
      ['a bare LF after the version', 'GET /v1/sys/health HTTP/1.1\nHost: x\r\n\r\n', 400],
      ['HTTP/2.0 as text', 'GET /v1/sys/health HTTP/2.0\r\nHost: x\r\n\r\n', 505],
      ['a bad chunk size', 'POST /v1/secret/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400],
      ['Content-Length with Transfer-Encoding', 'POST /v1/secret/x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
      ['CONNECT', 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n', 405],
    ])('answers %s in the error envelope, after the earlier answer on the connection', async (_what, request, status) => {
      const c = await open();
      await c.write(Buffer.concat([rawRequest('GET', '/v1/secret/read/me', auth()), Buffer.from(request, 'latin1')]));
      expect((await c.next()).body.data).toEqual({ v: 'read' });
      expectEnvelope(await c.next(), status);
    });

    it('answers 417 and keeps the connection for the next request', async () => {
      const c = await open();
      await c.write(rawRequest('POST', '/v1/secret/expect', { ...auth(), Expect: 'tea' }, '{"v":1}'));
      expectEnvelope(await c.next(), 417);
      await c.write(rawRequest('GET', '/v1/secret/read/me', auth()));
      expect((await c.next()).body.data).toEqual({ v: 'read' });
      expect((await read('expect')).status).toBe(404);
    });
  });
});
