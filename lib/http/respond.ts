import type { ServerResponse } from 'node:http';
import type { Response } from '../core/request.js';

/** Writes answers: JSON bodies, `Cache-Control: no-store` on everything, 204 without a body. */

const BASE_HEADERS = { 'Cache-Control': 'no-store' };

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  if (body === undefined || status === 204) {
    res.writeHead(status, { ...BASE_HEADERS, ...headers });
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...BASE_HEADERS,
    ...headers,
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendErrors(res: ServerResponse, status: number, messages: string[], headers: Record<string, string> = {}): void {
  sendJson(res, status, { errors: messages }, headers);
}

/** The response envelope of api.md §5. */
export function envelope(requestId: string, response: Response): Record<string, unknown> {
  const auth = response.auth;
  return {
    request_id: requestId,
    lease_id: response.secret?.leaseId ?? '',
    renewable: response.secret?.renewable ?? false,
    lease_duration: response.secret?.ttl ?? 0,
    data: response.data ?? null,
    wrap_info: null,
    warnings: response.warnings && response.warnings.length > 0 ? response.warnings : null,
    auth: auth
      ? {
          client_token: auth.clientToken,
          accessor: auth.accessor,
          policies: auth.policies,
          token_policies: auth.policies,
          metadata: auth.metadata,
          lease_duration: auth.leaseDuration,
          renewable: auth.renewable,
          entity_id: '',
          token_type: 'service',
          orphan: false,
        }
      : null,
  };
}

/** api.md §4: the login cookie; HttpOnly and SameSite keep it away from scripts and other sites. */
export function tokenCookie(token: string, maxAge: number, secure: boolean): string {
  return `token=${token}; Path=/; Max-Age=${maxAge > 0 ? maxAge : 31536000}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}
