/**
 * The one error the client throws. `kind` says where the failure happened, so a caller (the
 * CLI's hints, a retry loop) branches on it rather than on message wording.
 */
export type ApiErrorKind = 'response' | 'connection' | 'tls' | 'timeout';

export interface ApiErrorInit {
  status?: number;
  errors?: string[];
  kind: ApiErrorKind;
  code?: string;
  cause?: unknown;
}

export class ApiError extends Error {
  override name = 'ApiError';
  /** HTTP status; 0 when no answer came. */
  readonly status: number;
  /** The server's `errors` list ([] when none). */
  readonly errors: string[];
  readonly kind: ApiErrorKind;
  /** Node's error code for connection and TLS errors (ECONNREFUSED, DEPTH_ZERO_SELF_SIGNED_CERT, ...). */
  readonly code?: string;

  constructor(message: string, init: ApiErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status ?? 0;
    this.errors = init.errors ?? [];
    this.kind = init.kind;
    if (init.code !== undefined) this.code = init.code;
  }
}

// Node's codes for a certificate the client refuses (or a TLS handshake that fails). Anything
// else without an answer is a connection error.
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED', 'CERT_REJECTED',
  'HOSTNAME_MISMATCH', 'EPROTO', 'ERR_SSL_WRONG_VERSION_NUMBER',
]);

/** An ApiError for a request that got no answer (refused, reset, TLS refused). */
export function networkError(cause: unknown): ApiError {
  const err = cause as NodeJS.ErrnoException;
  const code = typeof err?.code === 'string' ? err.code : undefined;
  const isTls = code !== undefined && (TLS_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_'));
  const message = err instanceof Error ? err.message : String(cause);
  return new ApiError(message, { kind: isTls ? 'tls' : 'connection', code, cause });
}

export function timeoutError(ms: number): ApiError {
  return new ApiError(`request timed out after ${ms} ms`, { kind: 'timeout', code: 'ETIMEDOUT' });
}

/** An ApiError for an answer with status >= 400; `body` is the parsed JSON, when there was some. */
export function responseError(status: number, statusText: string, body: unknown): ApiError {
  const list = (body as { errors?: unknown } | undefined)?.errors;
  const errors = Array.isArray(list) ? list.map(String) : [];
  const message = errors.length > 0 ? errors.join('; ') : `${status} ${statusText}`.trim();
  return new ApiError(message, { status, errors, kind: 'response' });
}
