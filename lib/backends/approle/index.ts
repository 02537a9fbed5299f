import { defineBackend, type Backend, type BackendContext } from '../../framework/backend.js';
import { createSerialQueue } from '../../serial.js';
import { loginPath } from './login.js';
import { loadRole, rolePaths } from './roles.js';
import { checkLoginRenewal } from '../token-params.js';
import { secretIdPaths } from './secret-ids.js';
import { createApproleStore, type Approle } from './store.js';

/**
 * The approle auth method: machines log in with a role_id (which role) and a secret_id (a
 * credential issued for that role, with its own uses, TTL and CIDRs). Layout and hashing:
 * store.ts; roles: roles.ts; secret ids: secret-ids.ts; the login: login.ts.
 */
export function createApproleBackend(ctx: BackendContext): Backend {
  const approle: Approle = {
    store: createApproleStore(ctx.storage),
    serial: createSerialQueue(),
    now: () => ctx.system.now(),
  };
  return defineBackend({
    type: 'approle',
    help: `The approle auth method logs machines and applications in with a role_id and a
secret_id. A role holds the token settings and the limits of its secret ids (uses, TTL,
CIDR blocks); secret ids are generated per role and stored only as keyed hashes.`,
    unauthenticated: ['login'],
    renewLogin: async (login) => {
      const role = await loadRole(approle.store, login.metadata.role_name ?? '');
      checkLoginRenewal(role?.token ?? null, login, 'role');
    },
    paths: [...rolePaths(approle), ...secretIdPaths(approle), loginPath(approle)],
  });
}
