import http from 'node:http';
import https from 'node:https';

/**
 * A minimal client for etcd's v3 JSON gateway (POST /v3/<service>/<method>), on node:http
 * alone. It knows the gateway's quirks only as far as transport goes: every call is a POST
 * with a JSON body, errors come back as `{"error","message","code"}` with an HTTP status.
 * Field-level quirks (base64, int64 as strings, omitted zero fields) are left to the callers,
 * which read every field as optional.
 *
 * Several endpoints: a call goes to the endpoint that answered last, and moves on to the
 * next one on a connection failure (refused, reset, timed out) or when a member says it is
 * unavailable (no leader, stopping). The whole call, every attempt included, is bounded by
 * `requestTimeoutMs`, so a cluster without quorum fails fast instead of hanging.
 */

export interface EtcdTls {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

export interface EtcdClientOptions {
  /** Member client URLs, http:// or https://, tried in this order at first. */
  endpoints: string[];
  /** The bound on one call, all failover attempts included. */
  requestTimeoutMs: number;
  tls?: EtcdTls;
  /** Sees every HTTP request sent (the method path, e.g. "kv/range"), for tests and metrics. */
  onRequest?: (method: string, endpoint: string) => void;
}

export interface EtcdClient {
  /** POSTs `body` to `/v3/<method>` and answers the parsed JSON. */
  call<T = Record<string, unknown>>(method: string, body: object): Promise<T>;
  /** The endpoints, in configuration order. */
  readonly endpoints: readonly string[];
  close(): void;
}

/** An answer from etcd that is not a success, or a failure to get one from any endpoint. */
export class EtcdError extends Error {
  override name = 'EtcdError';
  constructor(
    message: string,
    /** The HTTP status etcd answered, or 0 when no endpoint answered. */
    readonly status: number,
    /** The gRPC code from the gateway's error body (5 not found, 14 unavailable), or -1. */
    readonly grpcCode: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** gRPC codes meaning "this member cannot serve now, another may": deadline exceeded, unavailable. */
const FAILOVER_GRPC_CODES = new Set([4, 14]);
const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);
/** The pause between two passes over every endpoint, so a flapping cluster is not hammered. */
const PASS_PAUSE_MS = 50;

interface Endpoint {
  url: URL;
  agent: http.Agent;
  transport: typeof http | typeof https;
}

export function parseEndpoints(address: string): URL[] {
  const parts = address.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length === 0) throw new Error('address must name at least one endpoint');
  return parts.map((part) => {
    let url: URL;
    try {
      url = new URL(part);
    } catch {
      throw new Error(`address '${part}' is not a URL (expected e.g. http://127.0.0.1:2379)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`address '${part}' must use http:// or https://`);
    if (url.pathname !== '/' || url.search !== '' || url.username !== '' || url.password !== '') {
      throw new Error(`address '${part}' must be a scheme, host and port only`);
    }
    return url;
  });
}

export function createEtcdClient(options: EtcdClientOptions): EtcdClient {
  if (options.endpoints.length === 0) throw new Error('etcd client needs at least one endpoint');
  const endpoints: Endpoint[] = options.endpoints.map((raw) => {
    const url = new URL(raw);
    const secure = url.protocol === 'https:';
    const agent = secure
      ? new https.Agent({ keepAlive: true, maxSockets: 64, ca: options.tls?.ca, cert: options.tls?.cert, key: options.tls?.key })
      : new http.Agent({ keepAlive: true, maxSockets: 64 });
    return { url, agent, transport: secure ? https : http };
  });
  // The endpoint that answered last goes first: a dead member costs one failed attempt, once.
  let preferred = 0;

  async function call<T>(method: string, body: object): Promise<T> {
    const payload = Buffer.from(JSON.stringify(body));
    const deadline = Date.now() + options.requestTimeoutMs;
    let lastError: unknown;
    for (;;) {
      const start = preferred;
      for (let i = 0; i < endpoints.length; i++) {
        const index = (start + i) % endpoints.length;
        const remaining = deadline - Date.now();
        if (remaining <= 0) break;
        // Leave the endpoints still to try a share of the time, so one hung member cannot eat it all.
        const budget = Math.max(1, Math.floor(remaining / (endpoints.length - i)));
        try {
          const answer = await attempt<T>(endpoints[index], method, payload, budget);
          preferred = index;
          return answer;
        } catch (err) {
          if (!isFailover(err)) throw err;
          lastError = err;
        }
      }
      if (deadline - Date.now() <= PASS_PAUSE_MS) break;
      await new Promise((resolve) => setTimeout(resolve, PASS_PAUSE_MS));
    }
    const why = lastError instanceof Error ? lastError.message : 'request timed out';
    throw new EtcdError(`no etcd endpoint answered ${method} within ${options.requestTimeoutMs}ms (last: ${why})`, 0, -1, { cause: lastError });
  }

  function attempt<T>(endpoint: Endpoint, method: string, payload: Buffer, timeoutMs: number): Promise<T> {
    options.onRequest?.(method, endpoint.url.origin);
    return new Promise<T>((resolve, reject) => {
      const req = endpoint.transport.request(
        {
          protocol: endpoint.url.protocol,
          hostname: endpoint.url.hostname.replace(/^\[|\]$/g, ''),
          port: endpoint.url.port,
          method: 'POST',
          path: `/v3/${method}`,
          agent: endpoint.agent,
          headers: { 'content-type': 'application/json', 'content-length': payload.length },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', fail);
          res.on('end', () => {
            clearTimeout(timer);
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: Record<string, unknown>;
            try {
              parsed = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
            } catch (cause) {
              reject(new EtcdError(`etcd answered ${method} with status ${res.statusCode} and a body that is not JSON`, res.statusCode ?? 0, -1, { cause }));
              return;
            }
            const status = res.statusCode ?? 0;
            // Streaming methods (lease keepalive) wrap a failure in {"error": {...}} with status 200.
            const error = status === 200 ? (parsed.error as Record<string, unknown> | undefined) : parsed;
            if (status !== 200 || (error !== undefined && typeof error === 'object')) {
              const message = typeof error?.message === 'string' ? error.message : typeof error?.error === 'string' ? error.error : `status ${status}`;
              reject(new EtcdError(`etcd ${method}: ${message}`, status, typeof error?.code === 'number' ? error.code : -1));
              return;
            }
            resolve(parsed as T);
          });
        },
      );
      const timer = setTimeout(() => {
        const err = Object.assign(new Error(`timed out after ${timeoutMs}ms`), { code: 'ETIMEDOUT' });
        req.destroy(err);
      }, timeoutMs);
      function fail(err: Error): void {
        clearTimeout(timer);
        reject(err);
      }
      req.on('error', fail);
      req.end(payload);
    });
  }

  return {
    call,
    endpoints: options.endpoints,
    close() {
      for (const endpoint of endpoints) endpoint.agent.destroy();
    },
  };
}

function isFailover(err: unknown): boolean {
  if (err instanceof EtcdError) return FAILOVER_GRPC_CODES.has(err.grpcCode) || err.status === 503;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && CONNECTION_ERRORS.has(code)) return true;
  // "socket hang up" from a keep-alive socket the member closed; TLS handshakes cut short.
  return err instanceof Error && /socket hang up|ECONNRESET|disconnected/i.test(err.message);
}
