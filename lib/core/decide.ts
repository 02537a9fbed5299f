import type { ServerConfig } from '../config.js';
import type { Acl } from './acl.js';
import { parseCidrList, type CidrList } from './cidr.js';
import type { MountConfig } from './mounts.js';
import { CAP } from './policy.js';
import type { Operation, Request } from './request.js';
import type { TokenEntry } from './tokens.js';

/**
 * The pure decisions of a request: seal gate, token usability, ACL verdict, lease TTLs.
 * The pipeline (pipeline.ts) and the fast path (fast-path.ts) both decide with these and
 * nothing else, so they cannot disagree; spec/core/both-paths.spec.ts holds them to it.
 */

/** Routes that answer in every seal state; everything else is 503 unless unsealed. */
const ALWAYS_AVAILABLE = new Set(['sys/init', 'sys/seal-status', 'sys/unseal', 'sys/health', 'sys/leader']);

/** `always`: sys routes of every state; `noop`: sealing a sealed server; `sealed`: 503; `open`: on with the request. */
export type SealGate = 'always' | 'noop' | 'sealed' | 'open';

export function sealGate(req: Request, unsealed: boolean): SealGate {
  if (ALWAYS_AVAILABLE.has(req.path)) return 'always';
  if (unsealed) return 'open';
  // Sealing a sealed server is a no-op that needs no token.
  return req.path === 'sys/seal' && req.operation === 'update' ? 'noop' : 'sealed';
}

/**
 * Vault adds a `/` to every list path before the ACL check and routing: client libraries
 * strip trailing slashes, and `LIST secret/app` means the folder `secret/app/`.
 */
export function listPathOf(req: Request): Request {
  return req.operation === 'list' && !req.path.endsWith('/') ? { ...req, path: `${req.path}/` } : req;
}

const cidrLists = new WeakMap<readonly string[], CidrList>();

/** Whether the client at `remoteAddress` may use the token now. numUses < 0 marks a token whose last use is under way. */
export function tokenUsable(entry: TokenEntry | null | undefined, remoteAddress: string): entry is TokenEntry {
  // The clock is read only for tokens that expire (the root token does not).
  if (!entry || entry.numUses < 0 || (entry.expireTime !== 0 && entry.expireTime <= Date.now())) return false;
  const bound = entry.boundCidrs;
  if (bound === undefined || bound.length === 0) return true;
  let list = cidrLists.get(bound);
  if (list === undefined) {
    list = parseCidrList(bound);
    cidrLists.set(bound, list);
  }
  return list.allows(remoteAddress);
}

/** `existence`: a write whose verdict depends on whether something is stored at the path. */
export type AclVerdict = 'allow' | 'deny' | 'existence';

const NEEDED: Record<Exclude<Operation, 'help'>, number> = {
  read: CAP.read,
  list: CAP.list,
  delete: CAP.delete,
  create: CAP.create,
  update: CAP.update,
};

/** The capabilities that count for a request on its path, from a compiled ACL. */
export function requestCapabilities(acl: Pick<Acl, 'capabilities'>, req: Request): number {
  const caps = acl.capabilities(req.path);
  // A list of `secret/app/` is also allowed by a rule written for `secret/app`, as before
  // the slash was added; a deny on either still wins.
  if (req.operation === 'list' && req.path.length > 1 && req.path.endsWith('/')) return caps | acl.capabilities(req.path.slice(0, -1));
  return caps;
}

/** The ACL verdict for a request given its capabilities; `rootPath` needs sudo as well (api.md §9). */
export function aclVerdict(caps: number, req: Request, rootPath: boolean): AclVerdict {
  if (caps === 0 || caps & CAP.deny) return 'deny';
  if (rootPath && !(caps & CAP.sudo)) return 'deny';
  // Help and an unsupported method need any capability at all: they reveal only the route.
  if (req.operation === 'help' || req.unsupportedMethod) return 'allow';
  if (req.operation === 'update') return 'existence';
  const needed = NEEDED[req.operation];
  return (caps & needed) === needed ? 'allow' : 'deny';
}

/**
 * A write needs `create` when nothing exists at the path and `update` when something does;
 * where the path cannot tell (`exists` undefined), either capability will do.
 */
export function writeAllowed(caps: number, exists: boolean | undefined): boolean {
  if (exists === undefined) return (caps & (CAP.create | CAP.update)) !== 0;
  const needed = exists ? CAP.update : CAP.create;
  return (caps & needed) === needed;
}

/** The TTL a secret's lease gets: what the backend asked, else the mount's default, at most the mount's maximum. */
export function leaseTtl(requested: number, mount: MountConfig, server: Pick<ServerConfig, 'defaultLeaseTtl' | 'maxLeaseTtl'>): number {
  const defaultTtl = mount.defaultLeaseTtl || server.defaultLeaseTtl;
  const maxTtl = mount.maxLeaseTtl || server.maxLeaseTtl;
  return Math.min(requested > 0 ? requested : defaultTtl, maxTtl);
}
