import type { BackendFactory } from '../framework/backend.js';
import type { MountKind } from '../core/mounts.js';
import { createCubbyholeBackend } from './cubbyhole.js';
import { createKvBackend } from './kv.js';

/**
 * Every mountable backend type: one file plus one line here. `system` and `token` are
 * built by core itself, because they drive the core.
 */
export const secretBackends: Record<string, BackendFactory> = {
  kv: createKvBackend,
  generic: createKvBackend,
  cubbyhole: createCubbyholeBackend,
};

export const authBackends: Record<string, BackendFactory> = {};

export function resolveBackend(kind: MountKind, type: string): BackendFactory | undefined {
  const table = kind === 'auth' ? authBackends : secretBackends;
  return Object.hasOwn(table, type) ? table[type] : undefined;
}
