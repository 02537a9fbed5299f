import { ApiError } from '../errors.js';
import type { CallerAuth, Request, Response } from '../core/request.js';
import { hashStrings, type Hash } from './hash.js';

/**
 * One audit record before it is a line: what the pipeline hands the broker (AuditInput), and
 * how a device turns it into the JSON object it writes (formatEntry), hashed with its salt.
 */

export interface AuditInput {
  request: Request;
  /** Who is calling, when the token was checked (null: unauthenticated, or refused before). */
  caller: CallerAuth | null;
  /** The caller's token expiry, Unix ms, 0 when it never expires. */
  tokenExpireTime?: number;
  /** The mount the request was routed to. */
  mountPoint?: string;
  /** Response lines only: the answer (null: 204 / 404). */
  response?: Response | null;
  /** The failure, when the request was refused or failed. */
  error?: unknown;
}

export interface FormatOptions {
  /** Write values as they are (no hashing): for debugging only. */
  logRaw: boolean;
  /** Hash token accessors too (Vault's default). */
  hmacAccessor: boolean;
}

/** Token store routes that carry a token in the path (`auth/token/lookup/<token>`): the tail is hashed. */
const TOKEN_IN_PATH = /^(auth\/token\/(?:lookup|renew|revoke|revoke-orphan)\/)(.+)$/;

/** What the error field says: a client error's message, never an internal error's detail. */
export function errorText(error: unknown): string {
  if (error === undefined) return '';
  return error instanceof ApiError && error.status < 500 ? error.message : 'internal error';
}

function responseData(response: Response): unknown {
  if (response.dataJson !== undefined) return JSON.parse(response.dataJson) as unknown;
  return response.data ?? null;
}

// The hashed text of the last serialized `data` seen (kv hands back the same string for a
// hot secret): its parse, hash walk and re-serialization are done once, not on every read.
let lastDataJson: string | undefined;
let lastHashValue: Hash | undefined;
let lastHashedText = '';

/** The response's `data` as the line shows it: hashed (unless raw), as JSON text. */
function dataText(response: Response, raw: boolean, hash: Hash): string {
  const json = response.dataJson;
  if (raw) return JSON.stringify(responseData(response));
  if (json === undefined) return JSON.stringify(hashStrings(response.data ?? null, hash));
  if (json !== lastDataJson || hash !== lastHashValue) {
    lastHashedText = JSON.stringify(hashStrings(JSON.parse(json) as unknown, hash));
    lastDataJson = json;
    lastHashValue = hash;
  }
  return lastHashedText;
}

/** The hashes a device writes with: one salt, with a memo each for tokens and accessors (hash.ts). */
export interface EntryHashes {
  value: Hash;
  token: Hash;
  accessor: Hash;
  /**
   * The device's `auth` member text by caller (callerOf keeps one object per token entry):
   * a client reading again and again is written the same member, made once.
   */
  authTexts?: WeakMap<CallerAuth, { clientToken: string; ttl: number; text: string }>;
}

/**
 * The `auth` and `request` members as JSON text (no braces): the same for the request line and
 * the response line of one request, so a device makes it once per request (file-device.ts).
 */
export function formatSections(input: AuditInput, hashes: EntryHashes, options: FormatOptions): string {
  const raw = options.logRaw;
  const token = (value: string): string => (raw || value === '' ? value : hashes.token(value));
  const { request, caller } = input;
  const expire = input.tokenExpireTime ?? 0;
  let auth = 'null';
  if (caller !== null) {
    const ttl = expire === 0 ? 0 : Math.max(0, Math.round((expire - Date.now()) / 1000));
    const known = hashes.authTexts?.get(caller);
    if (known !== undefined && known.clientToken === request.clientToken && known.ttl === ttl) auth = known.text;
    else {
      auth = JSON.stringify({
        client_token: token(request.clientToken),
        accessor: raw || !options.hmacAccessor || caller.accessor === '' ? caller.accessor : hashes.accessor(caller.accessor),
        display_name: caller.displayName,
        policies: caller.policies,
        metadata: caller.metadata,
        token_ttl: ttl,
      });
      hashes.authTexts?.set(caller, { clientToken: request.clientToken, ttl, text: auth });
    }
  }
  const match = raw ? null : TOKEN_IN_PATH.exec(request.path);
  const requestMember = JSON.stringify({
    id: request.id,
    operation: request.operation,
    mount_point: input.mountPoint ?? '',
    client_token: caller === null ? '' : token(request.clientToken),
    path: match ? match[1]! + hashes.value(match[2]!) : request.path,
    data: raw ? request.data : hashStrings(request.data, hashes.value),
    remote_address: request.remoteAddress,
  });
  return `"auth":${auth},"request":${requestMember}`;
}

let clockMs = 0;
let clockText = '';
/** The time as ISO text, made once per millisecond: two lines per request each want it. */
function isoNow(): string {
  const now = Date.now();
  if (now !== clockMs) {
    clockMs = now;
    clockText = new Date(now).toISOString();
  }
  return clockText;
}

/**
 * The entry as JSON text without its closing brace: chain.ts adds seq, crc and chain, then the
 * brace (taking a brace off again would copy the whole line: slicing a built-up string flattens it).
 */
export function formatEntry(
  type: 'request' | 'response',
  input: AuditInput,
  hashes: EntryHashes,
  options: FormatOptions,
  sections: string = formatSections(input, hashes, options),
): string {
  let text = `{"time":"${isoNow()}","type":"${type}",${sections}`;
  if (type === 'response') {
    const raw = options.logRaw;
    const response = input.response;
    // Most answers (every read) carry neither a token nor a lease: their tail is constant text.
    const plain = response !== undefined && response !== null && response.auth === undefined && !response.secret?.leaseId;
    const rest =
      response === undefined || response === null || plain
        ? null
        : {
            auth:
              response.auth === undefined
                ? null
                : {
                    client_token: raw ? response.auth.clientToken : hashes.token(response.auth.clientToken),
                    accessor: raw || !options.hmacAccessor ? response.auth.accessor : hashes.accessor(response.auth.accessor),
                    policies: response.auth.policies,
                    metadata: response.auth.metadata,
                    lease_duration: response.auth.leaseDuration,
                    renewable: response.auth.renewable,
                  },
            secret: response.secret?.leaseId ? { lease_id: response.secret.leaseId } : null,
          };
    // `data` first, as its own text (see dataText), then the rest of the block.
    if (plain) text += `,"response":{"data":${dataText(response, raw, hashes.value)},"auth":null,"secret":null}`;
    else text += rest === null ? ',"response":null' : `,"response":{"data":${dataText(response!, raw, hashes.value)},${JSON.stringify(rest).slice(1)}`;
  }
  return input.error === undefined ? `${text},"error":""` : `${text},"error":${JSON.stringify(errorText(input.error))}`;
}
