import { createSerialQueue } from '../serial.js';
import { createCipheriv, createDecipheriv, timingSafeEqual } from 'node:crypto';
import { ApiError } from '../errors.js';
import type { CacheSize, Storage } from '../storage/storage.js';
import { createPlaintextCache } from './plaintext-cache.js';
import { randomBytes } from './random.js';

/**
 * The storage barrier (api.md §7): a Storage that encrypts every entry with AES-256-GCM under
 * the keyring's newest term before it reaches the untrusted physical storage.
 *
 * Entry: `[term u32 BE][version = 1][12-byte nonce][ciphertext‖16-byte tag]`, AAD = key path.
 * The keyring lives at `core/keyring` in the same layout with term 0 ("the master key").
 *
 * Keys are held as raw Buffers, not KeyObjects: on Node 20.20 (256-byte values, 10 × 100k ops,
 * medians) decrypt took 8.5 µs with either, encrypt 10.2 µs (Buffer) vs 10.0 µs (KeyObject),
 * i.e. within noise, and only a Buffer can be zeroed on seal (a KeyObject's copy is out of reach).
 */

export interface KeyStatus {
  /** The term new writes are encrypted under. */
  term: number;
  /** When that term was installed, RFC 3339. */
  installTime: string;
}

export interface Barrier extends Storage {
  /** True until `unseal` succeeds, and again after `seal`. */
  readonly sealed: boolean;
  /** `read` over a decrypted value in the read cache (see PeekableStorage, storage/view.ts); undefined when sealed or not cached. */
  peek<T>(key: string, read: (value: Uint8Array) => T): T | undefined;
  /** Whether a keyring exists in physical storage. */
  initialized(): Promise<boolean>;
  /** Creates a keyring (term 1) encrypted by `masterKey`; the barrier stays sealed. */
  initialize(masterKey: Uint8Array): Promise<void>;
  /** Decrypts the keyring with `masterKey`; a no-op when already unsealed. */
  unseal(masterKey: Uint8Array): Promise<void>;
  /** Zeroes every key in memory and forgets the keyring. */
  seal(): void;
  /** Whether `masterKey` is the one the keyring is encrypted with (unsealed only). */
  verifyMaster(masterKey: Uint8Array): Promise<boolean>;
  /** Adds and persists a new term that all later writes use; older terms stay readable. */
  rotate(): Promise<KeyStatus>;
  /** Re-encrypts the keyring under a new master key (unsealed only). */
  rekey(newMasterKey: Uint8Array): Promise<void>;
  /** The active term and its install time (unsealed only). */
  keyStatus(): KeyStatus;
  /** What the read cache of decrypted entries holds (sizes only). */
  cacheSize(): CacheSize;
}

export const KEYRING_PATH = 'core/keyring';

const KEY_LEN = 32;
const NONCE_LEN = 12;
const TAG_LEN = 16;
const VERSION = 1;
const HEADER_LEN = 5;
const MIN_ENTRY_LEN = HEADER_LEN + NONCE_LEN + TAG_LEN;
const MASTER_TERM = 0;
const KEYRING_FORMAT = 1;
// Per term in the keyring plaintext: term u32 BE, install time (ms since epoch) u64 BE, key.
const KEYRING_ENTRY_LEN = 4 + 8 + KEY_LEN;

interface TermKey {
  term: number;
  installTime: number;
  key: Buffer;
}

/**
 * The unsealed state. Immutable once built: rotate and rekey swap in a new one, so an operation
 * in flight never sees a half-updated keyring, and `keyring !== current` after an await means
 * the barrier was sealed meanwhile.
 */
interface Keyring {
  active: TermKey;
  terms: Map<number, TermKey>;
  /** Kept while unsealed to re-encrypt the keyring on rotate and to answer verifyMaster. */
  master: Buffer;
}

function sealedError(): ApiError {
  return new ApiError('ERR_SEALED', 'nomad is sealed');
}

function integrityError(path: string): ApiError {
  // Names the path only: neither ciphertext nor any decrypted byte may reach a log.
  return new ApiError('ERR_INTEGRITY', `integrity check failed for ${path}`);
}

/** A private copy in its own allocation, so zeroing it never touches the caller's buffer. */
function copyKey(source: Uint8Array): Buffer {
  const key = Buffer.alloc(source.length);
  key.set(source);
  return key;
}

function checkKeyLength(key: Uint8Array): void {
  if (key.length !== KEY_LEN) {
    throw new ApiError('ERR_INVALID_KEY', `master key must be ${KEY_LEN} bytes`);
  }
}

function encrypt(term: number, key: Buffer, path: string, plaintext: Uint8Array): Buffer {
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
function parseHeader(entry: Uint8Array): number | null {
  if (entry.length < MIN_ENTRY_LEN || entry[4] !== VERSION) return null;
  return ((entry[0]! << 24) | (entry[1]! << 16) | (entry[2]! << 8) | entry[3]!) >>> 0;
}

/** The plaintext, or null when authentication fails (wrong key, tampered bytes, wrong path). */
function decrypt(key: Buffer, path: string, entry: Uint8Array): Buffer | null {
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

function serializeKeyring(terms: Iterable<TermKey>): Buffer {
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
function parseKeyring(plain: Buffer, master: Buffer): Keyring | null {
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

function zeroKeyring(keyring: Keyring): void {
  for (const t of keyring.terms.values()) t.key.fill(0);
  keyring.master.fill(0);
}

function statusOf(t: TermKey): KeyStatus {
  return { term: t.term, installTime: new Date(t.installTime).toISOString() };
}

export function createBarrier(physical: Storage): Barrier {
  let keyring: Keyring | null = null;
  const cache = createPlaintextCache();
  // initialize/unseal/rotate/rekey read-modify-write the keyring: run them one at a time.
  const exclusive = createSerialQueue();

  const unsealed = (): Keyring => {
    if (keyring === null) throw sealedError();
    return keyring;
  };

  // The keyring is only ever read and written by the barrier itself, under the master key.
  const checkNotReserved = (key: string): void => {
    if (key === KEYRING_PATH) {
      throw new ApiError('ERR_INVALID_PATH', `${KEYRING_PATH} is reserved for the barrier`);
    }
  };

  const writeKeyring = async (terms: Iterable<TermKey>, master: Buffer): Promise<void> => {
    const plain = serializeKeyring(terms);
    try {
      await physical.put(KEYRING_PATH, encrypt(MASTER_TERM, master, KEYRING_PATH, plain));
    } finally {
      plain.fill(0);
    }
  };

  return {
    get sealed() {
      return keyring === null;
    },

    async initialized() {
      return (await physical.get(KEYRING_PATH)) !== null;
    },

    initialize(masterKey) {
      return exclusive(async () => {
        checkKeyLength(masterKey);
        if ((await physical.get(KEYRING_PATH)) !== null) {
          throw new ApiError('ERR_ALREADY_INITIALIZED', 'nomad is already initialized');
        }
        const first: TermKey = { term: 1, installTime: Date.now(), key: randomBytes(KEY_LEN) };
        const master = copyKey(masterKey);
        try {
          await writeKeyring([first], master);
        } finally {
          // The barrier stays sealed after init: nothing may keep the new key in memory.
          first.key.fill(0);
          master.fill(0);
        }
      });
    },

    unseal(masterKey) {
      return exclusive(async () => {
        if (keyring !== null) return;
        checkKeyLength(masterKey);
        const entry = await physical.get(KEYRING_PATH);
        if (entry === null) throw new ApiError('ERR_NOT_INITIALIZED', 'nomad is not initialized');
        if (parseHeader(entry) !== MASTER_TERM) throw integrityError(KEYRING_PATH);
        const master = copyKey(masterKey);
        const plain = decrypt(master, KEYRING_PATH, entry);
        if (plain === null) {
          master.fill(0);
          throw new ApiError('ERR_INVALID_KEY', 'unseal failed, invalid key');
        }
        const parsed = parseKeyring(plain, master);
        plain.fill(0);
        if (parsed === null) {
          master.fill(0);
          throw integrityError(KEYRING_PATH);
        }
        keyring = parsed;
      });
    },

    seal() {
      if (keyring !== null) zeroKeyring(keyring);
      keyring = null;
      cache.clear();
    },

    async verifyMaster(masterKey) {
      const { master } = unsealed();
      if (masterKey.length !== master.length) return false;
      // Constant time: how many leading bytes match must not show in the timing.
      return timingSafeEqual(master, masterKey);
    },

    rotate() {
      return exclusive(async () => {
        const current = unsealed();
        const term = current.active.term + 1;
        const next: TermKey = { term, installTime: Date.now(), key: randomBytes(KEY_LEN) };
        const terms = new Map(current.terms).set(next.term, next);
        try {
          await writeKeyring(terms.values(), current.master);
        } catch (err) {
          next.key.fill(0);
          throw err;
        }
        // Sealed while the write was in flight: the new term is persisted (the next unseal
        // loads it) but must not stay in memory.
        if (keyring !== current) next.key.fill(0);
        else keyring = { active: next, terms, master: current.master };
        return statusOf(next);
      });
    },

    rekey(newMasterKey) {
      return exclusive(async () => {
        const current = unsealed();
        checkKeyLength(newMasterKey);
        const master = copyKey(newMasterKey);
        try {
          await writeKeyring(current.terms.values(), master);
        } catch (err) {
          master.fill(0);
          throw err;
        }
        if (keyring !== current) {
          master.fill(0);
          return;
        }
        keyring = { ...current, master };
        current.master.fill(0);
      });
    },

    keyStatus() {
      return statusOf(unsealed().active);
    },

    cacheSize: () => cache.size(),

    peek(key, read) {
      // Sealed or reserved: `get` gives the error.
      return keyring === null || key === KEYRING_PATH ? undefined : cache.peek(key, read);
    },

    async get(key) {
      unsealed();
      checkNotReserved(key);
      const cached = cache.get(key);
      if (cached) return cached;
      const ticket = cache.ticket();
      const entry = await physical.get(key);
      if (entry === null) return null;
      // Re-read after the await: a seal in between zeroed the keys, and decrypting with a
      // zeroed key must report "sealed", not a false integrity failure.
      const ring = unsealed();
      const term = parseHeader(entry);
      const termKey = term === null ? undefined : ring.terms.get(term);
      if (termKey === undefined) throw integrityError(key);
      const plaintext = decrypt(termKey.key, key, entry);
      if (plaintext === null) throw integrityError(key);
      cache.fill(key, plaintext, ticket);
      return plaintext;
    },

    async put(key, value) {
      const { active } = unsealed();
      checkNotReserved(key);
      cache.writeStarted(key);
      try {
        await physical.put(key, encrypt(active.term, active.key, key, value));
      } finally {
        cache.writeEnded(key);
      }
    },

    async delete(key) {
      unsealed();
      checkNotReserved(key);
      cache.writeStarted(key);
      try {
        await physical.delete(key);
      } finally {
        cache.writeEnded(key);
      }
    },

    async list(prefix) {
      unsealed();
      // Key names are not secret in this design, so listing passes straight through.
      return physical.list(prefix);
    },
  };
}
