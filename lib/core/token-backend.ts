import { ApiError } from '../errors.js';
import { defineBackend, type Backend, type PathSpec } from '../framework/backend.js';
import type { FieldData, FieldSchemas } from '../framework/fields.js';
import type { CoreServices } from './services.js';
import { capabilitiesOn } from './access.js';
import { CAP } from './policy.js';
import type { BackendRequest, Response } from './request.js';
import type { TokenEntry } from './tokens.js';

/** The token store's HTTP face, mounted at `auth/token/` (api.md §8). */

/** The lookup answer, in Vault's field names. `id` only when the caller holds the token. */
export function describeToken(entry: TokenEntry, token = ''): Record<string, unknown> {
  return {
    accessor: entry.accessor,
    creation_time: entry.creationTime,
    creation_ttl: entry.ttl,
    display_name: entry.displayName,
    entity_id: '',
    expire_time: entry.expireTime === 0 ? null : new Date(entry.expireTime).toISOString(),
    explicit_max_ttl: entry.explicitMaxTtl,
    id: token,
    issue_time: new Date(entry.creationTime * 1000).toISOString(),
    last_renewal_time: entry.lastRenewalTime || null,
    meta: Object.keys(entry.meta).length === 0 ? null : entry.meta,
    num_uses: Math.max(0, entry.numUses),
    orphan: entry.parent === '',
    path: entry.path,
    period: entry.period || null,
    policies: entry.policies,
    renewable: entry.renewable,
    ttl: entry.expireTime === 0 ? 0 : Math.max(0, Math.floor((entry.expireTime - Date.now()) / 1000)),
    type: 'service',
  };
}

const CREATE_FIELDS: FieldSchemas = {
  policies: { type: 'strings', description: 'Policies of the new token; default: the caller\'s. A non-root caller may only give a subset of its own.' },
  meta: { type: 'map', description: 'Free-form string metadata, shown in lookups and audit logs.' },
  ttl: { type: 'duration', description: 'Lifetime, e.g. "1h"; default default_lease_ttl, at most max_lease_ttl.' },
  lease: { type: 'duration', description: 'Old name of ttl.' },
  explicit_max_ttl: { type: 'duration', description: 'A hard limit renewals can never pass.' },
  period: { type: 'duration', description: 'Make a periodic token: every renewal resets its TTL to this.' },
  num_uses: { type: 'int', description: 'How many requests the token may make; 0 means unlimited.' },
  no_parent: { type: 'bool', description: 'Create an orphan (needs root or sudo).' },
  no_default_policy: { type: 'bool', description: 'Do not attach the default policy.' },
  display_name: { type: 'string', description: 'A name for humans; stored as token-<name>.' },
  renewable: { type: 'bool', description: 'Whether the token can be renewed (default true).', default: true },
  id: { type: 'string', description: 'The token value itself (needs root or sudo).' },
  type: { type: 'string', description: 'Only "service" tokens exist here.' },
};

const tokenField = { token: { type: 'string', description: 'The token to act on.' } } as const;
const accessorField = { accessor: { type: 'string', description: 'The accessor of the token to act on.' } } as const;
const incrementField = { increment: { type: 'duration', description: 'Requested extension; the server may grant less.' } } as const;

export function createTokenBackend(core: CoreServices): Backend {
  const callerEntry = async (req: BackendRequest): Promise<TokenEntry> => {
    const entry = req.caller ? await core.tokens.lookupByHash(req.caller.tokenHash) : null;
    if (!entry) throw new ApiError('ERR_PERMISSION_DENIED', 'permission denied');
    return entry;
  };
  const hasSudo = async (req: BackendRequest): Promise<boolean> =>
    req.caller !== null && ((await capabilitiesOn(core.policies, req.caller, `auth/token/${req.path}`)) & CAP.sudo) !== 0;
  const required = (fields: FieldData, name: string): string => {
    const value = fields.get<string | undefined>(name);
    if (!value) throw new ApiError('ERR_MISSING_FIELD', `missing required field '${name}'`);
    return value;
  };
  const byToken = async (fields: FieldData): Promise<{ token: string; entry: TokenEntry | null }> => {
    const token = required(fields, 'token');
    return { token, entry: await core.tokens.lookup(token) };
  };
  const byAccessor = async (fields: FieldData) => core.tokens.lookupAccessor(required(fields, 'accessor'));
  const notFound = (): never => {
    throw new ApiError('ERR_NOT_FOUND', 'no such token');
  };

  const create = (orphanPath: boolean) => async (req: BackendRequest, fields: FieldData): Promise<Response> => {
    const type = fields.get<string | undefined>('type');
    if (type !== undefined && type !== 'service') throw new ApiError('ERR_INVALID_TOKEN_PARAMS', `token type '${type}' is not supported: only service tokens exist`);
    const parent = await callerEntry(req);
    const sudo = await hasSudo(req);
    const noParent = fields.get<boolean | undefined>('no_parent') ?? false;
    if (noParent && !orphanPath && !sudo) throw new ApiError('ERR_PERMISSION_DENIED', 'permission denied: no_parent needs root or sudo');
    const { auth } = await core.tokenManager.create(
      parent,
      {
        policies: fields.get('policies'),
        meta: fields.get('meta'),
        ttl: fields.get<number | undefined>('ttl') ?? fields.get<number | undefined>('lease'),
        explicitMaxTtl: fields.get('explicit_max_ttl'),
        period: fields.get('period'),
        numUses: fields.get('num_uses'),
        orphan: orphanPath || noParent,
        noDefaultPolicy: fields.get('no_default_policy'),
        displayName: fields.get('display_name'),
        renewable: fields.get('renewable'),
        id: fields.get('id'),
        path: `auth/token/${req.path}`,
      },
      sudo,
    );
    return { data: null, auth };
  };

  const lookup = async (_req: BackendRequest, fields: FieldData): Promise<Response> => {
    const { token, entry } = await byToken(fields);
    return { data: describeToken(entry ?? notFound(), token) };
  };
  const lookupSelf = async (req: BackendRequest): Promise<Response> => ({ data: describeToken(await callerEntry(req), req.clientToken) });
  const lookupAccessor = async (_req: BackendRequest, fields: FieldData): Promise<Response> => ({
    data: describeToken((await byAccessor(fields)) ?? notFound()),
  });
  const renew = async (_req: BackendRequest, fields: FieldData): Promise<Response> => {
    const { token, entry } = await byToken(fields);
    const auth = await core.tokenManager.renew(entry ?? notFound(), fields.get<number | undefined>('increment') ?? 0);
    return { data: null, auth: { ...auth, clientToken: token } };
  };
  const renewSelf = async (req: BackendRequest, fields: FieldData): Promise<Response> => {
    const auth = await core.tokenManager.renew(await callerEntry(req), fields.get<number | undefined>('increment') ?? 0);
    return { data: null, auth: { ...auth, clientToken: req.clientToken } };
  };
  // Revocation answers 204 whether or not the token existed: it reveals nothing either way.
  const revoke = async (_req: BackendRequest, fields: FieldData): Promise<null> => {
    const { entry } = await byToken(fields);
    if (entry) await core.tokenManager.revokeTree(entry.hash);
    return null;
  };
  const revokeSelf = async (req: BackendRequest): Promise<null> => {
    await core.tokenManager.revokeTree((await callerEntry(req)).hash);
    return null;
  };
  const revokeOrphan = async (_req: BackendRequest, fields: FieldData): Promise<null> => {
    const { entry } = await byToken(fields);
    if (entry) await core.tokenManager.revokeOrphan(entry.hash);
    return null;
  };
  const revokeAccessor = async (_req: BackendRequest, fields: FieldData): Promise<null> => {
    const entry = await byAccessor(fields);
    if (entry) await core.tokenManager.revokeTree(entry.hash);
    return null;
  };

  /** A body form (`lookup` with {"token"}) and a URL form (`lookup/<token>`) of the same operation. */
  const pair = (name: string, param: 'token' | 'accessor', spec: Omit<PathSpec, 'pattern'>): PathSpec[] => [
    { ...spec, pattern: name },
    { ...spec, pattern: `${name}/:${param}`, synopsis: `${spec.synopsis} (${param} in the URL)` },
  ];

  return defineBackend({
    type: 'token',
    help: `The token store: every request to nomad-api carries a token, and this backend
creates, looks up, renews and revokes them. It is always mounted at auth/token/.
Tokens form a tree: revoking one revokes its children, their leases and cubbyholes.`,
    root: ['revoke-orphan', 'revoke-orphan/*'],
    paths: [
      {
        pattern: 'create',
        fields: CREATE_FIELDS,
        operations: { update: create(false) },
        synopsis: 'Create a child token of the calling token.',
        description: `Answers the new token in "auth.client_token" (no cookie is set). The child
inherits the caller's policies unless "policies" names a subset; "default" is added
unless no_default_policy. Setting "id" or "no_parent" needs root or sudo.`,
      },
      {
        pattern: 'create-orphan',
        fields: CREATE_FIELDS,
        operations: { update: create(true) },
        synopsis: 'Create a token with no parent.',
        description: 'Like create, but the new token survives the revocation of the caller.',
      },
      ...pair('lookup', 'token', {
        fields: tokenField,
        operations: { read: lookup, update: lookup },
        synopsis: 'Look up the properties of a token.',
        description: 'Answers the token\'s policies, metadata, TTL and use count; 404 if it does not exist.',
      }),
      {
        pattern: 'lookup-self',
        operations: { read: lookupSelf, update: lookupSelf },
        synopsis: 'Look up the properties of the token making the request.',
        description: `Returns the calling token's policies, metadata, lifetime and use count.
The token itself is identified by the request's X-Nomad-Token header (or cookie).`,
      },
      ...pair('lookup-accessor', 'accessor', {
        fields: accessorField,
        operations: { update: lookupAccessor },
        synopsis: 'Look up a token by its accessor.',
        description: 'Like lookup, without revealing the token itself.',
      }),
      ...pair('renew', 'token', {
        fields: { ...tokenField, ...incrementField },
        operations: { update: renew },
        synopsis: 'Renew a token.',
        description: 'Extends the TTL by "increment" (default: its original TTL), never past its maximum.',
      }),
      {
        pattern: 'renew-self',
        fields: incrementField,
        operations: { update: renewSelf },
        synopsis: 'Renew the calling token.',
        description: 'Extends the TTL by "increment" (default: its original TTL), never past its maximum.',
      },
      ...pair('revoke', 'token', {
        fields: tokenField,
        operations: { update: revoke },
        synopsis: 'Revoke a token and all its descendants.',
        description: 'Their leases and cubbyholes go too. Answers 204 whether or not the token existed.',
      }),
      {
        pattern: 'revoke-self',
        operations: { update: revokeSelf },
        synopsis: 'Revoke the calling token and all its descendants.',
        description: 'Their leases and cubbyholes go too.',
      },
      ...pair('revoke-orphan', 'token', {
        fields: tokenField,
        operations: { update: revokeOrphan },
        synopsis: 'Revoke a token, keeping its children as orphans.',
        description: 'Needs root or sudo on this path.',
      }),
      ...pair('revoke-accessor', 'accessor', {
        fields: accessorField,
        operations: { update: revokeAccessor },
        synopsis: 'Revoke a token by its accessor, with its descendants.',
        description: 'Answers 204 whether or not such a token existed.',
      }),
    ],
  });
}
