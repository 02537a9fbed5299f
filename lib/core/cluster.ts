import { randomBytes, randomUUID } from '../crypto/random.js';
import type { Storage } from '../storage/storage.js';

/**
 * The cluster's identity for sys/health: a name and an id made once, at initialisation (or
 * the first unseal of a server initialised before they existed), and kept in the barrier so
 * every restart and every node on the same storage reports the same ones. `cluster_name` in
 * the configuration replaces the stored name in answers; the stored one is left as it is.
 */

export interface ClusterInfo {
  name: string;
  id: string;
}

const CLUSTER_PATH = 'core/cluster/local/info';

function isClusterInfo(value: unknown): value is ClusterInfo {
  const v = value as ClusterInfo | null;
  return typeof v === 'object' && v !== null && typeof v.name === 'string' && typeof v.id === 'string';
}

/** The stored identity, if there is one (a standby reads it and must not write). */
export async function readClusterInfo(barrier: Storage): Promise<ClusterInfo | undefined> {
  const stored = await barrier.get(CLUSTER_PATH);
  if (stored === null) return undefined;
  const parsed: unknown = JSON.parse(Buffer.from(stored).toString('utf8'));
  return isClusterInfo(parsed) ? parsed : undefined;
}

/** Reads the stored identity through the barrier, making and storing it when there is none. */
export async function loadClusterInfo(barrier: Storage): Promise<ClusterInfo> {
  const stored = await readClusterInfo(barrier);
  if (stored !== undefined) return stored;
  const info: ClusterInfo = { name: `nomad-cluster-${randomBytes(4).toString('hex')}`, id: randomUUID() };
  await barrier.put(CLUSTER_PATH, Buffer.from(JSON.stringify(info), 'utf8'));
  return info;
}
