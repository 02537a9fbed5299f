import { ApiError } from '../../errors.js';
import type { CoreServices } from '../services.js';
import type { PathSpec } from '../../framework/backend.js';
import { rawBody, sysData } from './respond.js';

/** Init, unseal, seal, health and leader: the routes that answer in every seal state (api.md §6). */

function statusCode(query: Record<string, string>, name: string, fallback: number): number {
  const value = query[name];
  if (value === undefined || value === '') return fallback;
  const code = Number(value);
  if (!Number.isInteger(code) || code < 200 || code > 599) {
    throw new ApiError('ERR_INVALID_QUERY', `${name} must be an HTTP status code between 200 and 599`);
  }
  return code;
}

export function sealPaths(core: CoreServices): PathSpec[] {
  return [
    {
      pattern: 'init',
      fields: {
        secret_shares: { type: 'int', description: 'How many key shares to split the master key into (1 to 255).', required: true },
        secret_threshold: { type: 'int', description: 'How many shares are needed to unseal (at most secret_shares; more than 1 when there are several shares).', required: true },
      },
      operations: {
        read: async () => sysData({ initialized: core.state() !== 'uninitialized' }),
        update: async (_req, fields) => {
          const result = await core.initialize(fields.get('secret_shares'), fields.get('secret_threshold'));
          return sysData({
            keys: result.keys.map((k) => k.toString('hex')),
            keys_base64: result.keys.map((k) => k.toString('base64')),
            root_token: result.rootToken,
          });
        },
      },
      synopsis: 'Read whether the server is initialized, or initialize it.',
      description: `GET answers {"initialized": bool}. PUT or POST generates the master key, splits it
into secret_shares key shares of which secret_threshold unseal the server, creates the
root token, and answers {"keys", "keys_base64", "root_token"}. The server stays sealed.
These keys are shown once: store them safely.`,
    },
    {
      pattern: 'seal-status',
      operations: { read: async () => sysData({ ...core.sealStatus() }) },
      synopsis: 'Read the seal status and the unseal progress.',
      description: `Answers {"sealed", "t", "n", "progress", "initialized", "version", "storage_type",
"ha_enabled"}: t is the threshold, n the number of shares, progress the shares given
so far in the current unseal attempt.`,
    },
    {
      pattern: 'unseal',
      fields: {
        key: { type: 'string', description: 'One unseal key share, hex or base64.' },
        reset: { type: 'bool', description: 'Discard the shares given so far instead of adding one.' },
        migrate: { type: 'bool', description: 'Accepted for Vault compatibility; has no effect.' },
      },
      operations: {
        update: async (_req, fields) => {
          if (fields.get('reset')) return sysData({ ...core.resetUnseal() });
          if (!fields.has('key')) throw new ApiError('ERR_MISSING_FIELD', "'key' must be specified in the request body");
          return sysData({ ...(await core.unseal(fields.get('key'))) });
        },
      },
      synopsis: 'Submit one unseal key share, or reset the unseal progress.',
      description: `Each call adds one key share; once the threshold is reached the master key is
rebuilt and the server unseals. A share already given in this round is ignored. A
malformed key answers 400 and leaves the progress unchanged; a wrong combination
answers 400 "unseal failed, invalid key" and resets the progress to 0.`,
    },
    {
      pattern: 'seal',
      operations: {
        update: async () => {
          await core.seal();
          return null;
        },
      },
      synopsis: 'Seal the server.',
      description: `Discards the keyring from memory: every route but the seal status ones answers
503 until the server is unsealed again. Needs the root policy or sudo on sys/seal.`,
    },
    {
      pattern: 'health',
      fields: {
        standbyok: { type: 'bool', description: 'Answer 200 (not 429) when this node is a standby.' },
      },
      operations: {
        read: async (req) => {
          const state = core.state();
          const body = {
            initialized: state !== 'uninitialized',
            sealed: state !== 'unsealed',
            standby: false,
            version: core.sealStatus().version,
            server_time_utc: Math.floor(Date.now() / 1000),
          };
          const q = req.query;
          const status =
            state === 'uninitialized' ? statusCode(q, 'uninitcode', 501)
            : state === 'sealed' ? statusCode(q, 'sealedcode', 503)
            : statusCode(q, 'activecode', 200);
          return rawBody(body, status);
        },
      },
      synopsis: 'Check the health of the server, for load balancers.',
      description: `Answers {"initialized", "sealed", "standby", "version", "server_time_utc"} with
200 when active, 429 when standby, 501 when not initialized and 503 when sealed.
Query parameters activecode, standbycode, sealedcode and uninitcode replace those
statuses; standbyok makes a standby answer 200.`,
    },
    {
      pattern: 'leader',
      operations: { read: async () => sysData({ ha_enabled: false, is_self: false, leader_address: '' }) },
      synopsis: 'Read the high-availability status and the current leader.',
      description: 'Answers {"ha_enabled", "is_self", "leader_address"}.',
    },
  ];
}
