/**
 * The typed API client: `createClient({ address, token, ... })` over node:http/node:https,
 * no dependency. `client.request()` is any call; the groups (sys, kv, tokens, logins) are
 * typed wrappers over it. Call `client.close()` when done so keep-alive sockets do not hold
 * the process open.
 */
import { createKvApi, type KvApi } from './kv.js';
import { createLoginsApi, type LoginsApi } from './logins.js';
import type { RawRequestOptions } from './request.js';
import { createSysApi, type SysApi } from './sys.js';
import { createTokensApi, type TokensApi } from './tokens.js';
import { createTransport, type Transport } from './transport.js';

export { ApiError, type ApiErrorKind } from './errors.js';
export type * from './shapes.js';
export type { KvApi, LoginsApi, SysApi, TokensApi };
export type { MountsApi } from './sys.js';

export interface ClientOptions {
  /** Default 'https://127.0.0.1:8200'. The library reads no environment variable: the CLI does. */
  address?: string;
  token?: string;
  /** PEM contents (not a path). */
  caCert?: string | Buffer;
  clientCert?: string | Buffer;
  clientKey?: string | Buffer;
  skipVerify?: boolean;
  serverName?: string;
  /** Ms per attempt, default 60_000. */
  timeout?: number;
  /** Extra attempts for idempotent requests (GET, LIST, HEAD) on connection errors and 503, default 2. */
  retries?: number;
  /** Ms before the first retry, doubled each time, default 250. */
  retryDelay?: number;
}

export interface RequestOptions {
  query?: Record<string, string>;
  /** Overrides the client's token for this call; null sends none. */
  token?: string | null;
  headers?: Record<string, string>;
}

export interface Client {
  readonly address: string;
  token: string | undefined;
  /**
   * Any call. `path` is relative to /v1/ ('secret/a', 'sys/seal-status'); `method` may be GET,
   * POST, PUT, DELETE, LIST, HEAD. Resolves the parsed JSON body (undefined for 204 or an empty
   * body). A Buffer `body` is sent as it is, as application/octet-stream; any other as JSON.
   * Throws ApiError for any status >= 400 and for network, TLS and timeout errors.
   */
  request<T = any>(method: string, path: string, body?: unknown, options?: RequestOptions): Promise<T | undefined>;
  readonly sys: SysApi;
  readonly kv: KvApi;
  readonly tokens: TokensApi;
  /** Each login sets `token` to the new token. */
  readonly logins: LoginsApi;
  /** Destroys the keep-alive agents: open sockets close, and the next call opens a new one. */
  close(): void;
}

export const DEFAULT_ADDRESS = 'https://127.0.0.1:8200';

export function createClient(options: ClientOptions = {}): Client {
  const address = (options.address ?? DEFAULT_ADDRESS).replace(/\/+$/, '');
  const transport: Transport = createTransport({
    address,
    caCert: options.caCert,
    clientCert: options.clientCert,
    clientKey: options.clientKey,
    skipVerify: options.skipVerify,
    serverName: options.serverName,
    timeout: options.timeout ?? 60_000,
    retries: options.retries ?? 2,
    retryDelay: options.retryDelay ?? 250,
  });

  let token = options.token;
  const call = async (method: string, path: string, body?: unknown, opts: RawRequestOptions = {}): Promise<any> => {
    const use = opts.token === null ? undefined : opts.token ?? token;
    const answer = await transport.send(method, path, body, { query: opts.query, headers: opts.headers, token: use, acceptStatus: opts.acceptStatus });
    return opts.binary ? answer.bytes : answer.body;
  };
  const setToken = (next: string): void => {
    token = next;
  };

  return {
    address,
    get token() {
      return token;
    },
    set token(next: string | undefined) {
      token = next;
    },
    request: (method, path, body, opts) => call(method, path, body, opts),
    sys: createSysApi(call),
    kv: createKvApi(call),
    tokens: createTokensApi(call),
    logins: createLoginsApi(call, setToken),
    close() {
      transport.close();
    },
  };
}
