import { describe, expect, it } from 'vitest';
import { compileAcl, outranks } from '../../lib/core/acl.js';
import { CAP, parsePolicy, type Capability } from '../../lib/core/policy.js';

/**
 * ACL decisions, table-driven (api.md §9): each attached policy picks its most specific
 * rule; capabilities are the union; a deny picked by any policy wins; root paths need sudo.
 */

const P = {
  readApp: 'path "secret/app/*" { capabilities = ["read", "list"] }',
  writeApp: 'path "secret/app/*" { capabilities = ["create", "update"] }',
  denyApp: 'path "secret/app/*" { capabilities = ["deny"] }',
  denyExact: 'path "secret/app/locked" { capabilities = ["deny"] }',
  exactRead: 'path "secret/app/x" { capabilities = ["read"] }',
  secretAll: 'path "secret/*" { capabilities = ["create", "read", "update", "delete", "list"] }',
  secretGlobNoSlash: 'path "secret/ap*" { capabilities = ["read"] }',
  plus: 'path "secret/team/+/db" { capabilities = ["read"] }',
  plusGlob: 'path "secret/team/+/*" { capabilities = ["list"] }',
  twoPlus: 'path "secret/+/+/cfg" { capabilities = ["update"] }',
  legacyRead: 'path "secret/legacy/*" { policy = "read" }',
  legacyWrite: 'path "secret/legacy/*" { policy = "write" }',
  legacyDeny: 'path "secret/legacy/*" { policy = "deny" }',
  legacySudo: 'path "sys/*" { policy = "sudo" }',
  sysSudo: 'path "sys/mounts/*" { capabilities = ["create", "update", "sudo"] }',
  sysNoSudo: 'path "sys/mounts/*" { capabilities = ["create", "update", "read"] }',
  layered: `path "secret/*" { capabilities = ["read"] }
path "secret/app/*" { capabilities = ["update"] }
path "secret/app/admin" { capabilities = ["deny"] }`,
  sealSudo: 'path "sys/seal" { capabilities = ["update", "sudo"] }',
  sealPlain: 'path "sys/seal" { capabilities = ["update"] }',
  everything: 'path "*" { capabilities = ["read"] }',
  denySecretGlob: 'path "secret/*" { capabilities = ["deny"] }',
} as const;

type Name = keyof typeof P;

function decide(names: Name[], path: string, cap: Capability, rootPath = false): boolean {
  const acl = compileAcl(names.map((n) => parsePolicy(n.toLowerCase(), P[n])));
  const caps = acl.capabilities(path);
  if (caps === 0 || caps & CAP.deny) return false;
  if (rootPath && !(caps & CAP.sudo)) return false;
  return (caps & CAP[cap]) !== 0;
}

const rows: Array<[string, Name[], string, Capability, boolean, boolean?]> = [
  // single policy, prefix globs
  ['glob grants read below it', ['readApp'], 'secret/app/x', 'read', true],
  ['glob grants list below it', ['readApp'], 'secret/app/x', 'list', true],
  ['glob does not grant update', ['readApp'], 'secret/app/x', 'update', false],
  ['glob does not grant delete', ['readApp'], 'secret/app/x', 'delete', false],
  ['glob covers deep paths', ['readApp'], 'secret/app/a/b/c', 'read', true],
  ['glob covers the folder itself', ['readApp'], 'secret/app/', 'list', true],
  ['glob does not cover its parent without slash', ['readApp'], 'secret/app', 'read', false],
  ['glob does not cover siblings', ['readApp'], 'secret/other', 'read', false],
  ['glob does not cover a similar prefix', ['readApp'], 'secret/apple/x', 'read', false],
  ['no match is deny', ['readApp'], 'sys/mounts', 'read', false],
  ['a glob without slash matches character prefixes', ['secretGlobNoSlash'], 'secret/apple', 'read', true],
  ['a glob without slash matches deeper', ['secretGlobNoSlash'], 'secret/app/x', 'read', true],
  ['a glob without slash does not match before it', ['secretGlobNoSlash'], 'secret/a', 'read', false],
  ['path "*" matches everything', ['everything'], 'anything/at/all', 'read', true],
  ['path "*" grants only what it says', ['everything'], 'anything', 'update', false],
  // exact rules
  ['exact rule grants on its path', ['exactRead'], 'secret/app/x', 'read', true],
  ['exact rule is not a prefix', ['exactRead'], 'secret/app/x/y', 'read', false],
  ['exact rule is not a prefix (trailing slash)', ['exactRead'], 'secret/app/x/', 'read', false],
  // longest glob and exact-beats-glob inside one policy
  ['layered: broad glob reads', ['layered'], 'secret/other', 'read', true],
  ['layered: longer glob wins, so no read', ['layered'], 'secret/app/x', 'read', false],
  ['layered: longer glob grants update', ['layered'], 'secret/app/x', 'update', true],
  ['layered: exact deny beats globs', ['layered'], 'secret/app/admin', 'update', false],
  ['layered: exact deny is exact', ['layered'], 'secret/app/admin2', 'update', true],
  // + segment wildcards
  ['+ matches one segment', ['plus'], 'secret/team/blue/db', 'read', true],
  ['+ does not match two segments', ['plus'], 'secret/team/blue/green/db', 'read', false],
  ['+ does not match an empty segment', ['plus'], 'secret/team//db', 'read', false],
  ['+ rule without glob is exact in length', ['plus'], 'secret/team/blue/db/x', 'read', false],
  ['+ then glob matches deeper', ['plusGlob'], 'secret/team/blue/a/b', 'list', true],
  ['+ then glob needs the segment', ['plusGlob'], 'secret/team/blue', 'list', false],
  ['+ then glob with trailing slash', ['plusGlob'], 'secret/team/blue/', 'list', true],
  ['two + segments', ['twoPlus'], 'secret/a/b/cfg', 'update', true],
  ['two + segments, wrong length', ['twoPlus'], 'secret/a/cfg', 'update', false],
  ['+ rule outranks a shorter glob', ['plus', 'plusGlob'], 'secret/team/blue/db', 'read', true],
  // legacy levels
  ['legacy read allows read', ['legacyRead'], 'secret/legacy/a', 'read', true],
  ['legacy read allows list', ['legacyRead'], 'secret/legacy/a', 'list', true],
  ['legacy read refuses update', ['legacyRead'], 'secret/legacy/a', 'update', false],
  ['legacy write allows create', ['legacyWrite'], 'secret/legacy/a', 'create', true],
  ['legacy write allows delete', ['legacyWrite'], 'secret/legacy/a', 'delete', true],
  ['legacy write is not sudo', ['legacyWrite'], 'secret/legacy/a', 'read', false, true],
  ['legacy deny refuses read', ['legacyDeny'], 'secret/legacy/a', 'read', false],
  ['legacy sudo allows root paths', ['legacySudo'], 'sys/mounts/x', 'update', true, true],
  // several policies: union, deny wins
  ['union of two policies: read from one', ['readApp', 'writeApp'], 'secret/app/x', 'read', true],
  ['union of two policies: update from the other', ['readApp', 'writeApp'], 'secret/app/x', 'update', true],
  ['union of two policies: still no delete', ['readApp', 'writeApp'], 'secret/app/x', 'delete', false],
  ['deny in another policy wins (same glob)', ['readApp', 'denyApp'], 'secret/app/x', 'read', false],
  ['deny in another policy wins (order reversed)', ['denyApp', 'readApp'], 'secret/app/x', 'read', false],
  ['exact deny in another policy wins over a glob grant', ['secretAll', 'denyExact'], 'secret/app/locked', 'read', false],
  ['exact deny leaves other paths alone', ['secretAll', 'denyExact'], 'secret/app/open', 'read', true],
  ['a broad deny picked by one policy beats an exact grant in another', ['exactRead', 'denySecretGlob'], 'secret/app/x', 'read', false],
  ['a broader grant does not undo a narrower deny', ['secretAll', 'denyApp'], 'secret/app/x', 'read', false],
  ['a broader grant still works outside the deny', ['secretAll', 'denyApp'], 'secret/other', 'read', true],
  ['union with an exact rule', ['readApp', 'exactRead'], 'secret/app/x', 'list', true],
  ['three policies, deny wins', ['readApp', 'writeApp', 'denyExact'], 'secret/app/locked', 'update', false],
  // root-protected paths need sudo
  ['root path with sudo', ['sysSudo'], 'sys/mounts/kv', 'create', true, true],
  ['root path without sudo', ['sysNoSudo'], 'sys/mounts/kv', 'create', false, true],
  ['the same path when not root-protected needs no sudo', ['sysNoSudo'], 'sys/mounts/kv', 'read', true, false],
  ['sys/seal with sudo', ['sealSudo'], 'sys/seal', 'update', true, true],
  ['sys/seal without sudo', ['sealPlain'], 'sys/seal', 'update', false, true],
  ['sudo alone does not grant the operation', ['sealSudo'], 'sys/seal', 'read', false, true],
  ['sudo from another policy does not leak', ['sealPlain', 'sysSudo'], 'sys/seal', 'update', false, true],
  ['no policies grant nothing', [], 'secret/app/x', 'read', false],
  ['deny wins even on root paths', ['legacySudo', 'denySecretGlob'], 'secret/x', 'read', false, true],
];

describe('ACL decisions', () => {
  it('has at least 60 rows', () => expect(rows.length).toBeGreaterThanOrEqual(60));

  it.each(rows)('%s', (_name, names, path, cap, expected, rootPath) => {
    expect(decide(names, path, cap, rootPath ?? false)).toBe(expected);
  });

  it('memoises decisions without changing them', () => {
    const acl = compileAcl([parsePolicy('a', P.layered)]);
    expect(acl.capabilities('secret/app/x')).toBe(CAP.update);
    expect(acl.capabilities('secret/app/x')).toBe(CAP.update);
  });

  it('keeps its memo within its bounds, and decides long paths without remembering them', () => {
    const acl = compileAcl([parsePolicy('a', P.layered)]);
    for (let i = 0; i < 20_000; i++) expect(acl.capabilities(`secret/app/${i}`)).toBe(CAP.update);
    const size = acl.memoSize();
    expect(size.entries).toBeGreaterThan(0);
    expect(size.entries).toBeLessThanOrEqual(size.maxEntries);
    expect(size.bytes).toBeLessThanOrEqual(size.maxBytes);
    const long = `secret/app/${'x'.repeat(8192)}`;
    expect(acl.capabilities(long)).toBe(CAP.update);
    expect(acl.capabilities(`${long}/admin`)).toBe(CAP.update);
    expect(acl.memoSize()).toEqual(size);
  });

  it('decides the same whether a policy was compiled for this set or for another', () => {
    const layered = parsePolicy('layered', P.layered);
    const deny = parsePolicy('deny', P.denyExact);
    const alone = compileAcl([layered]);
    const shared = compileAcl([layered, deny]);
    expect(alone.capabilities('secret/app/locked')).toBe(CAP.update);
    expect(shared.capabilities('secret/app/locked')).toBe(CAP.deny);
    expect(compileAcl([layered]).capabilities('secret/app/admin')).toBe(CAP.deny);
  });
});

describe('wildcard priority (Vault order)', () => {
  it.each([
    ['secret/app/*', 'secret/*', true],
    ['secret/+/db', 'secret/*', true],
    ['secret/a/+', 'secret/+/b', true],
    ['secret/+/db', 'secret/+/*', true],
    ['secret/+/+', 'secret/+/x*', true],
    ['secret/+/x*', 'secret/+/+', false],
    ['secret/ab*', 'secret/a*', true],
  ])('%s outranks %s: %s', (a, b, expected) => {
    expect(outranks(a, b)).toBe(expected);
    if (expected) expect(outranks(b, a)).toBe(false);
  });
});
