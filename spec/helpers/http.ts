import http from 'node:http';
import https from 'node:https';

/** A small HTTP client for specs: any method (LIST included), raw bodies, every TLS option. */

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string or Buffer as is. */
  body?: unknown;
  /** For https URLs: trust this CA (PEM), or skip verification. */
  ca?: string | Buffer;
  rejectUnauthorized?: boolean;
  agent?: http.Agent;
  /** Any other node:https option (client certificates, servername, TLS versions). */
  tls?: https.RequestOptions;
}

export interface HttpResult {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The body's bytes as received (binary answers: a storage snapshot). */
  bytes: Buffer;
  /** The parsed JSON body, or undefined when the body is empty or not JSON. */
  body: any;
  /** Whether the agent sent this request on a connection an earlier request used. */
  reused: boolean;
  localPort: number | undefined;
}

export function httpRequest(url: string, options: HttpOptions = {}): Promise<HttpResult> {
  const target = new URL(url);
  const payload =
    options.body === undefined ? undefined
    : typeof options.body === 'string' || Buffer.isBuffer(options.body) ? options.body
    : JSON.stringify(options.body);
  const lib = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      target,
      {
        ...options.tls,
        method: options.method ?? 'GET',
        headers: { ...(payload !== undefined ? { 'Content-Length': String(Buffer.byteLength(payload)) } : {}), ...options.headers },
        agent: options.agent ?? options.tls?.agent,
        ca: options.ca ?? options.tls?.ca,
        rejectUnauthorized: options.rejectUnauthorized ?? options.tls?.rejectUnauthorized,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const bytes = Buffer.concat(chunks);
          const text = bytes.toString('utf8');
          let body: unknown;
          try {
            body = text === '' ? undefined : JSON.parse(text);
          } catch {
            body = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, bytes, body, reused: req.reusedSocket, localPort: res.socket?.localPort });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}
