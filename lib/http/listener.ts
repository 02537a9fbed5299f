import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createSecureContext, type SecureContextOptions, type SecureVersion } from 'node:tls';
import type { ListenerConfig } from '../config.js';
import { answerConnect, answerUnknownExpectation, continueInTurn, createClientErrorListener, refuseTruncated, type ClientErrorOptions } from './client-error.js';
import { answerAfterHalfClose } from './takeover.js';

/**
 * One TCP listener, plain or TLS (api.md §1): TLS 1.2 minimum unless told otherwise,
 * client certificates requested but not verified (the `cert` auth backend checks them),
 * and timeouts so slow clients cannot hold connections forever.
 */

export interface Listener {
  /** `http://127.0.0.1:8200` or `https://…`, with the real port when 0 was asked for. */
  url: string;
  server: http.Server;
  /** Stops accepting, lets in-flight requests finish, then closes idle keep-alive connections. */
  close(): Promise<void>;
  /**
   * For a reload (reload.ts): reads and checks what `config` says of the read timeouts and,
   * with `tls`, of the certificate, key, client CA and minimum TLS version, and returns what
   * puts them in force (for new connections; open ones keep their certificate). Throws,
   * changing nothing, when a file cannot be read or does not fit (a key not the certificate's).
   */
  prepareReload(config: ListenerConfig, tls: boolean): () => void;
}

/** How often a closing listener closes the connections that have gone idle since. */
const CLOSE_SWEEP_MS = 25;

const TLS_VERSIONS: Record<ListenerConfig['tlsMinVersion'], SecureVersion> = { tls12: 'TLSv1.2', tls13: 'TLSv1.3' };

/**
 * node enforces its header and request timeouts by sweeping its connections every
 * `connectionsCheckingInterval` (30 s by default, so a 10 s limit could take 40 s). Sweep often
 * enough that a limit is kept to within a quarter of itself, and at least every second.
 */
function sweepIntervalMs(config: ListenerConfig): number {
  const limits = [config.readHeaderTimeoutMs, config.readTimeoutMs].filter((ms) => ms > 0);
  return limits.length === 0 ? 30_000 : Math.max(10, Math.min(1_000, Math.floor(Math.min(...limits) / 4)));
}

export function splitAddress(address: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address);
  if (!match) throw new Error(`listener address must be host:port, got '${address}'`);
  return { host: match[1] ?? match[2] ?? '127.0.0.1', port: Number(match[3]) };
}

/**
 * What node would answer by itself (bad framing, LIST, Expect, CONNECT) is ours to answer,
 * in order: client-error.ts.
 */
function answerForNode(server: http.Server, config: ListenerConfig, handler: http.RequestListener, clientErrors: ClientErrorOptions): http.Server {
  answerAfterHalfClose(server, !config.tlsDisable, refuseTruncated);
  server.on('clientError', createClientErrorListener(server, clientErrors));
  server.on('checkContinue', continueInTurn(handler));
  server.on('checkExpectation', answerUnknownExpectation);
  server.on('connect', answerConnect);
  return server;
}

/** A TLS file's contents; the error names the setting and the path (never the contents). */
function readTlsFile(setting: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`${setting} ${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** What a TLS listener's secure context is made of, files read now. */
function secureContextOptions(config: ListenerConfig): SecureContextOptions {
  if (!config.tlsCertFile || !config.tlsKeyFile) throw new Error('tls_cert_file and tls_key_file are required unless tls_disable = true');
  return {
    cert: readTlsFile('tls_cert_file', config.tlsCertFile),
    key: readTlsFile('tls_key_file', config.tlsKeyFile),
    minVersion: TLS_VERSIONS[config.tlsMinVersion],
    ca: config.tlsClientCaFile ? readTlsFile('tls_client_ca_file', config.tlsClientCaFile) : undefined,
  };
}

/** The options checked by building a context from them: OpenSSL's own error (a key that does not match, a file that is no PEM). */
function checkedContextOptions(config: ListenerConfig): SecureContextOptions {
  const options = secureContextOptions(config);
  try {
    createSecureContext(options);
  } catch (err) {
    throw new Error(`tls_cert_file ${config.tlsCertFile} and tls_key_file ${config.tlsKeyFile}: ${(err as Error).message}`);
  }
  return options;
}

function createHttpServer(config: ListenerConfig, handler: http.RequestListener, clientErrors: ClientErrorOptions): http.Server {
  const common = {
    headersTimeout: config.readHeaderTimeoutMs,
    requestTimeout: config.readTimeoutMs,
    connectionsCheckingInterval: sweepIntervalMs(config),
    // The handler refuses a missing Host itself, in the error envelope (node's 400 has no body).
    requireHostHeader: false,
  };
  if (config.tlsDisable) return answerForNode(http.createServer(common, handler), config, handler, clientErrors);
  const server = https.createServer(
    {
      ...common,
      ...secureContextOptions(config),
      requestCert: !config.tlsDisableClientCerts,
      // Verification is the cert auth backend's job unless the operator asks the listener to do it.
      rejectUnauthorized: config.tlsRequireAndVerifyClientCert,
    },
    handler,
  );
  // What a connection presented at its handshake is read once per connection (connection.ts),
  // and client-initiated renegotiation (TLS 1.2) is a known denial-of-service lever: refuse it.
  server.on('secureConnection', (socket) => socket.disableRenegotiation());
  return answerForNode(server, config, handler, clientErrors);
}

export async function startListener(config: ListenerConfig, handler: http.RequestListener): Promise<Listener> {
  // Read by the clientError listener when it needs it: a reload changes it in place.
  const clientErrors: ClientErrorOptions = { readHeaderTimeoutMs: config.readHeaderTimeoutMs };
  const server = createHttpServer(config, handler, clientErrors);
  const { host, port } = splitAddress(config.address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const shownHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    url: `${config.tlsDisable ? 'http' : 'https'}://${shownHost}:${bound.port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        // A keep-alive connection busy when the close starts goes idle once its answer is out;
        // without a second look it would stay open until node's keep-alive timeout (5 s).
        const sweep = setInterval(() => server.closeIdleConnections(), CLOSE_SWEEP_MS);
        server.close(() => {
          clearInterval(sweep);
          resolve();
        });
        server.closeIdleConnections();
      }),
    prepareReload(next, reloadTls) {
      const tls = reloadTls && !config.tlsDisable ? checkedContextOptions(next) : undefined;
      return () => {
        // New connections get the new context; open ones keep the one they shook hands with.
        if (tls) (server as https.Server).setSecureContext(tls);
        // Public settings node reads at its next sweep; the sweep interval itself stays as
        // started (sweepIntervalMs), so a much shorter limit is kept less tightly until a restart.
        server.headersTimeout = next.readHeaderTimeoutMs;
        server.requestTimeout = next.readTimeoutMs;
        clientErrors.readHeaderTimeoutMs = next.readHeaderTimeoutMs;
      };
    },
  };
}
