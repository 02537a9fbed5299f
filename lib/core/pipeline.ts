import type { AuditBroker } from '../audit/broker.js';
import { ApiError } from '../errors.js';
import type { ServerConfig } from '../config.js';
import { randomUUID } from '../crypto/random.js';
import type { Backend } from '../framework/backend.js';
import type { Storage } from '../storage/storage.js';
import { authenticate, authorize, type Authenticated } from './access.js';
import { leaseTtl, listPathOf, sealGate } from './decide.js';
import type { Expiration } from './expiration.js';
import { issueLoginToken } from './login.js';
import type { Mount, MountTable, RouteResult } from './mounts.js';
import type { PolicyStore } from './policies.js';
import type { BackendRequest, CallerAuth, LeaseInfo, LoginAuth, Request, Response } from './request.js';
import type { TokenManager } from './token-manager.js';
import type { TokenStore } from './tokens.js';
import { createAuditedRequest, type AuditedRequest, type QuickAnswer } from './audit-trail.js';

/**
 * The one request pipeline (api.md §2 order): sealed (503) → token (401) → ACL (401) →
 * route inside the mount → backend → login tokens and leases. Every step is async and every
 * failure a rejection. The hot cached read may be answered before it by fast-path.ts, which
 * decides with the same functions (decide.ts).
 */

export interface PipelineDeps {
  config: ServerConfig;
  mounts: MountTable;
  tokens: TokenStore;
  policies: PolicyStore;
  tokenManager: TokenManager;
  expiration: Expiration;
  /** Serves the routes that answer in every seal state (sys/init, sys/unseal, …). */
  sysBackend: Backend;
  sysStorage: Storage;
  isUnsealed(): boolean;
  /** Audit devices: with any enabled, each request is logged before it runs, and refused if it cannot be. */
  audit: AuditBroker;
  /** The fast path's answer with the token it went to, for audited reads (audit-trail.ts). */
  answerAudited: QuickAnswer;
  /** On an HA storage: a standby's answer (307 to the active server, standby.ts), undefined when serving here. */
  standby?: (req: Request) => Promise<Response> | undefined;
}

export type Pipeline = (req: Request) => Promise<Response | null>;

/** What a backend sees of a request: its own path, its own storage, no raw token unless it is the token store. */
export function backendRequestOf(req: Request, mountPoint: string, path: string, storage: Storage, auth: Authenticated | null): BackendRequest {
  return {
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
    rawBody: req.rawBody,
  };
}

export function createPipeline(deps: PipelineDeps): Pipeline {
  const { config, mounts, tokens, policies, tokenManager, expiration } = deps;

  /** The backend's answer; help and unsupported methods are answered from the route table. */
  const run = (backend: Backend, req: Request, breq: BackendRequest): Promise<Response | null> => {
    if (req.operation === 'help') return Promise.resolve({ data: { help: backend.help(breq.path), see_also: null }, raw: true });
    if (req.unsupportedMethod) {
      const allow = backend.allowedMethods(breq.path);
      if (allow.length === 0) return Promise.reject(new ApiError('ERR_NOT_FOUND', 'unsupported path'));
      return Promise.reject(new ApiError('ERR_UNSUPPORTED_OPERATION', `unsupported method ${req.unsupportedMethod}`, { headers: { Allow: allow.join(', ') } }));
    }
    return backend.handle(breq);
  };

  /** A login answer: the token it stands for, made here and not by the backend (login.ts). */
  const withLoginToken = async (mount: Mount, breq: BackendRequest, response: Response & { login: LoginAuth }): Promise<Response> => {
    const { login, ...rest } = response;
    const limits = mounts.ttlsOf(mount.entry);
    const auth = await issueLoginToken(tokenManager, mount.entry, breq.path, login, { defaultTtl: limits.defaultLeaseTtl, maxTtl: limits.maxLeaseTtl });
    return { ...rest, auth, setCookie: true };
  };

  /** A revocable secret: its lease, registered before the answer goes out. */
  const withLease = async (mount: Mount, caller: CallerAuth, breq: BackendRequest, response: Response, secret: LeaseInfo): Promise<Response> => {
    const now = Date.now();
    const id = `${mount.entry.path}${breq.path}/${randomUUID()}`;
    await expiration.register({
      id,
      kind: 'secret',
      mountPoint: mount.entry.path,
      tokenHash: caller.tokenHash,
      issueTime: now,
      expireTime: now + secret.ttl * 1000,
      lastRenewalTime: 0,
      renewable: secret.renewable,
      data: secret.internal,
    });
    return { ...response, secret: { ...secret, leaseId: id, internal: undefined } };
  };

  // Written so the common request awaits only what really waits (the token lookup, the
  // backend): each async step costs promises and microtask turns on every request.
  const dispatch = async (req: Request, route: RouteResult | undefined, auth: Authenticated | null, audited?: AuditedRequest): Promise<Response | null> => {
    const breq = route ? backendRequestOf(req, route.mount.entry.path, route.path, route.mount.storage, auth) : undefined;
    if (auth && !auth.caller.root) await authorize(policies, auth.caller, req, route?.mount.backend, breq);
    if (!route || !breq) throw new ApiError('ERR_NOT_FOUND', 'no handler for this path');
    const mount = route.mount;
    // Allowed and routed: it is on record before it runs, or it does not run (fail closed).
    if (audited) await audited.logRequest(mount.entry.path);
    const response = await run(mount.backend, req, breq);
    if (response === null) return null;
    if (response.login) return withLoginToken(mount, breq, response as Response & { login: LoginAuth });
    const secret = response.secret;
    // A renewal answers an existing lease: its TTL is already final.
    if (!secret || secret.leaseId) return response;
    const clamped = { ...secret, ttl: leaseTtl(secret.ttl, mount.entry.config, config) };
    if (clamped.revocable === true && breq.caller) return withLease(mount, breq.caller, breq, response, clamped);
    return { ...response, secret: clamped };
  };

  // The always-answering sys routes are served without the mount table (it is empty while sealed).
  const sysMount = { entry: { path: 'sys/' }, backend: deps.sysBackend };
  /**
   * A request with audit devices enabled (audit-trail.ts): logged once it is authenticated,
   * authorized and routed, and before it runs; its outcome logged after. A request refused
   * before it could run (bad token, ACL, no route) is logged with its error.
   */
  const auditedRequest = createAuditedRequest(deps.audit, tokens, dispatch, (hash) => tokenManager.revokeTree(hash), deps.answerAudited);

  return async (request) => {
    const req = listPathOf(request);
    const gate = sealGate(req, deps.isUnsealed());
    switch (gate) {
      case 'always':
        request.routedMount = sysMount;
        request.routedPath = req.path.slice('sys/'.length);
        return await run(deps.sysBackend, req, backendRequestOf(req, 'sys/', req.path.slice('sys/'.length), deps.sysStorage, null));
      case 'noop':
      case 'sealed': {
        // Unsealed but standby: the client is sent to the active server (sys/seal included).
        const redirect = deps.standby?.(request);
        if (redirect !== undefined) return await redirect;
        if (gate === 'noop') return null;
        throw new ApiError('ERR_SEALED', 'nomad is sealed');
      }
      case 'open':
        break;
    }
    const route = mounts.route(req.path);
    // For the request metrics' route label, on the request the edge holds (req may be a copy).
    request.routedMount = route?.mount;
    request.routedPath = route?.path;
    if (deps.audit.enabled) return await auditedRequest(req, route);
    // Token and ACL before routing: a caller without access learns nothing about what exists.
    // `return await`, not `return`: handing back a promise from an async function costs two more turns.
    if (route !== undefined && route.mount.backend.isUnauthenticated(route.path)) return await dispatch(req, route, null);
    const auth = await authenticate(tokens, req.clientToken, req.remoteAddress, req.tokenMemo);
    if (!auth.exhausted) return await dispatch(req, route, auth);
    // The last allowed use is spent: the token goes, with its children and leases, whatever the outcome.
    try {
      return await dispatch(req, route, auth);
    } finally {
      await tokenManager.revokeTree(auth.entry.hash);
    }
  };
}
