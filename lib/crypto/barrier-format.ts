import { createCipheriv, createDecipheriv } from 'node:crypto';
import { ApiError } from '../errors.js';
import { randomBytes } from './random.js';

/**
 * The barrier's bytes (barrier.ts): an entry is `[term u32 BE][version = 1][12-byte nonce]
 * [ciphertext‖16-byte tag]` with the key path as AAD; the keyring is one such entry at term 0
 * under the master key, its plaintext a list of terms.
 */

export interface KeyStatus {
  /** The term new writes are encrypted under. */
  term: number;
  /** When that term was installed, RFC 3339. */
  installTime: string;
}

export const KEY_LEN = 32;
const NONCE_LEN = 12;
const TAG_LEN = 16;
const VERSION = 1;
const HEADER_LEN = 5;
const MIN_ENTRY_LEN = HEADER_LEN + NONCE_LEN + TAG_LEN;
export const MASTER_TERM = 0;
const KEYRING_FORMAT = 1;
// Per term in the keyring plaintext: term u32 BE, install time (ms since epoch) u64 BE, key.
const KEYRING_ENTRY_LEN = 4 + 8 + KEY_LEN;

export interface TermKey {
  term: number;
  installTime: number;
  key: Buffer;
}

/**
 * The unsealed state. Immutable once built: rotate and rekey swap in a new one, so an operation
 * in flight never sees a half-updated keyring, and `keyring !== current` after an await means
 * the barrier was sealed meanwhile.
 */
export interface Keyring {
  active: TermKey;
  terms: Map<number, TermKey>;
  /** Kept while unsealed to re-encrypt the keyring on rotate and to answer verifyMaster. */
  master: Buffer;
}

export function sealedError(): ApiError {
  return new ApiError('ERR_SEALED', 'nomad is sealed');
}

export function integrityError(path: string): ApiError {
  // Names the path only: neither ciphertext nor any decrypted byte may reach a log.
  return new ApiError('ERR_INTEGRITY', `integrity check failed for ${path}`);
}

/** A private copy in its own allocation, so zeroing it never touches the caller's buffer. */
export function copyKey(source: Uint8Array): Buffer {
  const key = Buffer.alloc(source.length);
  key.set(source);
  return key;
}

export function checkKeyLength(key: Uint8Array): void {
  if (key.length !== KEY_LEN) {
    throw new ApiError('ERR_INVALID_KEY', `master key must be ${KEY_LEN} bytes`);
  }
}

export function encrypt(term: number, key: Buffer, path: string, plaintext: Uint8Array): Buffer {
  // A fresh random 96-bit nonce per write: GCM loses both confidentiality and integrity if a
  // nonce ever repeats under one key.
  const nonce = randomBytes(NONCE_LEN);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LEN });
  // The path as AAD binds the ciphertext to its location: moved elsewhere it fails to decrypt.
  cipher.setAAD(Buffer.from(path, 'utf8'));
  const body = cipher.update(plaintext);
  cipher.final();
  const out = Buffer.allocUnsafe(HEADER_LEN + NONCE_LEN + body.length + TAG_LEN);
  out.writeUInt32BE(term, 0);
  out[4] = VERSION;
  nonce.copy(out, HEADER_LEN);
  body.copy(out, HEADER_LEN + NONCE_LEN);
  cipher.getAuthTag().copy(out, HEADER_LEN + NONCE_LEN + body.length);
  return out;
}

/** The term of a stored entry, or null when it is too short or of an unknown version. */
export function parseHeader(entry: Uint8Array): number | null {
  if (entry.length < MIN_ENTRY_LEN || entry[4] !== VERSION) return null;
  return ((entry[0]! << 24) | (entry[1]! << 16) | (entry[2]! << 8) | entry[3]!) >>> 0;
}

/** The plaintext, or null when authentication fails (wrong key, tampered bytes, wrong path). */
export function decrypt(key: Buffer, path: string, entry: Uint8Array): Buffer | null {
  const nonce = entry.subarray(HEADER_LEN, HEADER_LEN + NONCE_LEN);
  const tagStart = entry.length - TAG_LEN;
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_LEN });
  decipher.setAuthTag(entry.subarray(tagStart));
  decipher.setAAD(Buffer.from(path, 'utf8'));
  const plaintext = decipher.update(entry.subarray(HEADER_LEN + NONCE_LEN, tagStart));
  try {
    // final() is where GCM checks the tag; until it passes, the plaintext is unauthenticated.
    decipher.final();
  } catch {
    plaintext.fill(0);
    return null;
  }
  return plaintext;
}

export function serializeKeyring(terms: Iterable<TermKey>): Buffer {
  const list = [...terms];
  const out = Buffer.alloc(1 + list.length * KEYRING_ENTRY_LEN);
  out[0] = KEYRING_FORMAT;
  list.forEach((t, i) => {
    const at = 1 + i * KEYRING_ENTRY_LEN;
    out.writeUInt32BE(t.term, at);
    out.writeBigUInt64BE(BigInt(t.installTime), at + 4);
    t.key.copy(out, at + 12);
  });
  return out;
}

/**
 * A binary layout rather than JSON with base64 keys: key bytes then only ever live in Buffers
 * we can zero, never in immutable JS strings that linger until garbage collection.
 */
export function parseKeyring(plain: Buffer, master: Buffer): Keyring | null {
  const count = (plain.length - 1) / KEYRING_ENTRY_LEN;
  if (plain[0] !== KEYRING_FORMAT || !Number.isInteger(count) || count < 1) return null;
  const terms = new Map<number, TermKey>();
  let active: TermKey | undefined;
  for (let i = 0; i < count; i++) {
    const at = 1 + i * KEYRING_ENTRY_LEN;
    const term = plain.readUInt32BE(at);
    if (term <= (active?.term ?? MASTER_TERM)) {
      for (const t of terms.values()) t.key.fill(0);
      return null;
    }
    const key = copyKey(plain.subarray(at + 12, at + 12 + KEY_LEN));
    active = { term, installTime: Number(plain.readBigUInt64BE(at + 4)), key };
    terms.set(term, active);
  }
  return { active: active!, terms, master };
}

export function zeroKeyring(keyring: Keyring): void {
  for (const t of keyring.terms.values()) t.key.fill(0);
  keyring.master.fill(0);
}

export function statusOf(t: TermKey): KeyStatus {
  return { term: t.term, installTime: new Date(t.installTime).toISOString() };
}

