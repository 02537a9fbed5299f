import { ApiError } from '../../errors.js';
import { parseCidrList } from '../../core/cidr.js';
import { randomUUID } from '../../crypto/random.js';
import type { PathSpec } from '../../framework/backend.js';
import { isPlainObject, type FieldData } from '../../framework/fields.js';
import type { Response } from '../../core/request.js';
import { checkCidrSubset } from './cidrs.js';
import { requireRole, roleNameField, roleNameOf } from './roles.js';
import {
  accessorKey, isExpired, removeSecretId, secretIdKey, secretIdPrefix,
  type AccessorEntry, type Approle, type SecretIdEntry,
} from './store.js';

/**
 * A role's secret ids: generated here (the only time a secret_id is ever seen), listed by
 * accessor, looked up and destroyed by secret_id or by accessor. Expired ones are deleted
 * whenever a request meets them.
 */

const NEVER = '0001-01-01T00:00:00Z'; // Vault's zero time, for "does not expire"

/** Vault accepts metadata as an object of strings or as a JSON string holding one. */
export function metadataOf(value: unknown): Record<string, string> {
  let parsed = value;
  if (value === undefined || value === null || value === '') return {};
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch {
      parsed = undefined;
    }
  }
  if (isPlainObject(parsed) && Object.values(parsed).every((v) => typeof v === 'string')) return { ...(parsed as Record<string, string>) };
  throw new ApiError('ERR_INVALID_FIELD', "field 'metadata' must be an object of string values, or a JSON string of one");
}

/** A per-secret-id override: absent or 0 takes the role's value, and it may not exceed a limited role's. */
function withinRole(given: number | undefined, roleValue: number, name: string, roleField: string): number {
  if (given === undefined || given === 0) return roleValue;
  if (given < 0) throw new ApiError('ERR_INVALID_FIELD', `field '${name}' must not be negative`);
  if (roleValue > 0 && given > roleValue) throw new ApiError('ERR_INVALID_FIELD', `field '${name}' cannot exceed the role's ${roleField} (${roleValue})`);
  return given;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function show(entry: SecretIdEntry): Response {
  return {
    data: {
      secret_id_accessor: entry.accessor,
      metadata: entry.metadata,
      cidr_list: entry.cidrList,
      creation_time: iso(entry.creationTime),
      expiration_time: entry.expirationTime === 0 ? NEVER : iso(entry.expirationTime),
      last_updated_time: iso(entry.lastUpdatedTime),
      secret_id_num_uses: entry.numUses,
      secret_id_ttl: entry.ttl,
    },
  };
}

export function secretIdPaths(approle: Approle): PathSpec[] {
  const { store } = approle;
  const unknown = (what: string): ApiError => new ApiError('ERR_NOT_FOUND', `${what} not found for this role`);

  /** The live entry of a secret id of `role`, deleting it if it has expired. */
  const liveEntry = async (role: string, hash: string): Promise<SecretIdEntry | null> => {
    const entry = await store.getJson<SecretIdEntry>(secretIdKey(role, hash));
    if (entry && isExpired(entry, approle.now())) {
      await removeSecretId(store, role, hash, entry.accessor);
      return null;
    }
    return entry;
  };
  /** The secret id hash behind an accessor of `role`, or null (another role's accessor is unknown here). */
  const byAccessor = async (role: string, accessor: string): Promise<string | null> => {
    const index = await store.getJson<AccessorEntry>(accessorKey(await store.hash('accessor', accessor)));
    return index !== null && index.role === role ? index.secretIdHash : null;
  };

  const generate = async (_req: unknown, fields: FieldData): Promise<Response> => {
    const name = roleNameOf(fields);
    const metadata = metadataOf(fields.get('metadata'));
    const cidrList = [...parseCidrList(fields.get<string[] | undefined>('cidr_list') ?? [], 'cidr_list').cidrs];
    const ttlGiven = fields.get<number | undefined>('ttl');
    const usesGiven = fields.get<number | undefined>('num_uses');
    return approle.serial(async () => {
      const role = await requireRole(store, name);
      if (!role.bindSecretId) throw new ApiError('ERR_INVALID_FIELD', 'the role does not use secret ids (bind_secret_id is false)');
      checkCidrSubset(cidrList, role.secretIdBoundCidrs);
      const ttl = withinRole(ttlGiven, role.secretIdTtl, 'ttl', 'secret_id_ttl');
      const numUses = withinRole(usesGiven, role.secretIdNumUses, 'num_uses', 'secret_id_num_uses');
      const secretId = randomUUID();
      const accessor = randomUUID();
      const hash = await store.hash('secret-id', secretId);
      const now = approle.now();
      const entry: SecretIdEntry = {
        accessor, metadata, cidrList, creationTime: now, expirationTime: ttl > 0 ? now + ttl * 1000 : 0, lastUpdatedTime: now, numUses, ttl,
      };
      await store.putJson(secretIdKey(name, hash), entry);
      await store.putJson(accessorKey(await store.hash('accessor', accessor)), { role: name, secretIdHash: hash } satisfies AccessorEntry);
      return { data: { secret_id: secretId, secret_id_accessor: accessor, secret_id_ttl: ttl, secret_id_num_uses: numUses } };
    });
  };

  const list = async (_req: unknown, fields: FieldData): Promise<Response | null> => {
    const name = roleNameOf(fields);
    return approle.serial(async () => {
      await requireRole(store, name);
      const accessors: string[] = [];
      for (const hash of await store.storage.list(secretIdPrefix(name))) {
        const entry = await liveEntry(name, hash);
        if (entry) accessors.push(entry.accessor);
      }
      return accessors.length === 0 ? null : { data: { keys: accessors.sort() } };
    });
  };

  /** lookup and destroy, by secret_id or by accessor: `find` turns the request into the secret id's hash. */
  const lookup = (find: (role: string, fields: FieldData) => Promise<string | null>, what: string) => async (_req: unknown, fields: FieldData) => {
    const name = roleNameOf(fields);
    return approle.serial(async () => {
      const hash = await find(name, fields);
      const entry = hash === null ? null : await liveEntry(name, hash);
      if (!entry) throw unknown(what);
      return show(entry);
    });
  };
  const destroy = (find: (role: string, fields: FieldData) => Promise<string | null>) => async (_req: unknown, fields: FieldData) => {
    const name = roleNameOf(fields);
    return approle.serial(async () => {
      const hash = await find(name, fields);
      const entry = hash === null ? null : await store.getJson<SecretIdEntry>(secretIdKey(name, hash));
      if (hash !== null && entry) await removeSecretId(store, name, hash, entry.accessor);
      return null;
    });
  };
  const bySecretId = async (_role: string, fields: FieldData) => store.hash('secret-id', fields.get<string>('secret_id'));
  const byAccessorField = (role: string, fields: FieldData) => byAccessor(role, fields.get<string>('secret_id_accessor'));

  const secretIdField = { ...roleNameField, secret_id: { type: 'string' as const, description: 'The secret id.', required: true } };
  const accessorField = { ...roleNameField, secret_id_accessor: { type: 'string' as const, description: 'The accessor of the secret id.', required: true } };

  return [
    {
      pattern: 'role/:role_name/secret-id',
      fields: {
        ...roleNameField,
        metadata: { type: 'any', description: 'Key/value strings kept with the secret id and given to its tokens (an object, or a JSON string of one).' },
        cidr_list: { type: 'strings', description: "CIDR blocks this secret id may log in from; inside the role's secret_id_bound_cidrs when it has them." },
        ttl: { type: 'duration', description: "This secret id's lifetime; at most the role's secret_id_ttl (default: the role's)." },
        num_uses: { type: 'int', description: "This secret id's logins; at most the role's secret_id_num_uses (default: the role's)." },
      },
      operations: { update: generate, list },
      synopsis: "Generate a secret id for the role, or list its secret ids' accessors.",
      description: `POST answers {"secret_id", "secret_id_accessor", "secret_id_ttl",
"secret_id_num_uses"}: the secret_id is shown this once and stored only as a keyed hash.
LIST answers the accessors of the role's live secret ids.`,
    },
    {
      pattern: 'role/:role_name/secret-id/lookup',
      fields: secretIdField,
      operations: { update: lookup(bySecretId, 'secret_id') },
      synopsis: 'Look up a secret id.',
      description: 'Answers its accessor, metadata, cidr_list, times, uses left and TTL (never the secret id); 404 if unknown or expired.',
    },
    {
      pattern: 'role/:role_name/secret-id/destroy',
      fields: secretIdField,
      operations: { update: destroy(bySecretId), delete: destroy(bySecretId) },
      synopsis: 'Destroy a secret id.',
      description: 'It cannot log in afterwards. Answers 204, also when it did not exist.',
    },
    {
      pattern: 'role/:role_name/secret-id-accessor/lookup',
      fields: accessorField,
      operations: { update: lookup(byAccessorField, 'secret_id_accessor') },
      synopsis: 'Look up a secret id by its accessor.',
      description: 'The same answer as secret-id/lookup; 404 if the accessor is unknown for this role.',
    },
    {
      pattern: 'role/:role_name/secret-id-accessor/destroy',
      fields: accessorField,
      operations: { update: destroy(byAccessorField), delete: destroy(byAccessorField) },
      synopsis: 'Destroy a secret id by its accessor.',
      description: 'It cannot log in afterwards. Answers 204, also when it did not exist.',
    },
  ];
}
