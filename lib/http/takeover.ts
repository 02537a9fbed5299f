import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { Socket } from 'node:net';

/**
 * Taking a connection away from node's HTTP parser, and giving it a fresh one. The LIST
 * support (list-method.ts) and the error answers for what node's parser refuses
 * (client-error.ts) both need it; this is the only file that touches node:http internals.
 *
 * The internals it relies on, checked on node 20.20, 22.23 and 24.22 (`.ci/run` runs every spec
 * under spec/http, list.spec.ts among them, on 22 and 24 as well as 20):
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
 * - `res._expect_continue`: set on the response of a request with `Expect: 100-continue`;
 *   while it is set and no 100 went out, node's writeHead closes the connection after the answer.
 * - `server.httpAllowHalfOpen` (false by default) decides whether a client's FIN ends the
 *   socket at once, dropping the answers still being made, or after the last of them; a TLS
 *   socket's own `allowHalfOpen` decides the same one layer down.
 * - A parse error's `reason`, llhttp's own words: the only way to tell an unsupported HTTP
 *   version from a malformed version line, which share HPE_INVALID_VERSION.
 * What node documents, and list-method.ts and client-error.ts also use: `clientError`'s
 * `err.code`/`err.bytesParsed`/`err.rawPacket`, and a ServerResponse's 'socket' event.
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

// In the single executable (a CommonJS bundle, scripts/package.mjs) import.meta.url is empty;
// any absolute path does to reach a built-in, so the executable's own stands in.
const { freeParser } = createRequire(import.meta.url || process.execPath)('_http_common') as {
  freeParser(parser: NodeParser, req: IncomingMessage | null, socket: Socket): void;
};

interface NodeSocket extends Socket {
  parser?: NodeParser | null;
  _httpMessage?: ServerResponse | null;
}

/**
 * A client that half-closes (sends FIN after its requests, as `curl` with a body piped in or
 * `printf … | nc -q` does) still gets every answer: node would end the socket at the FIN and
 * drop the answers of requests that had run, writes included. Kept open, though, a request
 * cut short by the FIN would wait for the rest of its body forever (node's parser does not
 * always call a truncated request an error): `truncated` is told of it.
 */
export function answerAfterHalfClose(server: Server, tls: boolean, truncated: (socket: Socket, request: IncomingMessage) => void): void {
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  const watch = (socket: Socket): void => {
    // A TLS socket ends its own half at the peer's FIN unless told otherwise; told only once the
    // handshake is done, so a client that gives up during it is still closed at once.
    if (tls) socket.allowHalfOpen = true;
    // Added after node's own 'end' listener, which has had its say by the time this runs.
    socket.on('end', () => {
      const request = requestBeingRead(socket);
      if (request) truncated(socket, request);
    });
  };
  server.on(tls ? 'secureConnection' : 'connection', watch);
}

/** Whether a parse error is llhttp refusing the HTTP version itself (HTTP/3.1, HTTP/1.2), not its syntax. */
export function isUnsupportedVersion(err: NodeJS.ErrnoException): boolean {
  return err.code === 'HPE_INVALID_VERSION' && (err as { reason?: unknown }).reason === 'Invalid HTTP version';
}

/** The request's body has arrived whole: its answer need not close the connection for want of a 100. */
export function forgetExpectContinue(res: ServerResponse): void {
  (res as ServerResponse & { _expect_continue: boolean })._expect_continue = false;
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
 * Puts bytes already read back in front of a released socket's stream and pauses it, until
 * `restartParser`. Held in the stream rather than beside it, they also keep it from ending
 * meanwhile: a client that sent its last requests and a FIN would otherwise see the socket
 * end before any parser read them.
 */
export function holdBytes(socket: Socket, bytes: Buffer): void {
  socket.pause();
  socket.unshift(bytes);
}

/**
 * Gives a released socket a fresh node parser, which reads through JS from now on (see the
 * header): `replay` first when given (released and restarted in the same turn, so nothing
 * can have been read in between), else what `holdBytes` put back, then whatever comes after.
 */
export function restartParser(server: Server, socket: Socket, replay?: Buffer): void {
  if (socket.destroyed) return;
  connectionListenerOf(server).call(server, socket);
  // Held bytes wait in a paused stream, and node's new 'data' listener does not resume it.
  // Resuming takes effect on the next tick, after the replay: a LIST in the replay may take
  // the socket over again, pause it, and the held bytes then stay held.
  if (socket.readableFlowing === false) socket.resume();
  if (replay) socket.emit('data', replay);
}
