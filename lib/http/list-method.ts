import type { Socket } from 'node:net';
import { Readable } from 'node:stream';

/**
 * Accepting the `LIST` method (api.md §1). Node's HTTP parser rejects unknown methods
 * before any handler runs, yet every Vault client sends `LIST`. So each connection's
 * decrypted byte stream is watched at request boundaries: a request line starting with
 * `LIST ` is rewritten to `GET ` and the socket is marked, and the handler turns the
 * marked GET back into a list. This assumes no pipelining (no client of ours pipelines).
 *
 * Node normally feeds the parser straight from the C++ stream handle, bypassing JS; the
 * patch marks the handle as consumed so bytes flow through `push`, where we can see them.
 */

const kAtRequestStart = Symbol('nomad.atRequestStart');
const kListPending = Symbol('nomad.listPending');
const LIST_PREFIX = Buffer.from('LIST ');
const GET_PREFIX = Buffer.from('GET ');

interface MarkedSocket extends Socket {
  [kAtRequestStart]?: boolean;
  [kListPending]?: boolean;
  _handle?: { _consumed?: boolean } | null;
}

function startsWithList(chunk: Buffer): boolean {
  return chunk.length >= 5 && chunk[0] === 0x4c && chunk.subarray(0, 5).equals(LIST_PREFIX);
}

/** Call from a `connection`/`secureConnection` listener that runs before node:http's own. */
export function acceptListMethod(socket: Socket): void {
  const marked = socket as MarkedSocket;
  if (marked._handle) marked._handle._consumed = true;
  marked[kAtRequestStart] = true;
  const push = Readable.prototype.push;
  marked.push = function pushWithList(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (marked[kAtRequestStart] && Buffer.isBuffer(chunk)) {
      marked[kAtRequestStart] = false;
      if (startsWithList(chunk)) {
        marked[kListPending] = true;
        chunk = Buffer.concat([GET_PREFIX, chunk.subarray(LIST_PREFIX.length)]);
      }
    }
    return push.call(this, chunk, encoding);
  };
}

/** Whether the request being handled on this socket arrived as `LIST` (clears the mark). */
export function takeListMark(socket: Socket): boolean {
  const marked = socket as MarkedSocket;
  if (!marked[kListPending]) return false;
  marked[kListPending] = false;
  return true;
}

/** The request was read to its end: the next bytes on this socket start a new request. */
export function markRequestBoundary(socket: Socket | null): void {
  if (socket) (socket as MarkedSocket)[kAtRequestStart] = true;
}
