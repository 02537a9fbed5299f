import { randomBytes } from '../crypto/random.js';

/**
 * Request ids (the `X-Request-Id` header and the envelope's `request_id`): UUID-shaped, as
 * Vault's are, and unique, which is all they are for: tying an answer to its log lines.
 * They are not secrets and need not be unpredictable, so instead of drawing 16 random bytes
 * per request (a fifth of a cached read's own cost) each id is a random prefix (version-4
 * and variant bits set, 98 random bits) followed by a 24-bit counter. The counter stays a
 * small integer, which formats fast; when it runs out, a new random prefix is drawn.
 */

const COUNTER_SPAN = 1 << 24;

let prefix = '';
let counter = COUNTER_SPAN;

/** A fresh random `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxx` and a counter back at 0. */
function reseed(): void {
  const b = randomBytes(13);
  // Bytes 0–11 give the 24 free hex digits, byte 12 the variant's two free bits.
  const hex = b.toString('hex', 0, 12);
  const variant = ((b[12]! & 0x3) | 0x8).toString(16);
  prefix = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(12, 15)}-${variant}${hex.slice(15, 18)}-${hex.slice(18, 24)}`;
  counter = 0;
  b.fill(0);
}

export function nextRequestId(): string {
  if (counter === COUNTER_SPAN) reseed();
  return prefix + (counter++).toString(16).padStart(6, '0');
}
