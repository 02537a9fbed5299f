import type { IncomingMessage } from 'node:http';
import type { RawBody } from '../core/request.js';
import { readBody, tooLarge } from './body.js';
import { refuseWhatFollows } from './client-error.js';

/**
 * The routes whose body is raw bytes, not JSON (a storage snapshot to restore). Their body is
 * neither read nor held to the listener's max_request_size by the edge: it is handed on
 * unread (core/request.ts RawBody), and the route reads it once the request is authorized,
 * with its own limit. So nobody without the right token can make the server buffer a large
 * body; a refusal that leaves it unread closes the connection (handler.ts).
 */

const RAW_BODY_PATHS = new Set(['sys/storage/snapshot-force']);
const OCTET_STREAM = 'application/octet-stream';

export interface EdgeRawBody extends RawBody {
  /** Whether the route began reading it. */
  readonly started: boolean;
}

/** The unread body, when this is a write to a raw-body route sent as application/octet-stream. */
export function rawBodyOf(req: IncomingMessage, path: string): EdgeRawBody | undefined {
  if (req.method !== 'POST' && req.method !== 'PUT') return undefined;
  if (!RAW_BODY_PATHS.has(path)) return undefined;
  const contentType = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (contentType !== OCTET_STREAM) return undefined;
  let started = false;
  return {
    contentType,
    get started() {
      return started;
    },
    read(limit) {
      if (started) return Promise.reject(new Error('a raw body is read once'));
      started = true;
      if (Number(req.headers['content-length'] ?? 0) > limit) {
        // Nothing of it will be read: what follows on the connection must not run.
        refuseWhatFollows(req.socket);
        return Promise.reject(tooLarge(limit));
      }
      return readBody(req, limit);
    },
  };
}
