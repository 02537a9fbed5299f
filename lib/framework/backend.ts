import { ApiError } from '../errors.js';
import { addRoute, createMatcher, createRouter, type RouteMatch, type Router } from '../router/router.js';
import { FieldData, type FieldSchemas } from './fields.js';
import { renderPathHelp, renderRootHelp } from './help.js';
import type { Backend, BackendSpec, Handler, PathOperation, PathSpec } from './types.js';
import type { BackendRequest } from '../core/request.js';

export type * from './types.js';

/**
 * A backend is data: its paths, their fields, operations and help. `defineBackend` turns
 * that data into something core can route to; `?help=1` and the OpenAPI document are
 * generated from it and never reach a handler.
 */

const METHODS: Record<PathOperation, string[]> = {
  read: ['GET'],
  create: ['POST', 'PUT'],
  update: ['POST', 'PUT'],
  delete: ['DELETE'],
  list: ['LIST'],
};

/** Exact names, or prefixes written with a trailing `*`, as in Vault's special paths. */
export function createPathMatcher(patterns: readonly string[] = []): (path: string) => boolean {
  const exact = new Set(patterns.filter((p) => !p.endsWith('*')));
  const prefixes = patterns.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));
  // Asked on every request (is this path open? a root path?): a plain loop, no callback.
  return (path) => {
    if (exact.has(path)) return true;
    for (const prefix of prefixes) if (path.startsWith(prefix)) return true;
    return false;
  };
}

export function allowedMethods(spec: PathSpec): string[] {
  const methods = new Set<string>();
  for (const op of Object.keys(spec.operations) as PathOperation[]) for (const m of METHODS[op]) methods.add(m);
  return [...methods];
}

function pickHandler(spec: PathSpec, op: PathOperation): Handler | undefined {
  const ops = spec.operations;
  // A path that only declares one kind of write serves both: kv does not care which it is.
  if (op === 'create') return ops.create ?? ops.update;
  if (op === 'update') return ops.update ?? ops.create;
  return ops[op];
}

const NO_FIELDS: FieldSchemas = {};

export function defineBackend(spec: BackendSpec): Backend {
  const router: Router<PathSpec> = createRouter();
  for (const path of spec.paths) {
    if (!path.synopsis || !path.description) throw new Error(`${spec.type}: route ${path.pattern} has no help text`);
    if (Object.keys(path.operations).length === 0) throw new Error(`${spec.type}: route ${path.pattern} has no operations`);
    addRoute(router, path.pattern, path);
  }
  const unauthenticated = createPathMatcher(spec.unauthenticated);
  const rootPaths = createPathMatcher(spec.root);

  const matchPath = createMatcher(router);
  const route = (path: string): RouteMatch<PathSpec> => {
    const found = matchPath(path);
    if (!found) throw new ApiError('ERR_NOT_FOUND', 'unsupported path');
    return found;
  };
  // Core adds a '/' to every list path (as Vault does), so `LIST sys/policy` arrives as
  // `policy/`: a list that matches nothing with it is tried without it.
  const routeOperation = (req: BackendRequest): RouteMatch<PathSpec> => {
    if (req.operation === 'list' && req.path.endsWith('/') && req.path !== '') {
      const found = matchPath(req.path) ?? matchPath(req.path.slice(0, -1));
      if (found && pickHandler(found.value, 'list')) return found;
    }
    return route(req.path);
  };

  const fieldsFor = (match: RouteMatch<PathSpec>, req: BackendRequest): FieldData => new FieldData(match.value.fields ?? NO_FIELDS, req.data, match.params);

  return {
    spec,
    // Not async: the handler's own promise is handed back as it is (an async wrapper would add
    // a promise and two microtask turns to every request); a throw becomes a rejection.
    handle(req) {
      try {
        if (req.operation === 'help') throw new Error('help is answered by Backend.help, not handle');
        const match = routeOperation(req);
        const handler = pickHandler(match.value, req.operation);
        if (!handler) {
          throw new ApiError('ERR_UNSUPPORTED_OPERATION', `unsupported operation on this path`, {
            headers: { Allow: allowedMethods(match.value).join(', ') },
          });
        }
        const fields = fieldsFor(match, req);
        // Writes are checked whole up front; a read's query fields are coerced as they are used.
        if (req.operation === 'create' || req.operation === 'update') fields.validate(true);
        return handler(req, fields);
      } catch (err) {
        return Promise.reject(err);
      }
    },
    peekRead(req, peek) {
      const peekRead = matchPath(req.path)?.value.peekRead;
      return peekRead === undefined ? undefined : peekRead(req, peek);
    },
    help(path) {
      if (path === '') return renderRootHelp(spec);
      const found = route(path);
      return renderPathHelp(path, found.value, allowedMethods(found.value));
    },
    async exists(req) {
      const match = matchPath(req.path);
      if (!match?.value.existenceCheck) return undefined;
      return match.value.existenceCheck(req, fieldsFor(match, req));
    },
    allowedMethods(path) {
      const match = matchPath(path);
      return match ? allowedMethods(match.value) : [];
    },
    patternOf(path) {
      // A list path carries a '/' the route may not have (routeOperation above).
      return (matchPath(path) ?? (path.endsWith('/') && path !== '' ? matchPath(path.slice(0, -1)) : undefined))?.pattern;
    },
    isUnauthenticated: unauthenticated,
    revokeLease: spec.revokeLease,
    renewLogin: spec.renewLogin,
    isRootPath: rootPaths,
    routeMemoSize: matchPath.size,
  };
}
