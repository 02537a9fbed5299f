import { randomBytes } from '../crypto/random.js';

/**
 * Request ids (the `X-Request-Id` header and the envelope's `request_id`): UUID-shaped, as
 * Vault's are, and unique, which is all they are for: tying an answer to its log lines.
 * They are not secrets and need not be unpredictable, so instead of drawing 16 random bytes
 * per request (a fifth of a cached read's own cost) each id is a random per-process prefix
 * (version-4 and variant bits set, 74 random bits) followed by a 48-bit counter.
 */

const COUNTER_SPAN = 2 ** 48;

let prefix = '';
let counter = COUNTER_SPAN;

/** A fresh random prefix `xxxxxxxx-xxxx-4xxx-yxxx-` and a counter starting at a random point of its lower half. */
function reseed(): void {
  const b = randomBytes(16);
  // Bytes 0–8 give the 18 free hex digits, byte 9 the variant's two free bits, 10–15 the counter.
  const hex = b.toString('hex', 0, 9);
  const variant = ((b[9]! & 0x3) | 0x8).toString(16);
  prefix = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(12, 15)}-${variant}${hex.slice(15, 18)}-`;
  counter = b.readUIntBE(10, 6) % (COUNTER_SPAN / 2);
  b.fill(0);
}

export function nextRequestId(): string {
  if (counter >= COUNTER_SPAN) reseed();
  return prefix + (counter++).toString(16).padStart(12, '0');
}
