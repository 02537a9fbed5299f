import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';
import { afterEarlierResponses, hasPendingResponse, holdBytes, restartParser } from './takeover.js';

/**
 * Accepting the `LIST` method (api.md §1). Node's HTTP parser (llhttp) knows no `LIST` and
 * fails the request with HPE_INVALID_METHOD before any handler runs, yet every Vault client
 * sends it.
 *
 * Connections start on node's fast path (the C++ parser reads the socket itself). When the
 * parser fails on a `LIST`, its error says where: llhttp stops on the `S` (`LI` is a prefix
 * of `LINK`), at `err.bytesParsed` within `err.rawPacket`, the chunk it was parsing. Every
 * byte before that point was parsed already, bodies included, and is never looked at again;
 * the request starts two bytes earlier. We then:
 *   1. release the connection from node's parser (takeover.ts) and read the request's first
 *      five bytes, which must be `LIST `;
 *   2. wait until every earlier response on the connection has been written, so answers
 *      stay in order;
 *   3. rewrite `LIST` to `LINK`, a method of the same length node accepts and nomad-api
 *      never serves, mark the socket, and give it a fresh parser that reads the rewritten
 *      request, then everything after it, exactly once.
 * The handler turns the next request on a marked socket, a `LINK` by construction, back into
 * a list. A later `LIST` on the same connection fails the new parser in the same way and is
 * taken over the same way. Because the rewrite keeps the length and starts where llhttp
 * itself found a request, framing cannot shift, whatever the bytes around it.
 */

/** What a `LIST` request line is rewritten to. */
export const LIST_STAND_IN = 'LINK';

const kListNext = Symbol('nomad.listNext');
const LIST_ = Buffer.from('LIST ');
const S = 0x53;

interface MarkedSocket extends Socket {
  [kListNext]?: boolean;
}

export type ParseError = NodeJS.ErrnoException & { rawPacket?: unknown; bytesParsed?: unknown };

/**
 * The start of a `LIST` request the parser refused, as far as this chunk holds it, or null
 * when the error is anything else. When the request began in an earlier chunk (the parser
 * consumed `L` or `LI` from it), the missing bytes are filled in: llhttp was at a request
 * start and failed on an `S` after them, so they were `LI`, or (as `BI` of `BIND`) an
 * invalid method that would have been refused anyway; treating it as a LIST of the client's
 * own path, with its own token, gives the client nothing it could not ask for.
 */
export function refusedListStart(err: ParseError): Buffer | null {
  const raw = err.rawPacket;
  const at = err.bytesParsed;
  if (err.code !== 'HPE_INVALID_METHOD' || !Buffer.isBuffer(raw) || typeof at !== 'number') return null;
  if (!Number.isInteger(at) || at < 0 || at >= raw.length || raw[at] !== S) return null;
  const seen = raw.subarray(Math.max(0, at - 2), at);
  if (!LIST_.subarray(2 - seen.length, 2).equals(seen)) return null;
  return Buffer.concat([LIST_.subarray(0, 2), raw.subarray(at)]);
}

export interface ListTakeover {
  server: Server;
  socket: Socket;
  /** The request's bytes from its first, as far as they have arrived. */
  start: Buffer;
  /** How long the client may take to send the rest of `LIST `. */
  timeoutMs: number;
  /** Called instead when the request turns out not to be a LIST (or never completes). */
  refuse(): void;
}

/** Takes a connection over at a refused LIST (see the header); the socket must be released from node already. */
export function takeOverForList({ server, socket, start, timeoutMs, refuse }: ListTakeover): void {
  const restart = (bytes: Buffer, replay: boolean): void => {
    bytes.write(LIST_STAND_IN, 0, 'latin1');
    (socket as MarkedSocket)[kListNext] = true;
    if (replay) restartParser(server, socket, bytes);
    else {
      holdBytes(socket, bytes);
      afterEarlierResponses(socket, () => restartParser(server, socket));
    }
  };
  // The usual case, an idle connection and the request line in hand, finishes in this turn.
  if (start.length >= LIST_.length && !hasPendingResponse(socket)) {
    if (isList(start)) restart(start, true);
    else refuse();
    return;
  }
  // Any wait means holding the socket's bytes until then.
  socket.pause();
  readAtLeast(socket, start, LIST_.length, timeoutMs, (bytes) => {
    if (bytes === null || !isList(bytes)) refuse();
    else restart(bytes, false);
  });
}

function isList(bytes: Buffer): boolean {
  return bytes.subarray(0, LIST_.length).equals(LIST_);
}

/**
 * Reads from a released, paused socket until `have` holds at least `length` bytes, then
 * pauses it again and hands over everything read; null if the client stops first.
 */
function readAtLeast(socket: Socket, have: Buffer, length: number, timeoutMs: number, then: (bytes: Buffer | null) => void): void {
  if (have.length >= length) {
    then(have);
    return;
  }
  let bytes = have;
  let timer: NodeJS.Timeout | undefined;
  const finish = (result: Buffer | null): void => {
    socket.pause();
    socket.off('data', onData).off('end', onStop).off('close', onStop);
    clearTimeout(timer);
    then(result);
  };
  const onData = (chunk: Buffer): void => {
    bytes = Buffer.concat([bytes, chunk]);
    if (bytes.length >= length) finish(bytes);
  };
  const onStop = (): void => finish(null);
  socket.on('data', onData).once('end', onStop).once('close', onStop);
  if (timeoutMs > 0) timer = setTimeout(onStop, timeoutMs);
  socket.resume();
}

/** Whether this request arrived as `LIST` (call once per request whose method is LIST_STAND_IN). */
export function takeListMark(req: IncomingMessage): boolean {
  const socket = req.socket as MarkedSocket;
  if (socket[kListNext] !== true) return false;
  socket[kListNext] = false;
  return true;
}
