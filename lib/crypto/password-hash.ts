import { scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { randomBytes } from './random.js';

/**
 * Password hashes for the userpass backend: scrypt (memory-hard), a random 16-byte salt per
 * password, and the cost stored in the hash itself, `scrypt:<N>:<r>:<p>:<salt b64>:<hash b64>`
 * (the key length is the hash's), so the cost can be raised for new hashes while old ones
 * still verify. The async scrypt runs on libuv's thread pool: a login never blocks the event
 * loop.
 */

export interface ScryptCost {
  /** CPU/memory cost: a power of two. */
  N: number;
  /** Block size. */
  r: number;
  /** Parallelisation. */
  p: number;
  /** Bytes of derived key stored. */
  keyLength: number;
}

/** 16 MiB of memory and tens of milliseconds per hash (the lead's benchmark prints these). */
export const DEFAULT_SCRYPT_COST: Readonly<ScryptCost> = Object.freeze({ N: 16384, r: 8, p: 1, keyLength: 32 });

const PREFIX = 'scrypt';
const SALT_BYTES = 16;

/**
 * Bounds on what a stored hash may ask for. A corrupt or planted record must not make the
 * server allocate gigabytes or spin for minutes: scrypt needs about 128·r·(N + p + 2) bytes,
 * and its work grows with N·r·p. The bounds leave room to raise the default cost 4× in memory
 * and 32× in work.
 */
export const SCRYPT_LIMITS = Object.freeze({
  maxN: 2 ** 18,
  maxR: 32,
  maxP: 16,
  /** Bytes; also passed to scrypt as `maxmem`, so node refuses anything above it itself. */
  maxMemory: 64 * 1024 * 1024 + 64 * 1024,
  maxWork: 2 ** 22,
  minKeyLength: 16,
  maxKeyLength: 64,
  minSaltBytes: 16,
  maxSaltBytes: 64,
});

/** A stored hash that cannot be read or asks for more than SCRYPT_LIMITS allows. */
export class MalformedPasswordHashError extends Error {
  override name = 'MalformedPasswordHashError';
}

interface ParsedHash {
  cost: ScryptCost;
  salt: Buffer;
  hash: Buffer;
}

const POSITIVE_INT = /^[1-9][0-9]{0,9}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** Why this cost is refused, or null when it is acceptable. */
function costProblem(cost: ScryptCost): string | null {
  const { N, r, p, keyLength } = cost;
  if (!Number.isSafeInteger(N) || N < 2 || N > SCRYPT_LIMITS.maxN || (N & (N - 1)) !== 0) return `N must be a power of two up to ${SCRYPT_LIMITS.maxN}`;
  if (!Number.isSafeInteger(r) || r < 1 || r > SCRYPT_LIMITS.maxR) return `r must be between 1 and ${SCRYPT_LIMITS.maxR}`;
  if (!Number.isSafeInteger(p) || p < 1 || p > SCRYPT_LIMITS.maxP) return `p must be between 1 and ${SCRYPT_LIMITS.maxP}`;
  if (!Number.isSafeInteger(keyLength) || keyLength < SCRYPT_LIMITS.minKeyLength || keyLength > SCRYPT_LIMITS.maxKeyLength) return 'the key length is out of range';
  if (memoryOf(cost) > SCRYPT_LIMITS.maxMemory) return 'the cost needs too much memory';
  if (N * r * p > SCRYPT_LIMITS.maxWork) return 'the cost needs too much work';
  return null;
}

function memoryOf({ N, r, p }: ScryptCost): number {
  return 128 * r * (N + p + 2);
}

function derive(password: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  const options: ScryptOptions = { N: cost.N, r: cost.r, p: cost.p, maxmem: SCRYPT_LIMITS.maxMemory };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, cost.keyLength, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** A new self-describing hash of `password` with a fresh random salt. */
export async function hashPassword(password: string, cost: ScryptCost = DEFAULT_SCRYPT_COST): Promise<string> {
  const problem = costProblem(cost);
  if (problem !== null) throw new Error(`scrypt cost refused: ${problem}`);
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, cost);
  return `${PREFIX}:${cost.N}:${cost.r}:${cost.p}:${salt.toString('base64')}:${hash.toString('base64')}`;
}

function decodeBase64(text: string | undefined, what: string): Buffer {
  if (text === undefined || !BASE64.test(text) || text.length % 4 !== 0) throw new MalformedPasswordHashError(`the ${what} is not base64`);
  return Buffer.from(text, 'base64');
}

/** Reads a stored hash; throws MalformedPasswordHashError (never allocating for it) when it is unusable. */
export function parsePasswordHash(stored: string): ParsedHash {
  if (typeof stored !== 'string') throw new MalformedPasswordHashError('the hash is not a string');
  const parts = stored.split(':');
  if (parts.length !== 6 || parts[0] !== PREFIX) throw new MalformedPasswordHashError('not an scrypt hash');
  const [, n, r, p, saltText, hashText] = parts;
  if (![n, r, p].every((v) => POSITIVE_INT.test(v!))) throw new MalformedPasswordHashError('the cost is not a set of positive integers');
  const salt = decodeBase64(saltText, 'salt');
  const hash = decodeBase64(hashText, 'hash');
  if (salt.length < SCRYPT_LIMITS.minSaltBytes || salt.length > SCRYPT_LIMITS.maxSaltBytes) throw new MalformedPasswordHashError('the salt length is out of range');
  const cost: ScryptCost = { N: Number(n), r: Number(r), p: Number(p), keyLength: hash.length };
  const problem = costProblem(cost);
  if (problem !== null) throw new MalformedPasswordHashError(problem);
  return { cost, salt, hash };
}

/** Whether `password` matches `stored`, compared in constant time. Throws MalformedPasswordHashError on an unusable hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const { cost, salt, hash } = parsePasswordHash(stored);
  const candidate = await derive(password, salt, cost);
  return timingSafeEqual(candidate, hash);
}

// Made once per process: the dummy's salt and expected value are never anyone's.
const DUMMY_SALT = randomBytes(SALT_BYTES);
const DUMMY_HASH = randomBytes(DEFAULT_SCRYPT_COST.keyLength);

/**
 * The work of a verification at the default cost, for a user that does not exist (or a
 * record that cannot be read), so that "no such user" takes as long as "wrong password"
 * and timing does not reveal which usernames exist. Always false.
 */
export async function verifyAgainstDummy(password: string): Promise<false> {
  const candidate = await derive(password, DUMMY_SALT, DEFAULT_SCRYPT_COST);
  timingSafeEqual(candidate, DUMMY_HASH);
  return false;
}

