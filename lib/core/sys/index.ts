import type { CoreServices } from '../services.js';
import { defineBackend, type Backend } from '../../framework/backend.js';
import { buildOpenApi } from '../../framework/openapi.js';
import { VERSION } from '../../version.js';
import { auditPaths } from './audit.js';
import { haPaths } from './ha.js';
import { keyPaths } from './keys.js';
import { leasePaths } from './leases.js';
import { metricsPaths } from './metrics.js';
import { capabilityPaths, policyPaths } from './policy.js';
import { quotaPaths } from './quotas.js';
import { rawPaths } from './raw.js';
import { rekeyPaths } from './rekey.js';
import { mountPaths } from './mounts.js';
import { rawBody } from './respond.js';
import { sealPaths } from './seal.js';
import { snapshotPaths } from './snapshot.js';

/** The `sys/` backend: control of the server itself. One file per group of routes. */
export function createSysBackend(core: CoreServices): Backend {
  return defineBackend({
    type: 'system',
    help: `The system backend controls nomad-api itself: initialization and the seal, the barrier's
encryption key, the mounted secrets engines and auth methods, and introspection.
It is always mounted at sys/ and cannot be moved.`,
    unauthenticated: ['init', 'seal-status', 'unseal', 'health', 'leader', 'rekey/*'],
    // api.md §9: managing mounts and auth methods, sealing and rotating need sudo.
    root: ['seal', 'step-down', 'rotate', 'mounts/*', 'auth/*', 'remount', 'revoke-prefix/*', 'leases/revoke-prefix/*', 'leases/lookup/*', 'raw/*', 'audit', 'audit/*', 'audit-chain/*', 'storage/snapshot', 'storage/snapshot-force'],
    paths: [
      ...sealPaths(core),
      ...haPaths(core),
      ...keyPaths(core),
      ...mountPaths(core, 'secret'),
      ...mountPaths(core, 'auth'),
      ...policyPaths(core),
      ...capabilityPaths(core),
      ...leasePaths(core),
      ...rekeyPaths(core),
      ...quotaPaths(core),
      ...metricsPaths(core),
      ...auditPaths(core),
      ...snapshotPaths(core),
      ...(core.config.rawStorageEndpoint ? rawPaths(core) : []),
      {
        pattern: 'internal/specs/openapi',
        operations: {
          read: async () => {
            const mounted = [...core.mounts.list('secret'), ...core.mounts.list('auth')].map((entry) => ({
              path: entry.path,
              spec: core.mounts.get(entry.path)!.backend.spec,
            }));
            return rawBody(buildOpenApi(mounted, VERSION));
          },
        },
        synopsis: 'Read the OpenAPI 3 document of every mounted route.',
        description: `Generated from the same route declarations as ?help=1, for every backend
mounted right now (sys/ included).`,
      },
    ],
  });
}
