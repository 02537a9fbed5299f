import { defaultConfig, type ServerConfig } from '../../lib/config.js';
import { authBackends, secretBackends } from '../../lib/backends/registry.js';
import { createCore, type Core } from '../../lib/core/core.js';
import type { Operation, Response } from '../../lib/core/request.js';
import { silentLogger } from '../../lib/log.js';
import { createInmemStorage } from '../../lib/storage/inmem.js';
import type { Storage } from '../../lib/storage/storage.js';

/** An in-process core (no HTTP), initialised and unsealed: for specs that drive time with fake timers. */

export interface TestCore {
  core: Core;
  physical: Storage;
  rootToken: string;
  unsealKey: string;
  request(operation: Operation, path: string, token: string, data?: Record<string, unknown>): Promise<Response | null>;
}

export async function startCore(config: Partial<ServerConfig> = {}): Promise<TestCore> {
  const physical = createInmemStorage();
  const core = createCore({
    physical,
    storageType: 'inmem',
    config: { ...defaultConfig(), ...config },
    logger: silentLogger,
    backends: { secret: secretBackends, auth: authBackends },
  });
  await core.start();
  const { keys, rootToken } = await core.initialize(1, 1);
  const unsealKey = keys[0]!.toString('hex');
  await core.unseal(unsealKey);
  return {
    core,
    physical,
    rootToken,
    unsealKey,
    request: (operation, path, token, data = {}) =>
      core.handleRequest({ id: 'test', operation, path, data, query: {}, clientToken: token, remoteAddress: '127.0.0.1' }),
  };
}
