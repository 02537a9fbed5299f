import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isApiError } from '../../lib/errors.js';
import { createStorage } from '../../lib/storage/registry.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { etcdMemberTls, testTls } from '../helpers/tls.js';

/** The etcd storage over TLS to a real member that verifies client certificates. */

let etcd: EtcdCluster;
const tls = testTls();
const memberTls = etcdMemberTls();

beforeAll(async () => {
  etcd = await startEtcd(1, {
    certFile: memberTls.member.certFile,
    keyFile: memberTls.member.keyFile,
    clientCaFile: memberTls.trustedCaFile,
    caFile: tls.ca.certFile,
    clientCertFile: tls.client.certFile,
    clientKeyFile: tls.client.keyFile,
  });
});
afterAll(async () => {
  await etcd?.stop();
});

describe('etcd storage over TLS', () => {
  it('stores and reads with the CA and a client certificate', async () => {
    expect(etcd.address.startsWith('https://')).toBe(true);
    const s = await createStorage('etcd', {
      address: etcd.address,
      path: '/tls-spec/',
      tls_ca_file: tls.ca.certFile,
      tls_cert_file: tls.client.certFile,
      tls_key_file: tls.client.keyFile,
    });
    try {
      await s.put('a/b', new Uint8Array([1, 2, 3]));
      expect([...(await s.get('a/b'))!]).toEqual([1, 2, 3]);
      expect(await s.list('a/')).toEqual(['b']);
    } finally {
      await s.close!();
    }
  });

  it.each([
    ['without the CA', { tls_cert_file: tls.client.certFile, tls_key_file: tls.client.keyFile }],
    ['without a client certificate', { tls_ca_file: tls.ca.certFile }],
    ['with an untrusted client certificate', { tls_ca_file: tls.ca.certFile, tls_cert_file: tls.untrustedClient.certFile, tls_key_file: tls.untrustedClient.keyFile }],
  ])('fails as ERR_STORAGE %s', async (_label, options) => {
    const s = await createStorage('etcd', { address: etcd.address, path: '/tls-spec/', request_timeout: '1s', ...options });
    try {
      const err = await s.get('a/b').then(() => null, (e: unknown) => e);
      expect(isApiError(err, 'ERR_STORAGE')).toBe(true);
    } finally {
      await s.close!();
    }
  });
});
