import { ApiError } from '../errors.js';
import type { ServerConfig } from '../config.js';
import type { AuthInfo } from './request.js';
import type { Expiration } from './expiration.js';
import type { TokenEntry, TokenStore } from './tokens.js';

/**
 * Token life cycle rules (api.md §8): who may create what, TTL arithmetic, renewal limits,
 * use counting, and revocation of whole subtrees with their leases and cubbyholes.
 */

export interface CreateTokenParams {
  policies?: string[];
  meta?: Record<string, string>;
  ttl?: number;
  explicitMaxTtl?: number;
  period?: number;
  numUses?: number;
  orphan?: boolean;
  noDefaultPolicy?: boolean;
  displayName?: string;
  renewable?: boolean;
  id?: string;
  /** The request path that creates it, e.g. `auth/token/create`. */
  path: string;
  /** A display name used as is (a login's `userpass-alice`), instead of `token-<displayName>`. */
  fullDisplayName?: string;
  /** CIDR blocks the token may be used from (validated by the caller). */
  boundCidrs?: string[];
}

export interface TokenManager {
  /** `parent` is the caller's entry (null for tokens issued by a login); `sudo` allows `id`. */
  create(parent: TokenEntry | null, params: CreateTokenParams, sudo: boolean): Promise<{ token: string; entry: TokenEntry; auth: AuthInfo }>;
  renew(entry: TokenEntry, increment: number): Promise<AuthInfo>;
  /** Revokes the token, its descendants, their leases and their cubbyholes. */
  revokeTree(hash: string): Promise<void>;
  /** Revokes only this token; its children become orphans. */
  revokeOrphan(hash: string): Promise<void>;
  authInfo(token: string, entry: TokenEntry): AuthInfo;
}

export interface TokenManagerDeps {
  tokens: TokenStore;
  expiration: Expiration;
  config: ServerConfig;
  /** Deletes a token's cubbyhole. */
  destroyCubbyhole(hash: string): Promise<void>;
  /** Rejects when the auth method that issued a login token refuses its renewal (core.ts). */
  checkLoginRenewal(entry: TokenEntry): Promise<void>;
}

export const tokenLeaseId = (entry: Pick<TokenEntry, 'path' | 'hash'>): string => `${entry.path}/${entry.hash}`;

function displayNameOf(name: string | undefined): string {
  if (!name) return 'token';
  const cleaned = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  return cleaned ? `token-${cleaned}` : 'token';
}

export function createTokenManager(deps: TokenManagerDeps): TokenManager {
  const { tokens, expiration, config } = deps;
  const now = (): number => Date.now();

  /** The most a token may live from its creation, in seconds. */
  const maxTtlOf = (entry: Pick<TokenEntry, 'explicitMaxTtl' | 'period'>): number => {
    // Periodic tokens may be renewed forever unless they carry an explicit maximum.
    const systemMax = entry.period > 0 ? Infinity : config.maxLeaseTtl;
    return entry.explicitMaxTtl > 0 ? Math.min(entry.explicitMaxTtl, systemMax) : systemMax;
  };

  const remaining = (entry: TokenEntry): number => (entry.expireTime === 0 ? 0 : Math.max(0, Math.ceil((entry.expireTime - now()) / 1000)));

  const manager: TokenManager = {
    async create(parent, params, sudo) {
      const isRootParent = parent?.policies.includes('root') ?? false;
      if (parent && parent.numUses !== 0) throw new ApiError('ERR_INVALID_TOKEN_PARAMS', 'a token with limited uses cannot create child tokens');
      if ((params.numUses ?? 0) < 0) throw new ApiError('ERR_INVALID_TOKEN_PARAMS', 'num_uses cannot be negative');
      for (const [name, value] of [['ttl', params.ttl], ['explicit_max_ttl', params.explicitMaxTtl], ['period', params.period]] as const) {
        if ((value ?? 0) < 0) throw new ApiError('ERR_INVALID_TOKEN_PARAMS', `${name} cannot be negative`);
      }
      if (params.id !== undefined) {
        if (!sudo) throw new ApiError('ERR_PERMISSION_DENIED', 'permission denied: setting the token id needs root or sudo');
        if (params.id === '' || params.id.length > 256) throw new ApiError('ERR_INVALID_TOKEN_PARAMS', 'the token id must be 1 to 256 characters');
        if (await tokens.lookup(params.id)) throw new ApiError('ERR_INVALID_TOKEN_PARAMS', 'a token with this id already exists');
      }

      let policies = params.policies ?? parent?.policies.filter((p) => p !== 'default') ?? [];
      policies = [...new Set(policies.map((p) => p.trim().toLowerCase()).filter((p) => p !== ''))];
      if (parent && !isRootParent) {
        const allowed = new Set([...parent.policies, 'default']);
        const extra = policies.filter((p) => !allowed.has(p));
        if (extra.length > 0) throw new ApiError('ERR_INVALID_TOKEN_PARAMS', `child policies must be a subset of the parent's: not allowed ${extra.join(', ')}`);
      }
      if (!params.noDefaultPolicy && !policies.includes('root') && !policies.includes('default')) policies.push('default');
      policies.sort();
      if (policies.length === 0) throw new ApiError('ERR_INVALID_TOKEN_PARAMS', 'a token needs at least one policy');

      const period = params.period ?? 0;
      const explicitMaxTtl = params.explicitMaxTtl ?? 0;
      const limits = { explicitMaxTtl, period };
      // Root tokens made without a TTL never expire, like the initial root token.
      const wantsForever = policies.includes('root') && !params.ttl && !period && !explicitMaxTtl;
      let ttl = period > 0 ? period : (params.ttl || config.defaultLeaseTtl);
      if (wantsForever) ttl = 0;
      else ttl = Math.min(ttl, maxTtlOf(limits));

      const { token, entry } = await tokens.create(
        {
          parent: params.orphan || !parent ? '' : parent.hash,
          policies,
          meta: params.meta ?? {},
          // The initial root token keeps Vault's plain name.
          displayName: params.path === 'auth/token/root' ? 'root' : (params.fullDisplayName ?? displayNameOf(params.displayName)),
          numUses: params.numUses ?? 0,
          ttl,
          explicitMaxTtl,
          period,
          renewable: ttl > 0 && params.renewable !== false,
          path: params.path,
          expireTime: ttl > 0 ? now() + ttl * 1000 : 0,
          ...(params.boundCidrs && params.boundCidrs.length > 0 ? { boundCidrs: params.boundCidrs } : {}),
        },
        params.id,
      );
      if (entry.expireTime > 0) {
        await expiration.register({
          id: tokenLeaseId(entry),
          kind: 'token',
          mountPoint: 'auth/token/',
          tokenHash: entry.hash,
          issueTime: now(),
          expireTime: entry.expireTime,
          lastRenewalTime: 0,
          renewable: entry.renewable,
        });
      }
      return { token, entry, auth: manager.authInfo(token, entry) };
    },

    async renew(entry, increment) {
      if (!entry.renewable || entry.expireTime === 0) throw new ApiError('ERR_NOT_RENEWABLE', 'the token is not renewable');
      await deps.checkLoginRenewal(entry);
      const wanted = entry.period > 0 ? entry.period : increment > 0 ? increment : entry.ttl;
      const hardLimit = entry.creationTime * 1000 + maxTtlOf(entry) * 1000;
      const expireTime = Math.min(now() + wanted * 1000, hardLimit);
      const renewed: TokenEntry = { ...entry, expireTime, lastRenewalTime: Math.floor(now() / 1000) };
      await tokens.save(renewed);
      const lease = await expiration.lookup(tokenLeaseId(entry));
      if (lease) await expiration.update({ ...lease, expireTime, lastRenewalTime: now() });
      return { ...manager.authInfo('', renewed), leaseDuration: remaining(renewed) };
    },

    async revokeTree(hash) {
      for (const child of await tokens.children(hash)) await manager.revokeTree(child);
      await revokeOne(hash);
    },

    async revokeOrphan(hash) {
      for (const child of await tokens.children(hash)) {
        const entry = await tokens.lookupByHash(child);
        if (entry) await tokens.detach(entry);
      }
      await revokeOne(hash);
    },

    authInfo(token, entry) {
      return {
        clientToken: token,
        accessor: entry.accessor,
        policies: entry.policies,
        metadata: entry.meta,
        leaseDuration: remaining(entry),
        renewable: entry.renewable,
        orphan: entry.parent === '',
      };
    },
  };

  /** Leases and cubbyhole first, the entry last: a crash midway leaves a token to revoke again. */
  async function revokeOne(hash: string): Promise<void> {
    const entry = await tokens.lookupByHash(hash);
    await expiration.revokeByToken(hash);
    await deps.destroyCubbyhole(hash);
    if (!entry) return;
    await expiration.forget(tokenLeaseId(entry));
    await tokens.remove(entry);
  }

  return manager;
}
