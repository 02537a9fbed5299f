import { ApiError } from '../errors.js';
import { parseDuration } from '../duration.js';
import { defineBackend, type Backend, type BackendContext, type Peek } from '../framework/backend.js';
import type { BackendRequest, Response } from '../core/request.js';

/**
 * Key/value secret storage, version 1 semantics (api.md §10, the seed's `secret/`):
 * a write stores any non-empty JSON object as is, a read returns it, a delete is
 * idempotent, a list shows one level with folders ending in `/`.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function requireKey(path: string): string {
  if (path === '') throw new ApiError('ERR_INVALID_PATH', 'a secret path is required after the mount point');
  if (path.endsWith('/')) throw new ApiError('ERR_INVALID_PATH', 'a secret path must not end in "/"');
  return path;
}

/** `ttl` (or the older `lease`) is advisory: echoed as lease_duration, never a lease id. */
function ttlOf(data: Record<string, unknown>): number | undefined {
  const value = data.ttl ?? data.lease;
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  try {
    return parseDuration(value);
  } catch {
    return undefined;
  }
}

async function read(req: BackendRequest): Promise<Response | null> {
  const raw = await req.storage.get(requireKey(req.path));
  return raw === null ? null : secretOf(raw);
}

/** The fast path's read: a secret the barrier holds decrypted; anything else steps aside. */
function peekRead(req: BackendRequest, peek: Peek): Response | undefined {
  // A path `read` would refuse is refused there, by the ordinary pipeline.
  if (req.path === '' || req.path.endsWith('/')) return undefined;
  return peek(req.path, hotSecretOf);
}

/**
 * A hot secret's text and ttl, by the barrier cache's own bytes: decoded once, not on every
 * read, and the same flat string goes into every answer. Weak, so an entry goes with the
 * cached value; the cache never reuses a buffer for another value (a fill is a new copy).
 */
const decodedSecrets = new WeakMap<Uint8Array, { text: string; bytes: number; ttl: number }>();

function hotSecretOf(raw: Uint8Array): Response {
  let known = decodedSecrets.get(raw);
  if (known === undefined) {
    const fresh = secretOf(raw);
    known = { text: fresh.dataJson!, bytes: fresh.dataBytes!, ttl: fresh.secret!.ttl };
    decodedSecrets.set(raw, known);
  }
  return { dataJson: known.text, dataBytes: known.bytes, secret: { ttl: known.ttl, renewable: false } };
}

/** Reads `raw` without keeping it: it may be the barrier's cached bytes, lent by peek. */
function secretOf(raw: Uint8Array): Response {
  // The stored text is JSON.stringify's own output: it goes into the answer as is, and is
  // parsed only when it may carry a ttl.
  const text = decoder.decode(raw);
  const ttl = text.includes('"ttl"') || text.includes('"lease"') ? ttlOf(JSON.parse(text) as Record<string, unknown>) : undefined;
  // As in Vault's kv v1: lease_duration is the stored ttl, else the mount default; no lease id.
  // Measured here, the answer's length need not be measured again at the edge (respond.ts envelopeBytes).
  return { dataJson: text, dataBytes: Buffer.byteLength(text, 'utf8'), secret: { ttl: ttl ?? 0, renewable: false } };
}

async function write(req: BackendRequest): Promise<Response | null> {
  const key = requireKey(req.path);
  const fields = Object.keys(req.data);
  if (fields.length === 0) throw new ApiError('ERR_MISSING_FIELD', 'missing data fields');
  // The declared `ttl` field was validated by the framework; a body of only ttl stores nothing.
  if (fields.every((f) => f === 'ttl' || f === 'lease')) {
    throw new ApiError('ERR_MISSING_FIELD', 'missing data; only ttl found');
  }
  await req.storage.put(key, encoder.encode(JSON.stringify(req.data)));
  return null;
}

async function remove(req: BackendRequest): Promise<Response | null> {
  await req.storage.delete(requireKey(req.path));
  return null;
}

async function list(req: BackendRequest): Promise<Response | null> {
  const prefix = req.path === '' || req.path.endsWith('/') ? req.path : `${req.path}/`;
  const keys = await req.storage.list(prefix);
  return keys.length === 0 ? null : { data: { keys } };
}

export function createKvBackend(_ctx: BackendContext): Backend {
  return defineBackend({
    type: 'kv',
    help: `The kv backend stores arbitrary JSON objects at any path, encrypted by the barrier.
Writes replace the whole object; reads return it; lists show one level of keys,
with folders ending in "/".`,
    paths: [
      {
        pattern: '*path',
        fields: {
          path: { type: 'string', description: 'Location of the secret, relative to the mount point.' },
          ttl: {
            type: 'duration',
            description: 'Advisory lifetime returned to readers as lease_duration; no lease is created.',
          },
        },
        operations: { read, create: write, update: write, delete: remove, list },
        peekRead,
        existenceCheck: async (req) => req.path !== '' && (await req.storage.get(req.path)) !== null,
        synopsis: 'Pass-through secret storage: read, write, delete and list arbitrary secrets.',
        description: `Secrets are JSON objects of any shape. POST or PUT stores the request body
(it must be a non-empty object) and answers 204; GET returns it as "data"; DELETE
removes it and answers 204 even when nothing was there; LIST (or GET with ?list=true)
returns {"keys": [...]} for the folder, one level deep, and 404 when it is empty.`,
      },
    ],
  });
}
