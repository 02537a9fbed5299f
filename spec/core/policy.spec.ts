import { describe, expect, it } from 'vitest';
import { CAP, capabilityNames, normalizePolicyName, parsePolicy } from '../../lib/core/policy.js';
import { isApiError } from '../../lib/errors.js';

/** The policy language (api.md §9): HCL and JSON forms, and errors naming line and column. */

const EXAMPLE = `path "secret/*"        { capabilities = ["create", "read", "update", "delete", "list"] }
path "secret/team/+/db" { capabilities = ["read"] }
path "secret/super"    { policy = "deny" }       # legacy levels: deny | read | write | sudo
`;

const EXAMPLE_JSON = JSON.stringify({
  path: {
    'secret/*': { capabilities: ['create', 'read', 'update', 'delete', 'list'] },
    'secret/team/+/db': { capabilities: ['read'] },
    'secret/super': { policy: 'deny' },
  },
});

const EXPECTED = [
  { path: 'secret/*', caps: CAP.create | CAP.read | CAP.update | CAP.delete | CAP.list },
  { path: 'secret/team/+/db', caps: CAP.read },
  { path: 'secret/super', caps: CAP.deny },
];

describe('parsePolicy', () => {
  it('reads the api.md example', () => {
    expect(parsePolicy('p', EXAMPLE).rules).toEqual(EXPECTED);
  });

  it('reads the JSON equivalent to the same rules', () => {
    expect(parsePolicy('p', EXAMPLE_JSON).rules).toEqual(EXPECTED);
  });

  it('accepts the JSON form with a list of path objects', () => {
    const text = JSON.stringify({ path: [{ 'a/*': { capabilities: ['read'] } }, { 'b/*': { policy: 'write' } }] });
    expect(parsePolicy('p', text).rules.map((r) => r.path)).toEqual(['a/*', 'b/*']);
  });

  it.each([
    ['read', ['read', 'list']],
    ['write', ['create', 'read', 'update', 'delete', 'list']],
    ['sudo', ['create', 'read', 'update', 'delete', 'list', 'sudo']],
    ['deny', ['deny']],
  ])('maps the legacy level %s', (level, caps) => {
    const [rule] = parsePolicy('p', `path "x/*" { policy = "${level}" }`).rules;
    expect(capabilityNames(rule!.caps)).toEqual(caps);
  });

  it('lets deny override whatever it is listed with', () => {
    expect(parsePolicy('p', 'path "x" { capabilities = ["read", "deny"] }').rules[0]!.caps).toBe(CAP.deny);
  });

  it('strips a leading slash and accepts heredoc-free multi-line blocks', () => {
    const text = `
# comment
path "/secret/a" {
  capabilities = [
    "read",
    "list",
  ]
}`;
    expect(parsePolicy('p', text).rules).toEqual([{ path: 'secret/a', caps: CAP.read | CAP.list }]);
  });

  it.each([
    ['an unterminated string', 'path "secret/*" {\n  capabilities = ["read]\n}\n', 2, 19],
    ['an unknown capability', 'path "secret/*" {\n  capabilities = ["read", "fly"]\n}\n', 2, 18],
    ['a duplicate path', 'path "a" { capabilities = ["read"] }\npath "a" { capabilities = ["list"] }\n', 2, 1],
    ['a nested block', 'path "a" {\n  path "b" { capabilities = ["read"] }\n}\n', 2, 3],
    ['an unknown level', 'path "a" {\n  policy = "admin"\n}\n', 2, 12],
    ['an unsupported key that would widen access if ignored', 'path "a" {\n  capabilities = ["read"]\n  allowed_parameters = { x = [] }\n}\n', 3, 3],
    ['a top-level attribute', 'name = "x"\n', 1, 1],
    ['a block other than path', 'rule "a" { capabilities = ["read"] }\n', 1, 1],
    ['a path block without capabilities', 'path "a" {\n}\n', 1, 1],
    ['both capabilities and policy', 'path "a" {\n  capabilities = ["read"]\n  policy = "read"\n}\n', 3, 3],
    ['a * in the middle', 'path "a/*/b" { capabilities = ["read"] }\n', 1, 1],
    ['a + inside a segment', 'path "a/b+/c" { capabilities = ["read"] }\n', 1, 1],
    ['capabilities that are not a list', 'path "a" {\n  capabilities = "read"\n}\n', 2, 18],
    // Unclosed braces are reported where they were opened, which is where the fix goes.
    ['an unterminated block', 'path "a" {\n  capabilities = ["read"]\n', 1, 10],
    ['invalid JSON', '{"path": {"a": {"capabilities": ["read"]}}', 1, 1],
    ['a duplicate JSON key', '{"path": {"a": {"capabilities": ["read"]}, "a": {"capabilities": ["list"]}}}', 1, 44],
  ])('rejects %s with 400 naming line and column', (_name, text, line, column) => {
    let error: unknown;
    try {
      parsePolicy('p', text);
    } catch (err) {
      error = err;
    }
    expect(isApiError(error, 'ERR_INVALID_POLICY')).toBe(true);
    expect((error as Error).message).toContain(`line ${line}, column ${column}`);
  });
});

describe('names that are JavaScript built-ins', () => {
  // Object.prototype's own names: a lookup on a plain object finds every one of them.
  const BUILT_INS = Object.getOwnPropertyNames(Object.prototype);

  const refused = (text: string): boolean => {
    try {
      parsePolicy('p', text);
      return false;
    } catch (err) {
      if (!isApiError(err, 'ERR_INVALID_POLICY')) throw err;
      return true;
    }
  };

  it('covers at least the nine names the campaign found', () => {
    expect(BUILT_INS).toEqual(expect.arrayContaining(['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', 'propertyIsEnumerable', 'toLocaleString', '__defineGetter__']));
  });

  it.each(BUILT_INS)('refuses policy = %j, in HCL and in JSON', (name) => {
    expect(refused(`path "secret/*" { policy = "${name}" }\n`)).toBe(true);
    expect(refused(JSON.stringify({ path: { 'secret/*': { policy: name } } }))).toBe(true);
  });

  it.each(BUILT_INS)('refuses capabilities = [%j], in HCL and in JSON', (name) => {
    expect(refused(`path "secret/*" { capabilities = ["${name}"] }\n`)).toBe(true);
    expect(refused(JSON.stringify({ path: { 'secret/*': { capabilities: [name] } } }))).toBe(true);
  });
});

describe('policy names', () => {
  it.each([
    ['Admins', 'admins'],
    ['  ops-team ', 'ops-team'],
    ['a.b_c@d', 'a.b_c@d'],
  ])('%s is stored as %s', (input, expected) => expect(normalizePolicyName(input)).toBe(expected));

  it.each(['', 'a/b', '../x', 'with space', '-lead'])('refuses %j', (name) => {
    expect(() => normalizePolicyName(name)).toThrow(/invalid policy name/);
  });
});
