import { ApiError } from '../../errors.js';
import type { CoreServices } from '../services.js';
import { isProtectedMount, normalizeMountPath, type MountEntry, type MountKind } from '../mounts.js';
import type { BackendRequest, Response } from '../request.js';
import type { PathSpec } from '../../framework/backend.js';
import { coerceField, type FieldData } from '../../framework/fields.js';
import { sysData } from './respond.js';

/** Mounting secret engines (`sys/mounts`) and auth methods (`sys/auth`) (api.md §10). */

function describeMount(entry: MountEntry): Record<string, unknown> {
  return {
    type: entry.type,
    description: entry.description,
    accessor: entry.accessor,
    uuid: entry.uuid,
    config: { default_lease_ttl: entry.config.defaultLeaseTtl, max_lease_ttl: entry.config.maxLeaseTtl },
    options: entry.options,
    local: entry.local,
    seal_wrap: entry.sealWrap,
  };
}

function ttlConfig(value: unknown): { defaultLeaseTtl?: number; maxLeaseTtl?: number } {
  if (value === undefined || value === null) return {};
  const config = coerceField('config', { type: 'object', description: '' }, value) as Record<string, unknown>;
  const out: { defaultLeaseTtl?: number; maxLeaseTtl?: number } = {};
  if (config.default_lease_ttl !== undefined) out.defaultLeaseTtl = coerceField('config.default_lease_ttl', { type: 'duration', description: '' }, config.default_lease_ttl) as number;
  if (config.max_lease_ttl !== undefined) out.maxLeaseTtl = coerceField('config.max_lease_ttl', { type: 'duration', description: '' }, config.max_lease_ttl) as number;
  return out;
}

const mountFields = {
  path: { type: 'string', description: 'Where to mount, relative to /v1/ (auth methods: relative to auth/).' },
  type: { type: 'string', description: 'The backend type, e.g. "kv".' },
  description: { type: 'string', description: 'Free text shown in the mount listing.' },
  config: { type: 'object', description: 'Lease settings: {"default_lease_ttl", "max_lease_ttl"} as durations or seconds.' },
  options: { type: 'map', description: 'Backend-specific options, string values.' },
  local: { type: 'bool', description: 'Accepted for Vault compatibility.' },
  seal_wrap: { type: 'bool', description: 'Accepted for Vault compatibility.' },
} as const;

const tuneFields = {
  path: mountFields.path,
  default_lease_ttl: { type: 'duration', description: 'Default lease duration for this mount; 0 resets to the server default.' },
  max_lease_ttl: { type: 'duration', description: 'Maximum lease duration for this mount; 0 resets to the server default.' },
  description: mountFields.description,
} as const;

export function mountPaths(core: CoreServices, kind: MountKind): PathSpec[] {
  const base = kind === 'auth' ? 'auth' : 'mounts';
  const fullPath = (path: string): string => normalizeMountPath(kind === 'auth' ? `auth/${path}` : path);
  const listing = (): Response => {
    const out: Record<string, unknown> = {};
    for (const entry of core.mounts.list(kind)) {
      out[kind === 'auth' ? entry.path.slice('auth/'.length) : entry.path] = describeMount(entry);
    }
    return sysData(out);
  };
  const existing = (path: string): MountEntry => {
    const mount = core.mounts.get(fullPath(path));
    if (!mount) throw new ApiError('ERR_NOT_FOUND', `no mount at '${path}'`);
    return mount.entry;
  };
  const isTune = (path: string): boolean => path.endsWith('/tune');
  const mountOf = (path: string): string => (isTune(path) ? path.slice(0, -'/tune'.length) : path);

  const read = async (_req: BackendRequest, fields: FieldData): Promise<Response | null> => {
    const path = fields.get<string>('path') ?? '';
    if (path === '' || path === '/') return listing();
    const entry = existing(mountOf(path));
    if (isTune(path)) {
      return sysData({
        default_lease_ttl: entry.config.defaultLeaseTtl || core.config.defaultLeaseTtl,
        max_lease_ttl: entry.config.maxLeaseTtl || core.config.maxLeaseTtl,
        description: entry.description,
      });
    }
    return sysData(describeMount(entry));
  };

  const write = async (req: BackendRequest, fields: FieldData): Promise<Response | null> => {
    const path = fields.get<string>('path') ?? '';
    if (isTune(path)) {
      const entry = existing(mountOf(path));
      const config: { defaultLeaseTtl?: number; maxLeaseTtl?: number } = {};
      if (fields.has('default_lease_ttl')) config.defaultLeaseTtl = fields.get<number>('default_lease_ttl');
      if (fields.has('max_lease_ttl')) config.maxLeaseTtl = fields.get<number>('max_lease_ttl');
      await core.mounts.tune(entry.path, config, fields.has('description') ? fields.get<string>('description') : undefined);
      return null;
    }
    const type = fields.get<string>('type');
    if (!type) throw new ApiError('ERR_MISSING_FIELD', "the backend 'type' must be specified as a string");
    const { defaultLeaseTtl = 0, maxLeaseTtl = 0 } = ttlConfig(req.data.config);
    const entry = await core.mounts.mount({
      kind,
      path: fullPath(path),
      type,
      description: fields.get<string>('description') ?? '',
      config: { defaultLeaseTtl, maxLeaseTtl },
      options: fields.get<Record<string, string>>('options') ?? {},
      local: fields.get<boolean>('local') ?? false,
      sealWrap: fields.get<boolean>('seal_wrap') ?? false,
    });
    core.logger.info('mounted', { kind, path: entry.path, type: entry.type });
    return null;
  };

  const remove = async (_req: BackendRequest, fields: FieldData): Promise<Response | null> => {
    const path = fields.get<string>('path') ?? '';
    if (isTune(path)) throw new ApiError('ERR_UNSUPPORTED_OPERATION', 'tune settings cannot be deleted', { headers: { Allow: 'GET, POST, PUT' } });
    const mountPath = existing(path).path;
    // Checked here too, before anything is revoked: auth/token/ issued nearly every token.
    if (isProtectedMount(mountPath)) throw new ApiError('ERR_INVALID_MOUNT', `cannot ${kind === 'auth' ? 'disable' : 'unmount'} '${mountPath}': it is built in`);
    // What the mount issued goes with it, as in Vault: an auth method's tokens (their
    // children, leases and cubbyholes follow, token-manager.ts), an engine's leased secrets.
    // Revoked before the unmount, while the backend can still revoke its own secrets, and
    // once more after it, for what a login issued while the first pass ran.
    await core.expiration.revokePrefix(mountPath);
    const entry = await core.mounts.unmount(mountPath);
    await core.expiration.revokePrefix(mountPath);
    core.logger.info('unmounted', { kind, path: entry.path });
    return null;
  };

  const paths: PathSpec[] = [
    {
      pattern: base,
      operations: { read: async () => listing() },
      synopsis: kind === 'auth' ? 'List the enabled auth methods.' : 'List the mounted secrets engines.',
      description: `Answers an object keyed by mount path (with its trailing slash), each value giving
the type, description, accessor, uuid, config (lease TTLs) and options.`,
    },
    {
      pattern: `${base}/*path`,
      fields: { ...mountFields, ...tuneFields },
      operations: { read, update: write, delete: remove },
      synopsis: kind === 'auth' ? 'Enable, read, tune or disable an auth method.' : 'Mount, read, tune or unmount a secrets engine.',
      description: `POST or PUT ${base}/<path> with {"type", "description", "config", "options"} mounts a new
backend (${kind === 'auth' ? 'under auth/<path>/' : 'at <path>/'}); DELETE removes it and all its data. GET reads its
settings. ${base}/<path>/tune reads (GET) or changes (POST) default_lease_ttl,
max_lease_ttl and description. A mount may not sit inside or around another one, and
sys/, auth/token/ and cubbyhole/ cannot be moved or removed.`,
    },
  ];
  if (kind === 'secret') {
    paths.push({
      pattern: 'remount',
      fields: {
        from: { type: 'string', description: 'The current mount path.', required: true },
        to: { type: 'string', description: 'The new mount path.', required: true },
      },
      operations: {
        update: async (_req, fields) => {
          const from = normalizeMountPath(fields.get<string>('from'));
          const to = normalizeMountPath(fields.get<string>('to'));
          await core.mounts.remount(from, to);
          core.logger.info('remounted', { from, to });
          return null;
        },
      },
      synopsis: 'Move a secrets engine to a new path, with its data.',
      description: 'PUT or POST {"from": "old/", "to": "new/"}; the data moves with the mount.',
    });
  }
  return paths;
}
