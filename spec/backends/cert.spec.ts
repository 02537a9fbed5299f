import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListenerConfig } from '../../lib/config.js';
import type { HttpResult } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { liftLoginLimit } from '../helpers/quotas.js';
import { certAuthTls, type CertFiles } from '../helpers/tls.js';

/**
 * The cert auth method over a real TLS listener (api.md §1, §4, §10): the listener requests
 * a client certificate without verifying it, and the backend verifies it at login.
 */

const certs = certAuthTls();

const tlsListener = (overrides: Partial<ListenerConfig> = {}): Partial<ListenerConfig> => ({
  tlsDisable: false,
  tlsCertFile: certs.server.certFile,
  tlsKeyFile: certs.server.keyFile,
  ...overrides,
});

/** A server with `auth/cert/` enabled, policy `p` reading `secret/cert-app/*`, and a secret there. */
async function startCertServer(listener: Partial<ListenerConfig>, clientCert?: CertFiles): Promise<TestServer> {
  // A listener that requires client certificates refuses the helper's own init without one:
  // then this initialises and unseals, presenting `clientCert`.
  const tls = clientCert ? { cert: clientCert.cert, key: clientCert.key } : undefined;
  const server = await startTestServer({ listener, ca: certs.ca.cert, uninitialized: tls !== undefined });
  if (tls) {
    const init = await server.request('PUT', '/v1/sys/init', { tls, body: { secret_shares: 1, secret_threshold: 1 } });
    expect(init.status).toBe(200);
    expect((await server.request('PUT', '/v1/sys/unseal', { tls, body: { key: init.body.keys[0] } })).body.sealed).toBe(false);
    server.rootToken = init.body.root_token;
  }
  const root = { token: server.rootToken, tls };
  const setup: [string, string, unknown][] = [
    ['POST', '/v1/sys/auth/cert', { type: 'cert' }],
    ['PUT', '/v1/sys/policy/p', { policy: 'path "secret/cert-app/*" { capabilities = ["read"] }' }],
    ['PUT', '/v1/secret/cert-app/db', { password: 'hunter2' }],
  ];
  for (const [method, path, body] of setup) expect((await server.request(method, path, { ...root, body })).status).toBe(204);
  // These specs log in far more than the default burst allows (the limit has its own spec).
  await liftLoginLimit(server.request, server.rootToken, 'auth/cert/', { tls });
  return server;
}

let server: TestServer;

/** The client certificate the helper's own requests present (for a listener that requires one). */
let adminTls: { cert: string; key: string } | undefined;

const register = (name: string, body: Record<string, unknown>): Promise<HttpResult> =>
  server.request('PUT', `/v1/auth/cert/certs/${name}`, { token: server.rootToken, body, tls: adminTls });

/** A login presenting `cert` (and its chain: more PEM certificates after it), or no certificate. */
function login(cert: CertFiles | undefined, body: Record<string, unknown> = {}, chain: CertFiles[] = [], agent: https.Agent | false = false): Promise<HttpResult> {
  const presented = cert ? { cert: [cert.cert, ...chain.map((c) => c.cert)].join(''), key: cert.key } : {};
  // A fresh connection (and, without an agent, a fresh TLS session) each time: what a
  // connection presented is read once per connection.
  return server.request('POST', '/v1/auth/cert/login', { body, tls: { ...presented, agent }, headers: { Connection: 'close' } });
}

describe('cert auth over a TLS listener that requests but does not verify client certificates', () => {
  beforeAll(async () => {
    server = await startCertServer(tlsListener());
    expect((await register('client-ca', { certificate: certs.clientCa.cert, policies: 'p', ttl: '1h' })).status).toBe(204);
    expect((await register('Lone', { certificate: certs.untrustedClient.cert, token_policies: ['p'], display_name: 'loner' })).status).toBe(204);
  });
  afterAll(() => server?.close());

  it('logs in a certificate the registered CA signed: auth block, metadata, a Secure cookie, a token that works', async () => {
    const res = await login(certs.client);
    expect(res.status).toBe(200);
    expect(res.body.data).toBeNull();
    const auth = res.body.auth;
    expect(auth).toMatchObject({ policies: ['default', 'p'], lease_duration: 3600, renewable: true });
    expect(auth.metadata).toMatchObject({ cert_name: 'client-ca', common_name: 'test client', serial_number: '2001' });
    expect(auth.metadata.subject_key_id).toMatch(/^([0-9a-f]{2}:)+[0-9a-f]{2}$/);
    expect(auth.metadata.authority_key_id).toMatch(/^([0-9a-f]{2}:)+[0-9a-f]{2}$/);
    expect(res.headers['set-cookie']).toEqual([`token=${auth.client_token}; Path=/; Max-Age=3600; HttpOnly; SameSite=Strict; Secure`]);

    const read = await server.request('GET', '/v1/secret/cert-app/db', { token: auth.client_token });
    expect(read.status).toBe(200);
    expect(read.body.data).toEqual({ password: 'hunter2' });
    expect((await server.request('GET', '/v1/secret/elsewhere', { token: auth.client_token })).status).toBe(401);
    const self = await server.request('GET', '/v1/auth/token/lookup-self', { token: auth.client_token });
    expect(self.body.data).toMatchObject({ display_name: 'cert-client-ca', path: 'auth/cert/login' });
  });

  it('refuses another CA, expired, not-yet-valid, serverAuth-only and no certificate, each with its own message and no cookie', async () => {
    const cases: [CertFiles | undefined, number, string][] = [
      [certs.otherClient, 401, 'the client certificate is not signed by a registered certificate'],
      [certs.expiredClient, 401, 'the client certificate has expired'],
      [certs.futureClient, 401, 'the client certificate is not valid yet'],
      [certs.serverAuthClient, 401, 'the client certificate is not for client authentication: its extended key usage lacks clientAuth'],
      [undefined, 400, 'no client certificate was presented at the TLS handshake'],
    ];
    for (const [cert, status, message] of cases) {
      const res = await login(cert);
      expect({ status: res.status, body: res.body }).toEqual({ status, body: { errors: [message] } });
      expect(res.headers['set-cookie']).toBeUndefined();
    }
  });

  it('renews a login token while its registration grants the same policies, and not once it is gone', async () => {
    expect((await register('renewing', { certificate: certs.untrustedClient.cert, token_policies: ['p'], ttl: '1h' })).status).toBe(204);
    const res = await login(certs.untrustedClient, { name: 'renewing' });
    expect(res.status).toBe(200);
    const token = res.body.auth.client_token as string;
    const renew = () => server.request('POST', '/v1/auth/token/renew-self', { token });
    expect((await renew()).status).toBe(200);
    expect((await server.request('DELETE', '/v1/auth/cert/certs/renewing', { token: server.rootToken })).status).toBe(204);
    const refused = await renew();
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual(['the certificate this token logged in as no longer exists']);
  });

  it('logs in a registered leaf as itself, with its display name', async () => {
    const res = await login(certs.untrustedClient);
    expect(res.status).toBe(200);
    expect(res.body.auth.metadata).toMatchObject({ cert_name: 'lone', common_name: 'untrusted client', authority_key_id: '' });
    const self = await server.request('GET', '/v1/auth/token/lookup-self', { token: res.body.auth.client_token });
    expect(self.body.data.display_name).toBe('cert-loner');
  });

  it('with `name`, tries only that registration; an unknown name is refused like an unknown CA', async () => {
    expect((await login(certs.client, { name: 'client-ca' })).body.auth.metadata.cert_name).toBe('client-ca');
    const wrong = await login(certs.client, { name: 'LONE' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.errors).toEqual(['the client certificate is not signed by a registered certificate']);
    expect((await login(certs.client, { name: 'missing' })).body.errors).toEqual(wrong.body.errors);
    expect((await login(certs.client, { name: 'a/b' })).status).toBe(400);
  });

  it('enforces allowed_common_names and allowed_dns_sans', async () => {
    expect((await register('strict', { certificate: certs.clientCa.cert, allowed_common_names: 'nobody,other*' })).status).toBe(204);
    const refused = await login(certs.client, { name: 'strict' });
    expect(refused.status).toBe(401);
    expect(refused.body.errors).toEqual(["the client certificate's common name is not allowed by the registered certificate"]);
    expect((await register('strict', { allowed_common_names: ['test *'] })).status).toBe(204);
    expect((await login(certs.client, { name: 'strict' })).status).toBe(200);
    expect((await register('unicode', { certificate: certs.clientCa.cert, allowed_common_names: ['zoë *'] })).status).toBe(204);
    expect((await login(certs.unicodeClient, { name: 'unicode' })).body.auth.metadata.common_name).toBe('zoë ✓ 証明書');
    expect((await login(certs.client, { name: 'unicode' })).status).toBe(401);

    expect((await register('dns', { certificate: certs.clientCa.cert, allowed_dns_sans: ['*.example.org'] })).status).toBe(204);
    expect((await login(certs.chainClient, { name: 'dns' }, [certs.intermediateCa])).body.errors).toEqual([
      "the client certificate's DNS names are not allowed by the registered certificate",
    ]);
    expect((await register('dns', { allowed_dns_sans: ['app.example.*'] })).status).toBe(204);
    expect((await login(certs.chainClient, { name: 'dns' }, [certs.intermediateCa])).status).toBe(200);
  });

  it('follows the intermediates the client presented, and refuses without them', async () => {
    const res = await login(certs.chainClient, { name: 'client-ca' }, [certs.intermediateCa]);
    expect(res.status).toBe(200);
    expect(res.body.auth.metadata).toMatchObject({ cert_name: 'client-ca', common_name: 'chain client' });
    expect((await login(certs.chainClient, { name: 'client-ca' })).status).toBe(401);
  });

  it('says why a resumed TLS session lost the intermediates (OpenSSL keeps only the leaf in a session)', async () => {
    const agent = new https.Agent({ keepAlive: false, maxCachedSessions: 10 });
    try {
      expect((await login(certs.chainClient, {}, [certs.intermediateCa], agent)).status).toBe(200);
      const resumed = await login(certs.chainClient, {}, [certs.intermediateCa], agent);
      expect(resumed.status).toBe(401);
      expect(resumed.body.errors[0]).toMatch(/^the client certificate is not signed by a registered certificate \(on a resumed TLS session/);
      // A certificate the registered CA signed directly needs no chain: resumption does not matter.
      expect((await login(certs.client, {}, [], agent)).status).toBe(200);
      expect((await login(certs.client, {}, [], agent)).status).toBe(200);
    } finally {
      agent.destroy();
    }
  });

  it('creates, reads, updates, lists and deletes registrations; bad input is a 400 that changes nothing', async () => {
    const read = await server.request('GET', '/v1/auth/cert/certs/client-ca', { token: server.rootToken });
    expect(read.status).toBe(200);
    expect(read.body.data).toMatchObject({ certificate: certs.clientCa.cert, token_policies: ['p'], policies: ['p'], token_ttl: 3600, display_name: '', allowed_common_names: [] });

    for (const certificate of ['garbage', certs.clientCa.key, '-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n']) {
      const bad = await register('client-ca', { certificate, policies: 'other' });
      expect(bad.status).toBe(400);
      expect(bad.body.errors[0]).toMatch(/certificate/);
    }
    expect((await register('new', { policies: 'p' })).status).toBe(400);
    expect((await register('client-ca', { token_bound_cidrs: 'not-a-cidr' })).status).toBe(400);
    const after = await server.request('GET', '/v1/auth/cert/certs/client-ca', { token: server.rootToken });
    expect(after.body.data).toEqual(read.body.data);

    expect((await register('temp', { certificate: certs.otherCa.cert })).status).toBe(204);
    expect((await server.request('LIST', '/v1/auth/cert/certs', { token: server.rootToken })).body.data.keys).toEqual(['client-ca', 'dns', 'lone', 'strict', 'temp', 'unicode']);
    expect((await login(certs.otherClient)).body.auth.metadata.cert_name).toBe('temp');
    expect((await server.request('DELETE', '/v1/auth/cert/certs/temp', { token: server.rootToken })).status).toBe(204);
    expect((await server.request('GET', '/v1/auth/cert/certs/temp', { token: server.rootToken })).status).toBe(404);
    expect((await login(certs.otherClient)).status).toBe(401);
    // Registrations are managed with a token; only login is open.
    expect((await server.request('GET', '/v1/auth/cert/certs/client-ca')).status).toBe(401);
  });
});

describe('cert auth on a listener that verifies client certificates itself', () => {
  beforeAll(async () => {
    adminTls = { cert: certs.client.cert, key: certs.client.key };
    server = await startCertServer(tlsListener({ tlsClientCaFile: certs.clientCa.certFile, tlsRequireAndVerifyClientCert: true }), certs.client);
    expect((await register('client-ca', { certificate: certs.clientCa.cert, policies: 'p' })).status).toBe(204);
  });
  afterAll(async () => {
    adminTls = undefined;
    await server?.close();
  });

  it('logs in a verified certificate, and TLS itself refuses a handshake without one', async () => {
    const res = await login(certs.client);
    expect(res.status).toBe(200);
    expect(res.body.auth.metadata.common_name).toBe('test client');
    await expect(login(undefined)).rejects.toMatchObject({ code: expect.stringMatching(/ERR_SSL|ECONNRESET|EPIPE|EPROTO/) });
  });
});

describe('cert auth on a plain HTTP listener', () => {
  beforeAll(async () => {
    server = await startTestServer();
    expect((await server.request('POST', '/v1/sys/auth/cert', { token: server.rootToken, body: { type: 'cert' } })).status).toBe(204);
    expect((await register('client-ca', { certificate: certs.clientCa.cert })).status).toBe(204);
  });
  afterAll(() => server?.close());

  it('refuses a login: there is no TLS connection', async () => {
    const res = await server.request('POST', '/v1/auth/cert/login', { body: {} });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual(['cert login needs a TLS connection']);
  });

  it('lists 404 when no certificate is registered', async () => {
    expect((await server.request('DELETE', '/v1/auth/cert/certs/client-ca', { token: server.rootToken })).status).toBe(204);
    expect((await server.request('LIST', '/v1/auth/cert/certs', { token: server.rootToken })).status).toBe(404);
  });
});
