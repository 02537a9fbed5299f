import { ApiError } from '../errors.js';
import { randomUUID } from '../crypto/random.js';
import type { Backend } from '../framework/backend.js';
import type { Storage } from '../storage/storage.js';
import { authenticate, authorize, type Authenticated } from './access.js';
import type { Core } from './core.js';
import type { Mount, RouteResult } from './mounts.js';
import type { Answer, BackendRequest, Request, Response } from './request.js';

/**
 * The one request pipeline (api.md §2 order): sealed (503) → token (401) → ACL (401) →
 * route inside the mount → backend → leases. The seal gate lives here and only here.
 */

/** Routes that answer in every state; everything else is 503 unless unsealed. */
const ALWAYS_AVAILABLE = new Set(['sys/init', 'sys/seal-status', 'sys/unseal', 'sys/health', 'sys/leader']);

export interface PipelineDeps {
  sysBackend: Backend;
  sysStorage: Storage;
  isUnsealed(): boolean;
}

/**
 * The pipeline answers at once when nothing had to wait (a cached token, ACL and secret),
 * else with a promise; errors found before any wait are thrown.
 */
export function createPipeline(core: Core, deps: PipelineDeps): (req: Request) => Answer {
  const backendRequest = (req: Request, mountPoint: string, path: string, storage: Storage, auth: Authenticated | null): BackendRequest => ({
    id: req.id,
    operation: req.operation,
    path,
    data: req.data,
    query: req.query,
    mountPoint,
    storage,
    caller: auth?.caller ?? null,
    remoteAddress: req.remoteAddress,
    tls: req.tls,
    // Vault's rule: only the token store ever sees the raw client token.
    clientToken: mountPoint === 'auth/token/' ? req.clientToken : '',
  });

  // Not async: a help answer needs no promise, and the backend's answer is passed through.
  const run = (backend: Backend, req: Request, breq: BackendRequest): Answer => {
    if (req.operation === 'help') return { data: { help: backend.help(breq.path), see_also: null }, raw: true };
    if (req.unsupportedMethod) {
      const allow = backend.allowedMethods(breq.path);
      if (allow.length === 0) throw new ApiError('ERR_NOT_FOUND', 'unsupported path');
      throw new ApiError('ERR_UNSUPPORTED_OPERATION', `unsupported method ${req.unsupportedMethod}`, { headers: { Allow: allow.join(', ') } });
    }
    return backend.handle(breq);
  };

  /** Clamps lease durations; true when the secret is revocable and needs a lease. */
  const finish = (mount: Mount, response: Response | null): boolean => {
    // A renewal answers an existing lease: its TTL is already final.
    if (!response?.secret || response.secret.leaseId) return false;
    const config = core.config;
    const defaultTtl = mount.entry.config.defaultLeaseTtl || config.defaultLeaseTtl;
    const maxTtl = mount.entry.config.maxLeaseTtl || config.maxLeaseTtl;
    const ttl = Math.min(response.secret.ttl > 0 ? response.secret.ttl : defaultTtl, maxTtl);
    response.secret = { ...response.secret, ttl };
    return response.secret.revocable === true;
  };

  /** Registers the lease of a revocable secret and puts its id in the answer. */
  const lease = async (mount: Mount, breq: BackendRequest, response: Response): Promise<void> => {
    const secret = response.secret!;
    if (breq.caller) {
      const now = Date.now();
      const id = `${mount.entry.path}${breq.path}/${randomUUID()}`;
      await core.expiration.register({
        id,
        kind: 'secret',
        mountPoint: mount.entry.path,
        tokenHash: breq.caller.tokenHash,
        issueTime: now,
        expireTime: now + secret.ttl * 1000,
        lastRenewalTime: 0,
        renewable: secret.renewable,
        data: secret.internal,
      });
      response.secret = { ...secret, leaseId: id, internal: undefined };
    }
  };

  /** Registers a lease when the answer needs one; waits only then. */
  const settle = (mount: Mount, breq: BackendRequest, response: Response | null): Answer =>
    finish(mount, response) ? lease(mount, breq, response!).then(() => response) : response;

  /** Authorization onwards. Each step waits only when it has to: a cached read takes no promise at all. */
  const dispatch = (req: Request, route: RouteResult | undefined, auth: Authenticated | null): Answer => {
    const breq = route ? backendRequest(req, route.mount.entry.path, route.path, route.mount.storage, auth) : undefined;
    if (auth && !auth.caller.root) {
      const authorizing = authorize(core.policies, auth.caller, req, route?.mount.backend, breq);
      if (authorizing instanceof Promise) return authorizing.then(() => proceed(req, route, breq));
    }
    return proceed(req, route, breq);
  };

  const proceed = (req: Request, route: RouteResult | undefined, breq: BackendRequest | undefined): Answer => {
    if (!route || !breq) throw new ApiError('ERR_NOT_FOUND', 'no handler for this path');
    const answered = run(route.mount.backend, req, breq);
    return answered instanceof Promise ? answered.then((response) => settle(route.mount, breq, response)) : settle(route.mount, breq, answered);
  };

  const handle = (req: Request): Answer => {
    if (ALWAYS_AVAILABLE.has(req.path)) {
      return run(deps.sysBackend, req, backendRequest(req, 'sys/', req.path.slice('sys/'.length), deps.sysStorage, null));
    }
    if (!deps.isUnsealed()) {
      // Sealing a sealed server is a no-op that needs no token.
      if (req.path === 'sys/seal' && req.operation === 'update') return null;
      throw new ApiError('ERR_SEALED', 'nomad is sealed');
    }
    const route = core.mounts.route(req.path);
    // Token and ACL before routing: a caller without access learns nothing about what exists.
    if (route !== undefined && route.mount.backend.isUnauthenticated(route.path)) return dispatch(req, route, null);
    const authenticating = authenticate(core.tokens, req.clientToken);
    if (authenticating instanceof Promise) return authenticating.then((auth) => afterUse(req, route, auth));
    return afterUse(req, route, authenticating);
  };

  /** The last allowed use of a token is spent: the token goes, with its children and leases, whatever the outcome. */
  const afterUse = (req: Request, route: RouteResult | undefined, auth: Authenticated): Answer => {
    if (!auth.exhausted) return dispatch(req, route, auth);
    const revoke = (): Promise<void> => core.tokenManager.revokeTree(auth.entry.hash);
    return new Promise<Response | null>((resolve) => resolve(dispatch(req, route, auth))).finally(revoke);
  };

  return handle;
}
