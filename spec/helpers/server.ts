import { defaultConfig, type ListenerConfig, type ServerConfig } from '../../lib/config.js';
import { createServer, type RunningServer } from '../../lib/server.js';
import { silentLogger, type Logger } from '../../lib/log.js';
import type { ClosableStorage } from '../../lib/storage/storage.js';
import type { BackendRegistries } from '../../lib/core/core.js';
import { httpRequest, type HttpOptions, type HttpResult } from './http.js';
import { unexpectedInternalErrors } from './internal-errors.js';

/**
 * `startTestServer()`: a real server on 127.0.0.1:0, initialised and unsealed unless asked
 * otherwise. Every 500 it answers is recorded, and a 500 the test did not take with
 * `server.expectInternalErrors()` fails it: `close()` rejects once the server is down, and
 * the shared afterEach (setup.ts) checks the servers still open. A spec that closes its own
 * server (in the test, its afterEach or its afterAll) cannot slip past the check.
 */

export interface TestServerOptions {
  storage?: ClosableStorage;
  /** Listener overrides, e.g. TLS files. */
  listener?: Partial<ListenerConfig>;
  config?: Partial<ServerConfig>;
  /** Stop before init (state uninitialized). */
  uninitialized?: boolean;
  /** Initialise but stay sealed. */
  sealed?: boolean;
  shares?: number;
  threshold?: number;
  logger?: Logger;
  /** For a TLS listener: the CA (PEM) the helper's own requests trust. */
  ca?: string | Buffer;
  /** Mountable backend types, e.g. the test login method (helpers/login-backend.ts). */
  backends?: BackendRegistries;
}

export interface TestServer {
  url: string;
  server: RunningServer;
  rootToken: string;
  /** Unseal keys (hex), when initialised. */
  keys: string[];
  request(method: string, path: string, options?: HttpOptions & { token?: string }): Promise<HttpResult>;
  /** Unseals with the first `threshold` keys. */
  unseal(): Promise<void>;
  internalErrors: unknown[];
  /** Marks the recorded 500s as expected (they no longer fail the test), and returns them. */
  expectInternalErrors(): unknown[];
  /**
   * Closes the server, then rejects if it answered any 500 not taken with
   * `expectInternalErrors()` (those answered while closing included).
   */
  close(): Promise<void>;
}

const live = new Set<TestServer>();

export function liveServers(): Set<TestServer> {
  return live;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const base = defaultConfig();
  const listener: ListenerConfig = { ...base.listeners[0]!, address: '127.0.0.1:0', tlsDisable: true, ...options.listener };
  const config: ServerConfig = { ...base, ...options.config, listeners: [listener] };
  const internalErrors: unknown[] = [];
  const server = await createServer({
    config,
    storage: options.storage,
    logger: options.logger ?? silentLogger,
    backends: options.backends,
    onInternalError: (err) => internalErrors.push(err),
  });

  const request: TestServer['request'] = (method, path, opts = {}) => {
    const headers = { ...opts.headers };
    if (opts.token !== undefined) headers['X-Nomad-Token'] = opts.token;
    return httpRequest(`${server.url}${path}`, { ca: options.ca, ...opts, method, headers });
  };

  const test: TestServer = {
    url: server.url,
    server,
    rootToken: '',
    keys: [],
    request,
    internalErrors,
    async unseal() {
      const threshold = options.threshold ?? 1;
      for (const key of test.keys.slice(0, threshold)) {
        let res = await request('PUT', '/v1/sys/unseal', { body: { key } });
        // sys/unseal is rate-limited per address (10/s, bursts of 20): a spec that has just
        // tried many unseals waits its turn, as an operator's client would.
        for (let waits = 0; res.status === 429 && waits < 20; waits++) {
          await new Promise((resolve) => setTimeout(resolve, 1000 * Number(res.headers['retry-after'] ?? 1)));
          res = await request('PUT', '/v1/sys/unseal', { body: { key } });
        }
        if (res.status !== 200) throw new Error(`unseal failed: ${res.status} ${res.text}`);
      }
    },
    expectInternalErrors() {
      return internalErrors.splice(0, internalErrors.length);
    },
    async close() {
      live.delete(test);
      let closeError: { error: unknown } | undefined;
      try {
        await server.close();
      } catch (error) {
        closeError = { error };
      }
      // After the close: in-flight requests have been answered by now.
      const unexpected = unexpectedInternalErrors(test.expectInternalErrors());
      if (unexpected) {
        if (closeError) unexpected.message += `\n(and closing the server failed too: ${String(closeError.error)})`;
        throw unexpected;
      }
      if (closeError) throw closeError.error;
    },
  };
  live.add(test);

  if (!options.uninitialized) {
    try {
      const res = await request('PUT', '/v1/sys/init', {
        body: { secret_shares: options.shares ?? 1, secret_threshold: options.threshold ?? 1 },
      });
      if (res.status !== 200) throw new Error(`init failed: ${res.status} ${res.text}`);
      test.rootToken = res.body.root_token;
      test.keys = res.body.keys;
      if (!options.sealed) await test.unseal();
    } catch (err) {
      // A 500 during init or unseal is why it failed: report both, the 500's stack included.
      try {
        await test.close();
      } catch (closeErr) {
        throw new Error(`${(err as Error).message}\n${(closeErr as Error).message}`, { cause: err });
      }
      throw err;
    }
  }
  return test;
}
