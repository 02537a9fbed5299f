import type { CacheSize, Storage } from '../../storage/storage.js';
import type { MountTable } from '../mounts.js';
import type { Request } from '../request.js';
import { createBucketStore, type BucketStoreOptions, type Limit } from './buckets.js';
import { createQuotaTable, type QuotaTable } from './quotas.js';

/**
 * The rate-limit decision (api.md §2, §14), taken at the HTTP edge before the body is read
 * and before the seal, token and ACL checks: synchronous, no storage, no token lookup.
 *
 * Which limit applies to a request: the stored quota with the longest path that is a prefix
 * of the request path (a global quota, path '', last), as Vault does. Two limits are built in
 * and never stored: every auth method's login routes (an `auth/` path whose backend declares
 * it unauthenticated) and `sys/unseal`, each per client address. A stored quota replaces a
 * built-in one for a request when its path is at least as specific as the built-in's scope
 * (the auth mount, e.g. `auth/userpass/`, or `sys/unseal`); a global or `auth/` quota does not,
 * so a generous global limit never lifts the brute-force guard. Exempt paths are never
 * limited, built-in limits included. While sealed no quota or configuration can be read:
 * only the built-in `sys/unseal` limit applies then.
 */

/** api.md §14's numbers: 10 a second per address, bursts of 20. */
export const LOGIN_LIMIT: Limit = Object.freeze({ rate: 10, interval: 1, burst: 20, blockInterval: 0 });
export const UNSEAL_LIMIT: Limit = Object.freeze({ rate: 10, interval: 1, burst: 20, blockInterval: 0 });
const LOGIN_KEY = 'l ';
const UNSEAL_KEY = 'u ';
const UNSEAL_PATH = 'sys/unseal';
const AUTH_PREFIX = 'auth/';

/** What the edge does with a request that a limit applies to. */
export interface RateLimitVerdict {
  allowed: boolean;
  /** Seconds, ≥ 1, when refused. */
  retryAfter: number;
  /** When the configuration asks for X-Ratelimit-* headers: the values. */
  headers?: { limit: number; remaining: number; reset: number };
}

export interface RateLimiter {
  readonly table: QuotaTable;
  /** Undefined: go on, nothing to add. Else refuse (429) or go on with headers. */
  check(req: Request): RateLimitVerdict | undefined;
  memory(): CacheSize;
}

export interface RateLimiterDeps {
  barrier: Storage;
  mounts: MountTable;
  isUnsealed(): boolean;
  buckets?: BucketStoreOptions;
}

export function createRateLimiter(deps: RateLimiterDeps): RateLimiter {
  const { mounts } = deps;
  const buckets = createBucketStore(deps.buckets);
  const table = createQuotaTable(deps.barrier, (key) => buckets.dropPrefix(key));

  const decide = (req: Request, unsealed: boolean): RateLimitVerdict | undefined => {
    const path = req.path;
    let builtIn: Limit | undefined;
    let builtInKey = '';
    let scope = 0;
    if (path === UNSEAL_PATH) {
      builtIn = UNSEAL_LIMIT;
      builtInKey = UNSEAL_KEY;
      scope = path.length;
    } else if (unsealed && path.startsWith(AUTH_PREFIX)) {
      const route = mounts.route(path);
      if (route !== undefined && route.mount.entry.kind === 'auth' && route.mount.backend.isUnauthenticated(route.path)) {
        builtIn = LOGIN_LIMIT;
        builtInKey = LOGIN_KEY;
        scope = route.mount.entry.path.length;
      }
    }
    // Sealed: the configuration is not readable, so neither are the exempt paths.
    const config = unsealed ? table.config() : undefined;
    if (config !== undefined) {
      for (const exempt of config.rateLimitExemptPaths) if (path.startsWith(exempt)) return undefined;
    }
    let limit = builtIn;
    let key = builtInKey;
    for (const stored of table.active()) {
      if (!path.startsWith(stored.quota.path)) continue;
      if (builtIn === undefined || stored.quota.path.length >= scope) {
        limit = stored.limit;
        key = stored.key;
      }
      break;
    }
    if (limit === undefined) return undefined;
    const take = buckets.take(key, limit, req.remoteAddress);
    const withHeaders = config?.enableRateLimitResponseHeaders === true;
    if (take.allowed && !withHeaders) return undefined;
    const verdict: RateLimitVerdict = { allowed: take.allowed, retryAfter: take.retryAfter };
    if (withHeaders) verdict.headers = { limit: limit.burst, remaining: take.remaining, reset: take.reset };
    return verdict;
  };

  return {
    table,
    check(req) {
      const path = req.path;
      // The common request: no stored quota, and not a login or unseal. Two length checks
      // and a prefix test, no allocation.
      if (table.active().length === 0 && path !== UNSEAL_PATH && !path.startsWith(AUTH_PREFIX)) return undefined;
      return decide(req, deps.isUnsealed());
    },
    memory: () => buckets.size(),
  };
}
