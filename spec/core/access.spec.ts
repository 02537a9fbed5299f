import { afterEach, describe, expect, it } from 'vitest';
import { isApiError } from '../../lib/errors.js';
import { authenticate } from '../../lib/core/access.js';
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
