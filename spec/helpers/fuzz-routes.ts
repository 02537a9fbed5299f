import type { FieldSchemaLike, Rng } from './fuzz-random.js';

/**
 * Every route the server declares, from its own OpenAPI document (api.md §12), plus the
 * mount roots and paths that match nothing, with their path parameters filled in at random.
 */

export interface FuzzRoute {
  /** `/sys/mounts/{path}`, as the document says it. */
  template: string;
  /** Declared body fields, of every operation. */
  fields: Record<string, FieldSchemaLike>;
}

/** Paths no route declares: mount roots, prefixes, paths outside /v1/ or matching nothing. */
export const UNDECLARED = [
  '', '/', '/secret', '/secret/', '/cubbyhole', '/cubbyhole/', '/auth', '/auth/', '/auth/token', '/auth/token/',
  '/sys', '/sys/', '/sys/raw/fz', '/sys/nothing', '/auth/token/nothing', '/identity/x', '/fznomount/x', '/sys/internal', '/sys/policies',
];

export function routesOf(openapi: { paths: Record<string, Record<string, any>> }): FuzzRoute[] {
  const routes: FuzzRoute[] = [];
  for (const [template, item] of Object.entries(openapi.paths)) {
    const fields: Record<string, FieldSchemaLike> = {};
    for (const op of Object.values(item)) {
      const props = op?.requestBody?.content?.['application/json']?.schema?.properties;
      if (props) Object.assign(fields, props);
    }
    routes.push({ template, fields });
  }
  for (const template of UNDECLARED) routes.push({ template, fields: {} });
  return routes;
}

const UNICODE = ['é', '😀', '\u202e', 'ﬀ', '\u0000', '%', ' ', '?', '#', '+', '*', ':', '..', '.', '\\'];

/** A segment that names nothing that exists: `fz` first, so no real mount, policy or lease is hit. */
function segment(rng: Rng): string {
  let s = `fz${rng.string(rng.int(1, 6))}`;
  if (rng.chance(0.3)) s += encodeURIComponent(rng.pick(UNICODE));
  if (rng.chance(0.05)) s += rng.pick(['%zz', '%', '%C0%AF', '%ff']);
  return s;
}

const HEX = '0123456789abcdef';
const uuid = (rng: Rng): string => `${rng.string(8, HEX)}-${rng.string(4, HEX)}-4${rng.string(3, HEX)}-8${rng.string(3, HEX)}-${rng.string(12, HEX)}`;

/** The template's `{params}` replaced by random values (a trailing one may take several segments). */
export function fillTemplate(template: string, rng: Rng): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    if (name === 'token' || name === 'accessor') return rng.pick([uuid(rng), segment(rng), 'root', '']);
    const parts = Array.from({ length: rng.weighted([[6, 1], [3, 2], [1, 4]]) }, () => segment(rng));
    let value = parts.join('/');
    if (name === 'path' && template.startsWith('/sys/') && rng.chance(0.3)) value += '/tune';
    if (rng.chance(0.1)) value += '/';
    if (rng.chance(0.03)) value = `${value}/../${segment(rng)}`;
    return value;
  });
}

/**
 * Routes that would break the shared server for the rest of the run; they are fuzzed on
 * throwaway servers instead (see the spec).
 */
export function destructive(template: string, method: string): boolean {
  const writes = method === 'POST' || method === 'PUT';
  return (template === '/sys/seal' && writes) || (template === '/sys/remount' && writes);
}

/** Routes that spend the caller's own token (revoke it, or renew it to a TTL of seconds): sent with a throwaway one. */
export const SELF_SPENDING = ['/auth/token/revoke-self', '/auth/token/renew-self'];

export const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'LIST', 'HEAD', 'PATCH', 'OPTIONS', 'FUZZ'];

export const QUERIES = ['help=1', 'help=true', 'help=x', 'list=true', 'list=1', 'list=nope', 'x=1', '%zz=1', 'activecode=299', 'activecode=599', 'sealedcode=abc', 'standbyok=true', 'uninitcode=', 'a=b&a=c'];

/** The statuses a query asks for (sys/health's `…code=` parameters). */
export function askedStatuses(query: string): number[] {
  return [...new URLSearchParams(query)].filter(([k]) => k.endsWith('code')).map(([, v]) => Number(v)).filter(Number.isInteger);
}
