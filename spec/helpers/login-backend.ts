import { ApiError } from '../../lib/errors.js';
import { defineBackend, type Backend, type BackendContext } from '../../lib/framework/backend.js';
import type { BackendRegistries } from '../../lib/core/core.js';
import type { LoginAuth } from '../../lib/core/request.js';
import { authBackends, secretBackends } from '../../lib/backends/registry.js';

/**
 * A test-only auth method that logs in through the pipeline's shared login path: users with
 * a plain password, in the mount's storage (this is a test) and the LoginAuth their login answers. It never mints a
 * token itself. `info` shows what its SystemView says, so a tune can be observed.
 *
 * Also a test-only secrets engine whose read answers a login block, which the pipeline must
 * refuse (only auth methods log in).
 */

interface TestUser {
  password: string;
  login: LoginAuth;
}

export function createTestLoginBackend(ctx: BackendContext): Backend {
  // Kept in the mount's storage, so a disabled mount's data can be seen to go.
  const users = {
    async get(name: string): Promise<TestUser | undefined> {
      const raw = await ctx.storage.get(`user/${name}`);
      return raw === null ? undefined : (JSON.parse(Buffer.from(raw).toString('utf8')) as TestUser);
    },
    async set(name: string, user: TestUser): Promise<void> {
      await ctx.storage.put(`user/${name}`, Buffer.from(JSON.stringify(user)));
    },
  };
  return defineBackend({
    type: 'test-login',
    help: 'Test auth method: logs users in with a password.',
    unauthenticated: ['login/*'],
    // A renewal is refused once the user is gone or has other policies (the login path's rule).
    renewLogin: async (login, storage) => {
      const raw = await storage.get(`user/${login.metadata.username ?? ''}`);
      if (raw === null) throw new ApiError('ERR_NOT_RENEWABLE', 'the user no longer exists');
      const user = JSON.parse(Buffer.from(raw).toString('utf8')) as TestUser;
      if (!user.login.policies.every((p) => login.policies.includes(p))) throw new ApiError('ERR_NOT_RENEWABLE', "the user's policies changed");
    },
    paths: [
      {
        pattern: 'users/:name',
        fields: {
          name: { type: 'string', description: 'User name.' },
          password: { type: 'string', description: 'Password.' },
          policies: { type: 'strings', description: 'Policies of the token.' },
          ttl: { type: 'duration', description: 'Token TTL.' },
          max_ttl: { type: 'duration', description: 'Token maximum TTL.' },
          period: { type: 'duration', description: 'Token period.' },
          num_uses: { type: 'int', description: 'Token uses.' },
          bound_cidrs: { type: 'strings', description: 'Token bound CIDRs.' },
        },
        operations: {
          update: async (_req, fields) => {
            await users.set(fields.get<string>('name'), {
              password: fields.get<string>('password'),
              login: {
                policies: fields.get<string[] | undefined>('policies') ?? [],
                ttl: fields.get<number | undefined>('ttl'),
                maxTtl: fields.get<number | undefined>('max_ttl'),
                period: fields.get<number | undefined>('period'),
                numUses: fields.get<number | undefined>('num_uses'),
                boundCidrs: fields.get<string[] | undefined>('bound_cidrs'),
                displayName: fields.get<string>('name'),
                metadata: { username: fields.get<string>('name') },
              },
            });
            return null;
          },
          delete: async (_req, fields) => {
            await ctx.storage.delete(`user/${fields.get<string>('name')}`);
            return null;
          },
        },
        synopsis: 'Create or delete a user.',
        description: "Stores a user in the mount's storage (test only).",
      },
      {
        pattern: 'login/:name',
        fields: { name: { type: 'string', description: 'User name.' }, password: { type: 'string', description: 'Password.' } },
        operations: {
          update: async (_req, fields) => {
            const user = await users.get(fields.get<string>('name'));
            if (!user || user.password !== fields.get<string>('password')) throw new ApiError('ERR_PERMISSION_DENIED', 'invalid username or password');
            return { data: null, login: user.login };
          },
        },
        synopsis: 'Log in.',
        description: 'Answers a login block; the pipeline makes the token.',
      },
      {
        pattern: 'info',
        operations: {
          read: async () => ({ data: { mount: ctx.mountPoint, default_ttl: ctx.system.defaultLeaseTtl(), max_ttl: ctx.system.maxLeaseTtl() } }),
        },
        synopsis: 'What the system view says.',
        description: 'The mount point and the TTLs this mount is given.',
      },
    ],
  });
}

function createLoginAnsweringEngine(): Backend {
  return defineBackend({
    type: 'test-bad-login',
    help: 'Test secrets engine that wrongly answers a login block.',
    paths: [
      {
        pattern: 'login',
        operations: { read: async () => ({ data: null, login: { policies: ['root'] } }) },
        synopsis: 'A login answer from a secrets engine.',
        description: 'The pipeline must refuse it.',
      },
    ],
  });
}

/** The default registries plus the test types. */
export const testBackends: BackendRegistries = {
  secret: { ...secretBackends, 'test-bad-login': createLoginAnsweringEngine },
  auth: { ...authBackends, 'test-login': createTestLoginBackend },
};
