import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, createClient, type Client } from '../../lib/index.js';
import { liftLoginLimit } from '../helpers/quotas.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { testTls } from '../helpers/tls.js';

/** The client's TLS options against a real HTTPS listener with a test CA (spec/helpers/tls.ts). */

const certs = testTls();
let server: TestServer;
const clients: Client[] = [];

function clientWith(options: Parameters<typeof createClient>[0]): Client {
  const c = createClient({ address: server.url, token: server.rootToken, retries: 0, ...options });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  server = await startTestServer({
    listener: { tlsDisable: false, tlsCertFile: certs.server.certFile, tlsKeyFile: certs.server.keyFile },
    ca: certs.ca.cert,
  });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await server.close();
});

describe('TLS', () => {
  it('refuses a server certificate it does not trust, with kind tls and node\'s code', async () => {
    expect(server.url).toMatch(/^https:/);
    const err = (await clientWith({}).sys.status().catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.kind).toBe('tls');
    expect(err.status).toBe(0);
    expect(err.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('trusts the server with caCert, and with skipVerify', async () => {
    expect((await clientWith({ caCert: certs.ca.cert }).sys.status()).sealed).toBe(false);
    expect((await clientWith({ skipVerify: true }).sys.status()).sealed).toBe(false);
  });

  it('checks the name with serverName: localhost is in the certificate, another name is refused', async () => {
    const url = server.url.replace('127.0.0.1', 'localhost');
    expect((await clientWith({ address: url, caCert: certs.ca.cert, serverName: 'localhost' }).sys.status()).sealed).toBe(false);
    const err = (await clientWith({ caCert: certs.ca.cert, serverName: 'elsewhere.example' }).sys.status().catch((e: unknown) => e)) as ApiError;
    expect(err.kind).toBe('tls');
    expect(err.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('presents a client certificate that the cert auth method logs in', async () => {
    const admin = clientWith({ caCert: certs.ca.cert });
    await admin.sys.auth.enable('cert', { type: 'cert' });
    await admin.sys.policies.write('cert-reader', 'path "secret/tls/*" { capabilities = ["read"] }');
    await admin.kv.write('secret/tls/a', { v: 'over mTLS' });
    await admin.request('PUT', 'auth/cert/certs/client-ca', { certificate: certs.clientCa.cert, policies: 'cert-reader', ttl: '1h' });
    await liftLoginLimit(server.request, server.rootToken, 'auth/cert/');

    const withCert = clientWith({ caCert: certs.ca.cert, clientCert: certs.client.cert, clientKey: certs.client.key, token: undefined });
    expect(withCert.token).toBeUndefined();
    const auth = await withCert.logins.cert();
    expect(auth.policies).toEqual(['cert-reader', 'default'].sort());
    expect(auth.metadata).toMatchObject({ cert_name: 'client-ca', common_name: 'test client' });
    expect(withCert.token).toBe(auth.client_token);
    expect(await withCert.kv.read('secret/tls/a')).toEqual({ v: 'over mTLS' });

    // Without a client certificate the same login is refused, and the token stays unset.
    const without = clientWith({ caCert: certs.ca.cert, token: undefined });
    const err = (await without.logins.cert().catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBeGreaterThanOrEqual(400);
    expect(err.status).toBeLessThan(500);
    expect(without.token).toBeUndefined();
  });
});
