import { ApiError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import { storedTokenParams, type TokenParams } from './token-params.js';

/**
 * The userpass backend's records: one storage entry per user, `user/<username>`, holding
 * JSON `{"passwordHash": "scrypt:…", "token": TokenParams}`. The password itself is never
 * stored, and nothing but the login handler ever looks at the hash.
 */

export interface UserRecord {
  /** A self-describing scrypt hash (crypto/password-hash.ts). */
  passwordHash: string;
  /** The settings of the tokens this user's logins get. */
  token: TokenParams;
}

const PREFIX = 'user/';
const MAX_USERNAME_LENGTH = 128;
// Control characters would make log lines and listings ambiguous; a lone surrogate has no UTF-8 form.
const BAD_CHARACTER = /[\p{Cc}\p{Cs}]/u;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Why `name` cannot be a username, or null when it can. */
function usernameProblem(name: string): string | null {
  if (name === '') return 'must not be empty';
  if (name.length > MAX_USERNAME_LENGTH) return `must be at most ${MAX_USERNAME_LENGTH} characters`;
  if (name.includes('/')) return 'must not contain "/"';
  if (name.trim() !== name) return 'must not start or end with whitespace';
  if (BAD_CHARACTER.test(name)) return 'must not contain control characters';
  return null;
}

/** The canonical (lower-cased) username; throws a 400 when it is not a valid one. */
export function usernameOf(raw: string): string {
  const name = raw.toLowerCase();
  const problem = usernameProblem(name);
  if (problem !== null) throw new ApiError('ERR_INVALID_FIELD', `username ${problem}`);
  return name;
}

/** The canonical username, or undefined when `raw` cannot name any user (a login then fails like an unknown user). */
export function loginNameOf(raw: string): string | undefined {
  const name = raw.toLowerCase();
  return usernameProblem(name) === null ? name : undefined;
}

export async function readUser(storage: Storage, username: string): Promise<UserRecord | null> {
  const raw = await storage.get(PREFIX + username);
  if (raw === null) return null;
  const parsed = JSON.parse(decoder.decode(raw)) as Partial<UserRecord>;
  // A record with no hash string is treated as one whose hash does not verify (see the login).
  return { passwordHash: typeof parsed.passwordHash === 'string' ? parsed.passwordHash : '', token: storedTokenParams(parsed.token) };
}

export function userExists(storage: Storage, username: string): Promise<boolean> {
  return storage.get(PREFIX + username).then((raw) => raw !== null);
}

export function writeUser(storage: Storage, username: string, record: UserRecord): Promise<void> {
  return storage.put(PREFIX + username, encoder.encode(JSON.stringify(record)));
}

export function deleteUser(storage: Storage, username: string): Promise<void> {
  return storage.delete(PREFIX + username);
}

/** Every username, sorted as storage lists them. */
export function listUsers(storage: Storage): Promise<string[]> {
  return storage.list(PREFIX);
}
