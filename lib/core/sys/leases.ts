import { ApiError } from '../../errors.js';
import type { CoreServices } from '../services.js';
import type { LeaseEntry } from '../expiration.js';
import type { BackendRequest, Response } from '../request.js';
import type { PathSpec } from '../../framework/backend.js';
import type { FieldData } from '../../framework/fields.js';
import { sysData } from './respond.js';

/**
 * Leases (api.md §11): lookup, renew, revoke, revoke-prefix, with Vault's older aliases
 * `sys/renew/<id>`, `sys/revoke/<id>`, `sys/revoke-prefix/<prefix>`. A caller without
 * root sees only the leases of its own token: anyone else's answers 404, like a lease
 * that does not exist.
 */

const iso = (ms: number): string | null => (ms ? new Date(ms).toISOString() : null);

export function leasePaths(core: CoreServices): PathSpec[] {
  const owned = async (req: BackendRequest, id: string | undefined): Promise<LeaseEntry> => {
    if (!id) throw new ApiError('ERR_MISSING_FIELD', "missing required field 'lease_id'");
    const lease = await core.expiration.lookup(id.replace(/^\/+/, ''));
    if (!lease || !req.caller || (!req.caller.root && lease.tokenHash !== req.caller.tokenHash)) {
      throw new ApiError('ERR_NOT_FOUND', 'lease not found');
    }
    return lease;
  };
  const idOf = (fields: FieldData): string | undefined => fields.get<string | undefined>('url_lease_id') || fields.get<string | undefined>('lease_id');

  const lookup = async (req: BackendRequest, fields: FieldData): Promise<Response> => {
    const lease = await owned(req, idOf(fields));
    return sysData({
      id: lease.id,
      issue_time: iso(lease.issueTime),
      expire_time: iso(lease.expireTime),
      last_renewal: iso(lease.lastRenewalTime),
      renewable: lease.renewable,
      ttl: Math.max(0, Math.floor((lease.expireTime - Date.now()) / 1000)),
    });
  };

  const renew = async (req: BackendRequest, fields: FieldData): Promise<Response> => {
    const lease = await owned(req, idOf(fields));
    if (!lease.renewable) throw new ApiError('ERR_NOT_RENEWABLE', 'lease is not renewable');
    if (lease.kind === 'token') {
      const entry = await core.tokens.lookupByHash(lease.tokenHash);
      if (!entry) throw new ApiError('ERR_NOT_FOUND', 'lease not found');
      const auth = await core.tokenManager.renew(entry, fields.get<number | undefined>('increment') ?? 0);
      return { data: null, secret: { ttl: auth.leaseDuration, renewable: true, leaseId: lease.id } };
    }
    const mount = core.mounts.get(lease.mountPoint);
    const maxTtl = (mount?.entry.config.maxLeaseTtl || core.config.maxLeaseTtl) * 1000;
    const originalTtl = lease.expireTime - (lease.lastRenewalTime || lease.issueTime);
    const increment = (fields.get<number | undefined>('increment') ?? 0) * 1000 || originalTtl;
    const now = Date.now();
    const expireTime = Math.min(now + increment, lease.issueTime + maxTtl);
    await core.expiration.update({ ...lease, expireTime, lastRenewalTime: now });
    return { data: null, secret: { ttl: Math.max(0, Math.floor((expireTime - now) / 1000)), renewable: true, leaseId: lease.id } };
  };

  const revoke = async (req: BackendRequest, fields: FieldData): Promise<null> => {
    const lease = await owned(req, idOf(fields));
    await core.expiration.revoke(lease.id);
    return null;
  };

  const revokePrefix = async (_req: BackendRequest, fields: FieldData): Promise<null> => {
    const prefix = (fields.get<string | undefined>('prefix') ?? '').replace(/^\/+/, '');
    if (prefix === '') throw new ApiError('ERR_MISSING_FIELD', 'a prefix is required');
    await core.expiration.revokePrefix(prefix);
    return null;
  };

  const listPrefix = async (_req: BackendRequest, fields: FieldData): Promise<Response | null> => {
    const prefix = fields.get<string | undefined>('prefix') ?? '';
    const folder = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    const ids = await core.expiration.list(folder);
    const keys = [...new Set(ids.map((id) => {
      const rest = id.slice(folder.length);
      const slash = rest.indexOf('/');
      return slash === -1 ? rest : rest.slice(0, slash + 1);
    }))].sort();
    return keys.length === 0 ? null : sysData({ keys });
  };

  const leaseField = {
    lease_id: { type: 'string', description: 'The lease id, e.g. "secret/creds/<uuid>".' },
    url_lease_id: { type: 'string', description: 'The lease id, when given in the URL.' },
  } as const;
  const incrementField = { increment: { type: 'duration', description: 'Requested extension; never past the mount\'s maximum.' } } as const;
  const prefixField = { prefix: { type: 'string', description: 'The lease id prefix.' } } as const;

  const renewSpec = { fields: { ...leaseField, ...incrementField }, operations: { update: renew }, synopsis: 'Renew a lease.', description: 'Answers the envelope with the new lease_duration; 400 when the lease is not renewable.' };
  const revokeSpec = { fields: leaseField, operations: { update: revoke }, synopsis: 'Revoke a lease now.', description: 'Revokes the secret the lease stands for (for a token lease: the token and its children).' };
  const prefixSpec = { fields: prefixField, operations: { update: revokePrefix }, synopsis: 'Revoke every lease under a prefix.', description: 'Needs root or sudo. E.g. "auth/token/create" revokes every token made there with a TTL.' };
  return [
    { pattern: 'leases/lookup', fields: leaseField, operations: { update: lookup }, synopsis: 'Look up a lease.', description: 'Answers {"id", "issue_time", "expire_time", "last_renewal", "renewable", "ttl"}.' },
    { pattern: 'leases/lookup/*prefix', fields: prefixField, operations: { list: listPrefix }, synopsis: 'List lease ids under a prefix.', description: 'LIST answers {"keys": [...]}, one level deep. Needs root or sudo.' },
    { pattern: 'leases/renew', ...renewSpec },
    { pattern: 'leases/renew/*url_lease_id', ...renewSpec },
    { pattern: 'renew/*url_lease_id', ...renewSpec },
    { pattern: 'leases/revoke', ...revokeSpec },
    { pattern: 'leases/revoke/*url_lease_id', ...revokeSpec },
    { pattern: 'revoke/*url_lease_id', ...revokeSpec },
    { pattern: 'leases/revoke-prefix/*prefix', ...prefixSpec },
    { pattern: 'revoke-prefix/*prefix', ...prefixSpec },
  ];
}
