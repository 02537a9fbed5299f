/**
 * Every error the server answers with carries a stable code. This file alone maps codes to
 * HTTP status (api.md §2), so tests assert codes and statuses, never message wording.
 */
export const STATUS = {
  ERR_INVALID_REQUEST: 400,
  ERR_NOT_INITIALIZED: 400,
  ERR_ALREADY_INITIALIZED: 400,
  ERR_INVALID_SEAL_CONFIG: 400,
  ERR_INVALID_KEY: 400,
  ERR_PERMISSION_DENIED: 401,
  ERR_NOT_FOUND: 404,
  ERR_UNSUPPORTED_OPERATION: 405,
  ERR_BODY_TOO_LARGE: 413,
  ERR_RATE_LIMITED: 429,
  ERR_HTTP_VERSION: 505,
  ERR_INTERNAL: 500,
  ERR_INTEGRITY: 500,
  ERR_STORAGE: 500,
  ERR_SEALED: 503,
  ERR_SHUTTING_DOWN: 503,
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
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
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
