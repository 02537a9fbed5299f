import https from 'node:https';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListenerConfig } from '../../lib/config.js';
import { httpRequest, type HttpResult } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { testTls } from '../helpers/tls.js';

/**
 * The TLS listener over real sockets with real certificates (api.md §1): server
 * verification by clients, the minimum protocol version, client certificates requested
 * but not verified (unless the listener is told to verify them), and LIST over TLS.
 */

const certs = testTls();

type Sent = HttpResult;

type SendOptions = Omit<https.RequestOptions, 'headers'> & { headers?: Record<string, string>; body?: unknown };

/** An HTTPS request with every TLS option of node:https (client certificates included). */
function send(url: string, options: SendOptions = {}): Promise<Sent> {
  const { body, headers, method, ...tlsOptions } = options;
  return httpRequest(url, { method, headers, body, tls: tlsOptions });
}

/** The error a failed request or handshake ends with, or a failure if it succeeded. */
async function failure(promise: Promise<unknown>): Promise<NodeJS.ErrnoException> {
  try {
    await promise;
  } catch (err) {
    return err as NodeJS.ErrnoException;
  }
  throw new Error('expected the connection to fail, but it succeeded');
}

/** A bare TLS handshake; resolves with the negotiated protocol and closes the socket. */
function handshake(url: string, options: tls.ConnectionOptions): Promise<string | null> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: hostname, port: Number(port), ca: certs.ca.cert, ...options }, () => {
      const protocol = socket.getProtocol();
      socket.end();
      resolve(protocol);
    });
    socket.on('error', reject);
  });
}

const tlsListener = (overrides: Partial<ListenerConfig> = {}): Partial<ListenerConfig> => ({
  tlsDisable: false,
  tlsCertFile: certs.server.certFile,
  tlsKeyFile: certs.server.keyFile,
  ...overrides,
});

/**
 * startTestServer initialises over a client that does not trust our CA, so TLS servers
 * start uninitialized and are initialised and unsealed here, trusting the test CA.
 */
async function startTlsServer(overrides: Partial<ListenerConfig> = {}): Promise<TestServer & { token: string }> {
  const server = await startTestServer({ uninitialized: true, listener: tlsListener(overrides) });
  return Object.assign(server, { token: '' });
}

async function initialise(server: TestServer & { token: string }): Promise<void> {
  const init = await server.request('PUT', '/v1/sys/init', { ca: certs.ca.cert, body: { secret_shares: 1, secret_threshold: 1 } });
  expect(init.status).toBe(200);
  const unseal = await server.request('PUT', '/v1/sys/unseal', { ca: certs.ca.cert, body: { key: init.body.keys[0] } });
  expect(unseal.body.sealed).toBe(false);
  server.token = init.body.root_token;
}

// Codes OpenSSL gives a client when the server refuses its protocol version.
const PROTOCOL_REFUSED = ['ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION', 'ERR_SSL_UNSUPPORTED_PROTOCOL'];

describe('TLS listener with the defaults (TLS 1.2+, client certificates requested, not verified)', () => {
  let server: TestServer & { token: string };

  beforeAll(async () => {
    server = await startTlsServer();
    await initialise(server);
  });
  afterAll(() => server?.close());

  it('serves a client that trusts the test CA, with Cache-Control: no-store', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await httpRequest(`${server.url}/v1/sys/seal-status`, { ca: certs.ca.cert });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ sealed: false, initialized: true });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers errors over TLS with no-store too', async () => {
    const res = await httpRequest(`${server.url}/v1/secret/nothing-here`, { ca: certs.ca.cert, headers: { 'X-Nomad-Token': server.token } });
    expect(res.status).toBe(404);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.errors.length).toBeGreaterThan(0);
  });

  it('is refused by a client that does not trust the CA', async () => {
    const err = await failure(httpRequest(`${server.url}/v1/sys/seal-status`));
    expect(err.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('is refused when the name the client expects is not in the certificate', async () => {
    const err = await failure(send(`${server.url}/v1/sys/seal-status`, { ca: certs.ca.cert, servername: 'nomad.example.com' }));
    expect(err.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('matches the certificate by DNS name (localhost) as well as by IP', async () => {
    const res = await send(`${server.url}/v1/sys/seal-status`, { ca: certs.ca.cert, servername: 'localhost' });
    expect(res.status).toBe(200);
  });

  it('serves a client that skips verification', async () => {
    const res = await httpRequest(`${server.url}/v1/sys/seal-status`, { rejectUnauthorized: false });
    expect(res.status).toBe(200);
  });

  it('refuses a TLS 1.1 client during the handshake', async () => {
    // SECLEVEL=0 lets OpenSSL 3 offer TLS 1.1 at all, so the refusal is the server's.
    const err = await failure(handshake(server.url, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }));
    expect(PROTOCOL_REFUSED).toContain(err.code);
  });

  it.each([
    ['TLSv1.2' as const, 'TLSv1.2'],
    ['TLSv1.3' as const, 'TLSv1.3'],
  ])('accepts a client limited to %s', async (maxVersion, negotiated) => {
    expect(await handshake(server.url, { maxVersion })).toBe(negotiated);
  });

  it.each([
    ['presenting no certificate', {}],
    ['presenting an untrusted self-signed certificate', { cert: certs.untrustedClient.cert, key: certs.untrustedClient.key }],
    ['presenting a certificate signed by the client CA', { cert: certs.client.cert, key: certs.client.key }],
  ])('requests but does not verify client certificates: a client %s gets 200', async (_label, clientCert) => {
    const res = await send(`${server.url}/v1/sys/seal-status`, { ca: certs.ca.cert, ...clientCert });
    expect(res.status).toBe(200);
    expect(res.body.sealed).toBe(false);
  });

  it('passes an authenticated request through with an untrusted client certificate', async () => {
    const res = await send(`${server.url}/v1/auth/token/lookup-self`, {
      ca: certs.ca.cert,
      cert: certs.untrustedClient.cert,
      key: certs.untrustedClient.key,
      headers: { 'X-Nomad-Token': server.token },
    });
    expect(res.status).toBe(200);
    expect(res.body.data.policies).toContain('root');
  });

  it('answers LIST and GET mixed on one keep-alive TLS connection', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: certs.ca.cert });
    try {
      const headers = { 'X-Nomad-Token': server.token };
      const url = (path: string): string => `${server.url}/v1/${path}`;
      const results: Sent[] = [];
      const step = async (sent: Promise<Sent>): Promise<Sent> => {
        const res = await sent;
        results.push(res);
        return res;
      };
      expect((await step(send(url('secret/tls/one'), { agent, method: 'PUT', headers, body: { value: 1 } }))).status).toBe(204);
      expect((await step(send(url('secret/tls/two'), { agent, method: 'PUT', headers, body: { value: 2 } }))).status).toBe(204);
      const list1 = await step(send(url('secret/tls'), { agent, method: 'LIST', headers }));
      expect(list1.status).toBe(200);
      expect(list1.body.data.keys).toEqual(['one', 'two']);
      const read = await step(send(url('secret/tls/one'), { agent, method: 'GET', headers }));
      expect(read.status).toBe(200);
      expect(read.body.data).toEqual({ value: 1 });
      const list2 = await step(send(url('secret/tls/'), { agent, method: 'LIST', headers }));
      expect(list2.body.data.keys).toEqual(['one', 'two']);
      const read2 = await step(send(url('secret/tls/two'), { agent, method: 'GET', headers }));
      expect(read2.body.data).toEqual({ value: 2 });
      const missing = await step(send(url('secret/tls/none'), { agent, method: 'LIST', headers }));
      expect(missing.status).toBe(404);
      const list3 = await step(send(url('secret/tls?list=true'), { agent, method: 'GET', headers }));
      expect(list3.body.data.keys).toEqual(['one', 'two']);

      expect(results.map((r) => r.reused)).toEqual([false, ...Array(results.length - 1).fill(true)]);
      expect(new Set(results.map((r) => r.localPort)).size).toBe(1);
      for (const res of results) expect(res.headers['cache-control']).toBe('no-store');
    } finally {
      agent.destroy();
    }
  });
});

describe('TLS renegotiation', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTlsServer();
  });
  afterAll(() => server?.close());

  it('is refused: what a connection presented at its handshake is what it keeps', async () => {
    const { hostname, port } = new URL(server.url);
    const socket = tls.connect({ host: hostname, port: Number(port), ca: certs.ca.cert, maxVersion: 'TLSv1.2' });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () => resolve());
      socket.once('error', reject);
    });
    expect(socket.getProtocol()).toBe('TLSv1.2');
    // The server answers a renegotiation request by ending the connection.
    const outcome = new Promise<string>((resolve) => {
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      socket.once('close', () => resolve('closed'));
      socket.renegotiate({ rejectUnauthorized: true }, (err) => resolve(err ? (err as NodeJS.ErrnoException).code ?? err.message : 'renegotiated'));
    });
    expect(await outcome).not.toBe('renegotiated');
    await new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
    expect(socket.destroyed).toBe(true);
  });
});

describe('TLS listener with tls_min_version = "tls13"', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTlsServer({ tlsMinVersion: 'tls13' });
  });
  afterAll(() => server?.close());

  it('refuses a client limited to TLS 1.2', async () => {
    const err = await failure(handshake(server.url, { maxVersion: 'TLSv1.2' }));
    expect(PROTOCOL_REFUSED).toContain(err.code);
  });

  it('accepts TLS 1.3 and serves requests', async () => {
    expect(await handshake(server.url, {})).toBe('TLSv1.3');
    const res = await httpRequest(`${server.url}/v1/sys/seal-status`, { ca: certs.ca.cert });
    expect(res.status).toBe(200);
    expect(res.body.initialized).toBe(false);
  });
});

describe('TLS listener with tls_require_and_verify_client_cert', () => {
  let server: TestServer;
  const url = (): string => `${server.url}/v1/sys/seal-status`;

  beforeAll(async () => {
    server = await startTlsServer({ tlsRequireAndVerifyClientCert: true, tlsClientCaFile: certs.clientCa.certFile });
  });
  afterAll(() => server?.close());

  // No certificate: OpenSSL itself refuses, with an alert. A certificate that fails
  // verification: node checks it after the handshake and drops the connection, so the client
  // sees it hang up. Either way the client may already have sent its request, and a close
  // with unread bytes can turn into a reset that overtakes the alert.
  const HUNG_UP = ['ECONNRESET', 'EPIPE'];

  it.each([
    ['no certificate (TLS 1.3)', {}, ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', ...HUNG_UP]],
    ['no certificate (TLS 1.2)', { maxVersion: 'TLSv1.2' as const }, ['EPROTO', ...HUNG_UP]],
    ['an untrusted self-signed certificate', { cert: certs.untrustedClient.cert, key: certs.untrustedClient.key }, HUNG_UP],
    ['the server certificate (its CA is not the client CA)', { cert: certs.server.cert, key: certs.server.key }, HUNG_UP],
  ])('refuses a client presenting %s', async (_label, clientOptions, codes) => {
    const err = await failure(send(url(), { ca: certs.ca.cert, ...clientOptions }));
    expect(codes).toContain(err.code);
  });

  it('serves a client presenting a certificate signed by the client CA', async () => {
    const res = await send(url(), { ca: certs.ca.cert, cert: certs.client.cert, key: certs.client.key });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
  });
});
