import { createBoundedMemo } from '../storage/bounded-memo.js';
import type { CacheSize } from '../storage/storage.js';
import { CAP, type Policy, type PolicyRule } from './policy.js';

/**
 * Compiled ACL decisions (api.md §9). Each attached policy picks its most specific rule
 * for the path: an exact rule beats any wildcard; among wildcards the longest-standing
 * literal prefix wins (Vault's priority order). The caller's capabilities are the union of
 * what each policy picked, except that a `deny` picked by any policy wins outright.
 *
 * Compilation happens once per policy set; a decision walks a character trie of the
 * prefix globs (cost bounded by the path length, not the number of rules), checks an exact
 * map, and scans only the rare `+` rules. Decisions are memoised per path.
 *
 * A policy is compiled once however many policy sets it is in: tokens made by root may
 * carry any mix of policies, and each set is compiled separately.
 */

interface TrieNode {
  children: Map<string, TrieNode>;
  /** A `prefix*` rule ending here. */
  rule?: PolicyRule;
}

interface CompiledPolicy {
  exact: Map<string, PolicyRule>;
  globs: TrieNode;
  /** Rules with a `+` segment (with or without a trailing `*`). */
  segmentRules: Array<{ rule: PolicyRule; segments: string[]; glob: boolean }>;
}

export interface Acl {
  /** The capability bits granted on `path` (CAP.deny alone when denied, 0 when nothing matches). */
  capabilities(path: string): number;
  /** What the decision memo holds (sizes only). */
  memoSize(): CacheSize;
}

/** Decisions remembered per compiled ACL, their estimated bytes, and the longest path remembered. */
export const MEMO_LIMIT = 2048;
export const MEMO_MAX_BYTES = 64 << 10;
const MEMO_MAX_KEY_LENGTH = 512;
/** A Map slot holding a small integer, roughly. */
const MEMO_ENTRY_BYTES = 48;

function compilePolicy(policy: Policy): CompiledPolicy {
  const compiled: CompiledPolicy = { exact: new Map(), globs: { children: new Map() }, segmentRules: [] };
  for (const rule of policy.rules) {
    if (rule.path.split('/').includes('+')) {
      const glob = rule.path.endsWith('*');
      compiled.segmentRules.push({ rule, segments: (glob ? rule.path.slice(0, -1) : rule.path).split('/'), glob });
    } else if (rule.path.endsWith('*')) {
      let node = compiled.globs;
      for (const char of rule.path.slice(0, -1)) {
        let next = node.children.get(char);
        if (!next) {
          next = { children: new Map() };
          node.children.set(char, next);
        }
        node = next;
      }
      node.rule = rule;
    } else {
      compiled.exact.set(rule.path, rule);
    }
  }
  return compiled;
}

// Weak: a policy replaced or dropped from the policy store's cache takes its compiled form along.
const compiledPolicies = new WeakMap<Policy, CompiledPolicy>();

function compiledOf(policy: Policy): CompiledPolicy {
  let compiled = compiledPolicies.get(policy);
  if (compiled === undefined) {
    compiled = compilePolicy(policy);
    compiledPolicies.set(policy, compiled);
  }
  return compiled;
}

/** Vault's wildcard priority: true when `a` should win over `b`. */
export function outranks(a: string, b: string): boolean {
  const firstWildcard = (p: string): number => {
    const i = p.search(/[+*]/);
    return i === -1 ? p.length : i;
  };
  const wa = firstWildcard(a);
  const wb = firstWildcard(b);
  if (wa !== wb) return wa > wb;
  const ga = a.endsWith('*');
  const gb = b.endsWith('*');
  if (ga !== gb) return gb;
  const pa = a.split('/').filter((s) => s === '+').length;
  const pb = b.split('/').filter((s) => s === '+').length;
  if (pa !== pb) return pa < pb;
  if (a.length !== b.length) return a.length > b.length;
  return a > b;
}

function matchesSegments(entry: CompiledPolicy['segmentRules'][number], path: string): boolean {
  const parts = path.split('/');
  const { segments, glob } = entry;
  // The last pattern segment of a glob is a prefix of the rest of the path.
  const fixed = glob ? segments.length - 1 : segments.length;
  if (glob ? parts.length < segments.length : parts.length !== segments.length) return false;
  for (let i = 0; i < fixed; i++) {
    if (segments[i] !== '+' && segments[i] !== parts[i]) return false;
    if (segments[i] === '+' && parts[i] === '') return false;
  }
  if (!glob) return true;
  const last = segments[fixed]!;
  return last === '+' ? parts[fixed] !== '' : parts.slice(fixed).join('/').startsWith(last);
}

function bestRule(policy: CompiledPolicy, path: string): PolicyRule | undefined {
  const exact = policy.exact.get(path);
  if (exact) return exact;
  let best: PolicyRule | undefined;
  let node: TrieNode | undefined = policy.globs;
  for (let i = 0; node; i++) {
    if (node.rule) best = node.rule;
    if (i === path.length) break;
    node = node.children.get(path[i]!);
  }
  for (const entry of policy.segmentRules) {
    if (matchesSegments(entry, path) && (!best || outranks(entry.rule.path, best.path))) best = entry.rule;
  }
  return best;
}

export function compileAcl(policies: Policy[]): Acl {
  const compiled = policies.map(compiledOf);
  const memo = createBoundedMemo<string, number>(MEMO_LIMIT, MEMO_MAX_BYTES);
  const remembered = memo.entries;
  return {
    capabilities(path) {
      const known = remembered.get(path);
      if (known !== undefined) return known;
      let caps = 0;
      for (const policy of compiled) {
        const rule = bestRule(policy, path);
        if (!rule) continue;
        if (rule.caps & CAP.deny) {
          caps = CAP.deny;
          break;
        }
        caps |= rule.caps;
      }
      // Paths may be kilobytes long: a few would fill the budget and wipe the hot short ones.
      if (path.length <= MEMO_MAX_KEY_LENGTH) memo.remember(path, caps, path.length * 2 + MEMO_ENTRY_BYTES);
      return caps;
    },
    memoSize: () => memo.size(),
  };
}
