import { ApiError } from '../errors.js';
import type { HaRunner } from './ha.js';
import type { Request, Response } from './request.js';

/**
 * A standby's answer to every request but the local ones (api.md §15): 307 to the active
 * server's api_addr with the same path and query, so the client repeats it there, method and
 * body included (307, unlike 302, forbids changing them). With no active server it is 503.
 */
export async function standbyAnswer(ha: HaRunner, req: Request): Promise<Response> {
  const leader = await ha.leaderAddress();
  if (!leader) throw new ApiError('ERR_NO_ACTIVE_NODE', 'this server is a standby and no active server is known: try again shortly');
  return {
    status: 307,
    headers: { Location: `${leader.replace(/\/+$/, '')}${targetOf(req)}` },
    text: { body: '', contentType: 'text/plain; charset=utf-8' },
  };
}

/** The request target as the client sent it; rebuilt for requests made in-process. */
function targetOf(req: Request): string {
  if (req.target !== undefined) return req.target;
  const query = new URLSearchParams(req.query).toString();
  return `/v1/${req.path}${query === '' ? '' : `?${query}`}`;
}
