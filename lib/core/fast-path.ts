import type { ServerConfig } from '../config.js';
import { aclVerdict, leaseTtl, requestCapabilities, sealGate, tokenUsable } from './decide.js';
import type { MountTable } from './mounts.js';
import { backendRequestOf } from './pipeline.js';
import type { PolicyStore } from './policies.js';
import type { Request, Response } from './request.js';
import { callerOf, type TokenEntry, type TokenStore } from './tokens.js';

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
  /**
   * With any audit device enabled every request takes the pipeline, which logs it; the
   * pipeline's audited form then asks `answerAudited` first (audit-trail.ts).
   */
  audit: { readonly enabled: boolean };
}

/** The answer, null for "nothing stored here" (404), or undefined for "not here: ask the pipeline". */
export type FastPath = (req: Request) => Response | null | undefined;

/** A fast-path answer and the token it was given to, for its audit lines. */
export interface AuditedAnswer {
  response: Response | null;
  entry: TokenEntry;
}

export interface FastPaths {
  /** For the edge: steps aside while an audit device is enabled. */
  answerNow: FastPath;
  /**
   * The same answer, with audit devices enabled: it changes nothing (PeekRead's contract, no
   * counted token use, no lease), so the pipeline may run it before it is logged and log
   * both its lines in one write (audit-trail.ts). Undefined: "not here", as above.
   */
  answerAudited(req: Request): AuditedAnswer | undefined;
}

export function createFastPath(deps: FastPathDeps): FastPaths {
  const { config, mounts, tokens, policies, audit } = deps;
  // The token the last answer was given to: read by answerAudited right after the call.
  let answeredFor: TokenEntry | undefined;
  const answer: FastPath = (req) => {
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
    answeredFor = entry;
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
  return {
    answerNow: (req) => (audit.enabled ? undefined : answer(req)),
    answerAudited(req) {
      const response = answer(req);
      return response === undefined ? undefined : { response, entry: answeredFor! };
    },
  };
}
