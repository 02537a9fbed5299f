import { ApiError } from '../errors.js';
import { defineBackend, type Backend, type BackendContext } from '../framework/backend.js';
import type { BackendRequest, Response } from '../core/request.js';
import { createView } from '../storage/view.js';

/**
 * Per-token private storage (api.md §10): each token sees only its own subtree, keyed by
 * the token's hash, and the subtree is destroyed when the token is revoked.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function ownStorage(req: BackendRequest) {
  if (!req.caller) throw new ApiError('ERR_PERMISSION_DENIED', 'permission denied');
  return createView(req.storage, `${req.caller.tokenHash}/`);
}

function keyOf(path: string): string {
  if (path === '' || path.endsWith('/')) throw new ApiError('ERR_INVALID_PATH', 'a secret path is required and must not end in "/"');
  return path;
}

async function read(req: BackendRequest): Promise<Response | null> {
  const raw = await ownStorage(req).get(keyOf(req.path));
  return raw === null ? null : { data: JSON.parse(decoder.decode(raw)) as Record<string, unknown> };
}

async function write(req: BackendRequest): Promise<Response | null> {
  if (Object.keys(req.data).length === 0) throw new ApiError('ERR_MISSING_FIELD', 'missing data fields');
  await ownStorage(req).put(keyOf(req.path), encoder.encode(JSON.stringify(req.data)));
  return null;
}

async function remove(req: BackendRequest): Promise<Response | null> {
  await ownStorage(req).delete(keyOf(req.path));
  return null;
}

async function list(req: BackendRequest): Promise<Response | null> {
  const prefix = req.path === '' || req.path.endsWith('/') ? req.path : `${req.path}/`;
  const keys = await ownStorage(req).list(prefix);
  return keys.length === 0 ? null : { data: { keys } };
}

export function createCubbyholeBackend(_ctx: BackendContext): Backend {
  return defineBackend({
    type: 'cubbyhole',
    help: `The cubbyhole is each token's private storage: no other token, not even root, can
read it, and it is destroyed when its token is revoked or expires.`,
    paths: [
      {
        pattern: '*path',
        fields: { path: { type: 'string', description: 'Location of the secret inside this token\'s cubbyhole.' } },
        operations: { read, create: write, update: write, delete: remove, list },
        existenceCheck: async (req) => req.path !== '' && !req.path.endsWith('/') && (await ownStorage(req).get(req.path)) !== null,
        synopsis: 'Read, write, delete and list secrets private to the calling token.',
        description: `Works like kv (POST/PUT stores a JSON object, GET reads it, DELETE removes it,
LIST shows one level), but every token has its own namespace.`,
      },
    ],
  });
}
