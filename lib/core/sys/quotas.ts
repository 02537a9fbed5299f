import { ApiError } from '../../errors.js';
import type { PathSpec } from '../../framework/backend.js';
import type { FieldData } from '../../framework/fields.js';
import type { CoreServices } from '../services.js';
import { checkQuotaName, normalizeQuotaPath, type RateLimitQuota } from '../quotas/quotas.js';
import { sysData } from './respond.js';

/**
 * Rate-limit quotas (`sys/quotas/rate-limit/<name>`) and their configuration
 * (`sys/quotas/config`), api.md §14. As in Vault these need the ACL's ordinary
 * capabilities on the path, not sudo: root tokens and operators' policies manage them.
 */

const quotaFields = {
  name: { type: 'string', description: 'The quota name: letters, digits, dots, dashes, underscores.' },
  type: { type: 'string', description: 'Accepted for Vault compatibility; only "rate-limit" is known.' },
  path: {
    type: 'string',
    description: `What the quota covers: "" (or absent) for every request, a mount ("secret/"), or any path prefix
("secret/app/"), matched literally against the path after /v1/. The most specific quota wins.`,
  },
  rate: { type: 'any', description: 'Requests allowed per interval, per client address (a number > 0).' },
  interval: { type: 'duration', description: 'The time rate is counted over, at least one second (default 1s).' },
  burst: { type: 'int', description: 'How many requests may pass at once after a quiet spell (default: rate, rounded up).' },
  block_interval: { type: 'duration', description: 'Once a client is refused, refuse it for this long (default 0: until its next token).' },
} as const;

const configFields = {
  enable_rate_limit_response_headers: { type: 'bool', description: 'Send X-Ratelimit-Limit, -Remaining and -Reset on answers a quota applies to (default false).' },
  rate_limit_exempt_paths: { type: 'strings', description: 'Path prefixes no quota ever limits, built-in ones included.' },
} as const;

function describe(quota: RateLimitQuota): Record<string, unknown> {
  return {
    name: quota.name,
    type: 'rate-limit',
    path: quota.path,
    rate: quota.rate,
    interval: quota.interval,
    burst: quota.burst,
    block_interval: quota.blockInterval,
  };
}

const invalid = (message: string): ApiError => new ApiError('ERR_INVALID_FIELD', message);

function rateOf(value: unknown): number {
  const rate = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0) throw invalid("field 'rate' must be a number greater than 0");
  return rate;
}

export function quotaPaths(core: CoreServices): PathSpec[] {
  const table = () => core.rateLimiter.table;

  /** A mount, something under one, or a prefix of mount paths (`auth/`): else it would never match anything. */
  const checkedPath = (raw: string): string => {
    let path = normalizeQuotaPath(raw);
    if (path === '') return path;
    if (!path.endsWith('/') && core.mounts.get(`${path}/`) !== undefined) path = `${path}/`;
    if (core.mounts.route(path) !== undefined) return path;
    const mounted = [...core.mounts.list('secret'), ...core.mounts.list('auth')];
    if (mounted.some((entry) => entry.path.startsWith(path))) return path;
    throw invalid(`no mount matches the quota path '${path}'`);
  };

  const write = async (_req: unknown, fields: FieldData) => {
    const name = checkQuotaName(fields.get<string>('name'));
    const type = fields.get<string | undefined>('type');
    if (type !== undefined && type !== 'rate-limit') throw invalid("field 'type' must be \"rate-limit\"");
    await table().put(name, (old) => {
      if (!fields.has('rate') && old === undefined) throw new ApiError('ERR_MISSING_FIELD', "missing required field 'rate'");
      const rate = fields.has('rate') ? rateOf(fields.get('rate')) : old!.rate;
      const interval = fields.has('interval') ? fields.get<number>('interval') : (old?.interval ?? 1);
      if (interval <= 0) throw invalid("field 'interval' must be at least one second");
      const burst = fields.has('burst') ? fields.get<number>('burst') : fields.has('rate') || old === undefined ? Math.ceil(rate) : old.burst;
      if (burst < 1) throw invalid("field 'burst' must be at least 1");
      const blockInterval = fields.has('block_interval') ? fields.get<number>('block_interval') : (old?.blockInterval ?? 0);
      const path = fields.has('path') ? checkedPath(fields.get<string>('path')) : (old?.path ?? '');
      return { name, path, rate, interval, burst, blockInterval };
    });
    return null;
  };

  const writeConfig = async (_req: unknown, fields: FieldData) => {
    const current = table().config();
    const exempt = fields.has('rate_limit_exempt_paths')
      ? [...new Set(fields.get<string[]>('rate_limit_exempt_paths').map((p) => normalizeQuotaPath(p, 'rate_limit_exempt_paths')))].filter((p) => p !== '')
      : current.rateLimitExemptPaths;
    const headers = fields.has('enable_rate_limit_response_headers') ? fields.get<boolean>('enable_rate_limit_response_headers') : current.enableRateLimitResponseHeaders;
    await table().setConfig({ enableRateLimitResponseHeaders: headers, rateLimitExemptPaths: exempt });
    return null;
  };

  return [
    {
      pattern: 'quotas/config',
      fields: configFields,
      operations: {
        read: async () => {
          const config = table().config();
          return sysData({
            enable_rate_limit_response_headers: config.enableRateLimitResponseHeaders,
            rate_limit_exempt_paths: config.rateLimitExemptPaths,
          });
        },
        update: writeConfig,
      },
      synopsis: 'Read or change the rate-limit quota configuration.',
      description: `GET answers {"enable_rate_limit_response_headers", "rate_limit_exempt_paths"}; POST or PUT changes
the fields it is given. An empty exempt list exempts nothing (sys/health included).`,
    },
    {
      pattern: 'quotas/rate-limit',
      operations: {
        list: async () => {
          const names = table().names();
          return names.length === 0 ? null : sysData({ keys: names });
        },
      },
      synopsis: 'List the rate-limit quotas.',
      description: 'Answers {"keys": [...]} sorted, or 404 when there is none. Built-in limits are not listed.',
    },
    {
      pattern: 'quotas/rate-limit/:name',
      fields: quotaFields,
      operations: {
        read: async (_req, fields) => {
          const quota = table().get(fields.get<string>('name'));
          return quota ? sysData(describe(quota)) : null;
        },
        update: write,
        delete: async (_req, fields) => {
          await table().delete(fields.get<string>('name'));
          return null;
        },
      },
      synopsis: 'Create, read, change or delete a rate-limit quota.',
      description: `POST or PUT {"path", "rate", "interval", "burst", "block_interval"}: "rate" is required when the
quota is new; a change keeps the fields it does not give (burst follows a new rate unless given).
Each client address has its own bucket of "burst" requests, refilled at "rate" per "interval";
over it, requests get 429 with Retry-After before any other check. DELETE is 204 even if absent.`,
    },
  ];
}
