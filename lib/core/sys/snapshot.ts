import { ApiError } from '../../errors.js';
import { KEYRING_PATH } from '../../crypto/barrier.js';
import type { PathSpec } from '../../framework/backend.js';
import type { SnapshotEntry } from '../../storage/snapshot-format.js';
import type { Response } from '../request.js';
import { SEAL_CONFIG_KEY, validateSealConfig } from '../seal.js';
import type { CoreServices } from '../services.js';

/**
 * `sys/storage/snapshot` and `sys/storage/snapshot-force`: save every physical entry (below
 * the barrier, so still encrypted) and put them back (README, "Snapshots"; the file format
 * is in storage/snapshot-format.ts). Both need root or sudo.
 *
 * Save reads the whole storage into memory with every write held off (storage/write-gate.ts),
 * then streams it: the hold lasts as long as the storage takes to read, never as long as a
 * slow client takes to download, and the snapshot is one point in time. Memory: about the
 * size of the storage while the answer is sent.
 *
 * Restore checks the whole file (checksum, framing, a seal configuration and a keyring in it)
 * before it touches anything, then seals and replaces the storage's content; the server must
 * then be unsealed with the snapshot's keys.
 */

/** The largest snapshot a restore accepts (its own limit: max_request_size is for JSON). */
export const SNAPSHOT_MAX_BYTES = 1 << 30;

function refuse(why: string): ApiError {
  return new ApiError('ERR_INVALID_REQUEST', `invalid snapshot: ${why}`);
}

/** What the server needs to be unsealed after the restore: refused now, not found missing later. */
function checkRestorable(entries: readonly SnapshotEntry[]): void {
  const byKey = new Map(entries);
  const sealConfig = byKey.get(SEAL_CONFIG_KEY);
  if (sealConfig === undefined) throw refuse(`it has no ${SEAL_CONFIG_KEY}`);
  try {
    const parsed = JSON.parse(Buffer.from(sealConfig).toString('utf8')) as { secret_shares?: unknown; secret_threshold?: unknown };
    validateSealConfig(parsed.secret_shares, parsed.secret_threshold);
  } catch {
    throw refuse(`its ${SEAL_CONFIG_KEY} is not a valid seal configuration`);
  }
  if (!byKey.has(KEYRING_PATH)) throw refuse(`it has no ${KEYRING_PATH}`);
}

/** `nomad-api-20261202T061500Z.snap`. */
function fileName(at: number): string {
  return `nomad-api-${new Date(at).toISOString().replace(/[-:]|\.\d+/g, '')}.snap`;
}

// Loaded on first use: a server that never takes a snapshot does not pay for them at start-up.
const snapshotFormat = () => import('../../storage/snapshot-format.js');
const snapshotStore = () => import('../../storage/snapshot.js');

export function snapshotPaths(core: CoreServices): PathSpec[] {
  return [
    {
      pattern: 'storage/snapshot',
      operations: {
        read: async (): Promise<Response> => {
          const [{ encodeSnapshot, snapshotSize, SNAPSHOT_CONTENT_TYPE }, { readAllEntries }] = await Promise.all([snapshotFormat(), snapshotStore()]);
          const entries = await core.holdStorageWrites((physical) => readAllEntries(physical));
          const createdAt = Date.now();
          return {
            data: null,
            headers: { 'X-Nomad-Snapshot-Entries': String(entries.length) },
            binary: { chunks: encodeSnapshot(entries, createdAt), contentType: SNAPSHOT_CONTENT_TYPE, length: snapshotSize(entries), filename: fileName(createdAt) },
          };
        },
      },
      synopsis: 'Download a snapshot of the whole storage (still encrypted).',
      description: `Answers application/octet-stream: every entry of the physical storage as stored,
so encrypted by the barrier (useless without the unseal keys), with a SHA-256 checksum
at the end. Writes are held off while the storage is read, so the snapshot is one point
in time. Needs root or sudo. Restore it with sys/storage/snapshot-force.`,
    },
    {
      pattern: 'storage/snapshot-force',
      operations: {
        update: async (req) => {
          if (req.rawBody === undefined) {
            throw new ApiError('ERR_INVALID_REQUEST', 'the body must be a snapshot sent as Content-Type: application/octet-stream');
          }
          const [{ decodeSnapshot }, { replaceAllEntries }] = await Promise.all([snapshotFormat(), snapshotStore()]);
          const { entries } = decodeSnapshot(await req.rawBody.read(SNAPSHOT_MAX_BYTES));
          checkRestorable(entries);
          let stats = { written: 0, deleted: 0 };
          await core.replaceStorage(async (physical) => {
            stats = await replaceAllEntries(physical, entries);
          });
          core.logger.info('storage restored from a snapshot', { written: stats.written, deleted: stats.deleted });
          return null;
        },
      },
      synopsis: 'Replace the whole storage with a snapshot, then seal.',
      description: `POST the snapshot file as the body, Content-Type: application/octet-stream (up to
1 GiB; the listener's max_request_size does not apply). The file is checked completely
first: a damaged or truncated one answers 400 and changes nothing. Then the server seals,
every entry of the snapshot is written and every other entry deleted, and it answers 204.
Unseal it with the keys that belong to the snapshot. Needs root or sudo.`,
    },
  ];
}
