import { ApiError } from '../errors.js';
import { addRoute, createMatcher, createRouter, type MemoSize, type RouteMatch, type Router } from '../http/router.js';
import type { Answer, BackendRequest } from '../core/request.js';
import type { Storage } from '../storage/storage.js';
import { FieldData, type FieldSchemas } from './fields.js';
import { renderPathHelp, renderRootHelp } from './help.js';

/**
 * A backend is data: its paths, their fields, operations and help. `defineBackend` turns
 * that data into something core can route to; `?help=1` and the OpenAPI document are
 * generated from it and never reach a handler.
 */

export type PathOperation = 'read' | 'create' | 'update' | 'delete' | 'list';
/** May answer at once or with a promise (see Answer); errors may be thrown either way. */
export type Handler = (req: BackendRequest, fields: FieldData) => Answer;

export interface PathSpec {
  /** Router pattern relative to the mount: `keys/:name`, `*path` (see http/router.ts). */
  pattern: string;
  /** Declared fields; URL captures of the same name win over body fields. */
  fields?: FieldSchemas;
  operations: Partial<Record<PathOperation, Handler>>;
  /** Tells core whether a write creates or updates, for the ACL's create/update split. */
  existenceCheck?: (req: BackendRequest, fields: FieldData) => Promise<boolean>;
  /** Accept body fields that are not declared (kv stores arbitrary data). */
  anyFields?: boolean;
  /** One line, shown in the mount's route listing. */
  synopsis: string;
  /** The long form, shown in the path's help. */
  description: string;
}

export interface BackendSpec {
  type: string;
  /** What the backend is for; the mount root's help starts with it. */
  help: string;
  paths: PathSpec[];
  /** Paths reachable without a token (logins). `x/*` matches by prefix. */
  unauthenticated?: string[];
  /** Paths that need the root policy or `sudo` (api.md §9). `x/*` matches by prefix. */
  root?: string[];
  /** Revokes a leased secret this backend issued, given the lease's internal data. */
  revokeLease?: (data: Record<string, unknown>, storage: Storage) => Promise<void>;
}

export interface BackendContext {
  /** Where the backend is mounted, trailing slash included. */
  mountPoint: string;
  /** The mount's private storage view (the same one requests carry). */
  storage: Storage;
}

export interface Backend {
  readonly spec: BackendSpec;
  /**
   * Runs a non-help operation; null means "nothing here" (404 on read, 204 on write). The
   * answer may come at once (see Answer); errors always come as a rejected promise.
   */
  handle(req: BackendRequest): Answer;
  /** Help text for a path inside the mount; '' is the mount root, which lists its routes. */
  help(path: string): string;
  /** Whether a write to this path would update an existing entry; undefined when the path cannot tell. */
  exists(req: BackendRequest): Promise<boolean | undefined>;
  /** The methods a path answers, for `Allow` on 405; [] when no route matches. */
  allowedMethods(path: string): string[];
  isUnauthenticated(path: string): boolean;
  isRootPath(path: string): boolean;
  revokeLease?: BackendSpec['revokeLease'];
  /** What the memo of matched routes holds (sizes only). */
  routeMemoSize(): MemoSize;
}

export type BackendFactory = (ctx: BackendContext) => Backend;

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

  const fieldsFor = (match: RouteMatch<PathSpec>, req: BackendRequest): FieldData => new FieldData(match.value.fields ?? NO_FIELDS, req.data, match.params);

  return {
    spec,
    // Not async: the handler's answer is handed back as it is, at once or as its own promise
    // (an async wrapper would cost a promise and two ticks on every request); errors are
    // turned into rejections.
    handle(req) {
      try {
        if (req.operation === 'help') throw new Error('help is answered by Backend.help, not handle');
        const match = route(req.path);
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
    isUnauthenticated: unauthenticated,
    revokeLease: spec.revokeLease,
    isRootPath: rootPaths,
    routeMemoSize: matchPath.size,
  };
}
