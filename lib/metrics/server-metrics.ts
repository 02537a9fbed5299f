import { createRegistry, type CounterChild, type HistogramChild, type Registry } from './registry.js';

/**
 * The server's own metrics, one set per core. Hot counters are resolved once and kept:
 * recording an answered request is two Map lookups on interned strings (the mount path and
 * the backend's route pattern, never the raw request path), one addition and one bucket
 * search. Route templates are bounded by the mount table and the backends' route tables.
 */

/** Seconds; from half a millisecond (a cached read) to ten seconds (a stuck storage). */
export const LATENCY_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Requests that matched no mount (a 401 or 404 before routing, or a framing error). */
export const UNROUTED = 'unrouted';

export interface RouteSlot {
  readonly route: string;
  /** One answered request with this status. */
  count(status: number): void;
  /** One timed request's latency, standing for `weight` requests (sampling: metrics/clock.ts). */
  time(seconds: number, weight: number): void;
}

export interface StorageTimers {
  get: HistogramChild;
  put: HistogramChild;
  delete: HistogramChild;
  list: HistogramChild;
}

export interface ServerMetrics {
  readonly registry: Registry;
  /** The slot of a route template: mountPath + pattern, the mount path alone, or UNROUTED. */
  routeSlot(mountPath: string | undefined, pattern: string | undefined): RouteSlot;
  /** For the audit broker: one request no audit device could record. */
  readonly auditFailures: CounterChild;
  /** Requests refused with 429 by a rate-limit quota. */
  readonly rateLimited: CounterChild;
  readonly storage: StorageTimers;
}

export function createServerMetrics(registry: Registry = createRegistry()): ServerMetrics {
  const requests = registry.counter({
    name: 'nomad_http_requests_total',
    help: 'Requests answered, by route template (mount path and backend route pattern) and status code.',
    labelNames: ['route', 'status'],
    maxChildren: 4000,
  });
  const durations = registry.histogram({
    name: 'nomad_http_request_duration_seconds',
    help: 'Time from a request reaching the server to its answer being written, by route template. Fast-path answers are sampled (one in 8 on average, each weighing 8).',
    labelNames: ['route'],
    buckets: LATENCY_BUCKETS,
  });
  const rateLimited = registry.counter({ name: 'nomad_rate_limit_rejections_total', help: 'Requests refused with 429 by a rate-limit quota.' }).child();
  const auditFailures = registry.counter({ name: 'nomad_audit_failures_total', help: 'Requests refused because no enabled audit device could record them.' }).child();
  const storageFamily = registry.histogram({
    name: 'nomad_storage_operation_duration_seconds',
    help: 'Physical storage operations (below the barrier: ciphertext), by operation.',
    labelNames: ['operation'],
    buckets: LATENCY_BUCKETS,
  });
  const storage: StorageTimers = {
    get: storageFamily.child('get'),
    put: storageFamily.child('put'),
    delete: storageFamily.child('delete'),
    list: storageFamily.child('list'),
  };

  const makeSlot = (route: string): RouteSlot => {
    const histogram = durations.child(route);
    // By status code, 100 to 599: an array read, not a Map lookup, on every request.
    const byStatus: Array<CounterChild | undefined> = new Array<CounterChild | undefined>(500).fill(undefined);
    return {
      route,
      count(status) {
        if (status < 100 || status > 599) {
          requests.child(route, String(status)).inc();
          return;
        }
        const i = status - 100;
        let counter = byStatus[i];
        if (counter === undefined) {
          counter = requests.child(route, String(status));
          byStatus[i] = counter;
        }
        counter.inc();
      },
      time: (seconds, weight) => histogram.observe(seconds, weight),
    };
  };
  const unrouted = makeSlot(UNROUTED);
  // mount path → (pattern, or '' for "no pattern matched") → slot.
  const slots = new Map<string, Map<string, RouteSlot>>();

  return {
    registry,
    routeSlot(mountPath, pattern) {
      if (mountPath === undefined) return unrouted;
      let byPattern = slots.get(mountPath);
      if (byPattern === undefined) {
        byPattern = new Map();
        slots.set(mountPath, byPattern);
      }
      const key = pattern ?? '';
      let slot = byPattern.get(key);
      if (slot === undefined) {
        slot = makeSlot(mountPath + key);
        byPattern.set(key, slot);
      }
      return slot;
    },
    auditFailures,
    rateLimited,
    storage,
  };
}
