import type { ServerConfig } from '../config.js';
import { aclVerdict, leaseTtl, requestCapabilities, sealGate, tokenUsable } from './decide.js';
import type { MountTable } from './mounts.js';
import { backendRequestOf } from './pipeline.js';
import type { PolicyStore } from './policies.js';
import type { Request, Response } from './request.js';
import { callerOf, type TokenStore } from './tokens.js';

/**
 * The one synchronous path, for the hot case only: a read by a cached token with unlimited
 * uses, its compiled ACL cached, of a path whose backend declares a `peekRead` that finds
 * its value in memory. It answers within the HTTP request's own turn, as a bare node:http
 * server would, or says "not here" (undefined) and the request takes the pipeline, which
 * decides everything again. It takes no decision of its own: the seal gate, token check and
 * ACL verdict are decide.ts's, as in the pipeline (spec/core/both-paths.spec.ts). Anything
 * but "allowed, found in memory" steps aside, so every error is the pipeline's to give.
 */

export interface FastPathDeps {
  config: ServerConfig;
  mounts: MountTable;
  tokens: TokenStore;
  policies: PolicyStore;
  isUnsealed(): boolean;
  /** With any audit device enabled every request takes the pipeline, which logs it. */
  audit: { readonly enabled: boolean };
}

/** The answer, null for "nothing stored here" (404), or undefined for "not here: ask the pipeline". */
export type FastPath = (req: Request) => Response | null | undefined;

export function createFastPath(deps: FastPathDeps): FastPath {
  const { config, mounts, tokens, policies, audit } = deps;
  return (req) => {
    if (audit.enabled) return undefined;
    if (req.operation !== 'read' || req.unsupportedMethod !== undefined) return undefined;
    if (sealGate(req, deps.isUnsealed()) !== 'open') return undefined;
    const route = mounts.route(req.path);
    if (route === undefined || route.mount.backend.isUnauthenticated(route.path)) return undefined;
    // Kept for the request metrics: two fields, so the routing result itself need not outlive this call.
    req.routedMount = route.mount;
    req.routedPath = route.path;
    const entry = tokens.cached(req.clientToken, req.tokenMemo);
    // A token with counted uses must be counted (and saved) by the pipeline.
    if (entry === undefined || entry.numUses !== 0 || !tokenUsable(entry, req.remoteAddress)) return undefined;
    const caller = callerOf(entry);
    const backend = route.mount.backend;
    if (!caller.root) {
      const acl = policies.cachedAcl(caller.policies);
      if (acl === undefined) return undefined;
      const caps = requestCapabilities(acl, req);
      if (aclVerdict(caps, req, backend.isRootPath(route.path)) !== 'allow') return undefined;
    }
    const storage = route.mount.storage;
    const breq = backendRequestOf(req, route.mount.entry.path, route.path, storage, { caller, entry, exhausted: false });
    const response = backend.peekRead(breq, storage.peek);
    if (response === undefined || response === null) return response;
    const secret = response.secret;
    // A lease to register means storage to write: the pipeline's job.
    if (secret === undefined || secret.leaseId) return response;
    if (secret.revocable === true || response.login) return undefined;
    // peekRead's answer is its own fresh object (PeekRead's contract): the clamped TTL is set
    // in place, where settle makes a copy, to spare an allocation on the hottest path.
    secret.ttl = leaseTtl(secret.ttl, route.mount.entry.config, config);
    return response;
  };
}
