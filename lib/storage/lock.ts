import { randomBytes } from 'node:crypto';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A lock file that keeps a second server off a storage directory. It holds the owner's PID
 * and a random nonce, and is created complete and atomically (written under a private name,
 * then hard-linked into place, which fails if the name exists), so no reader ever sees a
 * half-written lock. A lock whose PID is no longer running was left by a crash (kill -9,
 * power loss) and is taken over.
 */

export const LOCK_FILE = 'nomad.lock';

export interface DirLock {
  readonly file: string;
  release(): Promise<void>;
}

/** Lock files held by this process: the PID check alone cannot tell two opens apart here. */
const heldHere = new Set<string>();

export class LockError extends Error {
  override name = 'LockError';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to another user, which is still a live owner.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function pidOf(content: string): number | null {
  const pid = Number(content.split('\n', 1)[0]);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

async function readOrNull(file: string): Promise<string | null> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** Creates `file` with `content` unless it exists; true when this call created it. */
async function createExclusive(file: string, content: string): Promise<boolean> {
  const staging = `${file}.${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(staging, content, { mode: 0o600 });
  try {
    await link(staging, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(staging).catch(() => undefined);
  }
}

/**
 * Moves a stale lock out of the way, but only the one that was judged stale: rename is
 * atomic, so if another starter replaced it meanwhile, the fresh lock is put back.
 */
async function removeStale(file: string, staleContent: string): Promise<void> {
  const aside = `${file}.stale-${randomBytes(6).toString('hex')}`;
  try {
    await rename(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if ((await readOrNull(aside)) !== staleContent) await link(aside, file).catch(() => undefined);
  await unlink(aside);
}

export async function acquireLock(dir: string): Promise<DirLock> {
  const file = join(dir, LOCK_FILE);
  if (heldHere.has(file)) {
    throw new LockError(`storage directory ${dir} is already in use by this server (lock file ${file})`);
  }
  // Claimed before the first await, so two opens in this process cannot both go ahead.
  heldHere.add(file);
  try {
    return await takeLock(dir, file);
  } catch (err) {
    heldHere.delete(file);
    throw err;
  }
}

async function takeLock(dir: string, file: string): Promise<DirLock> {
  const content = `${process.pid}\n${randomBytes(12).toString('hex')}\n`;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (await createExclusive(file, content)) {
      return {
        file,
        async release() {
          heldHere.delete(file);
          // Only our own lock: never remove one another process took over.
          if ((await readOrNull(file)) === content) await unlink(file);
        },
      };
    }
    const existing = await readOrNull(file);
    if (existing === null) continue;
    const pid = pidOf(existing);
    // Our own PID on a lock this process does not hold: left by an earlier run that got the
    // same PID (common in containers, where the server is often PID 1).
    if (pid !== null && pid !== process.pid && alive(pid)) {
      throw new LockError(
        `storage directory ${dir} is in use by another running server (pid ${pid}); ` +
          `stop it first, or delete ${file} if no server is using this directory`,
      );
    }
    await removeStale(file, existing);
  }
  throw new LockError(`could not lock storage directory ${dir}: the lock file ${file} keeps changing`);
}
