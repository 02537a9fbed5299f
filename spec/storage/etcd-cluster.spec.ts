import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isApiError } from '../../lib/errors.js';
import { createStorage } from '../../lib/storage/registry.js';
import type { ClosableStorage } from '../../lib/storage/storage.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.js';

/** The etcd storage on a real three-member cluster, through member failures and quorum loss. */

const TIMEOUT_MS = 1000;
let etcd: EtcdCluster;
let storage: ClosableStorage;

beforeAll(async () => {
  etcd = await startEtcd(3);
  storage = await createStorage('etcd', { address: etcd.address, path: '/cluster-spec/', request_timeout: `${TIMEOUT_MS}ms` });
});
afterAll(async () => {
  await storage?.close?.();
  await etcd?.stop();
});

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const text = (value: Uint8Array | null): string | null => (value === null ? null : Buffer.from(value).toString());

describe('etcd storage on a three-member cluster', () => {
  it('keeps serving through one member down, fails fast without quorum, and recovers', async () => {
    for (let i = 0; i < 10; i++) await storage.put(`before/${i}`, bytes(`v${i}`));

    // The first address is the one in use: losing it costs a failover, not an error.
    await etcd.members[0].kill();
    for (let i = 0; i < 20; i++) {
      await storage.put(`one-down/${i}`, bytes(`w${i}`));
      expect(text(await storage.get(`one-down/${i}`))).toBe(`w${i}`);
    }
    expect(text(await storage.get('before/3'))).toBe('v3');
    expect(await storage.list('one-down/')).toHaveLength(20);

    // Two of three down: no quorum. Each request fails as ERR_STORAGE, bounded by request_timeout.
    await etcd.members[1].kill();
    for (const attempt of [() => storage.put('no-quorum', bytes('x')), () => storage.get('before/1')]) {
      const started = Date.now();
      const err = await attempt().then(() => null, (e: unknown) => e);
      expect(isApiError(err, 'ERR_STORAGE')).toBe(true);
      expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 500);
    }

    // A member returns: quorum again, and everything acknowledged before reads back.
    await etcd.members[1].restart();
    const deadline = Date.now() + 5000;
    for (;;) {
      try {
        await storage.put('recovered', bytes('yes'));
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
      }
    }
    expect(text(await storage.get('recovered'))).toBe('yes');
    for (let i = 0; i < 10; i++) expect(text(await storage.get(`before/${i}`))).toBe(`v${i}`);
    for (let i = 0; i < 20; i++) expect(text(await storage.get(`one-down/${i}`))).toBe(`w${i}`);
    await etcd.members[0].restart();
    expect(text(await storage.get('before/0'))).toBe('v0');
  });
});
