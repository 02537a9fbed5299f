import { describe, expect, it } from 'vitest';
import { createBarrier, MASTER_LINK_PATH } from '../../lib/crypto/barrier.js';
import { isApiError } from '../../lib/errors.js';
import { createInmemStorage } from '../../lib/storage/inmem.js';

/**
 * Two barriers on one physical storage, as two HA servers are: one rotates or rekeys while
 * the other is unsealed; the other's reload() must then read what the first wrote.
 */

const MASTER = Buffer.alloc(32, 0x11);
const NEXT = Buffer.alloc(32, 0x33);
const LATER = Buffer.alloc(32, 0x44);

async function pair() {
  const physical = createInmemStorage();
  const active = createBarrier(physical);
  await active.initialize(MASTER);
  await active.unseal(MASTER);
  const standby = createBarrier(physical);
  await standby.unseal(MASTER);
  return { physical, active, standby };
}

describe('barrier reload (a standby becoming active)', () => {
  it('picks up a term rotated by another server', async () => {
    const { active, standby } = await pair();
    await active.rotate();
    await active.put('after', Buffer.from('written under term 2'));
    // Before reloading, the standby has no term 2.
    await expect(standby.get('after')).rejects.toMatchObject({ code: 'ERR_INTEGRITY' });
    await standby.reload();
    expect(standby.keyStatus().term).toBe(2);
    expect(Buffer.from((await standby.get('after'))!).toString()).toBe('written under term 2');
  });

  it('follows two rekeys and a rotation in between through the master link', async () => {
    const { active, standby, physical } = await pair();
    await active.put('before', Buffer.from('one'));
    await active.rekey(NEXT);
    await active.rotate();
    await active.rekey(LATER);
    await active.put('after', Buffer.from('two'));
    await standby.reload();
    expect(Buffer.from((await standby.get('before'))!).toString()).toBe('one');
    expect(Buffer.from((await standby.get('after'))!).toString()).toBe('two');
    expect(await standby.verifyMaster(LATER)).toBe(true);
    expect(await standby.verifyMaster(MASTER)).toBe(false);
    // The link holds the master key encrypted, never in the clear.
    const link = Buffer.from((await physical.get(MASTER_LINK_PATH))!);
    expect(link.includes(LATER)).toBe(false);
  });

  it('refuses a keyring it cannot reach, and keeps serving with the one it has', async () => {
    const { active, standby, physical } = await pair();
    await active.put('kept', Buffer.from('still readable'));
    await active.rekey(NEXT);
    await physical.delete(MASTER_LINK_PATH);
    const err: unknown = await standby.reload().then(() => undefined, (e: unknown) => e);
    expect(isApiError(err) && err.code).toBe('ERR_INVALID_KEY');
    expect(Buffer.from((await standby.get('kept'))!).toString()).toBe('still readable');
  });

  it('drops decrypted values cached before the reload', async () => {
    const { active, standby } = await pair();
    await active.put('k', Buffer.from('old'));
    expect(Buffer.from((await standby.get('k'))!).toString()).toBe('old');
    await active.put('k', Buffer.from('new'));
    await standby.reload();
    expect(Buffer.from((await standby.get('k'))!).toString()).toBe('new');
  });

  it('keeps the link path out of reach of the storage methods', async () => {
    const { active } = await pair();
    await expect(active.get(MASTER_LINK_PATH)).rejects.toMatchObject({ code: 'ERR_INVALID_PATH' });
    await expect(active.put(MASTER_LINK_PATH, Buffer.from('x'))).rejects.toMatchObject({ code: 'ERR_INVALID_PATH' });
  });

  it('is refused while sealed', async () => {
    const barrier = createBarrier(createInmemStorage());
    await barrier.initialize(MASTER);
    await expect(barrier.reload()).rejects.toMatchObject({ code: 'ERR_SEALED' });
  });
});
