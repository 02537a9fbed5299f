import { ApiError } from '../errors.js';
import { defineBackend, type Backend } from '../framework/backend.js';
import type { Core } from '../core/core.js';
import type { BackendRequest, Response } from '../core/request.js';
import type { TokenEntry } from '../core/tokens.js';

/** The token store's HTTP face, mounted at `auth/token/` (api.md §8). */

/** The lookup answer, in Vault's field names. `id` only when the caller holds the token. */
export function describeToken(entry: TokenEntry, token = ''): Record<string, unknown> {
  const now = Date.now();
  return {
    accessor: entry.accessor,
    creation_time: entry.creationTime,
    creation_ttl: entry.ttl,
    display_name: entry.displayName,
    entity_id: '',
    expire_time: entry.expireTime === 0 ? null : new Date(entry.expireTime).toISOString(),
    explicit_max_ttl: entry.explicitMaxTtl,
    id: token,
    issue_time: new Date(entry.creationTime * 1000).toISOString(),
    last_renewal_time: entry.lastRenewalTime || null,
    meta: Object.keys(entry.meta).length === 0 ? null : entry.meta,
    num_uses: entry.numUses,
    orphan: entry.parent === '',
    path: entry.path,
    period: entry.period || null,
    policies: entry.policies,
    renewable: entry.renewable,
    ttl: entry.expireTime === 0 ? 0 : Math.max(0, Math.floor((entry.expireTime - now) / 1000)),
    type: 'service',
  };
}

export function createTokenBackend(core: Core): Backend {
  const lookupSelf = async (req: BackendRequest): Promise<Response | null> => {
    const entry = req.caller ? await core.tokens.lookupByHash(req.caller.tokenHash) : null;
    if (!entry) throw new ApiError('ERR_PERMISSION_DENIED', 'permission denied');
    return { data: describeToken(entry, req.clientToken) };
  };

  return defineBackend({
    type: 'token',
    help: `The token store: every request to nomad-api carries a token, and this backend
creates, looks up, renews and revokes them. It is always mounted at auth/token/.`,
    paths: [
      {
        pattern: 'lookup-self',
        operations: { read: lookupSelf, update: lookupSelf },
        synopsis: 'Look up the properties of the token making the request.',
        description: `Returns the calling token's policies, metadata, lifetime and use count.
The token itself is identified by the request's X-Nomad-Token header (or cookie).`,
      },
    ],
  });
}
