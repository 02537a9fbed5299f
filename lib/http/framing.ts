import type { IncomingMessage } from 'node:http';

/** What a request's headers say about its body, before any of it is read. */

export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

/** Whether Content-Length alone is over the limit: the caller answers 413 at once. */
export function declaredTooLarge(req: IncomingMessage, limit: number): boolean {
  return Number(req.headers['content-length'] ?? 0) > limit;
}
