import { ApiError } from '../../errors.js';
import { createSerialQueue } from '../../serial.js';
import type { Storage } from '../../storage/storage.js';
import type { Limit } from './buckets.js';

/**
 * The stored rate-limit quotas and the quota configuration, behind the barrier
 * (`core/quotas/rate-limit/<name>`, `core/quotas/config`): read at unseal, dropped at seal.
 * What the limiter reads on every request (`active()`) is one array, rebuilt on each change,
 * most specific path first, so a lookup is a scan for the first matching prefix.
 */

export interface RateLimitQuota {
  name: string;
  /** '' for global; else a mount (`secret/`) or any path prefix (`secret/app/`), no leading slash. */
  path: string;
  /** Requests per `interval`. */
  rate: number;
  /** Seconds. */
  interval: number;
  burst: number;
  /** Seconds; 0 for none. */
  blockInterval: number;
}

export interface QuotaConfig {
  enableRateLimitResponseHeaders: boolean;
  rateLimitExemptPaths: string[];
}

/** A stored quota as the limiter uses it: its bucket key changes with every write, so a changed quota starts with full buckets. */
export interface ActiveQuota {
  readonly quota: RateLimitQuota;
  readonly limit: Limit;
  readonly key: string;
}

/**
 * Vault's default exempt list, but without `sys/unseal`: here unseal is limited by default
 * (api.md §14), so that unseal keys cannot be guessed at full speed.
 */
export const DEFAULT_EXEMPT_PATHS: readonly string[] = Object.freeze([
  'sys/generate-recovery-token/attempt',
  'sys/generate-recovery-token/update',
  'sys/generate-root/attempt',
  'sys/generate-root/update',
  'sys/health',
  'sys/seal-status',
]);

export interface QuotaTable {
  load(): Promise<void>;
  unload(): void;
  /** Most specific path first; empty while sealed. */
  active(): readonly ActiveQuota[];
  /** Loaded configuration; the defaults while sealed. */
  config(): QuotaConfig;
  get(name: string): RateLimitQuota | undefined;
  names(): string[];
  /**
   * Creates or changes a quota: `build` gets the stored one (or undefined) and answers the
   * new one, or throws to write nothing. It runs in the table's queue, so two partial changes
   * of one quota never start from the same state.
   */
  put(name: string, build: (old: RateLimitQuota | undefined) => RateLimitQuota): Promise<void>;
  delete(name: string): Promise<void>;
  setConfig(config: QuotaConfig): Promise<void>;
}

const QUOTA_PREFIX = 'core/quotas/rate-limit/';
const CONFIG_KEY = 'core/quotas/config';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const defaultQuotaConfig = (): QuotaConfig => ({ enableRateLimitResponseHeaders: false, rateLimitExemptPaths: [...DEFAULT_EXEMPT_PATHS] });

/**
 * @param forget called with the bucket key (prefix) of quotas that changed or went away: their buckets are dropped.
 */
export function createQuotaTable(barrier: Storage, forget: (key: string) => void): QuotaTable {
  const exclusive = createSerialQueue();
  const quotas = new Map<string, ActiveQuota>();
  let active: readonly ActiveQuota[] = [];
  let config = defaultQuotaConfig();
  // Bucket keys: 's' + a serial, never reused in this process, then a space before the address.
  let serial = 0;

  const activate = (quota: RateLimitQuota): ActiveQuota => ({
    quota,
    limit: Object.freeze({ rate: quota.rate, interval: quota.interval, burst: quota.burst, blockInterval: quota.blockInterval }),
    key: `s${++serial} `,
  });
  const rebuild = (): void => {
    active = Object.freeze(
      [...quotas.values()].sort((a, b) => b.quota.path.length - a.quota.path.length || (a.quota.name < b.quota.name ? -1 : 1)),
    );
  };
  const json = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value));

  return {
    async load() {
      const loaded = new Map<string, ActiveQuota>();
      for (const name of await barrier.list(QUOTA_PREFIX)) {
        if (name.endsWith('/')) continue;
        const bytes = await barrier.get(QUOTA_PREFIX + name);
        if (bytes !== null) loaded.set(name, activate(JSON.parse(decoder.decode(bytes)) as RateLimitQuota));
      }
      const stored = await barrier.get(CONFIG_KEY);
      config = stored === null ? defaultQuotaConfig() : (JSON.parse(decoder.decode(stored)) as QuotaConfig);
      quotas.clear();
      for (const [name, entry] of loaded) quotas.set(name, entry);
      rebuild();
    },

    unload() {
      // Every stored quota's key starts with 's': one pass drops all their buckets.
      forget('s');
      quotas.clear();
      active = [];
      config = defaultQuotaConfig();
    },

    active: () => active,
    config: () => config,

    get(name) {
      return quotas.get(name)?.quota;
    },

    names() {
      return [...quotas.keys()].sort();
    },

    put(name, build) {
      return exclusive(async () => {
        const old = quotas.get(name);
        const quota = { ...build(old?.quota), name };
        await barrier.put(QUOTA_PREFIX + name, json(quota));
        quotas.set(name, activate(quota));
        rebuild();
        if (old) forget(old.key);
      });
    },

    delete(name) {
      return exclusive(async () => {
        await barrier.delete(QUOTA_PREFIX + name);
        const old = quotas.get(name);
        if (!old) return;
        quotas.delete(name);
        rebuild();
        forget(old.key);
      });
    },

    setConfig(next) {
      return exclusive(async () => {
        await barrier.put(CONFIG_KEY, json(next));
        config = next;
      });
    },
  };
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export function checkQuotaName(name: string): string {
  if (!NAME.test(name)) {
    throw new ApiError('ERR_INVALID_FIELD', 'quota name must be 1 to 128 letters, digits, dots, dashes or underscores, starting with a letter or digit');
  }
  return name;
}

/**
 * A quota's or an exempt entry's path without leading slashes. Segments `.` and `..`, empty
 * segments, whitespace and glob characters are refused: a prefix is matched literally.
 */
export function normalizeQuotaPath(path: string, field = 'path'): string {
  const trimmed = path.replace(/^\/+/, '');
  if (trimmed.length > 512 || /[\s*?#%]/.test(trimmed) || trimmed.includes('//') || trimmed.split('/').some((s) => s === '.' || s === '..')) {
    throw new ApiError('ERR_INVALID_FIELD', `field '${field}' is not a valid path prefix`);
  }
  return trimmed;
}
