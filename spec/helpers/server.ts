import { defaultConfig, type ListenerConfig, type ServerConfig } from '../../lib/config.js';
import { createServer, type RunningServer } from '../../lib/server.js';
import { silentLogger, type Logger } from '../../lib/log.js';
import type { ClosableStorage } from '../../lib/storage/storage.js';
import type { BackendRegistries } from '../../lib/core/core.js';
import { httpRequest, type HttpOptions, type HttpResult } from './http.js';

/**
 * `startTestServer()`: a real server on 127.0.0.1:0, initialised and unsealed unless asked
 * otherwise. Every 500 it answers is recorded, and the shared afterEach (setup.ts) fails the
 * test unless the test said it expected them (`server.expectInternalErrors()`).
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
  /** Marks the recorded 500s as expected (they no longer fail the test). */
  expectInternalErrors(): unknown[];
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
        const res = await request('PUT', '/v1/sys/unseal', { body: { key } });
        if (res.status !== 200) throw new Error(`unseal failed: ${res.status} ${res.text}`);
      }
    },
    expectInternalErrors() {
      return internalErrors.splice(0, internalErrors.length);
    },
    async close() {
      live.delete(test);
      await server.close();
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
      await test.close();
      throw err;
    }
  }
  return test;
}
