import { describe, expect, it } from 'vitest';
import { defineBackend, type Backend, type BackendSpec } from '../../lib/framework/backend.js';
import type { BackendRequest } from '../../lib/core/request.js';
import { isApiError } from '../../lib/errors.js';
import { createInmemStorage } from '../../lib/storage/inmem.js';
import { createCore } from '../../lib/core/core.js';
import { defaultConfig } from '../../lib/config.js';
import { silentLogger } from '../../lib/log.js';
import { authBackends, secretBackends } from '../../lib/backends/registry.js';
import { createSysBackend } from '../../lib/core/sys/index.js';
import { createTokenBackend } from '../../lib/core/token-backend.js';

/** defineBackend: routing, field handling, 404/405, and help generated for every route. */

function request(path: string, operation: BackendRequest['operation'], data: Record<string, unknown> = {}): BackendRequest {
  return { id: 'r', operation, path, data, query: {}, mountPoint: 'test/', storage: createInmemStorage(), caller: null, remoteAddress: '', clientToken: '' };
}

const echo: BackendSpec = {
  type: 'echo',
  help: 'Echoes its input.',
  unauthenticated: ['login', 'login/*'],
  root: ['admin/*'],
  paths: [
    {
      pattern: 'keys/:name',
      fields: { name: { type: 'string', description: 'Key name.' }, size: { type: 'int', description: 'Size.', default: 7, required: true } },
      operations: { read: async (_req, f) => ({ data: { name: f.get('name'), size: f.get('size') } }), update: async (_req, f) => ({ data: { name: f.get('name'), size: f.get('size') } }) },
      synopsis: 'Echo a key.',
      description: 'Returns the name and size.',
    },
  ],
};

/** Backend.handle reports errors as rejections, never as throws: a throw here fails the test. */
async function errorOf(answer: unknown) {
  expect(answer).toBeInstanceOf(Promise);
  try {
    await answer;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('defineBackend', () => {
  const backend = defineBackend(echo);

  it('merges URL captures over body fields and applies defaults', async () => {
    const read = await backend.handle(request('keys/abc', 'read', { name: 'ignored' }));
    expect(read?.data).toEqual({ name: 'abc', size: 7 });
    const write = await backend.handle(request('keys/abc', 'update', { size: '12' }));
    expect(write?.data).toEqual({ name: 'abc', size: 12 });
  });

  it.each([
    ['an unmatched path', 'nope', 'read', 'ERR_NOT_FOUND'],
    ['an undefined operation', 'keys/abc', 'delete', 'ERR_UNSUPPORTED_OPERATION'],
  ] as const)('rejects %s', async (_name, path, op, code) => {
    const err = await errorOf(backend.handle(request(path, op)));
    expect(isApiError(err, code)).toBe(true);
  });

  it('names Allow on 405', async () => {
    const err = await errorOf(backend.handle(request('keys/abc', 'delete')));
    expect(isApiError(err) && err.headers?.Allow).toBe('GET, POST, PUT');
  });

  it('rejects a field of the wrong type', async () => {
    const wrongType = await errorOf(backend.handle(request('keys/abc', 'update', { size: 'big' })));
    expect(isApiError(wrongType, 'ERR_INVALID_FIELD')).toBe(true);
  });

  it.each([
    ['login', true],
    ['login/userpass', true],
    ['logins', false],
    ['keys/x', false],
  ])('unauthenticated(%s) = %s', (path, expected) => {
    expect(backend.isUnauthenticated(path)).toBe(expected);
  });

  it.each([
    ['admin/x', true],
    ['admin', false],
    ['keys/admin', false],
  ])('rootPath(%s) = %s', (path, expected) => {
    expect(backend.isRootPath(path)).toBe(expected);
  });

  it.each([
    ['a route without help text', { ...echo, paths: [{ ...echo.paths[0]!, synopsis: '' }] }],
    ['a route without operations', { ...echo, paths: [{ ...echo.paths[0]!, operations: {} }] }],
    ['a duplicate route', { ...echo, paths: [echo.paths[0]!, echo.paths[0]!] }],
    ['a bad pattern', { ...echo, paths: [{ ...echo.paths[0]!, pattern: 'a/*rest/b' }] }],
  ])('refuses %s at definition time', (_name, spec) => {
    expect(() => defineBackend(spec as BackendSpec)).toThrow();
  });
});

/** The help contract every backend runs: every route documented, every route reachable by help. */
function exerciseBackendHelp(name: string, backend: Backend): void {
  describe(`help for the ${name} backend`, () => {
    const sample = (pattern: string) => pattern.replace(/:(\w+)/g, 'sample-$1').replace(/\*(\w+)$/, 'sample/rest');

    it('lists every route at the mount root', () => {
      const root = backend.help('');
      for (const path of backend.spec.paths) expect(root).toContain(path.pattern);
      expect(root).toContain(backend.spec.help.trim().split('\n')[0]);
    });

    it.each(backend.spec.paths.map((p) => [p.pattern, p] as const))('documents %s', (pattern, path) => {
      expect(path.synopsis.trim().length).toBeGreaterThan(10);
      expect(path.description.trim().length).toBeGreaterThan(10);
      for (const [field, schema] of Object.entries(path.fields ?? {})) {
        expect(schema.description.trim(), `field ${field}`).not.toBe('');
      }
      const text = backend.help(sample(pattern));
      expect(text).toContain(path.synopsis);
      for (const field of Object.keys(path.fields ?? {})) expect(text).toContain(field);
    });
  });
}

const core = createCore({ physical: createInmemStorage(), storageType: 'inmem', config: defaultConfig(), logger: silentLogger, backends: { secret: secretBackends, auth: authBackends } });
const ctx = {
  mountPoint: 'x/',
  storage: createInmemStorage(),
  system: { defaultLeaseTtl: () => 3600, maxLeaseTtl: () => 7200, logger: silentLogger, now: () => Date.now() },
};
for (const [type, factory] of Object.entries({ ...secretBackends, ...authBackends })) exerciseBackendHelp(type, factory(ctx));
exerciseBackendHelp('system', createSysBackend(core));
exerciseBackendHelp('token', createTokenBackend(core));
