import { ApiError } from './errors.js';
import type { RawRequest } from './request.js';
import type { Envelope } from './shapes.js';

/**
 * `client.kv`: key/value v1 calls on any path (`secret/a`, or a mount of your own). Paths are
 * relative to /v1/, as in `client.request`.
 */
export interface KvApi {
  /** The secret's data; undefined when nothing is stored there (404). */
  read<T = Record<string, unknown>>(path: string): Promise<T | undefined>;
  /** The whole envelope (lease fields, warnings), for callers that need more than the data. */
  readEnvelope<T = Record<string, unknown>>(path: string): Promise<Envelope<T> | undefined>;
  write(path: string, data: Record<string, unknown>): Promise<void>;
  delete(path: string): Promise<void>;
  /** The keys one level under `path` (folders end in '/'); [] when there are none (404). */
  list(path: string): Promise<string[]>;
}

const clean = (path: string): string => path.replace(/^\/+/, '');

function isNotFound(err: unknown): boolean {
  return err instanceof ApiError && err.kind === 'response' && err.status === 404;
}

export function createKvApi(call: RawRequest): KvApi {
  const readEnvelope = async <T>(path: string): Promise<Envelope<T> | undefined> => {
    try {
      return (await call('GET', clean(path))) as Envelope<T> | undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  return {
    readEnvelope,
    async read<T>(path: string) {
      const envelope = await readEnvelope<T>(path);
      return envelope?.data ?? undefined;
    },
    async write(path, data) {
      await call('POST', clean(path), data);
    },
    async delete(path) {
      await call('DELETE', clean(path));
    },
    async list(path) {
      try {
        const body = (await call('LIST', clean(path))) as Envelope<{ keys?: string[] }> | undefined;
        return body?.data?.keys ?? [];
      } catch (err) {
        if (isNotFound(err)) return [];
        throw err;
      }
    },
  };
}
