import type { RawRequest } from './request.js';
import type { AuthInfo, Envelope, TokenCreateInput, TokenInfo } from './shapes.js';

/**
 * `client.tokens`: the token store at auth/token/ (api.md §8). Creating and renewing answer
 * the auth block; lookups answer the token's data. The token itself travels in the body,
 * never in the URL (URLs end up in logs).
 */
export interface TokensApi {
  create(input?: TokenCreateInput): Promise<AuthInfo>;
  createOrphan(input?: TokenCreateInput): Promise<AuthInfo>;
  lookup(token: string): Promise<TokenInfo>;
  lookupSelf(): Promise<TokenInfo>;
  lookupAccessor(accessor: string): Promise<TokenInfo>;
  renew(token: string, increment?: number | string): Promise<AuthInfo>;
  renewSelf(increment?: number | string): Promise<AuthInfo>;
  revoke(token: string): Promise<void>;
  revokeSelf(): Promise<void>;
  revokeAccessor(accessor: string): Promise<void>;
}

function authOf(body: unknown): AuthInfo {
  return (body as Envelope).auth as AuthInfo;
}

function dataOf(body: unknown): TokenInfo {
  return (body as Envelope<TokenInfo>).data as TokenInfo;
}

const withIncrement = (body: Record<string, unknown>, increment: number | string | undefined): Record<string, unknown> =>
  increment === undefined ? body : { ...body, increment };

export function createTokensApi(call: RawRequest): TokensApi {
  return {
    async create(input = {}) {
      return authOf(await call('POST', 'auth/token/create', input));
    },
    async createOrphan(input = {}) {
      return authOf(await call('POST', 'auth/token/create-orphan', input));
    },
    async lookup(token) {
      return dataOf(await call('POST', 'auth/token/lookup', { token }));
    },
    async lookupSelf() {
      return dataOf(await call('GET', 'auth/token/lookup-self'));
    },
    async lookupAccessor(accessor) {
      return dataOf(await call('POST', 'auth/token/lookup-accessor', { accessor }));
    },
    async renew(token, increment) {
      return authOf(await call('POST', 'auth/token/renew', withIncrement({ token }, increment)));
    },
    async renewSelf(increment) {
      return authOf(await call('POST', 'auth/token/renew-self', withIncrement({}, increment)));
    },
    async revoke(token) {
      await call('POST', 'auth/token/revoke', { token });
    },
    async revokeSelf() {
      await call('POST', 'auth/token/revoke-self');
    },
    async revokeAccessor(accessor) {
      await call('POST', 'auth/token/revoke-accessor', { accessor });
    },
  };
}
