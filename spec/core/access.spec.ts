import { afterEach, describe, expect, it } from 'vitest';
import { isApiError } from '../../lib/errors.js';
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

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('authenticate', () => {
  it('answers a cached token with unlimited uses synchronously, an uncached one through storage', async () => {
    const { core: c, rootToken } = await core();
    const { token } = await c.tokenManager.create(null, { path: 'auth/token/create', policies: ['default'] }, true);
    c.tokens.teardown();
    await c.tokens.setup();
    // Not cached after the reset: the first answer is a promise, later ones are plain values.
    const first = authenticate(c.tokens, token);
    expect(first).toBeInstanceOf(Promise);
    expect((await first).caller.policies).toEqual(['default']);
    const second = authenticate(c.tokens, token);
    expect(second).not.toBeInstanceOf(Promise);
    expect((second as Awaited<typeof first>).caller.policies).toEqual(['default']);
    expect(c.tokens.peek(rootToken)).toBeUndefined();
    await authenticate(c.tokens, rootToken);
    expect(c.tokens.peek(rootToken)?.policies).toEqual(['root']);
  });

  it('refuses a missing, unknown, revoked or expired token with permission denied', async () => {
    const { core: c } = await core();
    expect(isApiError(thrownBy(() => authenticate(c.tokens, '')), 'ERR_PERMISSION_DENIED')).toBe(true);
    await expect(authenticate(c.tokens, 'no-such-token')).rejects.toMatchObject({ code: 'ERR_PERMISSION_DENIED' });

    const { token, entry } = await c.tokenManager.create(null, { path: 'auth/token/create', policies: ['default'] }, true);
    await authenticate(c.tokens, token);
    entry.expireTime = Date.now() - 1;
    // Cached, so refused on the synchronous path.
    expect(isApiError(thrownBy(() => authenticate(c.tokens, token)), 'ERR_PERMISSION_DENIED')).toBe(true);

    const other = await c.tokenManager.create(null, { path: 'auth/token/create', policies: ['default'] }, true);
    await authenticate(c.tokens, other.token);
    await c.tokenManager.revokeTree(other.entry.hash);
    expect(c.tokens.peek(other.token)).toBeUndefined();
    await expect(authenticate(c.tokens, other.token)).rejects.toMatchObject({ code: 'ERR_PERMISSION_DENIED' });
  });

  it('takes the counting path for a token with num_uses, even when cached', async () => {
    const { core: c } = await core();
    const { token } = await c.tokenManager.create(null, { path: 'auth/token/create', policies: ['default'], numUses: 2 }, true);
    await authenticate(c.tokens, token);
    expect(c.tokens.peek(token)?.numUses).toBe(1);
    const last = authenticate(c.tokens, token);
    expect(last).toBeInstanceOf(Promise);
    expect((await last).exhausted).toBe(true);
    await expect(authenticate(c.tokens, token)).rejects.toMatchObject({ code: 'ERR_PERMISSION_DENIED' });
  });
});

describe('authorize', () => {
  const request = (operation: Request['operation'], path: string): Request => ({ id: 't', operation, path, data: {}, query: {}, clientToken: '', remoteAddress: '' });

  it('decides without waiting once the ACL is compiled, and waits for a write\'s existence check', async () => {
    const { core: c } = await core();
    await c.policies.put('reader', 'path "secret/*" { capabilities = ["read", "create"] }');
    const { token } = await c.tokenManager.create(null, { path: 'auth/token/create', policies: ['reader'] }, true);
    const { caller } = await authenticate(c.tokens, token);
    const route = c.mounts.route('secret/a')!;
    const breq = (req: Request) => ({ ...req, path: route.path, mountPoint: 'secret/', storage: route.mount.storage, caller });

    const read = request('read', 'secret/a');
    const first = authorize(c.policies, caller, read, route.mount.backend, breq(read));
    expect(first).toBeInstanceOf(Promise);
    await first;
    expect(authorize(c.policies, caller, read, route.mount.backend, breq(read))).toBeUndefined();
    // Denials are thrown, not returned as rejected promises, on the synchronous path.
    const del = request('delete', 'secret/a');
    expect(isApiError(thrownBy(() => authorize(c.policies, caller, del, route.mount.backend, breq(del))), 'ERR_PERMISSION_DENIED')).toBe(true);

    // Nothing at secret/a yet: a write creates, which this policy allows; once it exists, it updates, which it does not.
    const write = request('update', 'secret/a');
    const creating = authorize(c.policies, caller, write, route.mount.backend, breq(write));
    expect(creating).toBeInstanceOf(Promise);
    await creating;
    await route.mount.storage.put('a', Buffer.from('{"v":1}'));
    await expect(authorize(c.policies, caller, write, route.mount.backend, breq(write))).rejects.toMatchObject({ code: 'ERR_PERMISSION_DENIED' });
  });

  it('forgets compiled ACLs when a policy changes', async () => {
    const { core: c } = await core();
    await c.policies.put('p', 'path "secret/*" { capabilities = ["read"] }');
    const { token } = await c.tokenManager.create(null, { path: 'auth/token/create', policies: ['p'] }, true);
    const { caller } = await authenticate(c.tokens, token);
    await authorize(c.policies, caller, request('read', 'secret/x'), undefined, undefined);
    expect(c.policies.peekAcl(caller.policies)).toBeDefined();
    await c.policies.put('p', 'path "secret/*" { capabilities = ["deny"] }');
    expect(c.policies.peekAcl(caller.policies)).toBeUndefined();
    await expect(authorize(c.policies, caller, request('read', 'secret/x'), undefined, undefined)).rejects.toMatchObject({ code: 'ERR_PERMISSION_DENIED' });
  });
});
