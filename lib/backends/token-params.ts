import { ApiError } from '../errors.js';
import { parseCidrList } from '../core/cidr.js';
import type { LoginAuth } from '../core/request.js';
import type { FieldData, FieldSchemas } from '../framework/fields.js';
import type { LoginRenewal } from '../framework/types.js';

/**
 * The token settings every login backend stores with its users and roles (Vault's
 * "tokenutil" fields): `token_policies`, `token_ttl`, … with their older names
 * (`policies`, `ttl`, `max_ttl`, `period`, `bound_cidrs`) as aliases. One place, so
 * userpass and approle read, store, show and log in with them the same way.
 */

export interface TokenParams {
  policies: string[];
  /** Seconds; 0 means the mount's default. */
  ttl: number;
  /** Seconds; 0 means the mount's maximum. */
  maxTtl: number;
  /** Seconds; 0 means not periodic. */
  period: number;
  boundCidrs: string[];
  /** 0 means unlimited. */
  numUses: number;
  noDefaultPolicy: boolean;
}

export const EMPTY_TOKEN_PARAMS: TokenParams = Object.freeze({
  policies: [],
  ttl: 0,
  maxTtl: 0,
  period: 0,
  boundCidrs: [],
  numUses: 0,
  noDefaultPolicy: false,
}) as TokenParams;

export const tokenFieldSchemas: FieldSchemas = {
  token_policies: { type: 'strings', description: 'Policies of the tokens issued (a list or a comma-separated string).' },
  policies: { type: 'strings', description: 'Alias of token_policies.' },
  token_ttl: { type: 'duration', description: "The issued tokens' TTL; 0 means the mount's default." },
  ttl: { type: 'duration', description: 'Alias of token_ttl.' },
  token_max_ttl: { type: 'duration', description: "The issued tokens' maximum lifetime across renewals; 0 means the mount's maximum." },
  max_ttl: { type: 'duration', description: 'Alias of token_max_ttl.' },
  token_period: { type: 'duration', description: 'Makes the tokens periodic: each renewal resets their TTL to this.' },
  period: { type: 'duration', description: 'Alias of token_period.' },
  token_bound_cidrs: { type: 'strings', description: 'CIDR blocks the issued tokens may be used from.' },
  bound_cidrs: { type: 'strings', description: 'Alias of token_bound_cidrs.' },
  token_num_uses: { type: 'int', description: 'Uses of each token before it is revoked; 0 means unlimited.' },
  token_no_default_policy: { type: 'bool', description: 'Do not attach the default policy.' },
};

/** The new name wins over its alias; neither given keeps the stored value. */
function pick<V>(fields: FieldData, name: string, alias: string | undefined, stored: V): V {
  if (fields.has(name)) return fields.get<V>(name);
  if (alias !== undefined && fields.has(alias)) return fields.get<V>(alias);
  return stored;
}

/** The settings after a create or update: what the request gives over what was stored. Throws a 400 on a bad field. */
export function tokenParamsFrom(fields: FieldData, stored: TokenParams = EMPTY_TOKEN_PARAMS): TokenParams {
  const numUses = pick(fields, 'token_num_uses', undefined, stored.numUses);
  if (numUses < 0) throw new ApiError('ERR_INVALID_FIELD', "field 'token_num_uses' must not be negative");
  const boundCidrs = pick(fields, 'token_bound_cidrs', 'bound_cidrs', stored.boundCidrs);
  return {
    policies: [...new Set(pick(fields, 'token_policies', 'policies', stored.policies).map((p) => p.toLowerCase()))].sort(),
    ttl: pick(fields, 'token_ttl', 'ttl', stored.ttl),
    maxTtl: pick(fields, 'token_max_ttl', 'max_ttl', stored.maxTtl),
    period: pick(fields, 'token_period', 'period', stored.period),
    // Validated and normalised now, so a bad block is a 400 at write time, not a 500 at login.
    boundCidrs: [...parseCidrList(boundCidrs, 'token_bound_cidrs').cidrs],
    numUses,
    noDefaultPolicy: pick(fields, 'token_no_default_policy', undefined, stored.noDefaultPolicy),
  };
}

/** A stored record's settings, tolerating fields added after it was written. */
export function storedTokenParams(value: Partial<TokenParams> | undefined): TokenParams {
  return { ...EMPTY_TOKEN_PARAMS, ...value };
}

/** The settings as a read shows them, with Vault's names (both the new and the legacy ones). */
export function showTokenParams(params: TokenParams): Record<string, unknown> {
  return {
    token_policies: params.policies,
    policies: params.policies,
    token_ttl: params.ttl,
    ttl: params.ttl,
    token_max_ttl: params.maxTtl,
    max_ttl: params.maxTtl,
    token_period: params.period,
    period: params.period,
    token_bound_cidrs: params.boundCidrs,
    bound_cidrs: params.boundCidrs,
    token_num_uses: params.numUses,
    token_no_default_policy: params.noDefaultPolicy,
    token_type: 'service',
  };
}

/** The login answer for these settings; the pipeline makes the token (core/login.ts). */
export function loginOf(params: TokenParams, who: { displayName: string; metadata: Record<string, string> }): LoginAuth {
  return {
    policies: params.policies,
    ttl: params.ttl,
    maxTtl: params.maxTtl,
    period: params.period,
    boundCidrs: params.boundCidrs,
    numUses: params.numUses,
    noDefaultPolicy: params.noDefaultPolicy,
    displayName: who.displayName,
    metadata: who.metadata,
  };
}

/**
 * A login backend's renewal rule (BackendSpec.renewLogin): the user or role must still
 * exist and grant the same policies the token was issued with, as in Vault; otherwise the
 * token lives out its TTL but is not renewed.
 */
export function checkLoginRenewal(current: TokenParams | null, login: LoginRenewal, what: 'user' | 'role' | 'certificate'): void {
  if (current === null) throw new ApiError('ERR_NOT_RENEWABLE', `the ${what} this token logged in as no longer exists`);
  const now = new Set(current.policies);
  const issued = login.policies.filter((p) => p !== 'default' || now.has('default'));
  if (issued.length !== now.size || !issued.every((p) => now.has(p))) throw new ApiError('ERR_NOT_RENEWABLE', `the ${what}'s policies changed since the login: log in again`);
}
