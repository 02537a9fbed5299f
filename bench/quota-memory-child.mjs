// Run with --expose-gc by bench/auth.mjs: the heap the rate limiter's bucket table holds after
// `--addresses=N` distinct clients each went over the built-in login limit (dist/ build).
// Prints one JSON line, with the scrypt cost userpass hashes with.
import { createBucketStore } from '../dist/core/quotas/buckets.js';
import { LOGIN_LIMIT } from '../dist/core/quotas/rate-limit.js';
import { DEFAULT_SCRYPT_COST } from '../dist/crypto/password-hash.js';

const addresses = Number(process.argv.find((a) => a.startsWith('--addresses='))?.slice(12) ?? 100_000);
const store = createBucketStore();
const heap = () => {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
};
const before = heap();
for (let i = 0; i < addresses; i++) {
  const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  // Over the limit: the whole burst and one more, so the bucket is empty and kept.
  for (let n = 0; n <= LOGIN_LIMIT.burst; n++) store.take('l ', LOGIN_LIMIT, address);
}
const after = heap();
const size = store.size();
process.stdout.write(
  `${JSON.stringify({
    addresses,
    entries: size.entries,
    maxEntries: size.maxEntries,
    heapMiB: (after - before) / 2 ** 20,
    estimateMiB: size.bytes / 2 ** 20,
    scrypt: DEFAULT_SCRYPT_COST,
  })}\n`,
);
