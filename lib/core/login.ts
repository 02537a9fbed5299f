import { ApiError } from '../errors.js';
import { parseCidrList } from './cidr.js';
import type { MountEntry } from './mounts.js';
import type { AuthInfo, LoginAuth } from './request.js';
import type { TokenManager } from './token-manager.js';

/**
 * The login path every auth backend shares: a login handler answers who the caller is (a
 * LoginAuth); this turns it into a token, so no backend ever mints one itself. The token
 * is an orphan (a login has no parent token), gets the `default` policy unless asked not
 * to, a lease for renewal and expiry, and a TTL clamped by the mount's and the server's
 * maximums. The edge then sets the `token` cookie (api.md §4).
 */

export interface LoginLimits {
  /** Seconds: the mount's tuned TTLs, else the server's. */
  defaultTtl: number;
  maxTtl: number;
}

function seconds(value: number | undefined, name: string): number {
  const n = value ?? 0;
  if (!Number.isFinite(n) || n < 0) throw new Error(`login answer: ${name} must be a non-negative number of seconds`);
  return Math.floor(n);
}

export async function issueLoginToken(tokenManager: TokenManager, mount: MountEntry, path: string, login: LoginAuth, limits: LoginLimits): Promise<AuthInfo> {
  if (mount.kind !== 'auth') throw new Error(`a login answer from the secrets engine at ${mount.path}: only auth methods log in`);
  if (!Array.isArray(login.policies)) throw new Error('login answer: policies must be a list');
  const period = seconds(login.period, 'period');
  const requestedMax = seconds(login.maxTtl, 'max_ttl');
  // The hard limit is kept on the token, so renewals (auth/token/renew*) honour the mount's maximum too.
  const maxTtl = requestedMax > 0 ? Math.min(requestedMax, limits.maxTtl) : limits.maxTtl;
  const ttl = Math.min(period > 0 ? period : seconds(login.ttl, 'ttl') || limits.defaultTtl, maxTtl);
  if (ttl <= 0) throw new ApiError('ERR_INVALID_TOKEN_PARAMS', 'the login would issue a token with no lifetime: check the mount\'s TTLs');
  const boundCidrs = login.boundCidrs && login.boundCidrs.length > 0 ? [...parseCidrList(login.boundCidrs, 'token_bound_cidrs').cidrs] : undefined;
  const { auth } = await tokenManager.create(
    null,
    {
      policies: login.policies,
      meta: login.metadata ?? {},
      ttl,
      // A periodic token renews forever unless its login set a maximum.
      explicitMaxTtl: period > 0 && requestedMax === 0 ? 0 : maxTtl,
      period,
      numUses: seconds(login.numUses, 'num_uses'),
      orphan: true,
      noDefaultPolicy: login.noDefaultPolicy,
      fullDisplayName: displayNameOf(mount.path, login.displayName),
      renewable: login.renewable,
      path: `${mount.path}${path}`,
      boundCidrs,
    },
    false,
  );
  return auth;
}

/** Vault's form: `<mount path>-<name>`, e.g. `userpass-alice` for `auth/userpass/`; the path alone without a name. */
function displayNameOf(mountPath: string, name: string | undefined): string {
  const prefix = mountPath.slice('auth/'.length).replace(/\/+$/, '').replaceAll('/', '-');
  const cleaned = (name ?? '').toLowerCase().replace(/[^a-z0-9@._-]+/g, '-').replace(/^-+|-+$/g, '');
  return cleaned ? `${prefix}-${cleaned}` : prefix;
}
