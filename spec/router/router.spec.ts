import { describe, expect, it } from 'vitest';
import { addRoute, createRouter, findRoute, listRoutes, printRouter, type Router } from '../../lib/router/router.js';

/**
 * The path trie (lib/router/router.ts): static segments beat `:param`, which beats `*rest`;
 * a dead end backtracks; `:param` is one non-empty segment, `*rest` anything (even nothing);
 * `keys` and `keys/` differ; bad patterns throw when added.
 */

/** The value of each route is its own pattern, so a match shows which route won. */
function routerOf(patterns: string[]): Router<string> {
  const router = createRouter<string>();
  for (const pattern of patterns) addRoute(router, pattern, pattern);
  return router;
}

const PATTERNS = [
  // Static, param and nested param routes, and the trailing-slash variant.
  'keys',
  'keys/',
  'keys/policy',
  'keys/:name',
  'keys/:name/rotate',
  'keys/:name/config',
  // Backtracking: a static branch that dead-ends must fall back to the param branch.
  'a/:x/c',
  'a/b/d',
  // Param versus wildcard at the same node, and a param route that continues.
  'files/:name',
  'files/:name/meta',
  'files/*rest',
  // Wildcard fallback after a param branch dead-ends deeper down.
  'm/:x/n',
  'm/*rest',
  // Two params in one route.
  'roles/:role/secret-id/:id',
  // Mount-style prefixes: the longest one wins.
  'secret/*rest',
  'auth/token/*rest',
  'auth/userpass/*rest',
  'auth/*rest',
  'sys/mounts',
  'sys/mounts/*path',
];

const router = routerOf(PATTERNS);

type Row = [path: string, pattern: string | undefined, params?: Record<string, string>];

const ROWS: Row[] = [
  // Static beats param.
  ['keys/policy', 'keys/policy', {}],
  ['keys/foo', 'keys/:name', { name: 'foo' }],
  ['keys/policy/rotate', 'keys/:name/rotate', { name: 'policy' }],
  ['keys/foo/rotate', 'keys/:name/rotate', { name: 'foo' }],
  ['keys/foo/config', 'keys/:name/config', { name: 'foo' }],
  ['keys/foo/other', undefined],
  // Trailing slash: `keys` and `keys/` are different routes.
  ['keys', 'keys', {}],
  ['keys/', 'keys/', {}],
  ['keys/foo/', undefined],
  ['keys//rotate', undefined],
  ['keys/foo/rotate/', undefined],
  // Backtracking.
  ['a/b/c', 'a/:x/c', { x: 'b' }],
  ['a/b/d', 'a/b/d', {}],
  ['a/z/c', 'a/:x/c', { x: 'z' }],
  ['a/z/d', undefined],
  ['a/b/e', undefined],
  ['a/b', undefined],
  ['a//c', undefined],
  // Param beats wildcard; the wildcard takes what the param cannot.
  ['files/x', 'files/:name', { name: 'x' }],
  ['files/x/meta', 'files/:name/meta', { name: 'x' }],
  ['files/x/y', 'files/*rest', { rest: 'x/y' }],
  ['files/x/meta/', 'files/*rest', { rest: 'x/meta/' }],
  ['files/', 'files/*rest', { rest: '' }],
  ['files//x', 'files/*rest', { rest: '/x' }],
  ['files', undefined],
  // A capture from an abandoned branch does not leak into the match.
  ['m/q/n', 'm/:x/n', { x: 'q' }],
  ['m/q/o', 'm/*rest', { rest: 'q/o' }],
  ['m/q', 'm/*rest', { rest: 'q' }],
  // Several params.
  ['roles/web/secret-id/abc', 'roles/:role/secret-id/:id', { role: 'web', id: 'abc' }],
  ['roles/web/secret-id/', undefined],
  ['roles//secret-id/abc', undefined],
  // Captures are taken as they are: no decoding, any characters but `/`.
  ['keys/a%20b', 'keys/:name', { name: 'a%20b' }],
  ['keys/a b:c*d', 'keys/:name', { name: 'a b:c*d' }],
  ['keys/..', 'keys/:name', { name: '..' }],
  // Mount-style longest prefix.
  ['secret/foo', 'secret/*rest', { rest: 'foo' }],
  ['secret/a/b/c', 'secret/*rest', { rest: 'a/b/c' }],
  ['secret/', 'secret/*rest', { rest: '' }],
  ['secret', undefined],
  ['secrets/foo', undefined],
  ['auth/token/lookup-self', 'auth/token/*rest', { rest: 'lookup-self' }],
  ['auth/token/', 'auth/token/*rest', { rest: '' }],
  ['auth/token', 'auth/*rest', { rest: 'token' }],
  ['auth/userpass/login/bob', 'auth/userpass/*rest', { rest: 'login/bob' }],
  ['auth/userpass2/login', 'auth/*rest', { rest: 'userpass2/login' }],
  ['auth/', 'auth/*rest', { rest: '' }],
  ['auth', undefined],
  ['sys/mounts', 'sys/mounts', {}],
  ['sys/mounts/', 'sys/mounts/*path', { path: '' }],
  ['sys/mounts/a/b/tune', 'sys/mounts/*path', { path: 'a/b/tune' }],
  // Nothing else matches.
  ['', undefined],
  ['/', undefined],
  ['/keys', undefined],
  ['nothing', undefined],
  ['sys', undefined],
  ['KEYS', undefined],
];

describe('findRoute', () => {
  it.each(ROWS)('%s → %s', (path, pattern, params) => {
    const match = findRoute(router, path);
    if (pattern === undefined) {
      expect(match).toBeUndefined();
      return;
    }
    expect(match).toEqual({ value: pattern, pattern, params });
  });

  it('returns a fresh params object each time', () => {
    const first = findRoute(router, 'keys/one')!;
    first.params.name = 'changed';
    expect(findRoute(router, 'keys/one')!.params).toEqual({ name: 'one' });
  });

  it('never throws, even on long paths', () => {
    expect(findRoute(router, 'keys/' + 'x/'.repeat(20_000))).toBeUndefined();
    expect(findRoute(router, '/'.repeat(20_000))).toBeUndefined();
    expect(findRoute(router, 'secret/' + 'y/'.repeat(20_000))?.pattern).toBe('secret/*rest');
  });

  it('matches nothing in an empty router', () => {
    const empty = createRouter<string>();
    for (const path of ['', 'a', 'a/b', '/']) expect(findRoute(empty, path)).toBeUndefined();
  });

  it.each<[string, string | undefined, Record<string, string>?]>([
    ['', '*all', { all: '' }],
    ['anything/at/all', '*all', { all: 'anything/at/all' }],
    ['', '', {}],
  ])('a root route: %j → %s', (path, pattern, params) => {
    const root = routerOf(pattern === '' ? [''] : ['*all']);
    expect(findRoute(root, path)).toEqual({ value: pattern, pattern, params });
  });

  it('counts routes and lists them in match order', () => {
    expect(router.size).toBe(PATTERNS.length);
    expect(listRoutes(router).map((leaf) => leaf.pattern)).toEqual([
      'a/b/d',
      'a/:x/c',
      'auth/token/*rest',
      'auth/userpass/*rest',
      'auth/*rest',
      'files/:name',
      'files/:name/meta',
      'files/*rest',
      'keys',
      'keys/',
      'keys/policy',
      'keys/:name',
      'keys/:name/config',
      'keys/:name/rotate',
      'm/:x/n',
      'm/*rest',
      'roles/:role/secret-id/:id',
      'secret/*rest',
      'sys/mounts',
      'sys/mounts/*path',
    ]);
  });
});

describe('addRoute', () => {
  it.each<[string, string[], string, RegExp]>([
    ['a duplicate static route', ['keys'], 'keys', /duplicate route/],
    ['a duplicate trailing-slash route', ['keys/'], 'keys/', /duplicate route/],
    ['a duplicate param route', ['keys/:name'], 'keys/:name', /duplicate route/],
    ['a duplicate param route under another name', ['keys/:name/x'], 'keys/:id/x', /conflicting parameter names/],
    ['a duplicate wildcard', ['secret/*rest'], 'secret/*rest', /duplicate route/],
    ['a second wildcard under another name', ['secret/*rest'], 'secret/*path', /duplicate route/],
    ['conflicting param names at one position', ['keys/:name'], 'keys/:id/rotate', /conflicting parameter names/],
    ['a wildcard before the last segment', [], 'a/*rest/b', /wildcard must be the last segment/],
    ['a wildcard as the first of two segments', [], '*rest/', /wildcard must be the last segment/],
    ['an empty param name', [], 'keys/:', /bad parameter name/],
    ['a param name starting with a digit', [], 'keys/:1st', /bad parameter name/],
    ['a param name with a dash', [], 'keys/:key-name', /bad parameter name/],
    ['an empty wildcard name', [], 'secret/*', /bad wildcard name/],
    ['a wildcard name with a dot', [], 'secret/*a.b', /bad wildcard name/],
    ['a colon inside a static segment', [], 'keys/a:b', /bad segment/],
    ['a star inside a static segment', [], 'keys/a*', /bad segment/],
    ['a leading slash', [], '/keys', /must not start with '\/'/],
    ['a lone slash', [], '/', /must not start with '\/'/],
    ['a repeated param name', [], 'x/:id/y/:id', /name 'id' is used twice/],
    ['a wildcard named like a param', [], 'x/:rest/*rest', /name 'rest' is used twice/],
  ])('throws on %s: %j then %s', (_label, existing, pattern, message) => {
    const r = routerOf(existing);
    const before = printRouter(r);
    expect(() => addRoute(r, pattern, pattern)).toThrow(message);
    // A refused pattern leaves the trie exactly as it was.
    expect(r.size).toBe(existing.length);
    expect(printRouter(r)).toBe(before);
  });

  it.each([
    ['keys', 'keys/'],
    ['keys/:name', 'keys/*rest'],
    ['keys/:name', 'keys/static'],
    ['a/:x/c', 'a/:x/d'],
    ['', '*all'],
  ])('accepts %s alongside %s', (first, second) => {
    const r = routerOf([first, second]);
    expect(r.size).toBe(2);
  });

  it('keeps a route added after a refused one working', () => {
    const r = routerOf(['keys/:name']);
    expect(() => addRoute(r, 'keys/:id', 'x')).toThrow();
    addRoute(r, 'keys/:name/rotate', 'rotate');
    expect(findRoute(r, 'keys/k/rotate')).toEqual({ value: 'rotate', pattern: 'keys/:name/rotate', params: { name: 'k' } });
    expect(findRoute(r, 'keys/k')?.params).toEqual({ name: 'k' });
  });

  it('lets a refused pattern claim no parameter name', () => {
    // `:a` would be half-added before the bad wildcard name is seen, and then block `:b`.
    const r = createRouter<string>();
    expect(() => addRoute(r, 'x/:a/*', 'bad')).toThrow(/bad wildcard name/);
    addRoute(r, 'x/:b', 'good');
    expect(findRoute(r, 'x/1')).toEqual({ value: 'good', pattern: 'x/:b', params: { b: '1' } });
  });
});

describe('printRouter', () => {
  it('shows the trie: statics sorted, then the param, then the wildcard', () => {
    expect(printRouter(router)).toMatchInlineSnapshot(`
      "<root>
        a/
          b/
            d/  => a/b/d
          :x/
            c/  => a/:x/c
        auth/
          token/
            *rest  => auth/token/*rest
          userpass/
            *rest  => auth/userpass/*rest
          *rest  => auth/*rest
        files/
          :name/  => files/:name
            meta/  => files/:name/meta
          *rest  => files/*rest
        keys/  => keys
          /  => keys/
          policy/  => keys/policy
          :name/  => keys/:name
            config/  => keys/:name/config
            rotate/  => keys/:name/rotate
        m/
          :x/
            n/  => m/:x/n
          *rest  => m/*rest
        roles/
          :role/
            secret-id/
              :id/  => roles/:role/secret-id/:id
        secret/
          *rest  => secret/*rest
        sys/
          mounts/  => sys/mounts
            *path  => sys/mounts/*path"
    `);
  });
});
