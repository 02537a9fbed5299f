import { createHmac } from 'node:crypto';

/**
 * What an audit line shows instead of a secret: `hmac-sha256:<hex>`, keyed by the device's
 * own salt (kept in the barrier), so equal values can be matched (sys/audit-hash) without
 * the log ever holding them.
 */

export const HASH_PREFIX = 'hmac-sha256:';

export type Hash = (value: string) => string;

/**
 * A hash with a one-value memo, for tokens and accessors: a client sends the same token
 * request after request, and each request hashes it twice (request and response lines).
 * Use one per kind of value (tokens, accessors), or they would keep evicting each other.
 */
export function createHash(salt: Uint8Array): Hash {
  let lastInput = '';
  let lastOutput = '';
  return (value) => {
    if (value === lastInput && lastOutput !== '') return lastOutput;
    const out = HASH_PREFIX + createHmac('sha256', salt).update(value, 'utf8').digest('hex');
    lastInput = value;
    lastOutput = out;
    return out;
  };
}

/**
 * A hash with a small memo, for values in data: a hot secret is read (and hashed) again and
 * again. Bounded: short values only, and the memo starts over when full. It holds values the
 * barrier's plaintext cache holds anyway.
 */
export function createValueHash(salt: Uint8Array, maxEntries = 1024, maxLength = 256): Hash {
  const hash = createHash(salt);
  let memo = new Map<string, string>();
  return (value) => {
    if (value.length > maxLength) return hash(value);
    let out = memo.get(value);
    if (out === undefined) {
      out = hash(value);
      if (memo.size >= maxEntries) memo = new Map();
      memo.set(value, out);
    }
    return out;
  };
}

/**
 * A deep copy of a JSON value with every string replaced by its hash. Keys, numbers, booleans
 * and null stay as they are (Vault's rule: the shape stays readable, the values do not).
 */
export function hashStrings(value: unknown, hash: Hash): unknown {
  if (typeof value === 'string') return hash(value);
  if (Array.isArray(value)) return value.map((item) => hashStrings(item, hash));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = hashStrings(item, hash);
    return out;
  }
  return value;
}
