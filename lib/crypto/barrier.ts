import { createSerialQueue } from '../serial.js';
import { timingSafeEqual } from 'node:crypto';
import { ApiError } from '../errors.js';
import type { CacheSize, Storage } from '../storage/storage.js';
import { createPlaintextCache } from './plaintext-cache.js';
import { randomBytes } from './random.js';
import {
  KEY_LEN,
  MASTER_TERM,
  checkKeyLength,
  copyKey,
  decrypt,
  encrypt,
  integrityError,
  parseHeader,
  parseKeyring,
  sealedError,
  serializeKeyring,
  statusOf,
  zeroKeyring,
  type Keyring,
  type TermKey,
} from './barrier-format.js';
import type { KeyStatus } from './barrier-format.js';

export type { KeyStatus } from './barrier-format.js';

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
  /**
   * Re-reads the keyring from storage and empties the decrypted-value cache (unsealed only):
   * a standby becoming active picks up the terms and master key another server rotated or
   * rekeyed meanwhile. A rekey is followed through the master link (see MASTER_LINK_PATH).
   */
  reload(): Promise<void>;
  /** The active term and its install time (unsealed only). */
  keyStatus(): KeyStatus;
  /** What the read cache of decrypted entries holds (sizes only). */
  cacheSize(): CacheSize;
}

export const KEYRING_PATH = 'core/keyring';
/**
 * The current master key, encrypted under term 1 (which every keyring holds, since terms are
 * never removed), written by every rekey: a server that unsealed before another one rekeyed
 * still holds the old master key, and reads the new one here to reload the keyring. Whoever
 * holds term 1 can already read everything written under it; Vault keeps its root key the
 * same way, under the keyring.
 */
export const MASTER_LINK_PATH = 'core/master-link';
const RESERVED = new Set([KEYRING_PATH, MASTER_LINK_PATH]);

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
    if (RESERVED.has(key)) {
      throw new ApiError('ERR_INVALID_PATH', `${key} is reserved for the barrier`);
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
          // The link first: a server reloading between the two writes still decrypts the
          // keyring with the master key it holds.
          const first = current.terms.get(1);
          if (first !== undefined) await physical.put(MASTER_LINK_PATH, encrypt(first.term, first.key, MASTER_LINK_PATH, master));
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

    reload() {
      return exclusive(async () => {
        const current = unsealed();
        const entry = await physical.get(KEYRING_PATH);
        if (entry === null || parseHeader(entry) !== MASTER_TERM) throw integrityError(KEYRING_PATH);
        let master = copyKey(current.master);
        let plain = decrypt(master, KEYRING_PATH, entry);
        if (plain === null) {
          // Rekeyed elsewhere: the new master key is behind the link.
          master.fill(0);
          const link = await physical.get(MASTER_LINK_PATH);
          const first = current.terms.get(1);
          const linked = link === null || first === undefined || parseHeader(link) !== first.term ? null : decrypt(first.key, MASTER_LINK_PATH, link);
          if (linked === null || linked.length !== KEY_LEN) throw new ApiError('ERR_INVALID_KEY', 'the keyring was re-encrypted under a master key this server cannot reach: seal and unseal it with the current keys');
          master = linked;
          plain = decrypt(master, KEYRING_PATH, entry);
          if (plain === null) {
            master.fill(0);
            throw integrityError(KEYRING_PATH);
          }
        }
        const parsed = parseKeyring(plain, master);
        plain.fill(0);
        if (parsed === null) {
          master.fill(0);
          throw integrityError(KEYRING_PATH);
        }
        // Sealed while reading: keep nothing.
        if (keyring !== current) {
          zeroKeyring(parsed);
          return;
        }
        keyring = parsed;
        zeroKeyring(current);
        cache.clear();
      });
    },

    keyStatus() {
      return statusOf(unsealed().active);
    },

    cacheSize: () => cache.size(),

    peek(key, read) {
      // Sealed or reserved: `get` gives the error.
      return keyring === null || RESERVED.has(key) ? undefined : cache.peek(key, read);
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
