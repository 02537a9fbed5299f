import http from 'node:http';
import https from 'node:https';
import { ApiError, networkError, responseError, timeoutError } from './errors.js';

/**
 * The wire under the client: one request, its redirects and its retries. Agents keep
 * connections alive per client (one per protocol, made on first use), so repeated calls reuse
 * a socket; `close()` destroys them so a program can exit.
 */

export interface TransportOptions {
  address: string;
  caCert?: string | Buffer;
  clientCert?: string | Buffer;
  clientKey?: string | Buffer;
  skipVerify?: boolean;
  serverName?: string;
  timeout: number;
  retries: number;
  retryDelay: number;
}

export interface SendOptions {
  query?: Record<string, string>;
  token?: string;
  headers?: Record<string, string>;
  /** Statuses >= 400 that answer a body instead of throwing (sys/health's 429/501/503). */
  acceptStatus?: readonly number[];
}

export interface Answer {
  status: number;
  /** The parsed JSON, or undefined when the body is empty or not JSON. */
  body: unknown;
  /** The body as received. */
  bytes: Buffer;
}

export interface Transport {
  send(method: string, path: string, body: unknown, options: SendOptions): Promise<Answer>;
  close(): void;
}

/** How many 307/308 hops one call follows (a standby points at the active node: one is usual). */
const MAX_REDIRECTS = 5;
const IDEMPOTENT = new Set(['GET', 'LIST', 'HEAD']);
/** Failures before any answer that are worth another try: the node may be restarting. */
const RETRYABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

export function createTransport(options: TransportOptions): Transport {
  const base = new URL(options.address);
  const agents: { http?: http.Agent; https?: https.Agent } = {};

  const agentFor = (url: URL): http.Agent => {
    if (url.protocol === 'https:') {
      agents.https ??= new https.Agent({
        keepAlive: true,
        ca: options.caCert,
        cert: options.clientCert,
        key: options.clientKey,
        rejectUnauthorized: options.skipVerify !== true,
        servername: options.serverName,
      });
      return agents.https;
    }
    agents.http ??= new http.Agent({ keepAlive: true });
    return agents.http;
  };

  const urlFor = (path: string, query: Record<string, string> | undefined): URL => {
    const url = new URL(base.href);
    const prefix = url.pathname.replace(/\/+$/, '');
    url.pathname = `${prefix}/v1/${path.replace(/^\/+/, '')}`;
    for (const [k, v] of Object.entries(query ?? {})) url.searchParams.set(k, v);
    return url;
  };

  /** One attempt, following redirects. */
  const attempt = async (method: string, first: URL, payload: string | Buffer | undefined, headers: Record<string, string>): Promise<{ status: number; statusText: string; bytes: Buffer; binary: boolean; location?: string }> => {
    let url = first;
    for (let hop = 0; ; hop++) {
      const res = await once(method, url, payload, headers);
      if ((res.status === 307 || res.status === 308) && res.location !== undefined && hop < MAX_REDIRECTS) {
        // The Location may name another host (a standby's api_addr); method and body stay.
        url = new URL(res.location, url);
        continue;
      }
      if (res.status >= 300 && res.status < 400) {
        // Out of hops (or a redirect without Location): an answer the caller cannot use.
        throw new ApiError(`too many redirects (${res.status} after ${hop} hops)`, { status: res.status, kind: 'response' });
      }
      return res;
    }
  };

  const once = (method: string, url: URL, payload: string | Buffer | undefined, headers: Record<string, string>) =>
    new Promise<{ status: number; statusText: string; bytes: Buffer; binary: boolean; location?: string }>((resolve, reject) => {
      const lib = url.protocol === 'https:' ? https : http;
      const req = lib.request(url, { method, headers, agent: agentFor(url) }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(networkError(err)));
        res.on('end', () => {
          clearTimeout(timer);
          const location = res.headers.location;
          const binary = (res.headers['content-type'] ?? '').startsWith('application/octet-stream');
          resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', bytes: Buffer.concat(chunks), binary, location });
        });
      });
      // The timeout covers the whole attempt (connect, send, answer), not socket idleness.
      const timer = setTimeout(() => {
        req.destroy();
        reject(timeoutError(options.timeout));
      }, options.timeout);
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(networkError(err));
      });
      req.end(payload);
    });

  const send: Transport['send'] = async (method, path, body, opts) => {
    const upper = method.toUpperCase();
    const query = { ...opts.query };
    // LIST travels as GET ?list=true, which every HTTP stack between here and the server knows.
    const wireMethod = upper === 'LIST' ? 'GET' : upper;
    if (upper === 'LIST') query['list'] = 'true';
    const url = urlFor(path, query);
    // A Buffer is a binary body (a snapshot to restore), sent as it is.
    const binary = Buffer.isBuffer(body);
    const payload = body === undefined ? undefined : binary ? body : JSON.stringify(body);
    const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
    if (opts.token !== undefined && opts.token !== '') headers['X-Nomad-Token'] = opts.token;
    if (payload !== undefined) {
      headers['Content-Type'] = binary ? 'application/octet-stream' : 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    const retries = IDEMPOTENT.has(upper) ? Math.max(0, options.retries) : 0;
    for (let tryNo = 0; ; tryNo++) {
      let res;
      try {
        res = await attempt(wireMethod, url, payload, headers);
      } catch (err) {
        const retryable = err instanceof ApiError && err.kind === 'connection' && err.code !== undefined && RETRYABLE_CODES.has(err.code);
        if (retryable && tryNo < retries) {
          await sleep(options.retryDelay * 2 ** tryNo);
          continue;
        }
        throw err;
      }
      if (res.status === 503 && tryNo < retries) {
        await sleep(options.retryDelay * 2 ** tryNo);
        continue;
      }
      // A binary answer (a snapshot) is not parsed: it may be large, and it is not JSON.
      const parsed = res.binary ? undefined : parseJson(res.bytes);
      if (res.status >= 400 && !(opts.acceptStatus ?? []).includes(res.status)) throw responseError(res.status, res.statusText, parsed);
      return { status: res.status, body: parsed, bytes: res.bytes };
    }
  };

  return {
    send,
    close() {
      agents.http?.destroy();
      agents.https?.destroy();
      delete agents.http;
      delete agents.https;
    },
  };
}

function parseJson(bytes: Buffer): unknown {
  if (bytes.length === 0) return undefined;
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
