import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodeVault from 'node-vault';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { testTls } from '../helpers/tls.js';

/**
 * node-vault 0.12, unmodified, logging in through each auth method with its own calls
 * (userpassLogin, approleLogin, certLogin) and reading a secret with the token it got: the
 * client keeps the login's token itself (its `tokenSource` commands), so nothing here hands
 * it over.
 */

const POLICY = 'path "secret/app/*" { capabilities = ["read", "list"] }';

describe('node-vault logins', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    const admin = nodeVault({ endpoint: server.url, token: server.rootToken });
    await admin.write('secret/app/db', { password: 'p@ss' });
    await admin.addPolicy({ name: 'app', rules: POLICY });
    await admin.enableAuth({ mount_point: 'userpass', type: 'userpass', description: 'people' });
    await admin.enableAuth({ mount_point: 'approle', type: 'approle' });
    expect(Object.keys(await admin.auths())).toEqual(expect.arrayContaining(['userpass/', 'approle/', 'token/']));
  });
  afterAll(() => server.close());

  it('logs in with userpass and reads a secret with the token it got', async () => {
    const admin = nodeVault({ endpoint: server.url, token: server.rootToken });
    await admin.write('auth/userpass/users/alice', { password: 'correct horse', token_policies: 'app', token_ttl: '1h' });
    const vault = nodeVault({ endpoint: server.url });
    const login = await vault.userpassLogin({ username: 'alice', password: 'correct horse' });
    expect(login.auth.policies).toEqual(['app', 'default']);
    expect(login.auth.metadata).toEqual({ username: 'alice' });
    expect(vault.token).toBe(login.auth.client_token);
    expect((await vault.read('secret/app/db')).data).toEqual({ password: 'p@ss' });
    await expect(vault.read('sys/policy/app')).rejects.toMatchObject({ response: { statusCode: 401 } });
    await expect(nodeVault({ endpoint: server.url }).userpassLogin({ username: 'alice', password: 'wrong' })).rejects.toMatchObject({
      response: { statusCode: 400, body: { errors: ['invalid username or password'] } },
    });
  });

  it('logs in with approle and reads a secret with the token it got', async () => {
    const admin = nodeVault({ endpoint: server.url, token: server.rootToken });
    await admin.addApproleRole({ role_name: 'web', policies: 'app', secret_id_num_uses: 1 });
    const roleId = (await admin.getApproleRoleId({ role_name: 'web' })).data.role_id as string;
    const secretId = (await admin.getApproleRoleSecret({ role_name: 'web' })).data.secret_id as string;
    const vault = nodeVault({ endpoint: server.url });
    const login = await vault.approleLogin({ role_id: roleId, secret_id: secretId });
    expect(login.auth.metadata).toEqual({ role_name: 'web' });
    expect(login.auth.policies).toEqual(['app', 'default']);
    expect(vault.token).toBe(login.auth.client_token);
    expect((await vault.read('secret/app/db')).data).toEqual({ password: 'p@ss' });
    // The secret id had one use.
    await expect(nodeVault({ endpoint: server.url }).approleLogin({ role_id: roleId, secret_id: secretId })).rejects.toMatchObject({
      response: { statusCode: 400 },
    });
  });
});

describe('node-vault cert login over TLS', () => {
  const certs = testTls();
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      listener: { tlsDisable: false, tlsCertFile: certs.server.certFile, tlsKeyFile: certs.server.keyFile },
      ca: certs.ca.cert,
    });
    const admin = nodeVault({ endpoint: server.url, token: server.rootToken, requestOptions: { ca: certs.ca.cert } });
    await admin.write('secret/app/db', { password: 'p@ss' });
    await admin.addPolicy({ name: 'app', rules: POLICY });
    await admin.enableAuth({ mount_point: 'cert', type: 'cert' });
    await admin.write('auth/cert/certs/clients', { certificate: certs.clientCa.cert, token_policies: 'app' });
  });
  afterAll(() => server.close());

  it('logs in with the client certificate and reads a secret with the token it got', async () => {
    const vault = nodeVault({ endpoint: server.url, requestOptions: { ca: certs.ca.cert, cert: certs.client.cert, key: certs.client.key } });
    const login = await vault.certLogin({});
    expect(login.auth.metadata).toMatchObject({ cert_name: 'clients', common_name: 'test client' });
    expect((await vault.read('secret/app/db')).data).toEqual({ password: 'p@ss' });
    // Another client, without a certificate the registration trusts.
    const stranger = nodeVault({ endpoint: server.url, requestOptions: { ca: certs.ca.cert, cert: certs.untrustedClient.cert, key: certs.untrustedClient.key } });
    await expect(stranger.certLogin({})).rejects.toMatchObject({ response: { statusCode: 401 } });
  });
});
