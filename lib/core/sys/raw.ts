import { ApiError } from '../../errors.js';
import type { CoreServices } from '../services.js';
import type { BackendRequest, Response } from '../request.js';
import type { PathSpec } from '../../framework/backend.js';

/**
 * `sys/raw/<path>`: the decrypted barrier, for recovery. Off unless the config says
 * `raw_storage_endpoint = true`; root or sudo only; never the keyring or seal configuration.
 * Writes here bypass every in-memory cache: seal and unseal after using it.
 */

const FORBIDDEN = ['core/keyring', 'core/master-link', 'core/seal-config'];

function keyOf(req: BackendRequest): string {
  const path = req.path.slice('raw/'.length);
  if (FORBIDDEN.some((f) => path === f || path.startsWith(`${f}/`))) {
    throw new ApiError('ERR_INVALID_PATH', `cannot access '${path}' through sys/raw`);
  }
  return path;
}

export function rawPaths(core: CoreServices): PathSpec[] {
  const read = async (req: BackendRequest): Promise<Response | null> => {
    const value = await core.barrier.get(keyOf(req));
    return value === null ? null : { data: { value: Buffer.from(value).toString('utf8') } };
  };
  const list = async (req: BackendRequest): Promise<Response | null> => {
    const path = keyOf(req);
    const keys = await core.barrier.list(path === '' || path.endsWith('/') ? path : `${path}/`);
    return keys.length === 0 ? null : { data: { keys } };
  };
  return [
    {
      pattern: 'raw/*path',
      fields: {
        path: { type: 'string', description: 'The storage key, as stored behind the barrier.' },
        value: { type: 'string', description: 'The value to write (UTF-8).' },
      },
      operations: {
        read,
        list,
        update: async (req, fields) => {
          const value = fields.get<string | undefined>('value');
          if (value === undefined) throw new ApiError('ERR_MISSING_FIELD', "missing required field 'value'");
          await core.barrier.put(keyOf(req), Buffer.from(value, 'utf8'));
          return null;
        },
        delete: async (req) => {
          await core.barrier.delete(keyOf(req));
          return null;
        },
      },
      synopsis: 'Read and write the decrypted storage directly (recovery only).',
      description: `GET answers the envelope with data.value; PUT {"value"} writes; DELETE removes; LIST lists.
Enabled by raw_storage_endpoint = true in the server configuration; needs root or sudo.
The keyring and the seal configuration are never reachable. Writes bypass in-memory
caches: seal and unseal afterwards.`,
    },
  ];
}
