import { ApiError } from '../../errors.js';
import type { PathSpec } from '../../framework/backend.js';
import type { BackendRequest, Response } from '../../core/request.js';
import type { FieldData } from '../../framework/fields.js';
import { loginOf } from '../token-params.js';
import { addressAllowed } from './cidrs.js';
import { loadRole } from './roles.js';
import { isExpired, removeSecretId, roleIdKey, secretIdKey, type Approle, type SecretIdEntry } from './store.js';

/**
 * `login`: role_id (+ secret_id) in, a LoginAuth out; the pipeline makes the token.
 *
 * Every credential failure answers the same 400, `invalid role_id or secret_id`, whether
 * the role_id is unknown, the secret_id is missing, wrong, of another role, expired or used
 * up: the answer never tells which half was right. Only a CIDR refusal says what it is,
 * and only once the credentials named a real role.
 */

const invalidCredentials = (): ApiError => new ApiError('ERR_INVALID_CREDENTIALS', 'invalid role_id or secret_id');
const outsideCidrs = (): ApiError => new ApiError('ERR_INVALID_CREDENTIALS', "the client address is not allowed by the role's or the secret id's bound CIDRs");

export function loginPath(approle: Approle): PathSpec {
  const { store } = approle;

  /** Checks the secret id and spends one of its uses, inside the mount's queue (store.ts, Approle.serial). */
  const spendSecretId = async (roleName: string, secretId: string, remoteAddress: string, roleCidrs: string[]): Promise<SecretIdEntry> => {
    const hash = await store.hash('secret-id', secretId);
    const entry = await store.getJson<SecretIdEntry>(secretIdKey(roleName, hash));
    if (!entry) throw invalidCredentials();
    const now = approle.now();
    if (isExpired(entry, now)) {
      await removeSecretId(store, roleName, hash, entry.accessor);
      throw invalidCredentials();
    }
    // Checked before a use is spent: a refused address costs the secret id nothing.
    if (!addressAllowed(remoteAddress, roleCidrs, entry.cidrList)) throw outsideCidrs();
    if (entry.numUses === 1) {
      await removeSecretId(store, roleName, hash, entry.accessor);
    } else if (entry.numUses > 1) {
      await store.putJson(secretIdKey(roleName, hash), { ...entry, numUses: entry.numUses - 1, lastUpdatedTime: now });
    }
    return entry;
  };

  const login = async (req: BackendRequest, fields: FieldData): Promise<Response> => {
    const roleId = fields.get<string | undefined>('role_id') ?? '';
    const secretId = fields.get<string | undefined>('secret_id') ?? '';
    if (roleId === '') throw new ApiError('ERR_MISSING_FIELD', "missing required field 'role_id'");
    return approle.serial(async () => {
      const owner = await store.getJson<{ role: string }>(roleIdKey(await store.hash('role-id', roleId)));
      const role = owner === null ? null : await loadRole(store, owner.role);
      if (!role) throw invalidCredentials();
      let metadata: Record<string, string> = {};
      if (role.bindSecretId) {
        if (secretId === '') throw invalidCredentials();
        metadata = (await spendSecretId(role.name, secretId, req.remoteAddress, role.secretIdBoundCidrs)).metadata;
      } else if (!addressAllowed(req.remoteAddress, role.secretIdBoundCidrs)) {
        throw outsideCidrs();
      }
      // The secret id's metadata goes on the token; role_name is ours and wins over a key of that name.
      return { data: null, login: loginOf(role.token, { displayName: role.name, metadata: { ...metadata, role_name: role.name } }) };
    });
  };

  return {
    pattern: 'login',
    fields: {
      role_id: { type: 'string', description: 'The role_id of the role to log in as.' },
      secret_id: { type: 'string', description: 'A secret id of that role (required when the role has bind_secret_id).' },
    },
    operations: { update: login },
    synopsis: 'Log in with a role_id and a secret_id.',
    description: `Answers an auth block with a token carrying the role's token settings and the
metadata {"role_name": ...} (plus the secret id's metadata). Needs no token. Every
credential failure answers 400 "invalid role_id or secret_id".`,
  };
}
