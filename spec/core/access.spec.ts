import { afterEach, describe, expect, it } from 'vitest';
import { authenticate, authorize } from '../../lib/core/access.js';
import type { Request } from '../../lib/core/request.js';
import { startCore, type TestCore } from '../helpers/core.js';

let current: TestCore | undefined;
afterEach(async () => {
  await current?.core.seal();
  current = undefined;
});

async function core(): Promise<TestCore> {
  current = await startCore();
  return current;
}

describe('authenticate', () => {
  it('always answers with a promise, and caches the token for the fast path once looked up', async () => {
    const { core: c, rootToken } = await core();
    const { token } = await c.tokenManager.create(null, { path: 'auth/token/create', policies: ['default'] }, true);
    c.tokens.teardown();
    await c.tokens.setup();
    expect(c.tokens.cached(token)).toBeUndefined();
    const first = authenticate(c.tokens, token, '127.0.0.1');
    expect(first).toBeInstanceOf(Promise);
    expect((await first).caller.policies).toEqual(['default']);
    expect(c.tokens.cached(token)?.policies).toEqual(['default']);
    const second = authenticate(c.tokens, token, '127.0.0.1');
    expect(second).toBeInstanceOf(Promise);
    expect((await second).caller.policies).toEqual(['default']);
    expect(c.tokens.cached(rootToken)).toBeUndefined();
    await authenticate(c.tokens, rootToken, '127.0.0.1');
    expect(c.tokens.cached(rootToken)?.policies).toEqual(['root']);
  });

  it('refuses a missing, unknown, revoked or expired token with permission denied, always as a rejection', async () => {
    const { core: c } = await core();
    const missing = authenticate(c.tokens, '', '127.0.0.1');
    expect(missing).toBeInstanceOf(Promise);
    await expect(missing).rejects.toMatchObject({ code: 'ERR_PERMISSION_DENIED', message: 'missing client token' });
    await expect(authenticate(c.tokens, 'no-such-token', '127.0.0.1')).rejects.toMatchObject({ code: 'ERR_PERMISSION_DENIED' });

    const { token, entry } = await c.tokenManager.create(null, { path: 'auth/token/create', policies: ['default'] }, true);
    await authenticate(c.tokens, token, '127.0.0.1');
    entry.expireTime = Date.now() - 1;
    await expect(authenticate(c.tokens, token, '127.0.0.1')).rejects.toMatchObject({ code: 'ERR_PERMISSION_DENIED' });

    const other = await c.tokenManager.create(null, { path: 'auth/token/create', policies: ['default'] }, true);
    await authenticate(c.tokens, other.token, '127.0.0.1');
    await c.tokenManager.revokeTree(other.entry.hash);
    expect(c.tokens.cached(other.token)).toBeUndefined();
    await expect(authenticate(c.tokens, other.token, '127.0.0.1')).rejects.toMatchObject({ code: 'ERR_PERMISSION_DENIED' });
  });

  it('counts down num_uses and marks the last use as exhausted', async () => {
    const { core: c } = await core();
    const { token } = await c.tokenManager.create(null, { path: 'auth/token/create', policies: ['default'], numUses: 2 }, true);
    expect((await authenticate(c.tokens, token, '127.0.0.1')).exhausted).toBe(false);
    expect(c.tokens.cached(token)?.numUses).toBe(1);
    expect((await authenticate(c.tokens, token, '127.0.0.1')).exhausted).toBe(true);
    await expect(authenticate(c.tokens, token, '127.0.0.1')).rejects.toMatchObject({ code: 'ERR_PERMISSION_DENIED' });
  });

  it('honours a token\'s bound CIDRs, IPv4 (also as IPv4-mapped IPv6) and IPv6', async () => {
    const { core: c } = await core();
    const { token } = await c.tokenManager.create(null, { path: 'auth/token/create', policies: ['default'], boundCidrs: ['10.0.0.0/8', 'fd00::/16'] }, true);
    expect((await authenticate(c.tokens, token, '10.1.2.3')).caller.policies).toEqual(['default']);
    expect((await authenticate(c.tokens, token, '::ffff:10.9.9.9')).caller.policies).toEqual(['default']);
    expect((await authenticate(c.tokens, token, 'fd00::1')).caller.policies).toEqual(['default']);
    for (const outside of ['127.0.0.1', '11.0.0.1', '::1', 'fe80::1', '']) {
      await expect(authenticate(c.tokens, token, outside)).rejects.toMatchObject({ code: 'ERR_PERMISSION_DENIED' });
    }
  });
});

describe('authorize', () => {
  const request = (operation: Request['operation'], path: string): Request => ({ id: 't', operation, path, data: {}, query: {}, clientToken: '', remoteAddress: '' });

  it('allows what the ACL grants, denies the rest as a rejection, and asks a write\'s existence check', async () => {
    const { core: c } = await core();
    await c.policies.put('reader', 'path "secret/*" { capabilities = ["read", "create"] }');
    const { token } = await c.tokenManager.create(null, { path: 'auth/token/create', policies: ['reader'] }, true);
    const { caller } = await authenticate(c.tokens, token, '127.0.0.1');
    const route = c.mounts.route('secret/a')!;
    const breq = (req: Request) => ({ ...req, path: route.path, mountPoint: 'secret/', storage: route.mount.storage, caller });

    const read = request('read', 'secret/a');
    expect(c.policies.cachedAcl(caller.policies)).toBeUndefined();
    await expect(authorize(c.policies, caller, read, route.mount.backend, breq(read))).resolves.toBeUndefined();
    expect(c.policies.cachedAcl(caller.policies)).toBeDefined();
    await expect(authorize(c.policies, caller, read, route.mount.backend, breq(read))).resolves.toBeUndefined();
    const del = request('delete', 'secret/a');
    const denied = authorize(c.policies, caller, del, route.mount.backend, breq(del));
    expect(denied).toBeInstanceOf(Promise);
    await expect(denied).rejects.toMatchObject({ code: 'ERR_PERMISSION_DENIED' });

    // Nothing at secret/a yet: a write creates, which this policy allows; once it exists, it updates, which it does not.
    const write = request('update', 'secret/a');
    await expect(authorize(c.policies, caller, write, route.mount.backend, breq(write))).resolves.toBeUndefined();
    await route.mount.storage.put('a', Buffer.from('{"v":1}'));
    await expect(authorize(c.policies, caller, write, route.mount.backend, breq(write))).rejects.toMatchObject({ code: 'ERR_PERMISSION_DENIED' });
  });

  it('forgets compiled ACLs when a policy changes', async () => {
    const { core: c } = await core();
    await c.policies.put('p', 'path "secret/*" { capabilities = ["read"] }');
    const { token } = await c.tokenManager.create(null, { path: 'auth/token/create', policies: ['p'] }, true);
    const { caller } = await authenticate(c.tokens, token, '127.0.0.1');
    await authorize(c.policies, caller, request('read', 'secret/x'), undefined, undefined);
    expect(c.policies.cachedAcl(caller.policies)).toBeDefined();
    await c.policies.put('p', 'path "secret/*" { capabilities = ["deny"] }');
    expect(c.policies.cachedAcl(caller.policies)).toBeUndefined();
    await expect(authorize(c.policies, caller, request('read', 'secret/x'), undefined, undefined)).rejects.toMatchObject({ code: 'ERR_PERMISSION_DENIED' });
  });
});
