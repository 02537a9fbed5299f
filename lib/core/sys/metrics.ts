import { ApiError } from '../../errors.js';
import type { PathSpec } from '../../framework/backend.js';
import type { Registry } from '../../metrics/registry.js';
import { PROMETHEUS_CONTENT_TYPE, renderJson, renderPrometheus } from '../../metrics/render.js';
import type { CoreServices } from '../services.js';
import { sysData } from './respond.js';

/**
 * `sys/metrics`: the core's metrics (lib/metrics/server-metrics.ts), in the Prometheus text
 * format with `?format=prometheus`, else as JSON in the sys envelope (Vault answers JSON by
 * default too). Authenticated: the token needs `read` on sys/metrics. The state gauges are
 * computed at scrape time, so no request pays for them.
 */

const TOKEN_INDEX = 'sys/token/accessor/';
/** A core's registry gets its state gauges once, however many sys backends are built over it (specs build several). */
const withGauges = new WeakSet<Registry>();

function stateGauges(core: CoreServices): void {
  const registry = core.metrics.registry;
  if (withGauges.has(registry)) return;
  withGauges.add(registry);
  const unsealed = registry.gauge({ name: 'nomad_core_unsealed', help: '1 when the server is unsealed, 0 when sealed or not initialized.' }).child();
  const initialized = registry.gauge({ name: 'nomad_core_initialized', help: '1 once the server is initialized.' }).child();
  const tokens = registry.gauge({ name: 'nomad_token_count', help: 'Tokens in the token store (0 while sealed: it cannot be read).' }).child();
  const leases = registry.gauge({ name: 'nomad_expire_num_leases', help: 'Live leases, of secrets and of tokens, with an expiry timer armed.' }).child();
  registry.onCollect(async () => {
    const state = core.state();
    unsealed.set(state === 'unsealed' ? 1 : 0);
    initialized.set(state === 'uninitialized' ? 0 : 1);
    leases.set(state === 'unsealed' ? core.expiration.armed() : 0);
    // One index entry per token (tokens.ts): listing it is the count, without reading a token.
    tokens.set(state === 'unsealed' ? (await core.barrier.list(TOKEN_INDEX).catch(() => [])).length : 0);
  });
}

export function metricsPaths(core: CoreServices): PathSpec[] {
  stateGauges(core);
  return [
    {
      pattern: 'metrics',
      fields: {
        format: { type: 'string', description: 'prometheus for the Prometheus text format (0.0.4); empty or json for JSON.' },
      },
      operations: {
        read: async (_req, fields) => {
          const format = String(fields.get('format') ?? '').toLowerCase();
          if (format !== '' && format !== 'json' && format !== 'prometheus') {
            throw new ApiError('ERR_INVALID_QUERY', "format must be 'prometheus' or 'json'");
          }
          const families = await core.metrics.registry.collect();
          if (format === 'prometheus') return { data: null, text: { body: renderPrometheus(families), contentType: PROMETHEUS_CONTENT_TYPE } };
          return sysData({ metrics: renderJson(families) });
        },
      },
      synopsis: 'Read the server metrics, as JSON or in the Prometheus text format.',
      description: `Counters, gauges and histograms: requests by route template (the mount point and
the backend's route pattern, e.g. secret/*path) and status, their latency, the seal
state, the token and lease counts, audit failures, rate-limit rejections and physical
storage operation latencies. ?format=prometheus answers text/plain version 0.0.4 for a
Prometheus scraper (with a token: a scrape job needs read on sys/metrics); without it
the same metrics come as JSON ({"metrics": [{"name","type","help","series"}]}).`,
    },
  ];
}
