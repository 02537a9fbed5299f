import { ApiError } from '../errors.js';
import { createBoundedMemo } from '../storage/bounded-memo.js';
import type { CacheSize, Storage } from '../storage/storage.js';
import { createView } from '../storage/view.js';
import { compileAcl, MEMO_LIMIT, MEMO_MAX_BYTES, type Acl } from './acl.js';
import { normalizePolicyName, parsePolicy, type Policy } from './policy.js';

/**
 * Stored policies (`sys/policy/<name>` behind the barrier) and the compiled ACL of each
 * policy set, cached until any policy changes. `root` is built in and never stored;
 * `default` is created on first unseal, may be edited, never deleted.
 *
 * Tokens made by root may carry any names, so what traffic can grow is bounded: the compiled
 * sets, and the names found to have no policy, each start over when full. Parsed policies
 * that exist are kept apart from the unknown names, so a flood of made-up names never
 * pushes the real ones out; they are as many as the stored policies in use.
 */

export const DEFAULT_POLICY = `# Allow tokens to look up, renew and revoke themselves.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
path "auth/token/renew-self" {
  capabilities = ["update"]
}
path "auth/token/revoke-self" {
  capabilities = ["update"]
}

# Allow a token to see what it may do.
path "sys/capabilities-self" {
  capabilities = ["update"]
}

# Every token has a private cubbyhole.
path "cubbyhole/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}
`;

export interface PolicyStore {
  setup(): Promise<void>;
  teardown(): void;
  /** The policy, or null; `root` reads as an empty document. */
  get(name: string): Promise<Policy | null>;
  /** Every policy name, `root` included, sorted. */
  list(): Promise<string[]>;
  put(name: string, text: string): Promise<void>;
  delete(name: string): Promise<void>;
  /** The compiled ACL for a token's policies (unknown names grant nothing). */
  acl(names: readonly string[]): Promise<Acl>;
  /** For the fast path only: the compiled ACL if it is cached; undefined means "ask `acl`". */
  cachedAcl(names: readonly string[]): Acl | undefined;
  /** Sizes only: the compiled sets, their decision memos summed, the unknown names, and the policies held. */
  memory(): { acls: CacheSize; aclMemos: CacheSize; unknown: CacheSize; parsed: number };
}

/** Compiled policy sets kept, and the estimated bytes of their keys (the sets' names). */
const ACL_LIMIT = 128;
const ACL_MAX_BYTES = 1 << 20;
/** An Acl, its closures and its empty memo, roughly. */
const ACL_ENTRY_BYTES = 256;
/** Names remembered as "no such policy", and their estimated bytes. */
const UNKNOWN_LIMIT = 1024;
const UNKNOWN_MAX_BYTES = 256 << 10;
const UNKNOWN_ENTRY_BYTES = 48;

interface StoredPolicy {
  name: string;
  text: string;
}

export function createPolicyStore(barrier: Storage): PolicyStore {
  const view = createView(barrier, 'sys/policy/');
  const parsed = new Map<string, Policy>();
  const unknown = createBoundedMemo<string, true>(UNKNOWN_LIMIT, UNKNOWN_MAX_BYTES);
  const acls = createBoundedMemo<string, Acl>(ACL_LIMIT, ACL_MAX_BYTES);
  // Read on every authenticated request: the Map itself, no wrapper in between.
  const compiledSets = acls.entries;
  // A token's policy list is one array for its lifetime: remember its cache key.
  const setKeys = new WeakMap<readonly string[], string>();
  // Bumped on every change, so an ACL compiled while a policy changed is not cached.
  let generation = 0;

  const unknownCost = (name: string): number => name.length * 2 + UNKNOWN_ENTRY_BYTES;

  const load = async (name: string): Promise<Policy | null> => {
    const known = parsed.get(name);
    if (known !== undefined) return known;
    if (unknown.entries.has(name)) return null;
    const startedAt = generation;
    const raw = await view.get(name);
    let policy: Policy | null = null;
    if (raw !== null) {
      const stored = JSON.parse(Buffer.from(raw).toString('utf8')) as StoredPolicy;
      policy = parsePolicy(stored.name, stored.text);
    }
    if (startedAt === generation) {
      if (policy) parsed.set(name, policy);
      else unknown.remember(name, true, unknownCost(name));
    }
    return policy;
  };

  const setKey = (names: readonly string[]): string => {
    let key = setKeys.get(names);
    if (key === undefined) {
      key = [...names].sort().join('\n');
      setKeys.set(names, key);
    }
    return key;
  };

  const changed = (name: string): void => {
    generation++;
    parsed.delete(name);
    unknown.forget(name, unknownCost(name));
    acls.clear();
  };

  const memoSizes = (): CacheSize => {
    const sum: CacheSize = { entries: 0, bytes: 0, maxEntries: MEMO_LIMIT * ACL_LIMIT, maxBytes: MEMO_MAX_BYTES * ACL_LIMIT };
    for (const acl of compiledSets.values()) {
      const size = acl.memoSize();
      sum.entries += size.entries;
      sum.bytes += size.bytes;
    }
    return sum;
  };

  const store: PolicyStore = {
    async setup() {
      if ((await view.get('default')) === null) await store.put('default', DEFAULT_POLICY);
    },
    teardown() {
      parsed.clear();
      unknown.clear();
      acls.clear();
    },
    async get(name) {
      const key = normalizePolicyName(name);
      if (key === 'root') return { name: 'root', text: '', rules: [] };
      return load(key);
    },
    async list() {
      const names = (await view.list('')).filter((n) => !n.endsWith('/'));
      return [...new Set([...names, 'root'])].sort();
    },
    async put(name, text) {
      const key = normalizePolicyName(name);
      if (key === 'root') throw new ApiError('ERR_INVALID_POLICY', 'cannot update the root policy');
      const policy = parsePolicy(key, text);
      await view.put(key, Buffer.from(JSON.stringify({ name: key, text } satisfies StoredPolicy)));
      changed(key);
      parsed.set(key, policy);
    },
    async delete(name) {
      const key = normalizePolicyName(name);
      if (key === 'root') throw new ApiError('ERR_INVALID_POLICY', 'cannot delete the root policy');
      if (key === 'default') throw new ApiError('ERR_INVALID_POLICY', 'cannot delete the default policy');
      await view.delete(key);
      changed(key);
    },
    cachedAcl(names) {
      return compiledSets.get(setKey(names));
    },
    async acl(names) {
      const key = setKey(names);
      const cached = compiledSets.get(key);
      if (cached) return cached;
      const startedAt = generation;
      const policies: Policy[] = [];
      for (const name of names) {
        const policy = name === 'root' ? null : await load(name);
        if (policy) policies.push(policy);
      }
      const acl = compileAcl(policies);
      if (startedAt === generation && !compiledSets.has(key)) acls.remember(key, acl, key.length * 2 + ACL_ENTRY_BYTES);
      return acl;
    },
    memory: () => ({
      acls: acls.size(),
      aclMemos: memoSizes(),
      unknown: unknown.size(),
      parsed: parsed.size,
    }),
  };
  return store;
}
