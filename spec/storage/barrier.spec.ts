import { createBarrier } from '../../lib/crypto/barrier.js';
import { createInmemStorage } from '../../lib/storage/inmem.js';
import { exerciseStorage } from './contract.js';
import { tempFileStorage } from './temp.js';

const MASTER = Buffer.alloc(32, 0x5a);

exerciseStorage('barrier over inmem', async () => {
  const barrier = createBarrier(createInmemStorage());
  await barrier.initialize(MASTER);
  await barrier.unseal(MASTER);
  // The keyring is the barrier's own entry; the contract's listings start empty, so hide it.
  return { storage: hideCore(barrier), cleanup: async () => barrier.seal() };
});

exerciseStorage('barrier over file', async () => {
  const { storage: file, cleanup } = await tempFileStorage();
  const barrier = createBarrier(file);
  await barrier.initialize(MASTER);
  await barrier.unseal(MASTER);
  return {
    storage: hideCore(barrier),
    cleanup: async () => {
      barrier.seal();
      await cleanup();
    },
  };
});

/** `core/` holds the keyring; every other key goes straight to the barrier. */
function hideCore(barrier: ReturnType<typeof createBarrier>): ReturnType<typeof createBarrier> {
  return Object.assign(Object.create(barrier) as ReturnType<typeof createBarrier>, {
    list: async (prefix: string) => (await barrier.list(prefix)).filter((k) => prefix !== '' || k !== 'core/'),
  });
}
