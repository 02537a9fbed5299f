import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isApiError } from '../../errors.js';
import { decodeSnapshot } from '../../storage/snapshot-format.js';
import type { Command } from '../command.js';
import { CommandError, defineCommand } from '../client-command.js';

/** `operator snapshot save|restore`: the whole storage to a file and back (README, "Snapshots"). */

/** The snapshot's entry count, or a CommandError naming the file for a damaged one. */
function checked(bytes: Buffer, file: string): number {
  try {
    return decodeSnapshot(bytes).entries.length;
  } catch (err) {
    if (isApiError(err)) throw new CommandError(`${file}: ${err.message}`);
    throw err;
  }
}

/**
 * Written under a temporary name, synced, then renamed into place: a crash or a full disk
 * never leaves a half snapshot under the name asked for. Mode 0600 from creation on: it
 * holds every (encrypted) secret.
 */
async function writePrivateFile(file: string, bytes: Buffer): Promise<void> {
  const temporary = join(dirname(file), `.${basename(file)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx', 0o600);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(temporary).catch(() => undefined);
    throw err;
  }
  await handle.close();
  try {
    await rename(temporary, file);
  } catch (err) {
    await unlink(temporary).catch(() => undefined);
    throw err;
  }
}

function fileError(what: string, file: string, err: unknown): CommandError {
  const code = (err as NodeJS.ErrnoException).code;
  return new CommandError(`cannot ${what} ${file}${code ? ` (${code})` : ''}`);
}

const save = defineCommand({
  name: 'operator snapshot save',
  synopsis: 'Save the whole storage, still encrypted, to a file',
  args: 'FILE',
  description: `GETs sys/storage/snapshot and writes it to FILE (mode 0600; an existing FILE is
replaced only once the whole snapshot is written). The snapshot holds every storage
entry as stored, so still encrypted by the barrier: it is useless without the unseal
keys, and restoring it needs them. Its checksum is checked before the file is written.
Writes on the server wait while the storage is read. Needs root or sudo on
sys/storage/snapshot.`,
  example: '$ nomad-api operator snapshot save backup.snap',
  output: false,
  minArgs: 1,
  maxArgs: 1,
  async run(ctx) {
    const file = ctx.args[0]!;
    const bytes = await ctx.client().sys.snapshot();
    const entries = checked(bytes, 'the server\'s answer');
    try {
      await writePrivateFile(file, bytes);
    } catch (err) {
      throw fileError('write', file, err);
    }
    ctx.io.stdout(`Success! Saved a snapshot of ${entries} entries (${bytes.length} bytes) to ${file}\n`);
  },
});

const restore = defineCommand({
  name: 'operator snapshot restore',
  synopsis: 'Replace the whole storage with a snapshot file, then seal',
  args: 'FILE',
  description: `Checks FILE (format and checksum), then POSTs it to sys/storage/snapshot-force: the
server checks it again, seals, replaces every storage entry with the snapshot's, and
stays sealed. Unseal it with the unseal keys that belong to the snapshot (those of the
server it was saved from, when it was saved); its root and other tokens are the
snapshot's too. Everything written since the snapshot is lost. Needs root or sudo on
sys/storage/snapshot-force.`,
  example: '$ nomad-api operator snapshot restore backup.snap\n$ nomad-api operator unseal',
  output: false,
  minArgs: 1,
  maxArgs: 1,
  async run(ctx) {
    const file = ctx.args[0]!;
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (err) {
      throw fileError('read', file, err);
    }
    const entries = checked(bytes, file);
    await ctx.client().sys.restoreSnapshot(bytes);
    ctx.io.stdout(`Success! Restored ${entries} entries from ${file}. The server is sealed: unseal it with the snapshot's keys.\n`);
  },
});

export const commands: Command[] = [save, restore];
