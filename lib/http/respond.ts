import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Response } from '../core/request.js';
import { storeJsonHead } from './direct-head.js';

/**
 * Writes answers: JSON bodies, `Cache-Control: no-store` and `X-Request-Id` on everything,
 * 204 without a body. Headers travel as flat `[name, value, …]` arrays: node takes them as
 * they are, where building and spreading header objects cost more than the JSON itself.
 */

/** Read-only: the no-extra-headers case shares one frozen empty list. */
export type HeaderList = readonly string[];

const NO_HEADERS: HeaderList = Object.freeze([]);

/** `bytes`: the body's UTF-8 length where the caller knows it (envelopeBytes). */
export function sendJson(res: ServerResponse, status: number, requestId: string, body: string | undefined, extra: HeaderList = NO_HEADERS, bytes?: number): void {
  if (body === undefined || status === 204) {
    res.writeHead(status, ['Cache-Control', 'no-store', 'X-Request-Id', requestId, ...extra]);
    res.end();
    return;
  }
  // A string body: node joins it to its header text and writes both in one write, where a
  // Buffer body is a second chunk and a writev (about 2 µs of CPU more per answer, measured
  // with `npm run bench -- --only=bisect`).
  bytes ??= Buffer.byteLength(body, 'utf8');
  // Plain ASCII (as most answers are) is the same bytes in latin1, which node copies where
  // UTF-8 would be encoded character by character.
  const encoding = bytes === body.length ? 'latin1' : 'utf8';
  if (extra.length === 0 && storeJsonHead(res, status, requestId, bytes)) {
    res.end(body, encoding);
    return;
  }
  const length = String(bytes);
  // The usual answer's headers in one array literal: one allocation, no growing.
  const headers =
    extra.length === 0
      ? ['Cache-Control', 'no-store', 'X-Request-Id', requestId, 'Content-Type', 'application/json', 'Content-Length', length]
      : ['Cache-Control', 'no-store', 'X-Request-Id', requestId, ...extra, 'Content-Type', 'application/json', 'Content-Length', length];
  res.writeHead(status, headers);
  res.end(body, encoding);
}

/** A body that is not JSON (Prometheus text), with the same fixed headers as every answer. */
export function sendText(res: ServerResponse, status: number, requestId: string, body: string, contentType: string, extra: HeaderList = NO_HEADERS): void {
  res.writeHead(status, ['Cache-Control', 'no-store', 'X-Request-Id', requestId, ...extra, 'Content-Type', contentType, 'Content-Length', String(Buffer.byteLength(body, 'utf8'))]);
  res.end(body, 'utf8');
}

/**
 * A binary body streamed chunk by chunk with backpressure (a storage snapshot): its length is
 * known up front, so the client can tell a complete body from a cut one.
 */
export function sendBinary(res: ServerResponse, status: number, requestId: string, binary: NonNullable<Response['binary']>, extra: HeaderList = NO_HEADERS): void {
  const headers = ['Cache-Control', 'no-store', 'X-Request-Id', requestId, ...extra, 'Content-Type', binary.contentType, 'Content-Length', String(binary.length)];
  if (binary.filename !== undefined) headers.push('Content-Disposition', `attachment; filename="${binary.filename.replace(/["\\\r\n]/g, '_')}"`);
  res.writeHead(status, headers);
  // A client that goes away mid-stream: pipeline destroys the response, nothing else to do.
  pipeline(Readable.from(binary.chunks), res).catch(() => undefined);
}

export function sendErrors(res: ServerResponse, status: number, requestId: string, messages: string[], extra: HeaderList = NO_HEADERS): void {
  sendJson(res, status, requestId, JSON.stringify({ errors: messages }), extra);
}

function authJson(auth: NonNullable<Response['auth']>): string {
  return JSON.stringify({
    client_token: auth.clientToken,
    accessor: auth.accessor,
    policies: auth.policies,
    token_policies: auth.policies,
    metadata: auth.metadata,
    lease_duration: auth.leaseDuration,
    renewable: auth.renewable,
    entity_id: '',
    token_type: 'service',
    orphan: auth.orphan,
  });
}

/**
 * The response envelope of api.md §5, assembled around the serialized data: only `data`,
 * `warnings` and `auth` vary in shape, so the fixed frame is written by hand. `requestId`
 * comes from request-id.ts (hex digits and dashes), so it needs no escaping.
 */
export function envelopeJson(requestId: string, response: Response): string {
  const secret = response.secret;
  const leaseId = secret?.leaseId;
  const renewable = secret?.renewable === true;
  // Most answers have no lease, no warnings and no auth: their fixed text is one literal each.
  const lease = leaseId || renewable ? `","lease_id":${JSON.stringify(leaseId ?? '')},"renewable":${renewable},"lease_duration":` : NO_LEASE;
  const warnings = hasWarnings(response) ? JSON.stringify(response.warnings) : null;
  const tail = warnings === null && !response.auth ? PLAIN_TAIL : `,"wrap_info":null,"warnings":${warnings ?? 'null'},"auth":${response.auth ? authJson(response.auth) : 'null'}}`;
  const data = response.dataJson ?? JSON.stringify(response.data ?? null);
  return '{"request_id":"' + requestId + lease + (secret === undefined ? 0 : Number(secret.ttl)) + ',"data":' + data + tail;
}

function hasWarnings(response: Response): boolean {
  return response.warnings !== undefined && response.warnings.length > 0;
}

/**
 * The UTF-8 length of `body`, envelopeJson's text for `response`, without reading it where
 * the backend gave its data's length (kv does for every read): every other part of a plain envelope
 * (no lease id, warnings or auth) is ASCII, one byte a character. Else undefined: measure it.
 */
export function envelopeBytes(response: Response, body: string): number | undefined {
  const { dataJson, dataBytes, secret } = response;
  if (dataJson === undefined || dataBytes === undefined || secret?.leaseId || secret?.renewable === true || hasWarnings(response) || response.auth) return undefined;
  return body.length - dataJson.length + dataBytes;
}

/** Envelope keys a sys field may not replace at the top level: the envelope's own frame. */
const FRAME_KEYS = new Set(['request_id', 'data']);

/**
 * A `sys/` answer (api.md §5): its fields at the top level and the envelope around them.
 * Where a field shares a name with an envelope key (sys/leases/lookup's `renewable`), the
 * top level keeps the field, which is what old clients read there; `data` has it as well.
 */
export function topLevelJson(requestId: string, response: Response): string {
  const envelope = JSON.parse(envelopeJson(requestId, response)) as Record<string, unknown>;
  const out: Record<string, unknown> = { ...(response.data ?? {}) };
  for (const [key, value] of Object.entries(envelope)) {
    if (!Object.hasOwn(out, key) || FRAME_KEYS.has(key)) out[key] = value;
  }
  return JSON.stringify(out);
}

const NO_LEASE = '","lease_id":"","renewable":false,"lease_duration":';
const PLAIN_TAIL = ',"wrap_info":null,"warnings":null,"auth":null}';

/** api.md §4: the login cookie; HttpOnly and SameSite keep it away from scripts and other sites. */
export function tokenCookie(token: string, maxAge: number, secure: boolean): string {
  return `token=${token}; Path=/; Max-Age=${maxAge > 0 ? maxAge : 31536000}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}
