import type { RawRequest } from './request.js';
import type { AuthInfo, Envelope, TokenInfo } from './shapes.js';

/**
 * `client.logins`: each login sets `client.token` to the new token (so the next calls use
 * it) and answers the auth block. Logins are sent without the client's current token: they
 * are unauthenticated routes, and a stale token must not get in the way.
 */
export interface LoginsApi {
  userpass(username: string, password: string, mount?: string): Promise<AuthInfo>;
  approle(roleId: string, secretId?: string, mount?: string): Promise<AuthInfo>;
  /** Logs in with the TLS client certificate the client was made with (`clientCert`/`clientKey`). */
  cert(name?: string, mount?: string): Promise<AuthInfo>;
  /** Checks `token` with lookup-self, then uses it; answers an auth block made from the lookup. */
  token(token: string): Promise<AuthInfo>;
}

const mountOf = (mount: string | undefined, fallback: string): string => (mount ?? fallback).replace(/^\/+|\/+$/g, '').replace(/^auth\//, '');

export function createLoginsApi(call: RawRequest, setToken: (token: string) => void): LoginsApi {
  const login = async (path: string, body: Record<string, unknown>): Promise<AuthInfo> => {
    const answer = (await call('POST', path, body, { token: null })) as Envelope | undefined;
    const auth = answer?.auth;
    if (!auth?.client_token) throw new Error(`the login at ${path} answered no token`);
    setToken(auth.client_token);
    return auth;
  };
  return {
    userpass(username, password, mount) {
      return login(`auth/${mountOf(mount, 'userpass')}/login/${encodeURIComponent(username)}`, { password });
    },
    approle(roleId, secretId, mount) {
      return login(`auth/${mountOf(mount, 'approle')}/login`, secretId === undefined ? { role_id: roleId } : { role_id: roleId, secret_id: secretId });
    },
    cert(name, mount) {
      return login(`auth/${mountOf(mount, 'cert')}/login`, name === undefined ? {} : { name });
    },
    async token(token) {
      const answer = (await call('GET', 'auth/token/lookup-self', undefined, { token })) as Envelope<TokenInfo>;
      const info = answer.data as TokenInfo;
      setToken(token);
      return {
        client_token: token,
        accessor: info.accessor,
        policies: info.policies,
        token_policies: info.policies,
        metadata: info.meta ?? null,
        lease_duration: info.ttl,
        renewable: info.renewable ?? false,
        orphan: info.orphan,
        token_type: info.type,
      };
    },
  };
}
