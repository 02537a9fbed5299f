import { ApiError } from '../../errors.js';
import { parseCidrList } from '../../core/cidr.js';
import { randomUUID } from '../../crypto/random.js';
import type { PathSpec } from '../../framework/backend.js';
import type { FieldData, FieldSchemas } from '../../framework/fields.js';
import { showTokenParams, storedTokenParams, tokenFieldSchemas, tokenParamsFrom } from '../token-params.js';
import { removeSecretId, roleIdKey, roleKey, secretIdPrefix, type Approle, type ApproleStore, type RoleEntry, type SecretIdEntry } from './store.js';

/**
 * `role/:role_name` (the role's settings), `role` (LIST) and `role/:role_name/role-id`.
 * Role names are case-insensitive: kept and shown lower-cased, so `MyApp` and `myapp` are
 * one role (Vault does the same for roles it creates today).
 */

const ROLE_NAME = /^[a-z0-9](?:[a-z0-9_.@-]{0,126}[a-z0-9])?$/;

export const roleNameField: FieldSchemas = {
  role_name: { type: 'string', description: 'Name of the role (case-insensitive; letters, digits, "_", "-", ".", "@").' },
};

export function roleNameOf(fields: FieldData): string {
  const name = fields.get<string>('role_name').toLowerCase();
  if (!ROLE_NAME.test(name)) throw new ApiError('ERR_INVALID_PATH', 'role names are 1 to 128 letters, digits, "_", "-", "." or "@", starting and ending with a letter or digit');
  return name;
}

export async function loadRole(store: ApproleStore, name: string): Promise<RoleEntry | null> {
  const entry = await store.getJson<RoleEntry>(roleKey(name));
  return entry === null ? null : { ...entry, token: storedTokenParams(entry.token) };
}

/** The role, or a 404 naming it (role names are not secrets). */
export async function requireRole(store: ApproleStore, name: string): Promise<RoleEntry> {
  const role = await loadRole(store, name);
  if (!role) throw new ApiError('ERR_NOT_FOUND', `role '${name}' not found`);
  return role;
}

function nonNegative(fields: FieldData, name: string, stored: number): number {
  if (!fields.has(name)) return stored;
  const value = fields.get<number>(name);
  if (value < 0) throw new ApiError('ERR_INVALID_FIELD', `field '${name}' must not be negative`);
  return value;
}

/**
 * Gives `role` the role_id `roleId` and saves it: refused (400) when another role has it.
 * The new index is written before the role and the old index removed last, so a failure
 * half-way leaves the role reachable by one of its ids, never by none.
 */
async function saveWithRoleId(store: ApproleStore, role: Omit<RoleEntry, 'roleIdHash' | 'roleId'>, roleId: string, previousHash: string | undefined): Promise<void> {
  if (roleId.trim() === '') throw new ApiError('ERR_INVALID_FIELD', "field 'role_id' must not be empty");
  const hash = await store.hash('role-id', roleId);
  const owner = await store.getJson<{ role: string }>(roleIdKey(hash));
  if (owner !== null && owner.role !== role.name) throw new ApiError('ERR_INVALID_FIELD', 'role_id is already in use by another role');
  await store.putJson(roleIdKey(hash), { role: role.name });
  await store.putJson(roleKey(role.name), { ...role, roleIdHash: hash, roleId });
  if (previousHash !== undefined && previousHash !== hash) await store.storage.delete(roleIdKey(previousHash));
}

function writeRole(approle: Approle) {
  const { store } = approle;
  return async (_req: unknown, fields: FieldData) => {
    const name = roleNameOf(fields);
    // Every field is read (and so validated) before the queue: a bad one writes nothing.
    const given = {
      bind: fields.has('bind_secret_id') ? fields.get<boolean>('bind_secret_id') : undefined,
      cidrs: fields.has('secret_id_bound_cidrs') ? [...parseCidrList(fields.get<string[]>('secret_id_bound_cidrs'), 'secret_id_bound_cidrs').cidrs] : undefined,
      roleId: fields.has('role_id') ? fields.get<string>('role_id') : undefined,
    };
    return approle.serial(async () => {
      const stored = await loadRole(store, name);
      const role = {
        name,
        bindSecretId: given.bind ?? stored?.bindSecretId ?? true,
        secretIdNumUses: nonNegative(fields, 'secret_id_num_uses', stored?.secretIdNumUses ?? 0),
        secretIdTtl: fields.has('secret_id_ttl') ? fields.get<number>('secret_id_ttl') : (stored?.secretIdTtl ?? 0),
        secretIdBoundCidrs: given.cidrs ?? stored?.secretIdBoundCidrs ?? [],
        token: tokenParamsFrom(fields, stored?.token),
      };
      if (!role.bindSecretId && role.secretIdBoundCidrs.length === 0 && role.token.boundCidrs.length === 0) {
        throw new ApiError('ERR_INVALID_FIELD', 'a role without bind_secret_id needs secret_id_bound_cidrs or token_bound_cidrs: at least one constraint is required');
      }
      if (stored && given.roleId === undefined) {
        await store.putJson(roleKey(name), { ...role, roleIdHash: stored.roleIdHash, roleId: stored.roleId });
      } else {
        await saveWithRoleId(store, role, given.roleId ?? randomUUID(), stored?.roleIdHash);
      }
      return null;
    });
  };
}

/** Deletes the role, its role_id index and every secret id it issued. */
async function deleteRole(approle: Approle, name: string): Promise<void> {
  const { store } = approle;
  const role = await loadRole(store, name);
  if (!role) return;
  const prefix = secretIdPrefix(name);
  for (const hash of await store.storage.list(prefix)) {
    const entry = await store.getJson<SecretIdEntry>(`${prefix}${hash}`);
    if (entry) await removeSecretId(store, name, hash, entry.accessor);
  }
  await store.storage.delete(roleKey(name));
  await store.storage.delete(roleIdKey(role.roleIdHash));
}

export function rolePaths(approle: Approle): PathSpec[] {
  const { store } = approle;
  return [
    {
      pattern: 'role',
      operations: {
        list: async () => {
          const keys = (await store.storage.list('role/')).filter((k) => !k.endsWith('/'));
          return keys.length === 0 ? null : { data: { keys } };
        },
      },
      synopsis: 'List the roles.',
      description: 'LIST answers the role names ({"keys": [...]}), or 404 when there are none.',
    },
    {
      pattern: 'role/:role_name',
      fields: {
        ...roleNameField,
        bind_secret_id: { type: 'bool', description: 'Whether a login must present a secret_id of this role (default true).' },
        secret_id_num_uses: { type: 'int', description: 'Logins each secret id allows; 0 means unlimited.' },
        secret_id_ttl: { type: 'duration', description: 'How long each secret id lives; 0 means it never expires.' },
        secret_id_bound_cidrs: { type: 'strings', description: 'CIDR blocks logins with this role must come from.' },
        role_id: { type: 'string', description: 'A custom role_id at creation (default: a random UUID); unique across roles.' },
        ...tokenFieldSchemas,
      },
      operations: {
        create: writeRole(approle),
        update: writeRole(approle),
        read: async (_req, fields) => {
          const role = await loadRole(store, roleNameOf(fields));
          if (!role) return null;
          return {
            data: {
              bind_secret_id: role.bindSecretId,
              secret_id_num_uses: role.secretIdNumUses,
              secret_id_ttl: role.secretIdTtl,
              secret_id_bound_cidrs: role.secretIdBoundCidrs,
              ...showTokenParams(role.token),
            },
          };
        },
        delete: async (_req, fields) => {
          const name = roleNameOf(fields);
          await approle.serial(() => deleteRole(approle, name));
          return null;
        },
      },
      existenceCheck: async (_req, fields) => (await loadRole(store, roleNameOf(fields))) !== null,
      synopsis: 'Create, update, read or delete a role.',
      description: `A role is what an application logs in as: its role_id (see role/<name>/role-id)
and, when bind_secret_id is true, one of its secret ids (role/<name>/secret-id). A write
changes only the fields it gives. A role with bind_secret_id false needs
secret_id_bound_cidrs or token_bound_cidrs. Deleting a role deletes its secret ids.`,
    },
    {
      pattern: 'role/:role_name/role-id',
      fields: { ...roleNameField, role_id: { type: 'string', description: 'The new role_id (unique across roles).', required: true } },
      operations: {
        read: async (_req, fields) => {
          const role = await loadRole(store, roleNameOf(fields));
          return role ? { data: { role_id: role.roleId } } : null;
        },
        update: async (_req, fields) => {
          const name = roleNameOf(fields);
          const roleId = fields.get<string>('role_id');
          return approle.serial(async () => {
            const { roleIdHash, roleId: _old, ...role } = await requireRole(store, name);
            await saveWithRoleId(store, role, roleId, roleIdHash);
            return null;
          });
        },
      },
      synopsis: "Read or set a role's role_id.",
      description: `GET answers {"role_id": ...}. POST {"role_id": "..."} replaces it; the old
one stops working at once. A role_id another role has is refused (400).`,
    },
  ];
}
