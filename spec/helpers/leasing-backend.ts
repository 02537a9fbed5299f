import { defineBackend, type Backend } from '../../lib/framework/backend.js';
import { secretBackends } from '../../lib/backends/registry.js';

/**
 * A test-only secrets engine that hands out revocable, leased credentials and records
 * every revocation, so lease expiry and revocation can be observed from outside.
 */

export interface LeasingRecorder {
  issued: string[];
  revoked: string[];
}

export function registerLeasingBackend(ttlSeconds = 60): { recorder: LeasingRecorder; unregister(): void } {
  const recorder: LeasingRecorder = { issued: [], revoked: [] };
  const factory = (): Backend =>
    defineBackend({
      type: 'leasing',
      help: 'Test backend issuing leased credentials.',
      paths: [
        {
          pattern: 'creds/:name',
          fields: { name: { type: 'string', description: 'Role name.' }, ttl: { type: 'duration', description: 'Lease TTL.' } },
          operations: {
            read: async (_req, fields) => {
              const username = `${fields.get<string>('name')}-${recorder.issued.length + 1}`;
              recorder.issued.push(username);
              const ttl = fields.get<number | undefined>('ttl') ?? ttlSeconds;
              return { data: { username }, secret: { ttl, renewable: true, revocable: true, internal: { username } } };
            },
          },
          synopsis: 'Issue a leased credential.',
          description: 'Every read issues a new credential with a lease.',
        },
      ],
      revokeLease: async (data) => {
        recorder.revoked.push(String(data.username));
      },
    });
  secretBackends.leasing = factory;
  return { recorder, unregister: () => delete secretBackends.leasing };
}
