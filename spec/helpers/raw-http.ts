import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';

/**
 * One HTTP/1.1 connection driven byte by byte, plain or TLS: the caller writes whatever it
 * likes (pipelined requests, a request cut anywhere, garbage), and reads the server's
 * responses in the order they come, each framed by its Content-Length (or none, for 1xx,
 * 204 and 304). Interim `100 Continue` answers are kept apart, so a test can wait for one.
 */

export interface RawResponse {
  status: number;
  /** The status line as sent, e.g. `HTTP/1.1 204 No Content`. */
  statusLine: string;
  /** The header lines as sent, in order. */
  headerLines: string[];
  /** Header names lower-cased; a repeated header keeps its last value. */
  headers: Record<string, string>;
  text: string;
  /** The parsed JSON body, or undefined. */
  body: any;
}

export interface RawConnection {
  write(data: string | Buffer): Promise<void>;
  /** The next final response; rejects if the connection closes first or `timeoutMs` passes. */
  next(timeoutMs?: number): Promise<RawResponse>;
  /** Resolves at the next `100 Continue` (or at once if one came and was not waited for yet). */
  continued(timeoutMs?: number): Promise<void>;
  /** Every final response until the server closes the connection (or `timeoutMs` passes: rejects). */
  untilClosed(timeoutMs?: number): Promise<RawResponse[]>;
  readonly closed: boolean;
  /** The status of every interim (1xx) response so far, in order. */
  readonly interim: readonly number[];
  /** Half-closes: sends FIN and keeps reading, so the server can answer what it has and close. */
  end(): void;
  /** Bytes after the last complete response. */
  leftover(): string;
  close(): void;
}

export interface RawOptions {
  /** For an https URL: the CA to trust. */
  ca?: string | Buffer;
}

export async function connectRaw(url: string, options: RawOptions = {}): Promise<RawConnection> {
  const { hostname, port, protocol } = new URL(url);
  const socket: net.Socket =
    protocol === 'https:'
      ? tls.connect({ host: hostname, port: Number(port), ca: options.ca, servername: hostname === '127.0.0.1' ? undefined : hostname })
      : net.connect({ host: hostname, port: Number(port), noDelay: true });
  await once(socket, protocol === 'https:' ? 'secureConnect' : 'connect');
  socket.setNoDelay(true);

  let buffered = Buffer.alloc(0);
  let ended = false;
  const responses: RawResponse[] = [];
  const interim: number[] = [];
  let continues = 0;
  const waiters = new Set<() => void>();
  const wake = (): void => {
    for (const waiter of [...waiters]) waiter();
  };

  const parse = (): void => {
    for (;;) {
      const headEnd = buffered.indexOf('\r\n\r\n');
      if (headEnd === -1) return;
      const [statusLine, ...lines] = buffered.subarray(0, headEnd).toString('latin1').split('\r\n');
      const status = Number(statusLine!.split(' ')[1]);
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const start = headEnd + 4;
      if (status >= 100 && status < 200) {
        buffered = buffered.subarray(start);
        interim.push(status);
        if (status === 100) continues++;
        continue;
      }
      const head = { status, statusLine: statusLine!, headerLines: lines, headers };
      const length = headers['content-length'] !== undefined ? Number(headers['content-length']) : status === 204 || status === 304 ? 0 : -1;
      if (length === -1) {
        // No framing: the body runs to the end of the connection.
        if (!ended) return;
        responses.push(toResponse(head, buffered.subarray(start)));
        buffered = Buffer.alloc(0);
        return;
      }
      if (buffered.length < start + length) return;
      responses.push(toResponse(head, buffered.subarray(start, start + length)));
      buffered = buffered.subarray(start + length);
    }
  };

  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    parse();
    wake();
  });
  socket.on('close', () => {
    ended = true;
    parse();
    wake();
  });
  socket.on('error', () => {});

  const waitFor = <T>(ready: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; unparsed: ${JSON.stringify(buffered.toString('latin1'))}`));
      }, timeoutMs);
      const check = (): void => {
        let value: T | undefined;
        try {
          value = ready();
        } catch (err) {
          clearTimeout(timer);
          waiters.delete(check);
          reject(err as Error);
          return;
        }
        if (value === undefined) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(value);
      };
      waiters.add(check);
      check();
    });

  return {
    write: (data) => new Promise((resolve, reject) => socket.write(data, (err) => (err ? reject(err) : resolve()))),
    next: (timeoutMs = 5_000) =>
      waitFor(
        () => {
          if (responses.length > 0) return responses.shift();
          if (ended) throw new Error(`the connection closed before a response; unparsed: ${JSON.stringify(buffered.toString('latin1'))}`);
          return undefined;
        },
        timeoutMs,
        'a response',
      ),
    continued: (timeoutMs = 5_000) =>
      waitFor(
        () => {
          if (continues > 0) {
            continues--;
            return true;
          }
          if (ended) throw new Error('the connection closed before 100 Continue');
          return undefined;
        },
        timeoutMs,
        '100 Continue',
      ).then(() => undefined),
    untilClosed: (timeoutMs = 5_000) => waitFor(() => (ended ? responses.splice(0) : undefined), timeoutMs, 'the server to close'),
    get closed() {
      return ended;
    },
    interim,
    end: () => {
      socket.end();
    },
    leftover: () => buffered.toString('latin1'),
    close: () => socket.destroy(),
  };
}

function toResponse(head: Omit<RawResponse, 'text' | 'body'>, bytes: Buffer): RawResponse {
  const text = bytes.toString('utf8');
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { ...head, text, body };
}

/** A request written out by hand; `Content-Length` is added when there is a body and none was given. */
export function rawRequest(method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Buffer {
  const all: Record<string, string> = { Host: '127.0.0.1', ...headers };
  const hasLength = Object.keys(all).some((name) => /^(content-length|transfer-encoding)$/i.test(name));
  if (body !== undefined && !hasLength) all['Content-Length'] = String(Buffer.byteLength(body));
  const head = Object.entries(all).map(([name, value]) => `${name}: ${value}\r\n`).join('');
  return Buffer.concat([Buffer.from(`${method} ${path} HTTP/1.1\r\n${head}\r\n`, 'latin1'), Buffer.from(body ?? '')]);
}
