/**
 * Every error the server answers with carries a stable code. This file alone maps codes to
 * HTTP status (api.md §2), so tests assert codes and statuses, never message wording.
 */
export const STATUS = {
  // 400: the request is refused as sent. Each kind of refusal has its own code, all 400.
  /** A malformed request that fits no other code: unreadable body stream, no Host header, an oversized stored value. */
  ERR_INVALID_REQUEST: 400,
  /** A required field or parameter is absent (or empty), e.g. "missing required field 'x'", "missing data fields". */
  ERR_MISSING_FIELD: 400,
  /** A field has the wrong type or format: string, int, bool, duration, list, map, CIDR. */
  ERR_INVALID_FIELD: 400,
  /** The body is not UTF-8, not JSON, not a JSON object, or over a JSON limit (depth, keys, string length…). */
  ERR_INVALID_JSON: 400,
  /** A bad path: undecodable request path, invalid storage key or prefix, reserved key, secret path ending in "/". */
  ERR_INVALID_PATH: 400,
  /** A query parameter has a value the route does not accept. */
  ERR_INVALID_QUERY: 400,
  /** The mount table refuses: bad or reserved mount path, unknown type, built-in type, overlap, no such mount, protected mount. */
  ERR_INVALID_MOUNT: 400,
  /** A policy that does not parse, an invalid policy name, or a write/delete of the root or default policy. */
  ERR_INVALID_POLICY: 400,
  /** A token cannot be created as asked: type, negative counts or TTLs, id, policies, a parent with limited uses, no lifetime. */
  ERR_INVALID_TOKEN_PARAMS: 400,
  /** A renewal of a lease or token that is not renewable. */
  ERR_NOT_RENEWABLE: 400,
  /** A rekey step that does not fit the rekey state: one already in progress, none in progress, wrong nonce. */
  ERR_REKEY: 400,
  /** The unseal progress cannot be reset: nomad is already unsealed. */
  ERR_ALREADY_UNSEALED: 400,
  /** The operation needs an initialized nomad. */
  ERR_NOT_INITIALIZED: 400,
  /** Init was called on an initialized nomad. */
  ERR_ALREADY_INITIALIZED: 400,
  /** Key shares and threshold that cannot make a seal. */
  ERR_INVALID_SEAL_CONFIG: 400,
  /** A key or key share that is malformed or does not open the barrier. */
  ERR_INVALID_KEY: 400,
  /** A login whose credentials do not prove who the caller is (one message, whatever part was wrong). */
  ERR_INVALID_CREDENTIALS: 400,
  /** No valid token, or the token's policies do not allow the request. */
  ERR_PERMISSION_DENIED: 401,
  /** Nothing at the path (or a token, lease or route that does not exist). */
  ERR_NOT_FOUND: 404,
  /** The path does not support the operation or method (sent with `Allow`). */
  ERR_UNSUPPORTED_OPERATION: 405,
  /** The body is over the listener's byte limit. */
  ERR_BODY_TOO_LARGE: 413,
  /** Too many requests (sent with `Retry-After`). */
  ERR_RATE_LIMITED: 429,
  /** An HTTP version other than 1.x. */
  ERR_HTTP_VERSION: 505,
  /** An unexpected failure; the client sees only "internal error". */
  ERR_INTERNAL: 500,
  /** Stored data failed its integrity check. */
  ERR_INTEGRITY: 500,
  /** The physical storage failed or is closed. */
  ERR_STORAGE: 500,
  /** The barrier is sealed. */
  ERR_SEALED: 503,
  /** The server is shutting down. */
  ERR_SHUTTING_DOWN: 503,
  /** A standby server that knows no active server to send the client to (api.md §15). */
  ERR_NO_ACTIVE_NODE: 503,
} as const;

export type ErrorCode = keyof typeof STATUS;

export interface ApiErrorOptions {
  cause?: unknown;
  /** Extra response headers, e.g. `Allow` on 405 or `Retry-After` on 429. */
  headers?: Record<string, string>;
}

/**
 * An error meant for the client. The message must never contain a secret, a token or a key
 * share: it is sent as is (for 4xx) or logged (for 5xx, where the client sees "internal error").
 */
export class ApiError extends Error {
  override name = 'ApiError';
  readonly code: ErrorCode;
  readonly headers: Record<string, string> | undefined;

  constructor(code: ErrorCode, message: string, options: ApiErrorOptions = {}) {
    // A 4xx is the client's mistake: answered and never logged with a stack, and capturing
    // one was 40% of a refused request's CPU (an unauthenticated flood paid it on every
    // request). A 5xx keeps its stack for the log.
    const stackFrames = Error.stackTraceLimit;
    if (STATUS[code] < 500) Error.stackTraceLimit = 0;
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    Error.stackTraceLimit = stackFrames;
    this.code = code;
    this.headers = options.headers;
  }

  get status(): number {
    return STATUS[this.code];
  }
}

/** The HTTP status for any thrown value: unknown errors are internal (500). */
export function statusOf(err: unknown): number {
  return err instanceof ApiError ? err.status : 500;
}

export function isApiError(err: unknown, code?: ErrorCode): err is ApiError {
  return err instanceof ApiError && (code === undefined || err.code === code);
}
