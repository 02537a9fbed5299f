import type { MemoSize } from '../router/router.js';
import type { Logger } from '../log.js';
import type { BackendRequest, Response } from '../core/request.js';
import type { Storage } from '../storage/storage.js';
import type { FieldData, FieldSchemas } from './fields.js';

/**
 * The shapes of a backend: what its author declares (BackendSpec, PathSpec, Handler) and
 * what core calls (Backend). backend.ts builds the one from the other.
 */

export type PathOperation = 'read' | 'create' | 'update' | 'delete' | 'list';
/**
 * Answers one operation on a path: null means "nothing here" (404 on a read or list, 204 on
 * a write). Failures are rejections (throw inside an async function); an ApiError's status
 * reaches the client, anything else is a 500.
 */
export type Handler = (req: BackendRequest, fields: FieldData) => Promise<Response | null>;

/** Reads a value in the mount's storage if it is in memory (see PeekableStorage, storage/view.ts). */
export type Peek = <T>(key: string, read: (value: Uint8Array) => T) => T | undefined;

/**
 * A read answered without waiting, for the core's fast path (core/fast-path.ts): the answer
 * when everything it needs is in memory, or undefined for "not here" (the request then takes
 * the ordinary pipeline, which calls the path's `read`). It must agree with `read` on every
 * answer it gives, never throw, and never change anything. Each answer is a fresh object
 * (the fast path sets the clamped TTL in it).
 */
export type PeekRead = (req: BackendRequest, peek: Peek) => Response | null | undefined;

export interface PathSpec {
  /** Router pattern relative to the mount: `keys/:name`, `*path` (see router/router.ts). */
  pattern: string;
  /** Declared fields; URL captures of the same name win over body fields. */
  fields?: FieldSchemas;
  operations: Partial<Record<PathOperation, Handler>>;
  /** Tells core whether a write creates or updates, for the ACL's create/update split. */
  existenceCheck?: (req: BackendRequest, fields: FieldData) => Promise<boolean>;
  /** Optional, for hot reads only: see PeekRead. */
  peekRead?: PeekRead;
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
  /**
   * An auth method's say on renewing a token its login issued: reject (an ApiError) to
   * refuse, e.g. when the user is gone or its policies changed. Without it, renewals are
   * limited only by the token's own TTLs.
   */
  renewLogin?: (login: LoginRenewal, storage: Storage) => Promise<void>;
}

/** What a renewal tells the auth method about the token its login issued. */
export interface LoginRenewal {
  /** The login path inside the mount: `login/alice`. */
  path: string;
  metadata: Record<string, string>;
  /** The token's policies, `default` included when it has it. */
  policies: string[];
}

/**
 * What a backend may know of the server it runs in: a narrow view, never the core itself.
 * TTLs are read on each call, so a tuned mount is seen at once.
 */
export interface SystemView {
  /** Seconds: the mount's tuned default lease TTL, else the server's. */
  defaultLeaseTtl(): number;
  /** Seconds: the mount's tuned maximum lease TTL, else the server's. */
  maxLeaseTtl(): number;
  logger: Logger;
  /** Unix milliseconds (Date.now, replaceable in tests). */
  now(): number;
}

export interface BackendContext {
  /** Where the backend is mounted, trailing slash included. */
  mountPoint: string;
  /** The mount's private storage view (the same one requests carry). */
  storage: Storage;
  system: SystemView;
}

export interface Backend {
  readonly spec: BackendSpec;
  /** Runs a non-help operation (see Handler); errors are rejections. */
  handle(req: BackendRequest): Promise<Response | null>;
  /** The path's PeekRead answer, or undefined when it has none or it steps aside. */
  peekRead(req: BackendRequest, peek: Peek): Response | null | undefined;
  /** Help text for a path inside the mount; '' is the mount root, which lists its routes. */
  help(path: string): string;
  /** Whether a write to this path would update an existing entry; undefined when the path cannot tell. */
  exists(req: BackendRequest): Promise<boolean | undefined>;
  /** The methods a path answers, for `Allow` on 405; [] when no route matches. */
  allowedMethods(path: string): string[];
  /** The route pattern a path matches (`data/*path`), for metrics labels; undefined when none does. */
  patternOf(path: string): string | undefined;
  isUnauthenticated(path: string): boolean;
  isRootPath(path: string): boolean;
  revokeLease?: BackendSpec['revokeLease'];
  renewLogin?: BackendSpec['renewLogin'];
  /** What the memo of matched routes holds (sizes only). */
  routeMemoSize(): MemoSize;
}

export type BackendFactory = (ctx: BackendContext) => Backend;

