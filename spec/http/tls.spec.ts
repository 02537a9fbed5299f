import { describe, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { testTls } from '../helpers/tls.js';

describe('probe', () => {
  it('starts', async () => {
    const t = testTls();
    console.log(execFileSync('openssl', ['x509', '-in', t.server.certFile, '-noout', '-text']).toString());
    console.log(execFileSync('openssl', ['verify', '-CAfile', t.ca.certFile, t.server.certFile]).toString());
    console.log(execFileSync('openssl', ['verify', '-CAfile', t.clientCa.certFile, t.client.certFile]).toString());
  });
});
