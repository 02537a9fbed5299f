import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, statusOf } from '../errors.js';
import { nextRequestId } from './request-id.js';
import type { Core, RateLimitVerdict } from '../core/core.js';
import type { Operation, Request, Response } from '../core/request.js';
import type { Logger } from '../log.js';
import { parseJsonObject, readBody, tooLarge } from './body.js';
import { declaredTooLarge, hasBody } from './framing.js';
import { arrivedAfterRefusal, refuseWhatFollows } from './client-error.js';
import { connectionFacts } from './connection.js';
import type { JsonLimits } from './json-limits.js';
import { LIST_STAND_IN, takeListMark } from './list-method.js';
import { loggedPath } from './redact.js';
import { envelopeBytes, envelopeJson, sendBinary, sendErrors, sendJson, sendText, tokenCookie, topLevelJson, type HeaderList } from './respond.js';
import { rawBodyOf, type EdgeRawBody } from './raw-body.js';
import { SAMPLE_MEAN, sampledTicks, ticks, UNTIMED } from '../metrics/clock.js';
import { requestFinished } from './request-log.js';

/**
 * The HTTP edge: turns a node:http request into a core Request (framing, method, token,
 * help/list flags) and the core's answer into JSON. Nothing here knows about backends.
 */

/**
 * The limits are read from this object on each request, not copied: a reload (reload.ts)
 * replaces them in place, and the next request sees the new ones at no extra cost.
 */
export interface HandlerOptions {
  core: Core;
  logger: Logger;
  /** Bytes; bigger bodies get 413 (api.md §1). */
  maxRequestSize: number;
  /** Over any of these a body gets 400 before a handler sees it (api.md §1). */
  jsonLimits: JsonLimits;
  /** Called for every 500, with the real error (tests fail on unexpected ones). */
  onInternalError?: (err: unknown, requestId: string) => void;
}

const PREFIX = '/v1/';
const NO_HEADERS: HeaderList = Object.freeze([]);
const WRITE_METHODS = new Set(['POST', 'PUT']);
const RATE_LIMITED = 'rate limit quota exceeded';

/**
 * Bodies of refused requests up to this size are drained (node reads and drops them after
 * the answer) so the connection stays usable; bigger ones, and bodies sent in chunks whose
 * size is unknown, close it instead: a refusal must stay cheap.
 */
const DRAIN_LIMIT = 64 << 10;

function worthDraining(res: ServerResponse): boolean {
  const length = res.req.headers['content-length'];
  return length !== undefined && Number(length) <= DRAIN_LIMIT;
}

function flag(value: string | null, name: string): boolean {
  if (value === null) return false;
  switch (value.toLowerCase()) {
    case '':
    case 'false':
    case '0':
      return false;
    case 'true':
    case '1':
      return true;
    default:
      throw new ApiError('ERR_INVALID_QUERY', `query parameter '${name}' must be true or false`);
  }
}

/** Precedence (api.md §4): X-Nomad-Token, X-Vault-Token, Authorization: Bearer, the `token` cookie. */
export function clientTokenOf(headers: IncomingMessage['headers']): string {
  const direct = headers['x-nomad-token'] || headers['x-vault-token'];
  if (typeof direct === 'string' && direct !== '') return direct.trim();
  const authorization = headers.authorization;
  if (authorization && /^bearer /i.test(authorization)) return authorization.slice(7).trim();
  const cookie = headers.cookie;
  if (cookie) {
    for (const part of cookie.split(';')) {
      const eq = part.indexOf('=');
      if (eq !== -1 && part.slice(0, eq).trim() === 'token') return decodeCookie(part.slice(eq + 1).trim());
    }
  }
  return '';
}

const ABSOLUTE_FORM = /^https?:\/\/[^/?#]*/i;

/**
 * The request target as a path and query. RFC 9112 §3.2.2 has servers accept the absolute
 * form (`GET http://host/v1/… HTTP/1.1`), as Go's server and so Vault do; the authority in it
 * is ignored, as is Host, since a listener serves one site.
 */
function originForm(target: string): string {
  if (target.charCodeAt(0) === 0x2f) return target;
  const authority = ABSOLUTE_FORM.exec(target);
  return authority === null ? target : target.slice(authority[0].length) || '/';
}

/** A cookie value that is not valid percent-encoding is taken as is (and fails as a token: 401, not 500). */
function decodeCookie(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function operationOf(method: string, listed: boolean, query: URLSearchParams | null): Operation | null {
  switch (method) {
    case 'GET':
      return listed || flag(query?.get('list') ?? null, 'list') ? 'list' : 'read';
    case 'HEAD':
      // A GET without the body (node drops it): load balancers probe sys/health this way.
      return 'read';
    case 'POST':
    case 'PUT':
      return 'update';
    case 'DELETE':
      return 'delete';
    default:
      return null;
  }
}

export function createRequestHandler(options: HandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const { core, logger } = options;
  // Metrics and the debug line for every answer (request-log.ts).
  const finished = requestFinished(core.metrics, logger);

  /** `request` is undefined when it failed before it could be parsed. */
  const fail = (res: ServerResponse, err: unknown, requestId: string, request: Request | undefined): void => {
    // The edge answered already (a refused connection: client-error.ts) and aborted the body.
    if (res.headersSent) return;
    const status = statusOf(err);
    if (status === 500) {
      logger.error('request failed', { request_id: requestId, error: err });
      options.onInternalError?.(err, requestId);
      sendErrors(res, 500, requestId, ['internal error']);
      finished(res, request, requestId, 500);
      return;
    }
    const apiError = err as ApiError;
    let extra: HeaderList = apiError.headers ? Object.entries(apiError.headers).flat() : NO_HEADERS;
    // Stop reading: the rest of the body is never consumed, so the connection cannot be reused.
    if (apiError.code === 'ERR_BODY_TOO_LARGE') extra = [...extra, 'Connection', 'close'];
    // A raw body refused unread (raw-body.ts): too big to drain, so the connection goes.
    else if (request?.rawBody !== undefined && !(request.rawBody as EdgeRawBody).started && !worthDraining(res)) extra = [...extra, 'Connection', 'close'];
    if (extra.some((name, i) => i % 2 === 0 && name.toLowerCase() === 'connection')) refuseWhatFollows(res.req.socket);
    sendErrors(res, status, requestId, [apiError.message], extra);
    finished(res, request, requestId, status);
  };

  const answer = (res: ServerResponse, request: Request, response: Response | null): void => {
    let extra: HeaderList = response?.headers ? Object.entries(response.headers).flat() : NO_HEADERS;
    if (response === null) {
      if (request.operation === 'read' || request.operation === 'list') {
        sendErrors(res, 404, request.id, [`no value found at '${request.path}'`], extra);
        finished(res, request, request.id, 404);
      } else {
        sendJson(res, 204, request.id, undefined, extra);
        finished(res, request, request.id, 204);
      }
      return;
    }
    const status = response.status ?? 200;
    if (response.binary !== undefined) {
      sendBinary(res, status, request.id, response.binary, extra);
      finished(res, request, request.id, status);
      return;
    }
    if (response.text !== undefined) {
      sendText(res, status, request.id, response.text.body, response.text.contentType, extra);
      finished(res, request, request.id, status);
      return;
    }
    if (response.setCookie && response.auth) {
      // Only requests over TLS carry `tls`: their cookie gets `Secure`.
      extra = [...extra, 'Set-Cookie', tokenCookie(response.auth.clientToken, response.auth.leaseDuration, request.tls !== undefined)];
    }
    if (!response.raw && !response.topLevel) {
      const envelope = envelopeJson(request.id, response);
      sendJson(res, status, request.id, envelope, extra, envelopeBytes(response, envelope));
    } else {
      sendJson(res, status, request.id, response.raw ? JSON.stringify(response.data ?? {}) : topLevelJson(request.id, response), extra);
    }
    finished(res, request, request.id, status);
  };

  const reply = (res: ServerResponse, request: Request, response: Response | null): void => {
    try {
      answer(res, request, response);
    } catch (err) {
      fail(res, err, request.id, request);
    }
  };

  /** From here on the request is timed whatever the sampling said: it is not a fast-path answer. */
  const timeFully = (request: Request): void => {
    if (request.timeWeight === 1 && request.receivedAt !== UNTIMED) return;
    if (request.receivedAt === UNTIMED) request.receivedAt = ticks();
    request.timeWeight = 1;
  };

  /**
   * Hands the request to core and its answer (or error) to the client. A hot cached read is
   * answered by core's fast path within this call, as a bare node:http server would; every
   * other request takes the pipeline and is answered when it settles.
   */
  const dispatch = (res: ServerResponse, request: Request): void => {
    let now: Response | null | undefined;
    let logged: Promise<Response | null> | undefined;
    try {
      now = core.answerNow(request);
      // With an audit device enabled, the hot read is answered once both its lines are written.
      if (now === undefined) logged = core.answerLogged(request);
    } catch (err) {
      // The fast path steps aside for every request failure: this is a bug, answered 500.
      fail(res, err, request.id, request);
      return;
    }
    if (now !== undefined) {
      reply(res, request, now);
      return;
    }
    if (logged !== undefined) {
      logged.then(
        (response) => reply(res, request, response),
        (err: unknown) => fail(res, err, request.id, request),
      );
      return;
    }
    timeFully(request);
    core.handleRequest(request).then(
      (response) => reply(res, request, response),
      (err: unknown) => fail(res, err, request.id, request),
    );
  };

  // Not async, on purpose: the common request (no body) goes from here to core without a
  // promise of its own (an async function also allocates its whole frame on every call).
  return (req, res) => {
    // Behind an answer that closes the connection: never run, never answered (client-error.ts).
    if (arrivedAfterRefusal(req.socket)) return;
    // Timed: every request with debug lines on (they show each one's duration), else about one
    // in SAMPLE_MEAN here and every one that goes on to the pipeline or sends a body
    // (timeFully); metrics/clock.ts says why. The level is read per request: a reload may change it.
    const level = logger.level;
    const timeAll = level === 'debug' || level === 'trace';
    const start = timeAll ? ticks() : sampledTicks();
    const requestId = nextRequestId();
    let request: Request;
    try {
      checkFraming(req);
      request = parseRequest(req, requestId, req.method === LIST_STAND_IN && takeListMark(req), start, timeAll || start === UNTIMED ? 1 : SAMPLE_MEAN);
    } catch (err) {
      fail(res, err, requestId, undefined);
      return;
    }
    const withBody = hasBody(req);
    if (withBody) timeFully(request);
    const maxRequestSize = options.maxRequestSize;
    // A raw-body route's body goes on unread, outside max_request_size (raw-body.ts).
    if (withBody) request.rawBody = rawBodyOf(req, request.path);
    if (withBody && request.rawBody === undefined && declaredTooLarge(req, maxRequestSize)) {
      // Now, not once a promise settles: node may be about to parse the next request.
      // Framing comes before the rate limit (api.md §2), and this reads nothing either.
      fail(res, tooLarge(maxRequestSize), requestId, request);
      return;
    }
    const limited = core.rateLimit(request);
    if (limited !== undefined && !admitted(res, request, limited, withBody)) return;
    if (!withBody || request.rawBody !== undefined) {
      dispatch(res, request);
      return;
    }
    readBody(req, maxRequestSize).then(
      (body) => {
        try {
          // As in Vault, a read's parameters come from the query string, whatever the body says.
          // (A LIST arrives here as GET: its request line was rewritten.)
          if (WRITE_METHODS.has(req.method ?? '') && request.operation !== 'read' && request.operation !== 'list') request.data = parseJsonObject(body, options.jsonLimits);
        } catch (err) {
          fail(res, err, requestId, request);
          return;
        }
        dispatch(res, request);
      },
      (err: unknown) => fail(res, err, requestId, request),
    );
  };

  /**
   * Applies a rate-limit verdict: a refusal is answered here (429), before the body is read;
   * an admitted request gets the X-Ratelimit-* headers when they are enabled.
   */
  function admitted(res: ServerResponse, request: Request, verdict: RateLimitVerdict, withBody: boolean): boolean {
    const headers = verdict.headers;
    if (verdict.allowed) {
      if (headers !== undefined) {
        res.setHeader('X-Ratelimit-Limit', String(headers.limit));
        res.setHeader('X-Ratelimit-Remaining', String(headers.remaining));
        res.setHeader('X-Ratelimit-Reset', String(headers.reset));
      }
      return true;
    }
    const extra = ['Retry-After', String(verdict.retryAfter)];
    if (headers !== undefined) extra.push('X-Ratelimit-Limit', String(headers.limit), 'X-Ratelimit-Remaining', '0', 'X-Ratelimit-Reset', String(headers.reset));
    if (withBody && !worthDraining(res)) {
      extra.push('Connection', 'close');
      refuseWhatFollows(res.req.socket);
    }
    sendErrors(res, 429, request.id, [RATE_LIMITED], extra);
    core.metrics.rateLimited.inc();
    // Refused before the core routed it: routed here, so the 429 is counted under its route.
    const route = core.mounts.route(request.path);
    request.routedMount = route?.mount;
    request.routedPath = route?.path;
    finished(res, request, request.id, 429);
    return false;
  }

  /** What node's parser lets through but HTTP/1.1 refuses: a missing Host, another major version. */
  function checkFraming(req: IncomingMessage): void {
    if (req.httpVersionMajor !== 1) {
      throw new ApiError('ERR_HTTP_VERSION', 'HTTP version not supported: use HTTP/1.1', { headers: { Connection: 'close' } });
    }
    if (req.httpVersionMinor === 1 && req.headers.host === undefined) {
      throw new ApiError('ERR_INVALID_REQUEST', 'missing required Host header', { headers: { Connection: 'close' } });
    }
  }

  /** The core Request for a node request, body aside (its data is filled in once read); throws on a bad path or query. */
  function parseRequest(req: IncomingMessage, requestId: string, listed: boolean, receivedAt: number, timeWeight: number): Request {
    const url = originForm(req.url ?? '/');
    const q = url.indexOf('?');
    const rawPath = q === -1 ? url : url.slice(0, q);
    let decoded: string | null = rawPath;
    if (rawPath.includes('%')) {
      try {
        decoded = decodeURIComponent(rawPath);
      } catch {
        decoded = null;
      }
    }
    if (logger.level === 'trace') logger.trace('request', { request_id: requestId, method: listed ? 'LIST' : req.method, path: loggedPath(decoded) });
    if (!rawPath.startsWith(PREFIX)) throw new ApiError('ERR_NOT_FOUND', 'not found: every route is under /v1/');
    if (decoded === null) throw new ApiError('ERR_INVALID_PATH', 'the request path is not valid percent-encoding');
    const path = decoded.slice(PREFIX.length);
    const query = q === -1 ? null : new URLSearchParams(url.slice(q + 1));
    const method = listed ? 'GET' : (req.method ?? 'GET');
    const help = flag(query?.get('help') ?? null, 'help');
    const mapped = operationOf(method, listed, query);
    const operation: Operation = help ? 'help' : (mapped ?? 'read');

    const plainQuery: Record<string, string> = {};
    if (query) {
      for (const [key, value] of query) if (key !== 'help' && key !== 'list') plainQuery[key] = value;
    }
    const connection = connectionFacts(req.socket);
    const request: Request = {
      id: requestId,
      operation,
      path,
      target: url,
      // A read's parameters are its query; a write's come from the body, once read.
      data: operation === 'read' || operation === 'list' ? plainQuery : {},
      query: plainQuery,
      clientToken: clientTokenOf(req.headers),
      remoteAddress: connection.remoteAddress,
      tls: connection.tls,
      tokenMemo: connection.tokenMemo,
      receivedAt,
      timeWeight,
      // Set by the core once routed; declared here so every Request has one shape.
      routedMount: undefined,
      routedPath: undefined,
      rawBody: undefined,
    };
    if (mapped === null && !help) request.unsupportedMethod = method;
    return request;
  }
}
