import type { ServerResponse } from 'node:http';
import type { Request, RoutedMount } from '../core/request.js';
import type { Logger } from '../log.js';
import type { RouteSlot, ServerMetrics } from '../metrics/server-metrics.js';
import { secondsSince, UNTIMED } from '../metrics/clock.js';
import { loggedPath } from './redact.js';

/**
 * What happens once a request is answered: its count and latency under its route template
 * (the mount point and the backend's route pattern, never the raw path: bounded labels), and,
 * at debug, one log line. The metrics part is two Map lookups, an addition and a bucket
 * search; the log line is built only when debug is on.
 */

/** `request` is undefined for one refused before it could be parsed: counted, not timed. */
export type RequestFinished = (res: ServerResponse, request: Request | undefined, requestId: string, status: number) => void;

/** The path part of the request target, percent-decoded, redacted (redact.ts). The query is dropped: it may hold anything. */
function pathForLog(target: string | undefined): string {
  const url = target ?? '/';
  const q = url.indexOf('?');
  const raw = q === -1 ? url : url.slice(0, q);
  let decoded: string | null = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    decoded = null;
  }
  return loggedPath(decoded);
}

export function requestFinished(metrics: ServerMetrics, logger: Logger): RequestFinished {
  // The last route's slot: a run of requests for one path (a hot secret) skips the lookups.
  // Both keys are compared by identity in practice: the mount object, and the path string
  // the mount table's memo hands out for that path.
  let lastMount: RoutedMount | undefined;
  let lastPath = '';
  let lastSlot: RouteSlot | undefined;
  const slotOf = (request: Request | undefined): RouteSlot => {
    const mount = request?.routedMount;
    if (mount === undefined) return metrics.routeSlot(undefined, undefined);
    const path = request!.routedPath ?? '';
    if (mount === lastMount && path === lastPath) return lastSlot!;
    lastSlot = metrics.routeSlot(mount.entry.path, mount.backend.patternOf(path));
    lastMount = mount;
    lastPath = path;
    return lastSlot;
  };
  return (res, request, requestId, status) => {
    const slot = slotOf(request);
    slot.count(status);
    const start = request?.receivedAt ?? UNTIMED;
    if (start === UNTIMED) return;
    const seconds = secondsSince(start);
    slot.time(seconds, request!.timeWeight ?? 1);
    if (!logger.enabled('debug')) return;
    const req = res.req as ServerResponse['req'] | undefined;
    logger.debug('request', {
      request_id: requestId,
      method: request?.operation === 'list' ? 'LIST' : (req?.method ?? ''),
      path: pathForLog(req?.url),
      status,
      // Microseconds are the clock's resolution (metrics/clock.ts): no float noise past them.
      duration_ms: Math.round(seconds * 1e6) / 1000,
      remote_address: request?.remoteAddress ?? req?.socket?.remoteAddress ?? '',
      route: slot.route,
    });
  };
}
