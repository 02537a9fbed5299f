import { ApiError } from '../errors.js';
import type { Backend } from '../framework/backend.js';
import { aclVerdict, requestCapabilities, tokenUsable, writeAllowed } from './decide.js';
import type { PolicyStore } from './policies.js';
import type { BackendRequest, CallerAuth, Request, TokenMemo } from './request.js';
import { callerOf, type TokenEntry, type TokenStore } from './tokens.js';

/** Token checks (401) and ACL decisions (401) made before any backend runs (api.md §2). */

export interface Authenticated {
  caller: CallerAuth;
  entry: TokenEntry;
  /** True when this request used the token's last allowed use: revoke it afterwards. */
  exhausted: boolean;
}

function deny(message = 'permission denied'): never {
  throw new ApiError('ERR_PERMISSION_DENIED', message);
}

/**
 * Turns a client token into a caller, counting down `num_uses`; unknown, expired or out of
 * its CIDRs → 401 (a rejection). A cached token with unlimited uses is settled at once,
 * without the async lookup's extra turns.
 */
export function authenticate(tokens: TokenStore, clientToken: string, remoteAddress: string, memo?: TokenMemo): Promise<Authenticated> {
  if (clientToken === '') return Promise.reject(new ApiError('ERR_PERMISSION_DENIED', 'missing client token'));
  const cached = tokens.cached(clientToken, memo);
  if (cached !== undefined && cached.numUses === 0) {
    if (!tokenUsable(cached, remoteAddress)) return Promise.reject(new ApiError('ERR_PERMISSION_DENIED', 'permission denied'));
    return Promise.resolve({ caller: callerOf(cached), entry: cached, exhausted: false });
  }
  return authenticateSlowly(tokens, clientToken, remoteAddress);
}

async function authenticateSlowly(tokens: TokenStore, clientToken: string, remoteAddress: string): Promise<Authenticated> {
  const entry = await tokens.lookup(clientToken);
  if (!tokenUsable(entry, remoteAddress)) deny();
  let exhausted = false;
  if (entry.numUses > 0) {
    // Decremented on the cached entry before any await, so parallel requests cannot share a use.
    const before = entry.numUses;
    entry.numUses = before === 1 ? -1 : before - 1;
    exhausted = entry.numUses === -1;
    try {
      await tokens.save(entry);
    } catch (err) {
      entry.numUses = before;
      throw err;
    }
  }
  return { caller: callerOf(entry), entry, exhausted };
}

/** What the caller may do on a full path (`root` policy: everything). */
export async function capabilitiesOn(policies: PolicyStore, caller: CallerAuth, path: string): Promise<number> {
  if (caller.root) return ~0;
  return (await policies.acl(caller.policies)).capabilities(path);
}

/**
 * Resolves when the caller may perform the request, rejects with permission denied
 * otherwise. A write asks the backend's existence check (create or update, decide.ts).
 */
export async function authorize(
  policies: PolicyStore,
  caller: CallerAuth,
  req: Request,
  backend: Backend | undefined,
  backendRequest: BackendRequest | undefined,
): Promise<void> {
  if (caller.root) return;
  const acl = await policies.acl(caller.policies);
  const caps = requestCapabilities(acl, req);
  const rootPath = backend !== undefined && backendRequest !== undefined && backend.isRootPath(backendRequest.path);
  const verdict = aclVerdict(caps, req, rootPath);
  if (verdict === 'deny') deny();
  if (verdict === 'existence') {
    const exists = backend && backendRequest ? await backend.exists(backendRequest) : undefined;
    if (!writeAllowed(caps, exists)) deny();
  }
}
