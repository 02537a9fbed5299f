/**
 * A tiny metrics registry: counters, gauges and histograms with fixed buckets, each a family
 * of children by label values. A child is resolved once (a Map lookup that builds a key) and
 * then kept by its user, so counting on a hot path is a number addition and, for a
 * histogram, a short loop over its bucket bounds: nothing is allocated per observation.
 * Label cardinality is bounded per family: past `maxChildren`, new label values share one
 * overflow child whose every label reads `_other`, so no input can grow the registry.
 */

export type MetricKind = 'counter' | 'gauge' | 'histogram';

export interface MetricOptions {
  name: string;
  help: string;
  labelNames?: readonly string[];
  /** Children beyond this share the `_other` child (default 1000). */
  maxChildren?: number;
}

export interface CounterChild {
  inc(by?: number): void;
  value(): number;
}

export interface GaugeChild {
  set(value: number): void;
  inc(by?: number): void;
  dec(by?: number): void;
  value(): number;
}

export interface HistogramChild {
  /** `weight`: how many observations this one stands for (a sampled one: more than 1). */
  observe(value: number, weight?: number): void;
  /** Per bucket (not cumulative), the last slot for values above every bound. */
  readonly counts: Float64Array;
  sum(): number;
  count(): number;
}

export interface Family<C> {
  readonly kind: MetricKind;
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  /** The child for these label values (as many as labelNames), made on first use. */
  child(...labelValues: string[]): C;
  /** Every child with its label values, in creation order. */
  children(): Array<{ labels: readonly string[]; child: C }>;
}

export interface Histogram extends Family<HistogramChild> {
  readonly buckets: readonly number[];
}

/** Called before each rendering: sets gauges that are computed at scrape time. */
export type Collector = () => void | Promise<void>;

export interface Registry {
  counter(options: MetricOptions): Family<CounterChild>;
  gauge(options: MetricOptions): Family<GaugeChild>;
  histogram(options: MetricOptions & { buckets: readonly number[] }): Histogram;
  onCollect(collector: Collector): void;
  /** Runs the collectors, then lists the families in registration order. */
  collect(): Promise<ReadonlyArray<Family<unknown>>>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
export const OVERFLOW_LABEL = '_other';

function makeFamily<C>(kind: MetricKind, options: MetricOptions, make: () => C): Family<C> {
  const labelNames = options.labelNames ?? [];
  if (!NAME.test(options.name)) throw new Error(`bad metric name ${options.name}`);
  for (const label of labelNames) if (!LABEL.test(label) || label.startsWith('__') || label === 'le') throw new Error(`bad label name ${label}`);
  const maxChildren = options.maxChildren ?? 1000;
  const byKey = new Map<string, { labels: readonly string[]; child: C }>();
  let overflow: { labels: readonly string[]; child: C } | undefined;
  return {
    kind,
    name: options.name,
    help: options.help,
    labelNames,
    child(...labelValues) {
      if (labelValues.length !== labelNames.length) throw new Error(`${options.name} takes ${labelNames.length} label values`);
      const key = labelValues.join('\u0000');
      const known = byKey.get(key);
      if (known !== undefined) return known.child;
      if (byKey.size >= maxChildren) {
        overflow ??= { labels: labelNames.map(() => OVERFLOW_LABEL), child: make() };
        return overflow.child;
      }
      const entry = { labels: Object.freeze([...labelValues]), child: make() };
      byKey.set(key, entry);
      return entry.child;
    },
    children() {
      const all = [...byKey.values()];
      return overflow ? [...all, overflow] : all;
    },
  };
}

function makeCounter(): CounterChild {
  let total = 0;
  return {
    inc(by = 1) {
      // A counter only goes up (Prometheus' rule); a negative step is a caller's bug.
      if (by > 0) total += by;
    },
    value: () => total,
  };
}

function makeGauge(): GaugeChild {
  let current = 0;
  return {
    set(value) {
      current = value;
    },
    inc(by = 1) {
      current += by;
    },
    dec(by = 1) {
      current -= by;
    },
    value: () => current,
  };
}

function makeHistogram(bounds: readonly number[]): HistogramChild {
  const counts = new Float64Array(bounds.length + 1);
  // The running sum and count live in a typed array: a fractional number kept in a closure
  // variable is a fresh heap object on every write, which a hot path would pay for.
  const totals = new Float64Array(2);
  const last = bounds.length;
  return {
    counts,
    observe(value, weight = 1) {
      let i = 0;
      while (i < last && value > bounds[i]!) i++;
      counts[i]! += weight;
      totals[0]! += value * weight;
      totals[1]! += weight;
    },
    sum: () => totals[0]!,
    count: () => totals[1]!,
  };
}

export function createRegistry(): Registry {
  const families: Array<Family<unknown>> = [];
  const names = new Set<string>();
  const collectors: Collector[] = [];
  const add = <F extends Family<unknown>>(family: F): F => {
    if (names.has(family.name)) throw new Error(`metric ${family.name} is registered twice`);
    names.add(family.name);
    families.push(family);
    return family;
  };
  return {
    counter: (options) => add(makeFamily('counter', options, makeCounter)),
    gauge: (options) => add(makeFamily('gauge', options, makeGauge)),
    histogram(options) {
      const buckets = [...options.buckets];
      for (let i = 1; i < buckets.length; i++) if (!(buckets[i]! > buckets[i - 1]!)) throw new Error(`${options.name}: buckets must increase`);
      if (buckets.length === 0 || !buckets.every(Number.isFinite)) throw new Error(`${options.name}: buckets must be finite numbers`);
      return add(Object.assign(makeFamily('histogram', options, () => makeHistogram(buckets)), { buckets }));
    },
    onCollect(collector) {
      collectors.push(collector);
    },
    async collect() {
      for (const collector of collectors) await collector();
      return families;
    },
  };
}
