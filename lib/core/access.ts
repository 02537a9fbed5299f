import { ApiError } from '../errors.js';
import type { Core } from './core.js';
import type { RouteResult } from './mounts.js';
import type { CallerAuth, Request } from './request.js';
import { callerOf, type TokenStore } from './tokens.js';

/** Turns a client token into a caller, or a 401. */
export async function authenticate(tokens: TokenStore, clientToken: string): Promise<CallerAuth> {
  if (clientToken === '') throw new ApiError('ERR_PERMISSION_DENIED', 'missing client token');
  const entry = await tokens.lookup(clientToken);
  if (!entry || (entry.expireTime !== 0 && entry.expireTime <= Date.now())) {
    throw new ApiError('ERR_PERMISSION_DENIED', 'permission denied');
  }
  return callerOf(entry);
}

/**
 * Decides whether the caller may perform the request. Until policies exist (api.md §9),
 * only the root policy grants anything: deny by default.
 */
export async function authorize(_core: Core, caller: CallerAuth, _req: Request, _route: RouteResult | undefined): Promise<void> {
  if (caller.root) return;
  throw new ApiError('ERR_PERMISSION_DENIED', 'permission denied');
}
