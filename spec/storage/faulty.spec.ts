import { describe, expect, it } from 'vitest';
import { isApiError } from '../../lib/errors.js';
import { createFaultyStorage } from '../helpers/faulty-storage.js';
import { createInmemStorage } from '../../lib/storage/inmem.js';
import { exerciseStorage } from './contract.js';

exerciseStorage('fault wrapper with faults off', async () => ({ storage: createFaultyStorage(createInmemStorage()), cleanup: async () => {} }));

async function outcomes(rate: number, seed: number, calls = 200): Promise<boolean[]> {
  const storage = createFaultyStorage(createInmemStorage(), { rate, seed });
  const out: boolean[] = [];
  for (let i = 0; i < calls; i++) out.push(await storage.get(`k${i}`).then(() => true, () => false));
  return out;
}

describe('fault injection wrapper', () => {
  it('fails about the chosen fraction of calls, the same ones for the same seed', async () => {
    const a = await outcomes(0.2, 42, 2000);
    const failed = a.filter((ok) => !ok).length;
    expect(failed).toBeGreaterThan(300);
    expect(failed).toBeLessThan(500);
    expect(await outcomes(0.2, 42, 2000)).toEqual(a);
    expect(await outcomes(0.2, 43, 2000)).not.toEqual(a);
  });

  it('fails with ERR_STORAGE before the call reaches the storage', async () => {
    const inner = createInmemStorage();
    const storage = createFaultyStorage(inner, { rate: 1 });
    const err = await storage.put('k', Buffer.from('v')).catch((e: unknown) => e);
    expect(isApiError(err, 'ERR_STORAGE')).toBe(true);
    expect(await inner.get('k')).toBeNull();
    for (const call of [() => storage.get('k'), () => storage.delete('k'), () => storage.list('')]) {
      expect(isApiError(await call().catch((e: unknown) => e), 'ERR_STORAGE')).toBe(true);
    }
    expect(storage.stats()).toEqual({ calls: 4, failures: 4 });
  });

  it('turns on and off at run time', async () => {
    const storage = createFaultyStorage(createInmemStorage());
    await storage.put('k', Buffer.from('v'));
    storage.setRate(1);
    expect(storage.rate).toBe(1);
    await expect(storage.get('k')).rejects.toThrow(/injected/);
    storage.setRate(0);
    expect(Buffer.from((await storage.get('k'))!).toString()).toBe('v');
    expect(() => storage.setRate(1.5)).toThrow(RangeError);
  });

  it('can limit faults to some operations and keys', async () => {
    const storage = createFaultyStorage(createInmemStorage(), { rate: 1, operations: ['put'], match: (key) => key.startsWith('core/') });
    await storage.put('secret/k', Buffer.from('v'));
    expect(await storage.get('core/x')).toBeNull();
    await expect(storage.put('core/x', Buffer.from('v'))).rejects.toThrow(/injected storage fault: put core\/x/);
  });
});
