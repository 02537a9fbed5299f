import { ApiError } from '../errors.js';
import { randomUUID } from '../crypto/random.js';
import { addRoute, createMatcher, createRouter, type Router } from '../router/router.js';
import type { Backend, BackendFactory, SystemView } from '../framework/backend.js';
import type { Logger } from '../log.js';
import type { CacheSize } from '../storage/storage.js';
import { createSerialQueue } from '../serial.js';
import { clearPrefix, createMountView, type MountView, type PeekableStorage } from '../storage/view.js';

/**
 * The mount table: which backend serves which path prefix, persisted behind the barrier
 * (`core/mounts` for secret backends, `core/auth` for auth backends). Each mount gets
 * its own storage view, so a backend only ever sees its own keys.
 */

export type MountKind = 'secret' | 'auth';

export interface MountConfig {
  /** Seconds; 0 means "use the server default". */
  defaultLeaseTtl: number;
  maxLeaseTtl: number;
}

export interface MountEntry {
  kind: MountKind;
  /** Full path with trailing slash: `secret/`, `auth/userpass/`. */
  path: string;
  type: string;
  description: string;
  uuid: string;
  accessor: string;
  config: MountConfig;
  options: Record<string, string>;
  local: boolean;
  sealWrap: boolean;
}

export interface Mount {
  entry: MountEntry;
  backend: Backend;
  storage: MountView;
}

export interface RouteResult {
  mount: Mount;
  /** The path relative to the mount point. */
  path: string;
}

/** A factory for a backend type, or undefined when the type is unknown. */
export type BackendResolver = (kind: MountKind, type: string) => BackendFactory | undefined;

/** The core's own types: mounted once at start, never again by a user. */
const BUILT_IN_ONLY = new Set(['system', 'token', 'cubbyhole']);

const TABLE_KEY: Record<MountKind, string> = { secret: 'core/mounts', auth: 'core/auth' };
/** Built-in mounts that can be neither moved nor removed. */
const PROTECTED = ['sys/', 'cubbyhole/', 'auth/token/'];

export const isProtectedMount = (path: string): boolean => PROTECTED.includes(path);
/** Prefixes no user mount may take: they belong to the server. */
const RESERVED_PREFIXES = ['sys/', 'auth/', 'audit/', 'cubbyhole/'];

export function normalizeMountPath(path: string): string {
  const trimmed = path.replace(/^\/+/, '');
  const withSlash = trimmed.endsWith('/') ? trimmed : `${trimmed}/`;
  if (withSlash === '/' || withSlash.includes('//') || /[\s*:+?#%]/.test(withSlash) || withSlash.split('/').some((s) => s === '.' || s === '..')) {
    throw new ApiError('ERR_INVALID_MOUNT', `invalid mount path '${path}'`);
  }
  return withSlash;
}

export interface MountTable {
  /** Reads both tables from storage and instantiates their backends (unseal). */
  load(): Promise<void>;
  /** Drops every backend instance (seal). */
  unload(): void;
  route(path: string): RouteResult | undefined;
  list(kind: MountKind): MountEntry[];
  get(path: string): Mount | undefined;
  mount(entry: Omit<MountEntry, 'uuid' | 'accessor'>): Promise<MountEntry>;
  unmount(path: string): Promise<MountEntry>;
  remount(from: string, to: string): Promise<void>;
  tune(path: string, config: Partial<MountConfig>, description?: string): Promise<void>;
  /** Seconds: the mount's tuned TTLs, where set, else the server's. */
  ttlsOf(entry: MountEntry): MountConfig;
  /** Sizes only, summed over the table and its mounts: the route memos and the views' key memos. */
  memory(): { routes: CacheSize; views: CacheSize; mounts: number };
}

function addSize(sum: CacheSize, size: CacheSize): void {
  sum.entries += size.entries;
  sum.bytes += size.bytes;
  sum.maxEntries += size.maxEntries;
  sum.maxBytes += size.maxBytes;
}

type NewMount = Omit<MountEntry, 'uuid' | 'accessor'>;

export interface MountTableOptions {
  barrier: PeekableStorage;
  resolve: BackendResolver;
  /** Always mounted. */
  builtins: NewMount[];
  /** Mounted only when the tables are first created (init). */
  initial: NewMount[];
  /** The server's TTLs, for mounts that set none. */
  serverTtls: MountConfig;
  logger: Logger;
  /** Every type of that kind the resolver knows, for the error that names them. */
  knownTypes(kind: MountKind): string[];
}

export function createMountTable(options: MountTableOptions): MountTable {
  const { barrier, resolve, builtins, initial, serverTtls, logger, knownTypes } = options;
  let mounts = new Map<string, Mount>();
  // Rebuilt whole on every change to the table, so a matcher may remember its answers.
  let matchMount = createMatcher<Mount>(createRouter());

  /** A 400 that names what could have been asked for, as `vault secrets enable` users expect. */
  const unknownType = (kind: MountKind, type: string): ApiError => {
    const what = kind === 'auth' ? 'auth method' : 'secrets engine';
    const known = knownTypes(kind).filter((t) => !BUILT_IN_ONLY.has(t)).sort();
    const choice = known.length > 0 ? `known types are ${known.join(', ')}` : `no ${what} types can be mounted`;
    return new ApiError('ERR_INVALID_MOUNT', `unknown ${what} type '${type}': ${choice}`);
  };

  const viewPrefix = (entry: MountEntry): string => (entry.type === 'system' ? 'sys/' : `${entry.kind === 'auth' ? 'auth' : 'logical'}/${entry.uuid}/`);

  const instantiate = (entry: MountEntry): Mount => {
    const factory = resolve(entry.kind, entry.type);
    // A stored table naming a type this build lacks: refuse to unseal rather than drop the mount.
    if (!factory) throw unknownType(entry.kind, entry.type);
    const storage = createMountView(barrier, viewPrefix(entry));
    // Read through the table on every call, so a tune is seen at once.
    const current = (): MountEntry => mounts.get(entry.path)?.entry ?? entry;
    const system: SystemView = {
      defaultLeaseTtl: () => ttlsOf(current()).defaultLeaseTtl,
      maxLeaseTtl: () => ttlsOf(current()).maxLeaseTtl,
      logger,
      now: () => Date.now(),
    };
    return { entry, storage, backend: factory({ mountPoint: entry.path, storage, system }) };
  };

  const ttlsOf = (entry: MountEntry): MountConfig => ({
    defaultLeaseTtl: entry.config.defaultLeaseTtl || serverTtls.defaultLeaseTtl,
    maxLeaseTtl: entry.config.maxLeaseTtl || serverTtls.maxLeaseTtl,
  });

  const rebuildRouter = (): void => {
    const next: Router<Mount> = createRouter();
    for (const mount of mounts.values()) addRoute(next, `${mount.entry.path}*rest`, mount);
    matchMount = createMatcher(next);
  };

  const persist = async (kind: MountKind, next: Map<string, Mount>): Promise<void> => {
    const entries = [...next.values()].filter((m) => m.entry.kind === kind).map((m) => m.entry);
    await barrier.put(TABLE_KEY[kind], Buffer.from(JSON.stringify(entries)));
  };

  // Changes run one at a time: each builds the next table from the current one, so two
  // concurrent changes must not both start from the same table and lose one another.
  const exclusive = createSerialQueue();

  /** Applies a change only once it is durable: storage first, memory second. */
  const commit = async (kinds: MountKind[], next: Map<string, Mount>): Promise<void> => {
    for (const kind of kinds) await persist(kind, next);
    mounts = next;
    rebuildRouter();
  };

  const conflict = (path: string): string | undefined => {
    for (const existing of mounts.keys()) {
      if (existing.startsWith(path) || path.startsWith(existing)) return existing;
    }
    return undefined;
  };

  const newEntry = (fields: Omit<MountEntry, 'uuid' | 'accessor'>): MountEntry => ({
    ...fields,
    uuid: randomUUID(),
    accessor: `${fields.type}_${randomUUID().slice(0, 8)}`,
  });

  return {
    async load() {
      const next = new Map<string, Mount>();
      let fresh = false;
      for (const kind of ['secret', 'auth'] as MountKind[]) {
        const raw = await barrier.get(TABLE_KEY[kind]);
        if (raw === null) {
          fresh = true;
          continue;
        }
        for (const entry of JSON.parse(Buffer.from(raw).toString('utf8')) as MountEntry[]) next.set(entry.path, instantiate(entry));
      }
      // Built-ins are always present, even in a table written before they existed.
      let added = false;
      for (const builtin of fresh ? [...builtins, ...initial] : builtins) {
        if (!next.has(builtin.path)) {
          next.set(builtin.path, instantiate(newEntry(builtin)));
          added = true;
        }
      }
      if (fresh || added) await commit(['secret', 'auth'], next);
      else {
        mounts = next;
        rebuildRouter();
      }
    },
    unload() {
      mounts = new Map();
      matchMount = createMatcher<Mount>(createRouter());
    },
    route(path) {
      const match = matchMount(path) ?? (path.endsWith('/') ? undefined : matchMount(`${path}/`));
      return match ? { mount: match.value, path: match.params.rest ?? '' } : undefined;
    },
    list(kind) {
      return [...mounts.values()].filter((m) => m.entry.kind === kind).map((m) => m.entry);
    },
    get(path) {
      return mounts.get(path);
    },
    mount(fields) {
      return exclusive(async () => {
        const path = normalizeMountPath(fields.path);
        const reserved = fields.kind === 'auth' ? ['auth/token/'] : RESERVED_PREFIXES;
        if (fields.kind === 'auth' && !path.startsWith('auth/')) throw new Error('auth mounts live under auth/');
        if (reserved.some((p) => path.startsWith(p) || p.startsWith(path))) {
          throw new ApiError('ERR_INVALID_MOUNT', `cannot mount at '${path}': the path is reserved`);
        }
        if (BUILT_IN_ONLY.has(fields.type)) {
          throw new ApiError('ERR_INVALID_MOUNT', `a '${fields.type}' backend is built in and cannot be mounted again`);
        }
        if (!resolve(fields.kind, fields.type)) throw unknownType(fields.kind, fields.type);
        const clash = conflict(path);
        if (clash) throw new ApiError('ERR_INVALID_MOUNT', `cannot mount at '${path}': it overlaps the existing mount '${clash}'`);
        const entry = newEntry({ ...fields, path });
        const next = new Map(mounts);
        next.set(path, instantiate(entry));
        await commit([entry.kind], next);
        return entry;
      });
    },
    unmount(path) {
      return exclusive(async () => {
        const mount = mounts.get(path);
        if (!mount) throw new ApiError('ERR_INVALID_MOUNT', `no mount at '${path}'`);
        if (PROTECTED.includes(path)) throw new ApiError('ERR_INVALID_MOUNT', `cannot unmount '${path}'`);
        const next = new Map(mounts);
        next.delete(path);
        await commit([mount.entry.kind], next);
        // The table no longer points at the data, so a failure here only leaves unreachable ciphertext.
        await clearPrefix(mount.storage);
        return mount.entry;
      });
    },
    remount(from, to) {
      return exclusive(async () => {
        const mount = mounts.get(from);
        if (!mount) throw new ApiError('ERR_INVALID_MOUNT', `no mount at '${from}'`);
        if (PROTECTED.includes(from)) throw new ApiError('ERR_INVALID_MOUNT', `cannot remount '${from}'`);
        const kind = mount.entry.kind;
        if ((kind === 'auth') !== to.startsWith('auth/') || RESERVED_PREFIXES.some((p) => kind === 'secret' && (to.startsWith(p) || p.startsWith(to)))) {
          throw new ApiError('ERR_INVALID_MOUNT', `cannot remount '${from}' to '${to}'`);
        }
        const others = new Map(mounts);
        others.delete(from);
        for (const existing of others.keys()) {
          if (existing.startsWith(to) || to.startsWith(existing)) {
            throw new ApiError('ERR_INVALID_MOUNT', `cannot remount to '${to}': it overlaps the existing mount '${existing}'`);
          }
        }
        // The storage view follows the uuid, not the path, so data moves with the mount for free.
        const entry = { ...mount.entry, path: to };
        others.set(to, instantiate(entry));
        await commit([kind], others);
      });
    },
    memory() {
      const routes = matchMount.size();
      const views: CacheSize = { entries: 0, bytes: 0, maxEntries: 0, maxBytes: 0 };
      // The sys backend serves one mount, but a backend is counted once however it is shared.
      const backends = new Set<Backend>();
      for (const mount of mounts.values()) {
        backends.add(mount.backend);
        addSize(views, mount.storage.keysSize());
      }
      for (const backend of backends) addSize(routes, backend.routeMemoSize());
      return { routes, views, mounts: mounts.size };
    },
    ttlsOf,
    tune(path, config, description) {
      return exclusive(async () => {
        const mount = mounts.get(path);
        if (!mount) throw new ApiError('ERR_INVALID_MOUNT', `no mount at '${path}'`);
        const entry: MountEntry = {
          ...mount.entry,
          config: { ...mount.entry.config, ...config },
          description: description ?? mount.entry.description,
        };
        const next = new Map(mounts);
        next.set(path, { ...mount, entry });
        await commit([entry.kind], next);
      });
    },
  };
}
