import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';

/**
 * Taking a connection away from node's HTTP parser, and giving it a fresh one. The LIST
 * support (list-method.ts) and the error answers for what node's parser refuses
 * (client-error.ts) both need it; this is the only file that touches node:http internals.
 *
 * The internals it relies on, checked on node 20.20, 22.23 and 24.22 (spec/http/list.spec.ts
 * and the edge specs run on each; `.ci/run` runs them on 24 as well as 20):
 * - `socket.parser` is the connection's HTTPParser; `parser.incoming` the request it is
 *   reading. A fresh connection's parser has *consumed* the socket: the C++ parser reads it
 *   directly until it is unconsumed. `freeParser(parser, req, socket)` from `_http_common`
 *   (what node's own upgrade path calls) unconsumes it, takes it off the server's connection
 *   list (swept for header/request timeouts) and returns it to node's parser pool.
 * - After `unconsume()`, `socket._handle._consumed` stays true, so the next parser the server
 *   sets up reads the socket through JS 'data' events: every byte passes through the socket's
 *   stream, where `unshift()` can put bytes back in front.
 * - The per-connection listeners `connectionListenerInternal` (lib/_http_server.js) adds, known
 *   by their function names (NODE_LISTENERS), and its wrappers of `socket.on`/`addListener`/
 *   `prependListener`/`setEncoding`.
 * - `socket._httpMessage` is the response that owns the socket. Responses of later pipelined
 *   requests queue behind it and get the socket, synchronously, in the owner's 'finish'
 *   listener (resOnFinish), so `_httpMessage === null` means no response is pending.
 * - The server's listener that sets up a connection is named `connectionListener` (on
 *   'connection' for http, 'secureConnection' for https).
 * What node documents, and this also uses: `clientError`'s `err.bytesParsed`/`err.rawPacket`.
 */

/** The per-connection listeners node's http server installs, by function name. */
const NODE_LISTENERS: Readonly<Record<string, readonly string[]>> = {
  data: ['bound socketOnData'],
  end: ['bound socketOnEnd'],
  close: ['bound socketOnClose'],
  drain: ['bound socketOnDrain'],
  error: ['socketOnError'],
  timeout: ['socketOnTimeout'],
  resume: ['onSocketResume'],
  pause: ['onSocketPause'],
};

interface NodeParser {
  incoming?: IncomingMessage | null;
}

const { freeParser } = createRequire(import.meta.url)('_http_common') as {
  freeParser(parser: NodeParser, req: IncomingMessage | null, socket: Socket): void;
};

interface NodeSocket extends Socket {
  parser?: NodeParser | null;
  _httpMessage?: ServerResponse | null;
}

/** The request node's parser is in the middle of (its headers are in, its body is not), if any. */
export function requestBeingRead(socket: Socket): IncomingMessage | null {
  const incoming = (socket as NodeSocket).parser?.incoming;
  return incoming && !incoming.complete ? incoming : null;
}

/**
 * Stops node's parser on this socket: from here no byte is parsed until `restartParser`.
 * Responses already under way carry on. The socket still flows: whoever does not restart it
 * in the same turn must pause it, or what arrives meanwhile is lost.
 */
export function releaseFromNode(socket: Socket): void {
  const parser = (socket as NodeSocket).parser;
  if (parser) freeParser(parser, null, socket);
  for (const [event, names] of Object.entries(NODE_LISTENERS)) {
    for (const listener of socket.listeners(event)) {
      if (names.includes((listener as { name: string }).name)) socket.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  socket.on = Socket.prototype.on;
  socket.addListener = Socket.prototype.addListener;
  socket.prependListener = Socket.prototype.prependListener;
  socket.setEncoding = Socket.prototype.setEncoding;
  // node's error listener replaces itself with a no-op when it runs; keep one in any case.
  if (socket.listenerCount('error') === 0) socket.on('error', () => {});
}

/** Whether a response is still being written on the socket (or queued behind one). */
export function hasPendingResponse(socket: Socket): boolean {
  return ((socket as NodeSocket)._httpMessage ?? null) !== null;
}

/**
 * Calls `then` once no earlier response is pending on the socket (with null), or, when
 * `stopAt` is given, once the response owning the socket is the one `stopAt` accepts (with
 * it). Never calls it if the socket is destroyed first.
 */
export function afterEarlierResponses(
  socket: Socket,
  then: (owner: ServerResponse | null) => void,
  stopAt?: (owner: ServerResponse) => boolean,
): void {
  const check = (): void => {
    if (socket.destroyed) return;
    const owner = (socket as NodeSocket)._httpMessage ?? null;
    if (owner === null || stopAt?.(owner)) then(owner);
    // node's own 'finish' listener ran first and gave the socket to the next response, if any.
    else owner.once('finish', check);
  };
  check();
}

const connectionListeners = new WeakMap<Server, (socket: Socket) => void>();

function connectionListenerOf(server: Server): (socket: Socket) => void {
  let listener = connectionListeners.get(server);
  if (!listener) {
    const all = [...server.listeners('secureConnection'), ...server.listeners('connection')];
    listener = all.find((fn) => (fn as { name: string }).name === 'connectionListener') as ((socket: Socket) => void) | undefined;
    if (!listener) throw new Error("node:http internals changed: the server has no 'connectionListener'");
    connectionListeners.set(server, listener);
  }
  return listener;
}

/**
 * Gives a released socket a fresh node parser that reads `replay` first, then whatever the
 * socket receives after it. The parser reads through JS from now on (see the header).
 */
export function restartParser(server: Server, socket: Socket, replay: Buffer): void {
  if (socket.destroyed || socket.readableEnded) {
    socket.destroy();
    return;
  }
  connectionListenerOf(server).call(server, socket);
  if (socket.readableFlowing === false) {
    // Paused while we waited: the replay goes in front of whatever was read meanwhile, and
    // node's new 'data' listener does not resume a paused stream by itself.
    socket.unshift(replay);
    socket.resume();
  } else {
    // Released and restarted in one turn: nothing can have been read in between.
    socket.emit('data', replay);
  }
}
