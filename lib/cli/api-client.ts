import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

/**
 * The CLI's one HTTP call: a GET of a `/v1/` path with the caller's token. TLS is verified
 * unless NOMAD_SKIP_VERIFY=1 (api.md §1); NOMAD_CACERT names a CA file to trust.
 */

export interface ClientOptions {
  address: string;
  token: string;
  caCert?: string;
  skipVerify: boolean;
}

export function clientOptionsOf(address: string, env: NodeJS.ProcessEnv): ClientOptions {
  const skip = env.NOMAD_SKIP_VERIFY;
  return {
    address: address.replace(/\/+$/, ''),
    token: env.NOMAD_TOKEN ?? '',
    caCert: env.NOMAD_CACERT || undefined,
    skipVerify: skip === '1' || skip === 'true',
  };
}

export function apiGet(options: ClientOptions, path: string): Promise<{ status: number; body: any }> {
  const url = new URL(`${options.address}/v1/${path}`);
  const tls = url.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const req = (tls ? https : http).request(
      url,
      {
        method: 'GET',
        headers: { 'X-Nomad-Token': options.token },
        ...(tls ? { rejectUnauthorized: !options.skipVerify, ca: options.caCert ? readFileSync(options.caCert) : undefined } : {}),
        timeout: 30_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          let body: unknown;
          try {
            body = text === '' ? undefined : JSON.parse(text);
          } catch {
            body = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${options.address} in 30 s`)));
    req.on('error', reject);
    req.end();
  });
}
