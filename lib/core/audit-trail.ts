import { AuditFailure, type AuditBroker } from '../audit/broker.js';
import type { AuditInput } from '../audit/entry.js';
import { authenticate, type Authenticated } from './access.js';
import type { RouteResult } from './mounts.js';
import type { Request, Response } from './request.js';
import { callerOf, type TokenEntry, type TokenStore } from './tokens.js';

/**
 * The pipeline's audited form, taken only while an audit device is enabled: the request is
 * logged after authentication, authorization and routing and before the backend runs
 * (dispatch calls `logRequest`), and its outcome after. The one exception is the fast path's
 * hot read, which changes nothing: it runs first and both its lines go in one write, before
 * its answer is sent (unrecorded, it is never answered). When the request log fails, the
 * request does not run: the broker's AuditFailure (500) is the answer. A request refused
 * before it runs (unknown token, ACL, no route) is logged once, with its error, as Vault does.
 */

export interface AuditedRequest {
  /** Logs the request line; rejects (AuditFailure) when no device could. */
  logRequest(mountPoint: string): Promise<void>;
}

type Dispatch = (req: Request, route: RouteResult | undefined, auth: Authenticated | null, audited: AuditedRequest) => Promise<Response | null>;

/**
 * The fast path's answer to a hot read, with the token it went to (fast-path.ts
 * `answerAudited`), or undefined when the read is not one it answers.
 */
export type QuickAnswer = (req: Request) => { response: Response | null; entry: TokenEntry } | undefined;

/**
 * A hot read answered and logged (both lines in one write), the answer given once the
 * write is done; undefined when the read is not one the fast path answers. The edge calls it
 * directly while a device is enabled (core.answerLogged), so the hot read skips the pipeline.
 */
export function createLoggedAnswer(broker: AuditBroker, quickAnswer: QuickAnswer): (req: Request) => Promise<Response | null> | undefined {
  return (req) => {
    const quick = quickAnswer(req);
    if (quick === undefined) return undefined;
    const base: AuditInput = { request: req, caller: callerOf(quick.entry), tokenExpireTime: quick.entry.expireTime, mountPoint: req.routedMount?.entry.path };
    const response = quick.response;
    return broker.logPair(base, { ...base, response }).then(() => response);
  };
}

export function createAuditedRequest(
  broker: AuditBroker,
  tokens: TokenStore,
  dispatch: Dispatch,
  revokeTree: (tokenHash: string) => Promise<void>,
  quickAnswer: QuickAnswer,
): (req: Request, route: RouteResult | undefined) => Promise<Response | null> {
  const loggedAnswer = createLoggedAnswer(broker, quickAnswer);
  return async (req, route) => {
    const mountPoint = route?.mount.entry.path;
    // A hot read changes nothing (no counted use, no lease, PeekRead's contract), so it may run
    // before it is logged: both its lines then go in one write, and its answer waits for it.
    const quick = loggedAnswer(req);
    if (quick !== undefined) return await quick;
    let auth: Authenticated | null = null;
    if (route === undefined || !route.mount.backend.isUnauthenticated(route.path)) {
      try {
        auth = await authenticate(tokens, req.clientToken, req.remoteAddress, req.tokenMemo);
      } catch (err) {
        await broker.logRequest({ request: req, caller: null, mountPoint, error: err });
        throw err;
      }
    }
    const base: AuditInput = { request: req, caller: auth?.caller ?? null, tokenExpireTime: auth?.entry.expireTime, mountPoint };
    let logged = false;
    const audited: AuditedRequest = {
      async logRequest(point) {
        await broker.logRequest({ ...base, mountPoint: point });
        logged = true;
      },
    };
    try {
      const response = await dispatch(req, route, auth, audited);
      await broker.logResponse({ ...base, response });
      return response;
    } catch (err) {
      if (err instanceof AuditFailure) throw err;
      if (logged) await broker.logResponse({ ...base, error: err });
      else await broker.logRequest({ ...base, error: err });
      throw err;
    } finally {
      // The last allowed use is spent: the token goes, whatever the outcome.
      if (auth?.exhausted) await revokeTree(auth.entry.hash);
    }
  };
}
