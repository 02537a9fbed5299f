import { ApiError } from '../../errors.js';
import type { CoreServices } from '../services.js';
import type { PathSpec } from '../../framework/backend.js';
import { rawBody, sysData } from './respond.js';

/** Init, unseal, seal and health: the routes that answer in every seal state (api.md §6); sys/leader is in ha.ts. */

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
        read: async () => {
          await core.refreshSealConfig();
          return sysData({ initialized: core.state() !== 'uninitialized' });
        },
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
      operations: {
        read: async () => {
          await core.refreshSealConfig();
          return sysData({ ...core.sealStatus() });
        },
      },
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
        standbyok: { type: 'bool', description: 'Answer activecode (not standbycode) when this node is a standby.' },
        perfstandbyok: { type: 'bool', description: 'Answer activecode when this node is a performance standby (never: there are none).' },
        activecode: { type: 'string', description: 'The status when active and unsealed (default 200).' },
        standbycode: { type: 'string', description: 'The status when a standby (default 429).' },
        performancestandbycode: { type: 'string', description: 'The status when a performance standby (default 473; never used: there are none).' },
        sealedcode: { type: 'string', description: 'The status when sealed (default 503).' },
        uninitcode: { type: 'string', description: 'The status when not initialized (default 501).' },
      },
      operations: {
        read: async (req, fields) => {
          const q = req.query;
          // Every override is checked, used or not: a typo fails the probe's setup, not a failover.
          const codes = {
            active: statusCode(q, 'activecode', 200),
            standby: statusCode(q, 'standbycode', 429),
            perfStandby: statusCode(q, 'performancestandbycode', 473),
            sealed: statusCode(q, 'sealedcode', 503),
            uninit: statusCode(q, 'uninitcode', 501),
          };
          const standbyOk = fields.get('standbyok') === true;
          void fields.get('perfstandbyok'); // checked only: a bad value is a 400
          await core.refreshSealConfig();
          const state = core.state();
          const ha = core.ha();
          const standby = ha !== undefined && !ha.active;
          const cluster = core.cluster();
          const body: Record<string, unknown> = {
            initialized: state !== 'uninitialized',
            sealed: state !== 'unsealed',
            standby,
            performance_standby: false,
            replication_performance_mode: 'disabled',
            replication_dr_mode: 'disabled',
            server_time_utc: Math.floor(Date.now() / 1000),
            version: core.sealStatus().version,
          };
          // As Vault: the cluster is named once unsealed (its identity lives in the barrier).
          if (cluster !== undefined) {
            body.cluster_name = cluster.name;
            body.cluster_id = cluster.id;
          }
          const status =
            state === 'uninitialized' ? codes.uninit
            : state === 'sealed' ? codes.sealed
            : standby && !standbyOk ? codes.standby
            : codes.active;
          return rawBody(body, status);
        },
      },
      synopsis: 'Check the health of the server, for load balancers.',
      description: `Answers {"initialized", "sealed", "standby", "performance_standby",
"replication_performance_mode", "replication_dr_mode", "server_time_utc", "version"}
and, once unsealed, "cluster_name" and "cluster_id", with 200 when active, 429 when
standby, 501 when not initialized and 503 when sealed. The query parameters activecode,
standbycode, performancestandbycode, sealedcode and uninitcode replace those statuses;
standbyok (and perfstandbyok) make a standby answer as an active node. HEAD answers the
same status without a body.`,
    },
  ];
}
