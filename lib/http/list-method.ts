import type { IncomingMessage, Server } from 'node:http';
import { Socket } from 'node:net';
import { Readable } from 'node:stream';

/**
 * Accepting the `LIST` method (api.md §1). Node's HTTP parser (llhttp) rejects unknown
 * methods before any handler runs, yet every Vault client sends `LIST`.
 *
 * Connections start on node's fast path, where the C++ parser reads the socket directly
 * and never hands the bytes to JavaScript (feeding every connection through JS costs about
 * a quarter of the throughput). The first `LIST` on a connection makes that parser fail
 * with HPE_INVALID_METHOD; `adoptForList`, called from the server's `clientError` event,
 * then moves the connection to a fresh parser fed through JS, where a request line
 * starting with `LIST ` is rewritten to `GET ` and the socket marked, so the handler can
 * turn the marked GET back into a list. Later requests on that connection, LIST or not,
 * take the JS path. Pipelined requests are not supported (no Vault client pipelines).
 *
 * This relies on node 20's http server internals (`socket.parser`, its listener names);
 * spec/http/edge.spec.ts and tls.spec.ts exercise it on plain and TLS keep-alive connections.
 */

const kAdopted = Symbol('nomad.listAdopted');
const kAtRequestStart = Symbol('nomad.atRequestStart');
const kListPending = Symbol('nomad.listPending');
const LIST_PREFIX = Buffer.from('LIST ');
const GET_PREFIX = Buffer.from('GET ');

/** The per-connection listeners node's http server installs, by function name. */
const NODE_LISTENERS: Record<string, string[]> = {
  data: ['bound socketOnData'],
  end: ['bound socketOnEnd'],
  close: ['bound socketOnClose'],
  drain: ['bound socketOnDrain'],
  error: ['socketOnError'],
  timeout: ['socketOnTimeout'],
  resume: ['onSocketResume'],
  pause: ['onSocketPause'],
};

interface HttpParser {
  _consumed?: boolean;
  unconsume(): void;
  remove(): void;
  close(): void;
}

interface MarkedSocket extends Socket {
  [kAdopted]?: boolean;
  [kAtRequestStart]?: boolean;
  [kListPending]?: boolean;
  parser?: HttpParser | null;
}

function startsWithList(chunk: Buffer): boolean {
  return chunk.length >= 5 && chunk[0] === 0x4c && chunk.subarray(0, 5).equals(LIST_PREFIX);
}

function rewrite(socket: MarkedSocket, chunk: Buffer): Buffer {
  socket[kListPending] = true;
  return Buffer.concat([GET_PREFIX, chunk.subarray(LIST_PREFIX.length)]);
}

/** Releases the failed parser the way node's own upgrade path does, then forgets node's listeners. */
function detachFromNode(socket: MarkedSocket): void {
  const parser = socket.parser;
  if (parser) {
    if (parser._consumed) parser.unconsume();
    parser._consumed = false;
    // Out of the server's connection list, or its request-timeout sweep would kill the socket.
    parser.remove();
    socket.parser = null;
    // We are inside this parser's own callback: close it once the stack has unwound.
    setImmediate(() => parser.close());
  }
  for (const [event, names] of Object.entries(NODE_LISTENERS)) {
    for (const listener of socket.listeners(event)) {
      if (names.includes((listener as { name: string }).name)) socket.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  // node wraps these while its parser owns the socket; the next connection setup wraps them again.
  socket.on = Socket.prototype.on;
  socket.addListener = Socket.prototype.addListener;
  socket.prependListener = Socket.prototype.prependListener;
}

/** Rewrites `LIST ` at the start of each request that arrives through JS from now on. */
function watchRequests(socket: MarkedSocket): void {
  const push = Readable.prototype.push;
  socket.push = function pushWithList(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (socket[kAtRequestStart] && Buffer.isBuffer(chunk)) {
      socket[kAtRequestStart] = false;
      if (startsWithList(chunk)) chunk = rewrite(socket, chunk);
    }
    return push.call(this, chunk, encoding);
  };
}

/**
 * From a `clientError` listener: if the error is node refusing a `LIST`, take the connection
 * over and replay the request; returns false (doing nothing) for any other error.
 */
export function adoptForList(server: Server, err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket, connectionEvent: 'connection' | 'secureConnection'): boolean {
  const marked = socket as MarkedSocket;
  const raw = err.rawPacket;
  if (err.code !== 'HPE_INVALID_METHOD' || !raw || !startsWithList(raw) || marked[kAdopted] || socket.destroyed) return false;
  marked[kAdopted] = true;
  detachFromNode(marked);
  // The handle stays marked as consumed, so the new parser reads through JS 'data' events.
  watchRequests(marked);
  marked[kAtRequestStart] = false;
  server.emit(connectionEvent, socket);
  socket.emit('data', rewrite(marked, raw));
  return true;
}

/** Whether the request being handled arrived as `LIST` (clears the mark). */
export function takeListMark(req: IncomingMessage): boolean {
  const socket = req.socket as MarkedSocket;
  if (!socket[kAdopted]) return false;
  // The next bytes after this request's end start a new request.
  req.once('end', () => {
    socket[kAtRequestStart] = true;
  });
  if (!socket[kListPending]) return false;
  socket[kListPending] = false;
  return true;
}
