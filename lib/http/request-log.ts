import type { ServerResponse } from 'node:http';
import type { Request } from '../core/request.js';
import type { Logger } from '../log.js';
import type { ServerMetrics } from '../metrics/server-metrics.js';
import { secondsSince, UNTIMED } from '../metrics/clock.js';
import { loggedPath } from './redact.js';

/**
 * What happens once a request is answered: its count and latency under its route template
 * (the mount point and the backend's route pattern, never the raw path: bounded labels), and,
 * at debug, one log line. The metrics part is two Map lookups, an addition and a bucket
 * search; the log line is built only when debug is on.
 */

export type RequestFinished = (res: ServerResponse, request: Request | undefined, requestId: string, status: number, start: number) => void;

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
  return (res, request, requestId, status, start) => {
    const routed = request?.routed;
    const slot = routed === undefined ? metrics.routeSlot(undefined, undefined) : metrics.routeSlot(routed.mount.entry.path, routed.mount.backend.patternOf(routed.path));
    if (start === UNTIMED) {
      slot.count(status);
      return;
    }
    const seconds = secondsSince(start);
    slot.count(status);
    slot.time(seconds);
    if (!logger.enabled('debug')) return;
    const req = res.req as ServerResponse['req'] | undefined;
    logger.debug('request', {
      request_id: requestId,
      method: request?.operation === 'list' ? 'LIST' : (req?.method ?? ''),
      path: pathForLog(req?.url),
      status,
      duration_ms: seconds * 1000,
      remote_address: request?.remoteAddress ?? req?.socket?.remoteAddress ?? '',
      route: slot.route,
    });
  };
}
