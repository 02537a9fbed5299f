import type { ListenerConfig, ServerConfig } from './config.js';
import { createCore, type Core } from './core/core.js';
import { createRequestHandler } from './http/handler.js';
import type { JsonLimits } from './http/json-limits.js';
import { startListener, type Listener } from './http/listener.js';
import { createLogger, type Logger } from './log.js';
import { createCachedStorage } from './storage/cache.js';
import { createStorage, isDurableStorage } from './storage/registry.js';
import type { ClosableStorage } from './storage/storage.js';

/** Wires config → storage → core → listeners, and takes them down in the reverse order. */

export interface ServerOptions {
  config: ServerConfig;
  logger?: Logger;
  /** Use this storage, as is (no read cache), instead of building the configured one (tests, fault injection). */
  storage?: ClosableStorage;
  /** Dev mode: initialise with one key share and unseal before serving (api.md §16). */
  dev?: { rootTokenId?: string };
  onInternalError?: (err: unknown, requestId: string) => void;
}

export interface DevCredentials {
  unsealKey: string;
  rootToken: string;
}

export interface RunningServer {
  core: Core;
  /** The first listener's URL. */
  url: string;
  urls: string[];
  /** Present in dev mode. */
  dev?: DevCredentials;
  /** Stop accepting, finish in-flight requests, seal, release the storage. */
  close(): Promise<void>;
}

export async function createServer(options: ServerOptions): Promise<RunningServer> {
  const { config } = options;
  const logger = options.logger ?? createLogger(config.logLevel);
  const storage = options.storage ?? (await buildStorage(config));
  let core: Core;
  let dev: DevCredentials | undefined;
  try {
    core = createCore({ physical: storage, storageType: config.storage.type, config, logger });
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
  try {
    for (const listenerConfig of config.listeners) {
      const handler = createRequestHandler({
        core,
        logger,
        maxRequestSize: listenerConfig.maxRequestSize,
        jsonLimits: jsonLimitsOf(listenerConfig),
        onInternalError: options.onInternalError,
      });
      listeners.push(await startListener(listenerConfig, handler));
    }
  } catch (err) {
    await Promise.all(listeners.map((l) => l.close()));
    await storage.close?.();
    throw err;
  }
  for (const listener of listeners) logger.info('listening', { url: listener.url });

  let closing: Promise<void> | undefined;
  return {
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
  };
}

function jsonLimitsOf(listener: ListenerConfig): JsonLimits {
  return {
    maxDepth: listener.maxJsonDepth,
    maxStringLength: listener.maxJsonStringValueLength,
    maxObjectEntries: listener.maxJsonObjectEntryCount,
    maxArrayElements: listener.maxJsonArrayElementCount,
  };
}

/**
 * The configured storage; a durable one gets the read cache (below the barrier, so it holds
 * ciphertext only) unless `disable_cache` is set. In-memory storage is a cache already.
 */
async function buildStorage(config: ServerConfig): Promise<ClosableStorage> {
  const storage = await createStorage(config.storage.type, config.storage.options);
  return config.disableCache || !isDurableStorage(config.storage.type) ? storage : createCachedStorage(storage);
}
