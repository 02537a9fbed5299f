import { createHmac } from 'node:crypto';
import { randomBytes } from '../../crypto/random.js';
import type { SerialQueue } from '../../serial.js';
import type { Storage } from '../../storage/storage.js';
import type { TokenParams } from '../token-params.js';

/**
 * Where approle keeps things in its mount's storage (already inside the barrier), and the
 * rule about credentials there: no raw secret_id is ever stored. Secret ids and role ids are
 * found by their HMAC-SHA256 under a random per-mount key; a secret id exists only as that
 * hash, so a storage dump (sys/raw, a backup) shows none.
 *
 *   hmac-key                          the per-mount key, made on first use
 *   role/<name>                       RoleEntry
 *   role-id/<hmac(role_id)>           { role: name }: the login index
 *   secret-id/<name>/<hmac(secret)>   SecretIdEntry
 *   accessor/<hmac(accessor)>         { role, secretIdHash }: the accessor index
 *
 * The role_id names a role rather than proving anything (the secret id does), and
 * `role/<name>/role-id` reads it back as Vault does, so the role record keeps it as it is,
 * behind the barrier like every other record.
 */

export interface RoleEntry {
  name: string;
  roleIdHash: string;
  roleId: string;
  bindSecretId: boolean;
  /** 0 = unlimited. */
  secretIdNumUses: number;
  /** Seconds; 0 = never expires. */
  secretIdTtl: number;
  secretIdBoundCidrs: string[];
  token: TokenParams;
}

export interface SecretIdEntry {
  accessor: string;
  metadata: Record<string, string>;
  cidrList: string[];
  /** Unix milliseconds. */
  creationTime: number;
  /** Unix milliseconds; 0 = never expires. */
  expirationTime: number;
  lastUpdatedTime: number;
  /** Uses left; 0 = unlimited (an entry whose last use is spent is deleted, never kept at 0). */
  numUses: number;
  /** Seconds, as issued. */
  ttl: number;
}

export interface AccessorEntry {
  role: string;
  secretIdHash: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const KEY_PATH = 'hmac-key';

export const roleKey = (name: string): string => `role/${name}`;
export const roleIdKey = (hash: string): string => `role-id/${hash}`;
export const secretIdPrefix = (role: string): string => `secret-id/${role}/`;
export const secretIdKey = (role: string, hash: string): string => `${secretIdPrefix(role)}${hash}`;
export const accessorKey = (hash: string): string => `accessor/${hash}`;

/** What every approle path works with: the store, the mount's one write queue, the clock. */
export interface Approle {
  store: ApproleStore;
  /**
   * Every change to the mount's state goes through here, logins included: a login reads a
   * secret id, checks it and writes back its remaining uses, and two logins with a
   * one-use secret id must not both read it before either writes.
   */
  serial: SerialQueue;
  /** Unix milliseconds (the mount's SystemView clock). */
  now(): number;
}

export interface ApproleStore {
  storage: Storage;
  /** HMAC-SHA256 (hex) of a credential under the mount key, with a purpose label so a role_id and a secret_id never share a hash. */
  hash(purpose: 'role-id' | 'secret-id' | 'accessor', value: string): Promise<string>;
  getJson<T>(key: string): Promise<T | null>;
  putJson(key: string, value: unknown): Promise<void>;
}

export function createApproleStore(storage: Storage): ApproleStore {
  // One load (or creation) per backend instance: two first requests must not each make a key.
  let key: Promise<Buffer> | undefined;
  const mountKey = (): Promise<Buffer> => {
    key ??= loadOrCreateKey(storage).catch((err: unknown) => {
      key = undefined; // a storage failure is retried by the next request, not remembered
      throw err;
    });
    return key;
  };

  return {
    storage,
    async hash(purpose, value) {
      return createHmac('sha256', await mountKey()).update(`${purpose}\0${value}`).digest('hex');
    },
    async getJson<T>(k: string) {
      const raw = await storage.get(k);
      return raw === null ? null : (JSON.parse(decoder.decode(raw)) as T);
    },
    async putJson(k, value) {
      await storage.put(k, encoder.encode(JSON.stringify(value)));
    },
  };
}

async function loadOrCreateKey(storage: Storage): Promise<Buffer> {
  const stored = await storage.get(KEY_PATH);
  if (stored !== null) return Buffer.from(decoder.decode(stored), 'base64');
  const fresh = randomBytes(32);
  await storage.put(KEY_PATH, encoder.encode(fresh.toString('base64')));
  return fresh;
}

/**
 * Deletes a secret id, then its accessor index: if the second delete fails, what is left
 * is an index to nothing (answered as unknown), never a secret id that still logs in.
 */
export async function removeSecretId(store: ApproleStore, role: string, secretIdHash: string, accessor: string): Promise<void> {
  await store.storage.delete(secretIdKey(role, secretIdHash));
  await store.storage.delete(accessorKey(await store.hash('accessor', accessor)));
}

/** Whether a secret id has run out of time at `now` (Unix milliseconds). */
export const isExpired = (entry: SecretIdEntry, now: number): boolean => entry.expirationTime !== 0 && now >= entry.expirationTime;
