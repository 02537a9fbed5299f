import type { ApiError } from '../client/index.js';

/**
 * One line saying what failed, and one saying what to do: the CLI's answer to every error
 * the client throws. Built from the error's kind, code and status, never from its wording.
 * Messages come from node or the server, and the server never puts a token in one.
 */

export function describeApiError(err: ApiError, address: string, hadToken: boolean): string {
  const hint = hintFor(err, address, hadToken);
  // Node's OpenSSL messages run over several lines and name source files: keep the first line.
  const message = err.message.split('\n')[0]!.trim();
  const cause =
    err.kind === 'response' ? `${message} (HTTP ${err.status})`
    : notTls(err) ? `TLS handshake failed: the server did not answer in TLS (${err.code})`
    : err.kind === 'tls' ? `TLS verification failed: ${message}`
    : message;
  return `Error: ${cause}\n${hint ? `Hint: ${hint}\n` : ''}`;
}

function hintFor(err: ApiError, address: string, hadToken: boolean): string | undefined {
  switch (err.kind) {
    case 'connection':
      if (err.code === 'ECONNREFUSED') return `connection refused: is the server running at NOMAD_ADDR (${address})?`;
      if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return `the host of NOMAD_ADDR (${address}) does not resolve: check the address`;
      return `check that the server at NOMAD_ADDR (${address}) is up and reachable`;
    case 'tls':
      if (notTls(err)) {
        return `the server may not speak TLS: for a plain-HTTP listener (the dev server) use an http:// NOMAD_ADDR`;
      }
      return "set NOMAD_CACERT (or -ca-cert) to the CA certificate that signed the server's, or use -tls-skip-verify (testing only)";
    case 'timeout':
      return `the server at NOMAD_ADDR (${address}) did not answer in time`;
    case 'response':
      return responseHint(err, hadToken);
  }
}

function responseHint(err: ApiError, hadToken: boolean): string | undefined {
  switch (err.status) {
    case 503:
      return /sealed/i.test(err.message)
        ? 'the server is sealed, run `nomad-api operator unseal`'
        : 'the server is unavailable (sealed, a standby without an active node, or shutting down): see `nomad-api status`';
    case 401:
      return hadToken
        ? 'the token may have expired or lack a policy for this path: log in again with `nomad-api login`, or set NOMAD_TOKEN'
        : 'no token: log in with `nomad-api login`, or set NOMAD_TOKEN';
    case 429:
      return 'rate limited: wait a moment and retry';
    case 404:
      return 'nothing at this path: `nomad-api list` or `nomad-api path-help` shows what exists';
    default:
      return undefined;
  }
}

/** A plain-HTTP server behind an https:// address: OpenSSL reads its answer as a bad record. */
function notTls(err: ApiError): boolean {
  return err.kind === 'tls' && (err.code === 'ERR_SSL_WRONG_VERSION_NUMBER' || (err.code === 'EPROTO' && /wrong version number/.test(err.message)));
}
