import { ApiError } from '../../errors.js';
import type { CoreServices } from '../services.js';
import { capabilitiesOn } from '../access.js';
import { capabilityNames } from '../policy.js';
import type { CallerAuth } from '../request.js';
import { callerOf } from '../tokens.js';
import type { PathSpec } from '../../framework/backend.js';
import type { FieldData } from '../../framework/fields.js';
import { sysData } from './respond.js';

/** ACL policies (`sys/policy`, `sys/policies/acl`) and capability queries (api.md §9). */

const policyFields = {
  name: { type: 'string', description: 'The policy name (case-insensitive, stored lower-cased).' },
  policy: { type: 'string', description: 'The policy document, HCL or JSON.' },
  rules: { type: 'string', description: 'Old name of "policy" (what node-vault sends).' },
} as const;

export function policyPaths(core: CoreServices): PathSpec[] {
  const text = (fields: FieldData): string => {
    const value = fields.get<string | undefined>('policy') ?? fields.get<string | undefined>('rules');
    if (value === undefined) throw new ApiError('ERR_MISSING_FIELD', "missing required field 'policy' (or 'rules')");
    return value;
  };
  const read = (bodyKey: 'rules' | 'policy') => async (_req: unknown, fields: FieldData) => {
    const policy = await core.policies.get(fields.get<string>('name'));
    if (!policy) return null;
    return sysData({ name: policy.name, [bodyKey]: policy.text });
  };
  const write = async (_req: unknown, fields: FieldData) => {
    await core.policies.put(fields.get<string>('name'), text(fields));
    return null;
  };
  const remove = async (_req: unknown, fields: FieldData) => {
    await core.policies.delete(fields.get<string>('name'));
    return null;
  };
  const list = async () => {
    const names = await core.policies.list();
    return sysData({ policies: names, keys: names });
  };
  const description = `GET reads {"name", "rules"}; PUT or POST stores {"policy": "..."} (alias "rules"),
HCL or JSON, answering 400 with the line and column of any mistake; DELETE removes it.
"root" cannot be written or deleted; "default" can be edited but not deleted.`;
  return [
    { pattern: 'policy', operations: { read: list, list }, synopsis: 'List the ACL policies.', description: 'Answers {"policies": [...], "keys": [...]}, root included.' },
    { pattern: 'policy/:name', fields: policyFields, operations: { read: read('rules'), update: write, delete: remove }, synopsis: 'Read, write or delete an ACL policy.', description },
    { pattern: 'policies/acl', operations: { read: list, list }, synopsis: 'List the ACL policies.', description: 'Answers {"policies": [...], "keys": [...]}, root included.' },
    { pattern: 'policies/acl/:name', fields: policyFields, operations: { read: read('policy'), update: write, delete: remove }, synopsis: 'Read, write or delete an ACL policy.', description: description.replace('"rules"}', '"policy"}') },
  ];
}

const pathsField = {
  path: { type: 'string', description: 'The path to check (as after /v1/).' },
  paths: { type: 'strings', description: 'Several paths to check at once.' },
} as const;

export function capabilityPaths(core: CoreServices): PathSpec[] {
  const answer = async (caller: CallerAuth, fields: FieldData) => {
    const paths = fields.get<string[] | undefined>('paths') ?? (fields.has('path') ? [fields.get<string>('path')] : []);
    if (paths.length === 0) throw new ApiError('ERR_MISSING_FIELD', "missing required field 'path' (or 'paths')");
    const out: Record<string, unknown> = {};
    for (const path of paths) {
      const clean = path.replace(/^\/+/, '');
      out[clean] = caller.root ? ['root'] : capabilityNames(await capabilitiesOn(core.policies, caller, clean));
      if (!caller.root && (out[clean] as string[]).length === 0) out[clean] = ['deny'];
    }
    // With one path, Vault also answers it under "capabilities".
    if (paths.length === 1) out.capabilities = out[paths[0]!.replace(/^\/+/, '')];
    return sysData(out);
  };
  const other = async (token: string | undefined, accessor: string | undefined, fields: FieldData) => {
    const entry = token ? await core.tokens.lookup(token) : accessor ? await core.tokens.lookupAccessor(accessor) : null;
    if (!entry) throw new ApiError(token || accessor ? 'ERR_NOT_FOUND' : 'ERR_MISSING_FIELD', token || accessor ? 'no such token' : "missing required field 'token'");
    return answer(callerOf(entry), fields);
  };
  return [
    {
      pattern: 'capabilities',
      fields: { ...pathsField, token: { type: 'string', description: 'The token to check.' } },
      operations: { update: async (_req, fields) => other(fields.get('token'), undefined, fields) },
      synopsis: 'Report what a token may do on a path.',
      description: 'Answers {"capabilities": [...], "<path>": [...]}; "root" for root tokens, "deny" when nothing is allowed.',
    },
    {
      pattern: 'capabilities-self',
      fields: pathsField,
      operations: {
        update: async (req, fields) => {
          if (!req.caller) throw new ApiError('ERR_PERMISSION_DENIED', 'permission denied');
          return answer(req.caller, fields);
        },
      },
      synopsis: 'Report what the calling token may do on a path.',
      description: 'Answers {"capabilities": [...], "<path>": [...]}.',
    },
    {
      pattern: 'capabilities-accessor',
      fields: { ...pathsField, accessor: { type: 'string', description: 'The accessor of the token to check.' } },
      operations: { update: async (_req, fields) => other(undefined, fields.get('accessor'), fields) },
      synopsis: 'Report what the token with this accessor may do on a path.',
      description: 'Answers {"capabilities": [...], "<path>": [...]}.',
    },
  ];
}
