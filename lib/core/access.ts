import { ApiError } from '../errors.js';
import type { Backend } from '../framework/backend.js';
import { CAP } from './policy.js';
import type { PolicyStore } from './policies.js';
import type { BackendRequest, CallerAuth, Operation, Request } from './request.js';
import { callerOf, type TokenEntry, type TokenStore } from './tokens.js';

/** Token checks (401) and ACL decisions (401) made before any backend runs (api.md §2). */

export interface Authenticated {
  caller: CallerAuth;
  entry: TokenEntry;
  /** True when this request used the token's last allowed use: revoke it afterwards. */
  exhausted: boolean;
}

/**
 * Turns a client token into a caller, counting down `num_uses`; unknown or expired → 401.
 * A cached token with unlimited uses is answered without waiting (the common case: no
 * promise, no trip through the microtask queue); anything else takes the async path.
 */
export function authenticate(tokens: TokenStore, clientToken: string): Authenticated | Promise<Authenticated> {
  if (clientToken === '') throw new ApiError('ERR_PERMISSION_DENIED', 'missing client token');
  const cached = tokens.peek(clientToken);
  if (cached !== undefined && cached.numUses === 0) {
    checkUsable(cached);
    return { caller: callerOf(cached), entry: cached, exhausted: false };
  }
  return authenticateSlowly(tokens, clientToken);
}

/** numUses < 0 marks a token whose last use is under way; it is revoked when that request ends. */
function checkUsable(entry: TokenEntry | null): asserts entry is TokenEntry {
  if (!entry || entry.numUses < 0 || (entry.expireTime !== 0 && entry.expireTime <= Date.now())) {
    throw new ApiError('ERR_PERMISSION_DENIED', 'permission denied');
  }
}

async function authenticateSlowly(tokens: TokenStore, clientToken: string): Promise<Authenticated> {
  const entry = await tokens.lookup(clientToken);
  checkUsable(entry);
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

const NEEDED: Record<Exclude<Operation, 'help'>, number> = {
  read: CAP.read,
  list: CAP.list,
  delete: CAP.delete,
  create: CAP.create,
  update: CAP.update,
};

/** What the caller may do on a full path (`root` policy: everything). */
export async function capabilitiesOn(policies: PolicyStore, caller: CallerAuth, path: string): Promise<number> {
  if (caller.root) return ~0;
  return (await policies.acl(caller.policies)).capabilities(path);
}

/**
 * Decides whether the caller may perform the request; throws permission denied, or returns
 * a promise when it must wait (an ACL not compiled yet, a write's existence check). A write
 * needs `create` when nothing exists at the path yet and `update` when something does (the
 * backend's existence check); where a path cannot tell, either capability will do. Root
 * paths also need `sudo`.
 */
export function authorize(
  policies: PolicyStore,
  caller: CallerAuth,
  req: Request,
  backend: Backend | undefined,
  backendRequest: BackendRequest | undefined,
): void | Promise<void> {
  if (caller.root) return;
  const acl = policies.peekAcl(caller.policies);
  if (acl === undefined) {
    return policies.acl(caller.policies).then((compiled) => decide(compiled.capabilities(req.path), req, backend, backendRequest));
  }
  return decide(acl.capabilities(req.path), req, backend, backendRequest);
}

function deny(): never {
  throw new ApiError('ERR_PERMISSION_DENIED', 'permission denied');
}

function decide(caps: number, req: Request, backend: Backend | undefined, backendRequest: BackendRequest | undefined): void | Promise<void> {
  if (caps === 0 || caps & CAP.deny) deny();
  if (backend && backendRequest && backend.isRootPath(backendRequest.path) && !(caps & CAP.sudo)) deny();
  // Help and an unsupported method need any capability at all: they reveal only the route.
  if (req.operation === 'help' || req.unsupportedMethod) return;
  if (req.operation === 'update' && backend && backendRequest) {
    return backend.exists(backendRequest).then((exists) => {
      if (exists === undefined) {
        if ((caps & (CAP.create | CAP.update)) === 0) deny();
      } else {
        const needed = exists ? CAP.update : CAP.create;
        if ((caps & needed) !== needed) deny();
      }
    });
  }
  const needed = NEEDED[req.operation];
  if ((caps & needed) !== needed) deny();
}
