import type { CounterChild, Family, GaugeChild, Histogram, HistogramChild } from './registry.js';

/**
 * The two renderings of a registry: the Prometheus text exposition format 0.0.4 (what
 * `sys/metrics?format=prometheus` answers) and a JSON document (its default answer).
 */

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const escapeHelp = (text: string): string => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabel = (text: string): string => text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function labelText(names: readonly string[], values: readonly string[], extra?: [string, string]): string {
  const parts = names.map((name, i) => `${name}="${escapeLabel(values[i]!)}"`);
  if (extra) parts.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/** A family without labels has exactly one series, shown (at 0) before anything counted it. */
function childrenOf<C>(family: Family<C>): Array<{ labels: readonly string[]; child: C }> {
  if (family.labelNames.length === 0) family.child();
  return family.children();
}

export function renderPrometheus(families: ReadonlyArray<Family<unknown>>): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.kind}`);
    if (family.kind === 'histogram') {
      const histogram = family as Histogram;
      for (const { labels, child } of childrenOf(histogram)) {
        let cumulative = 0;
        histogram.buckets.forEach((bound, i) => {
          cumulative += child.counts[i]!;
          lines.push(`${family.name}_bucket${labelText(family.labelNames, labels, ['le', formatNumber(bound)])} ${cumulative}`);
        });
        lines.push(`${family.name}_bucket${labelText(family.labelNames, labels, ['le', '+Inf'])} ${child.count()}`);
        lines.push(`${family.name}_sum${labelText(family.labelNames, labels)} ${formatNumber(child.sum())}`);
        lines.push(`${family.name}_count${labelText(family.labelNames, labels)} ${child.count()}`);
      }
      continue;
    }
    for (const { labels, child } of childrenOf(family as Family<CounterChild | GaugeChild>)) {
      lines.push(`${family.name}${labelText(family.labelNames, labels)} ${formatNumber(child.value())}`);
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

export interface JsonSeries {
  labels: Record<string, string>;
  value?: number;
  /** Histograms: cumulative counts by upper bound, as in the text format. */
  buckets?: Record<string, number>;
  sum?: number;
  count?: number;
}

export interface JsonFamily {
  name: string;
  type: string;
  help: string;
  series: JsonSeries[];
}

export function renderJson(families: ReadonlyArray<Family<unknown>>): JsonFamily[] {
  return families.map((family) => {
    const labelsOf = (values: readonly string[]): Record<string, string> => Object.fromEntries(family.labelNames.map((name, i) => [name, values[i]!]));
    if (family.kind === 'histogram') {
      const histogram = family as Histogram;
      const series = childrenOf(histogram).map(({ labels, child }: { labels: readonly string[]; child: HistogramChild }) => {
        const buckets: Record<string, number> = {};
        let cumulative = 0;
        histogram.buckets.forEach((bound, i) => {
          cumulative += child.counts[i]!;
          buckets[formatNumber(bound)] = cumulative;
        });
        buckets['+Inf'] = child.count();
        return { labels: labelsOf(labels), buckets, sum: child.sum(), count: child.count() };
      });
      return { name: family.name, type: family.kind, help: family.help, series };
    }
    const series = childrenOf(family as Family<CounterChild | GaugeChild>).map(({ labels, child }) => ({ labels: labelsOf(labels), value: child.value() }));
    return { name: family.name, type: family.kind, help: family.help, series };
  });
}
