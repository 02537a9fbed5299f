import { STATUS_CODES, type ServerResponse } from 'node:http';

/**
 * The header block of a plain JSON answer, written by hand instead of by `writeHead`. node
 * checks every header name and value against two regular expressions, lower-cases each name
 * to look for the ones it must track, and joins the block from a dozen pieces, on every
 * answer: on node 20 that is about a tenth of a cached read's CPU, where these four headers
 * are always the same names and values made here (a request id of hex digits and dashes, a
 * number). So when an answer is the plain case (below), the block is made here, byte for
 * byte what `_storeHeader` would make of the same headers, and anything else goes through
 * `writeHead` as before.
 *
 * The node internals this relies on, the same in node 20.20, 22.23 and 24.22
 * (spec/http/direct-head.spec.ts compares this block with node's own, on every node CI runs):
 * - `res._header` holds the header block (a string) and `res._headerSent` says whether it
 *   went out; `end()` sends `_header + body` in one write when neither is set otherwise.
 * - `_storeHeader` decides keep-alive from `shouldKeepAlive` (false for HTTP/1.0 and for
 *   `Connection: close`), `maxRequestsOnConnectionReached`, `_expect_continue` (a 100-continue
 *   not yet answered), `_removedConnection`, and writes `Keep-Alive: timeout=N[, max=M]` from
 *   `_keepAliveTimeout`, `_defaultKeepAlive` and `_maxRequestsPerSocket`; it adds `Date`
 *   when `sendDate` is set. A HEAD request's response has `_hasBody` false.
 */

interface NodeResponse extends ServerResponse {
  _header: string | null;
  _headerSent: boolean;
  _hasBody: boolean;
  _expect_continue: boolean;
  _removedConnection: boolean;
  _keepAliveTimeout: number;
  _defaultKeepAlive: boolean;
  _maxRequestsPerSocket: number | undefined;
  maxRequestsOnConnectionReached?: boolean;
  shouldKeepAlive: boolean;
}

const statusLines = new Map<number, string>();

function statusLineOf(status: number): string {
  let line = statusLines.get(status);
  if (line === undefined) {
    line = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`;
    statusLines.set(status, line);
  }
  return line;
}

// As node's own: the date is made at most once a second, and forgotten at the next second.
let date = '';
function resetDate(): void {
  date = '';
}
function httpDate(): string {
  if (date === '') {
    const now = new Date();
    date = now.toUTCString();
    setTimeout(resetDate, 1000 - now.getMilliseconds()).unref();
  }
  return date;
}

// The keep-alive lines for the last listener settings seen: the same on every answer.
let keepAliveFor = -1;
let maxFor: number | undefined = -1;
let keepAliveLines = '';
function keepAliveLinesOf(res: NodeResponse): string {
  const timeout = res._defaultKeepAlive ? res._keepAliveTimeout : 0;
  const max = res._maxRequestsPerSocket;
  if (timeout !== keepAliveFor || max !== maxFor) {
    const limit = ~~(max ?? 0) > 0 ? `, max=${max}` : '';
    keepAliveLines = `Connection: keep-alive\r\n${timeout ? `Keep-Alive: timeout=${Math.floor(timeout / 1000)}${limit}\r\n` : ''}`;
    keepAliveFor = timeout;
    maxFor = max;
  }
  return keepAliveLines;
}

/**
 * Stores the header block of a JSON answer (`Cache-Control: no-store`, `X-Request-Id`,
 * `Content-Type: application/json`, `Content-Length`, then node's `Date` and keep-alive
 * lines) and returns true, or returns false, changing nothing, when the answer is not the
 * plain case: a connection that closes after it, a HEAD request, a 1xx/204/304 status, an
 * unanswered 100-continue, headers already set on the response. Then `writeHead` must do it.
 */
export function storeJsonHead(response: ServerResponse, status: number, requestId: string, length: number): boolean {
  const res = response as NodeResponse;
  if (
    res._header !== null ||
    !res.shouldKeepAlive ||
    res.maxRequestsOnConnectionReached === true ||
    res._expect_continue ||
    res._removedConnection ||
    !res._hasBody ||
    !res.sendDate ||
    status < 200 ||
    status === 204 ||
    status === 304 ||
    res.getHeaderNames().length !== 0
  ) {
    return false;
  }
  res.statusCode = status;
  res.statusMessage = STATUS_CODES[status] ?? 'unknown';
  res._header =
    statusLineOf(status) +
    'Cache-Control: no-store\r\nX-Request-Id: ' +
    requestId +
    '\r\nContent-Type: application/json\r\nContent-Length: ' +
    length +
    '\r\nDate: ' +
    httpDate() +
    '\r\n' +
    keepAliveLinesOf(res) +
    '\r\n';
  res._headerSent = false;
  return true;
}
