import http, { type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { hasBody } from './framing.js';
import { nextRequestId } from './request-id.js';
import { LIST_STAND_IN, refusedListStart, takeListMark, takeOverForList, type ParseError } from './list-method.js';
import { sendErrors } from './respond.js';
import { afterEarlierResponses, forgetExpectContinue, isUnsupportedVersion, releaseFromNode, requestBeingRead } from './takeover.js';

/**
 * What node's HTTP server would answer by itself, answered as api.md §1–§3 say instead: the
 * error envelope, `Cache-Control: no-store` and a request id on every one (node's own answers
 * have no body). And in order: a connection is refused only after every earlier response on
 * it has been written, the refusal is the answer to the request that failed, and nothing
 * after it is parsed, so no request runs whose answer would be an error meant for another.
 */

export interface ClientErrorOptions {
  /** How long a client may take to finish a request line it has started (the LIST takeover). */
  readHeaderTimeoutMs: number;
}

const REFUSALS: Readonly<Record<string, readonly [number, string]>> = {
  HPE_HEADER_OVERFLOW: [431, 'request headers too large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'request chunk extensions too large'],
  HPE_INVALID_METHOD: [400, 'malformed HTTP request: unknown method'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'request timed out'],
};
const MALFORMED = [400, 'malformed HTTP request'] as const;
const UNSUPPORTED_VERSION = [505, 'HTTP version not supported: use HTTP/1.1'] as const;

/** The answer to a parse error: 505 only for a real version (llhttp's code covers a bad version line too). */
function refusalFor(err: ParseError): readonly [number, string] {
  const code = err.code ?? '';
  if (isUnsupportedVersion(err)) return UNSUPPORTED_VERSION;
  return Object.hasOwn(REFUSALS, code) ? REFUSALS[code]! : MALFORMED;
}

const kRefused = Symbol('nomad.refused');

interface RefusedSocket extends Socket {
  [kRefused]?: true;
}

/**
 * For an answer that closes the connection (`Connection: close`: a missing Host, a body over
 * the limit), decided in the handler: node's parser goes on parsing whatever the client sent
 * after that request, and would hand it to the handler. Those requests must not run, since
 * their answers will never be written. Call it in the same turn as the decision.
 */
export function refuseWhatFollows(socket: Socket): void {
  (socket as RefusedSocket)[kRefused] = true;
}

/** Whether a request arrived behind a refusal on its connection (see refuseWhatFollows). */
export function arrivedAfterRefusal(socket: Socket): boolean {
  return (socket as RefusedSocket)[kRefused] === true;
}

/** How long a refused connection waits for the client to close before it is cut. */
const LINGER_MS = 2_000;
const CLOSE: readonly string[] = Object.freeze(['Connection', 'close']);

/** The `clientError` listener: a LIST is taken over, anything else refused in turn. */
export function createClientErrorListener(server: Server, options: ClientErrorOptions): (err: ParseError, socket: Duplex) => void {
  return (err, duplex) => {
    const socket = duplex as Socket;
    if (socket.destroyed) return;
    const code = err.code ?? '';
    if (!code.startsWith('HPE_') && code !== 'ERR_HTTP_REQUEST_TIMEOUT') {
      // A socket error (ECONNRESET, EPIPE…): there is no one left to answer.
      socket.destroy();
      return;
    }
    const reading = requestBeingRead(socket);
    const listStart = refusedListStart(err);
    releaseFromNode(socket);
    const [status, message] = refusalFor(err);
    const refuse = (): void => refuseInTurn(socket, status, message, reading);
    if (listStart) {
      takeOverForList({ server, socket, start: listStart, timeoutMs: options.readHeaderTimeoutMs, refuse });
      return;
    }
    if (code === 'HPE_CLOSED_CONNECTION') {
      // More after a request that said `Connection: close`, which node closes the socket after:
      // drop it as it comes, or bytes left unread at that close would reset the connection and
      // could cost the client the answers it is owed.
      socket.on('data', () => {});
      afterEarlierResponses(socket, () => closeGently(socket));
      return;
    }
    // Nothing after the failure is read again: hold it until the socket is closed.
    socket.pause();
    refuse();
  };
}

/** The client's FIN came in the middle of a request (answerAfterHalfClose): it is refused in turn. */
export function refuseTruncated(socket: Socket, request: IncomingMessage): void {
  releaseFromNode(socket);
  refuseInTurn(socket, 400, 'malformed HTTP request: the connection ended before the request did', request);
}

/**
 * Answers `status` once the earlier responses are out, then closes. When the failing request
 * had been handed to the handler already (its headers were in, its body was not), the answer
 * goes out as that request's own response, and the request is aborted so its handler stops.
 */
function refuseInTurn(socket: Socket, status: number, message: string, reading: IncomingMessage | null): void {
  if (reading) socket.once('close', () => reading.destroy(new Error('the connection was refused')));
  afterEarlierResponses(
    socket,
    (owner) => {
      // No response pending although the failing request had one: it was answered already
      // (say, a 404 sent before its body arrived). It needs no second answer.
      if (owner === null && reading !== null) {
        closeGently(socket);
        return;
      }
      if (owner) {
        if (!owner.headersSent) sendErrors(owner, status, nextRequestId(), [message], CLOSE);
        owner.once('finish', () => closeGently(socket));
        return;
      }
      if (socket.writable) socket.write(rawErrorResponse(status, message));
      closeGently(socket);
    },
    (owner) => owner.req === reading,
  );
}

/** A complete error response written straight to a socket no ServerResponse owns. */
function rawErrorResponse(status: number, message: string): string {
  const body = JSON.stringify({ errors: [message] });
  return (
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}\r\nCache-Control: no-store\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${nextRequestId()}\r\nConnection: close\r\n\r\n${body}`
  );
}

/**
 * Ends our side, then reads and drops whatever the client still sends until it closes too:
 * closing with unread bytes would reset the connection, and the client could lose the answer.
 * A client that never closes is cut after LINGER_MS.
 */
function closeGently(socket: Socket): void {
  if (socket.destroyed) return;
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.once('end', () => socket.destroy());
  socket.on('data', () => {});
  socket.end();
  socket.resume();
}

/**
 * `Expect: 100-continue` (node's `checkContinue` event). node writes the interim answer at
 * once, even when the request waits behind an earlier response: the interim bytes are then
 * buffered behind that response's not-yet-written header and come out inside its body. So a
 * request waiting its turn gets its 100 when its response gets the socket, unless its final
 * answer is made by then. In that case node closes the connection after the answer (the
 * client may still send a body), and requests already parsed behind it would run unanswered:
 * if the body has arrived whole there is nothing left to come and the connection stays, and
 * if not, nothing after it runs.
 */
export function continueInTurn(handler: (req: IncomingMessage, res: ServerResponse) => void): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (res.socket) {
      res.writeContinue();
      handler(req, res);
      return;
    }
    let continued = false;
    res.once('socket', () => {
      if (res.headersSent) return;
      continued = true;
      res.writeContinue();
    });
    const writeHead = res.writeHead;
    res.writeHead = function writeHeadInTurn(this: ServerResponse, ...args: unknown[]) {
      res.writeHead = writeHead;
      if (!continued) {
        if (req.complete || !hasBody(req)) forgetExpectContinue(res);
        else refuseWhatFollows(req.socket);
      }
      return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
    } as ServerResponse['writeHead'];
    handler(req, res);
  };
}

/** 417 for an `Expect` other than `100-continue` (node's `checkExpectation` event). */
export function answerUnknownExpectation(req: IncomingMessage, res: ServerResponse): void {
  // A LIST that carried it still used up its mark.
  if (req.method === LIST_STAND_IN) takeListMark(req);
  sendErrors(res, 417, nextRequestId(), ['expectation failed: only "Expect: 100-continue" is supported']);
}

/** CONNECT (node's `connect` event, the socket already released): 405 in turn, then close. */
export function answerConnect(_req: IncomingMessage, duplex: Duplex): void {
  const socket = duplex as Socket;
  // node removed its own listeners, its 'error' one included: a reset must not crash us.
  socket.on('error', () => {});
  socket.pause();
  afterEarlierResponses(socket, () => {
    if (socket.writable) socket.write(rawErrorResponse(405, 'method CONNECT is not supported'));
    closeGently(socket);
  });
}
