import type { CoreServices } from '../services.js';
import type { PathSpec } from '../../framework/backend.js';
import { sysData } from './respond.js';

/** `sys/rekey/*`: replace the master key and its shares; guarded by the current unseal keys. */
export function rekeyPaths(core: CoreServices): PathSpec[] {
  return [
    {
      pattern: 'rekey/init',
      fields: {
        secret_shares: { type: 'int', description: 'How many shares the new master key is split into.', required: true },
        secret_threshold: { type: 'int', description: 'How many of the new shares unseal.', required: true },
      },
      operations: {
        read: async () => sysData({ ...(await core.rekey.status()) }),
        update: async (_req, fields) => sysData({ ...(await core.rekey.start(fields.get('secret_shares'), fields.get('secret_threshold'))) }),
        delete: async () => {
          core.rekey.cancel();
          return null;
        },
      },
      synopsis: 'Start, read or cancel a rekey attempt.',
      description: `PUT {"secret_shares", "secret_threshold"} starts an attempt and answers its status with a
nonce; GET answers {"started", "nonce", "t", "n", "progress", "required"} (t and n of the
new configuration, required = the current threshold); DELETE cancels it.`,
    },
    {
      pattern: 'rekey/update',
      fields: {
        key: { type: 'string', description: 'One current unseal key share, hex or base64.' },
        nonce: { type: 'string', description: 'The nonce of the attempt, from rekey/init.', required: true },
      },
      operations: {
        update: async (_req, fields) => {
          const result = await core.rekey.update(fields.get('key'), fields.get('nonce'));
          const body: Record<string, unknown> = { complete: result.complete, nonce: result.nonce, progress: result.progress, required: result.required };
          if (result.keys) {
            body.keys = result.keys.map((k) => k.toString('hex'));
            body.keys_base64 = result.keys.map((k) => k.toString('base64'));
            core.logger.info('rekeyed', { shares: result.keys.length });
          }
          return sysData(body);
        },
      },
      synopsis: 'Give one current unseal key share to the rekey attempt.',
      description: `Once the current threshold of shares is in, the master key is replaced and the
answer holds the new "keys" (hex) and "keys_base64" — shown once, so store them safely.
From then on the old keys no longer unseal. A wrong combination answers 400 and resets
the progress.`,
    },
  ];
}
