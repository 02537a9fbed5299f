import type { Server } from 'node:http';
import type { ServerConfig } from './config.js';
import { authBackends, secretBackends } from './backends/registry.js';
import { createCore, type BackendRegistries, type Core, type CoreHaOptions } from './core/core.js';
import { resolveConfig, type ConfigDocument } from './config-document.js';
import { createRequestHandler, type HandlerOptions } from './http/handler.js';
import { jsonLimitsOf } from './http/json-limits.js';
import { startListener, type Listener } from './http/listener.js';
import { createLogger, type Logger } from './log.js';
import { createCachedStorage, type CachedStorage } from './storage/cache.js';
import { randomUUID } from './crypto/random.js';
import { isHaStorage, type HaStorage } from './storage/ha.js';
import { createStorage, isDurableStorage } from './storage/registry.js';
import type { CacheSize, ClosableStorage } from './storage/storage.js';
import { createReloader, type ReloadableListener, type ReloadReport } from './reload.js';
import { sealControls, type SealControls } from './seal-controls.js';

/** Wires config → storage → core → listeners, and takes them down in the reverse order. */

export interface ServerOptions {
  /**
   * An object in the shape of a JSON config file (`{ listener: { tcp: {...} }, storage: { file: {...} } }`),
   * checked as the file would be (a ConfigError says what is wrong), or a ServerConfig parsed already.
   */
  config: ServerConfig | ConfigDocument;
  /** Default: one writing to stderr at the config's `log_level`. A reload sets its level. */
  logger?: Logger;
  /** Use this storage, as is (no read cache), instead of building the configured one (tests, fault injection). */
  storage?: ClosableStorage;
  /** Dev mode: initialise with one key share and unseal before serving (api.md §16). */
  dev?: { rootTokenId?: string };
  onInternalError?: (err: unknown, requestId: string) => void;
  /** The mountable backend types; default: lib/backends/registry.ts. Tests add their own. */
  backends?: BackendRegistries;
}

export interface DevCredentials {
  unsealKey: string;
  rootToken: string;
}

/**
 * What the process holds, sizes only: no key, path, token or value ever appears in it, so it
 * may be logged as is (README, "Memory bounds").
 */
export interface MemoryReport {
  /** Every cache and memo that grows with traffic, by name: entries and estimated bytes, with their bounds. */
  caches: Record<string, CacheSize>;
  /** Tables sized by what is stored (lease timers, policies, mounts), not capped: counts. */
  data: Record<string, number>;
  /** Open connections, in all and per listener (in configuration order). */
  connections: { total: number; perListener: number[] };
  /** process.memoryUsage(), in bytes. */
  rss: number;
  heapUsed: number;
}

/**
 * A running server. It installs no signal handler and never exits the process: `close()` it
 * and nothing of it is left (no timer, socket or handle keeps the event loop alive).
 */
export interface RunningServer extends SealControls {
  core: Core;
  /** The first listener's URL. */
  url: string;
  urls: string[];
  /** Present in dev mode. */
  dev?: DevCredentials;
  /** Stop accepting, finish in-flight requests, seal, release the storage. */
  close(): Promise<void>;
  /** Cheap enough to call on demand: counters the caches keep, and one process.memoryUsage(). */
  memory(): MemoryReport;
  /** The configuration in force: the startup one with every reload applied. */
  readonly config: ServerConfig;
  /**
   * Applies a new configuration where it can change while running (lib/reload.ts): TLS files,
   * `log_level`, listener limits; the rest is logged at warn and left. Throws a ConfigError,
   * changing nothing, when the configuration or a file it names is bad.
   */
  reload(config: ServerConfig | ConfigDocument): ReloadReport;
}

export async function createServer(options: ServerOptions): Promise<RunningServer> {
  const config = resolveConfig(options.config);
  const logger = options.logger ?? createLogger(config.logLevel, undefined, config.logFormat);
  // A storage handed in is used as it is: only a read cache built here is reported.
  const { storage, readCache, physical } = options.storage ? { storage: options.storage, readCache: undefined, physical: options.storage } : await buildStorage(config);
  // Where standbys send clients (api.md §15): api_addr, else the first listener's URL once it listens.
  let advertised = config.apiAddr ?? '';
  let core: Core;
  let dev: DevCredentials | undefined;
  try {
    core = createCore({
      physical: storage,
      storageType: config.storage.type,
      config,
      logger,
      backends: options.backends ?? { secret: secretBackends, auth: authBackends },
      ha: isHaStorage(physical) ? haOptionsFor(physical, () => advertised, () => readCache?.purge()) : undefined,
    });
    await core.start();
    if (options.dev) {
      const { keys, rootToken } = await core.initialize(1, 1, { rootTokenId: options.dev.rootTokenId });
      const unsealKey = keys[0]!.toString('base64');
      await core.unseal(unsealKey);
      dev = { unsealKey, rootToken };
    }
  } catch (err) {
    // Releases the storage's lock, so a corrected restart is not refused by our own leftovers.
    await storage.close?.();
    throw err;
  }

  const listeners: Listener[] = [];
  const reloadable: ReloadableListener[] = [];
  const open: Array<() => number> = [];
  try {
    for (const listenerConfig of config.listeners) {
      // Kept: the handler reads its limits from this object, which a reload updates.
      const handlerOptions: HandlerOptions = {
        core,
        logger,
        maxRequestSize: listenerConfig.maxRequestSize,
        jsonLimits: jsonLimitsOf(listenerConfig),
        onInternalError: options.onInternalError,
      };
      const listener = await startListener(listenerConfig, createRequestHandler(handlerOptions));
      listeners.push(listener);
      reloadable.push({ listener, handler: handlerOptions });
      // Before any other await: no connection can have been accepted yet.
      open.push(countConnections(listener.server));
    }
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()));
    await storage.close?.();
    throw err;
  }
  for (const listener of listeners) logger.info('listening', { url: listener.url });
  if (advertised === '') {
    advertised = listeners[0]!.url;
    // Standbys would send clients to an address nobody else can reach.
    if (core.haEnabled && /\/\/(0\.0\.0\.0|\[::\])[:/]/.test(advertised)) logger.warn('api_addr is not set and the listener is on a wildcard address: standbys will redirect clients to it; set api_addr', { url: advertised });
  }

  const reloader = createReloader(config, logger, reloadable);
  let closing: Promise<void> | undefined;
  return {
    ...sealControls(core),
    get config() {
      return reloader.current();
    },
    reload: reloader.reload,
    core,
    url: listeners[0]!.url,
    urls: listeners.map((l) => l.url),
    dev,
    close() {
      closing ??= (async () => {
        await Promise.all(listeners.map((l) => l.close()));
        try {
          await core.seal();
        } finally {
          await storage.close?.();
        }
      })();
      return closing;
    },
    memory() {
      const { caches, data } = core.memory();
      const cached = readCache?.memory();
      const perListener = open.map((count) => count());
      const usage = process.memoryUsage();
      return {
        caches: cached ? { ...caches, 'storage cache': cached.values, 'storage write stamps': cached.stamps } : caches,
        data,
        connections: { total: perListener.reduce((a, b) => a + b, 0), perListener },
        rss: usage.rss,
        heapUsed: usage.heapUsed,
      };
    },
  };
}

/**
 * Open connections, counted as they come and go: node's getConnections answers through a
 * callback only. For TLS, the TCP socket is counted, handshake or not.
 */
function countConnections(server: Server): () => number {
  let open = 0;
  server.on('connection', (socket) => {
    open++;
    socket.once('close', () => open--);
  });
  return () => open;
}

/**
 * The configured storage; a durable one gets the read cache (below the barrier, so it holds
 * ciphertext only) unless `disable_cache` is set. In-memory storage is a cache already.
 */
async function buildStorage(config: ServerConfig): Promise<{ storage: ClosableStorage; readCache?: CachedStorage; physical: ClosableStorage }> {
  const storage = await createStorage(config.storage.type, config.storage.options);
  if (config.disableCache || !isDurableStorage(config.storage.type)) return { storage, physical: storage };
  const readCache = createCachedStorage(storage);
  return { storage: readCache, readCache, physical: storage };
}

/** Active/standby on a storage that offers the HA lock; the lock's holder id is new per process. */
function haOptionsFor(storage: HaStorage, apiAddr: () => string, purgeCache: () => void): CoreHaOptions {
  const holderId = randomUUID();
  return { lock: (value) => storage.haLock({ holderId, value }), apiAddr, purgeCache };
}
