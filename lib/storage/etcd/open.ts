import { createEtcdClient } from './client.js';
import { parseEtcdOptions } from './options.js';
import { createEtcdStorage, type EtcdStorage } from './storage.js';

/** `storage "etcd"` from its configuration options (registry.ts). */
export async function openEtcdStorage(options: Readonly<Record<string, string>>): Promise<EtcdStorage> {
  const config = parseEtcdOptions(options);
  const client = createEtcdClient({ endpoints: config.endpoints, requestTimeoutMs: config.requestTimeoutMs, tls: config.tls });
  return createEtcdStorage({ client, prefix: config.prefix, haEnabled: config.haEnabled, lockTtlSeconds: config.lockTtlSeconds });
}
