import { describe, expect, it } from 'vitest';
import { createRegistry, OVERFLOW_LABEL } from '../../lib/metrics/registry.js';
import { renderJson, renderPrometheus } from '../../lib/metrics/render.js';
import { SAMPLE_MEAN, sampledTicks, secondsSince, ticks, UNTIMED } from '../../lib/metrics/clock.js';

/** The registry and its two renderings, without a server. */

describe('the registry', () => {
  it('counts by label values, and a child is the same object every time', async () => {
    const registry = createRegistry();
    const requests = registry.counter({ name: 'x_requests_total', help: 'Requests.', labelNames: ['route', 'status'] });
    const ok = requests.child('secret/*path', '200');
    ok.inc();
    ok.inc(2);
    requests.child('secret/*path', '404').inc();
    expect(requests.child('secret/*path', '200')).toBe(ok);
    expect(ok.value()).toBe(3);
    // A counter never goes down.
    ok.inc(-5);
    expect(ok.value()).toBe(3);
    expect(requests.children().map((c) => [c.labels, c.child.value()])).toEqual([
      [['secret/*path', '200'], 3],
      [['secret/*path', '404'], 1],
    ]);
    expect(await registry.collect()).toEqual([requests]);
  });

  it('puts histogram observations in the first bucket whose bound is not below them', () => {
    const registry = createRegistry();
    const h = registry.histogram({ name: 'x_seconds', help: 'Latency.', buckets: [0.1, 1, 10] }).child();
    for (const v of [0.05, 0.1, 0.5, 1, 3, 100]) h.observe(v);
    expect([...h.counts]).toEqual([2, 2, 1, 1]);
    expect(h.count()).toBe(6);
    expect(h.sum()).toBeCloseTo(104.65);
  });

  it('weighs a sampled observation as the many it stands for', () => {
    const registry = createRegistry();
    const h = registry.histogram({ name: 'x_seconds', help: 'Latency.', buckets: [1] }).child();
    h.observe(0.5, 8);
    h.observe(2);
    expect([...h.counts]).toEqual([8, 1]);
    expect([h.count(), h.sum()]).toEqual([9, 6]);
  });

  it('bounds label cardinality: past maxChildren, new values share the _other child', () => {
    const registry = createRegistry();
    const family = registry.counter({ name: 'x_total', help: 'X.', labelNames: ['path'], maxChildren: 3 });
    for (let i = 0; i < 100; i++) family.child(`p${i}`).inc();
    const children = family.children();
    expect(children).toHaveLength(4);
    expect(children[3]!.labels).toEqual([OVERFLOW_LABEL]);
    expect(children[3]!.child.value()).toBe(97);
    // Known values keep their own child.
    family.child('p1').inc();
    expect(family.child('p1').value()).toBe(2);
  });

  it('refuses bad names, wrong label counts, duplicates and bad buckets', () => {
    const registry = createRegistry();
    expect(() => registry.counter({ name: 'bad-name', help: '' })).toThrow(/bad metric name/);
    expect(() => registry.counter({ name: 'ok', help: '', labelNames: ['le'] })).toThrow(/bad label/);
    const family = registry.counter({ name: 'x_total', help: 'X.', labelNames: ['a'] });
    expect(() => family.child()).toThrow(/takes 1 label/);
    expect(() => registry.gauge({ name: 'x_total', help: 'again' })).toThrow(/twice/);
    expect(() => registry.histogram({ name: 'h', help: '', buckets: [1, 1] })).toThrow(/increase/);
    expect(() => registry.histogram({ name: 'h2', help: '', buckets: [] })).toThrow(/finite/);
  });

  it('runs collectors before listing, so computed gauges are current', async () => {
    const registry = createRegistry();
    const gauge = registry.gauge({ name: 'x_live', help: 'Live.' }).child();
    let n = 0;
    registry.onCollect(async () => gauge.set(++n * 10));
    await registry.collect();
    await registry.collect();
    expect(gauge.value()).toBe(20);
  });
});

describe('the Prometheus text format (0.0.4)', () => {
  it('renders HELP, TYPE, samples, escaped labels and cumulative buckets', async () => {
    const registry = createRegistry();
    registry.counter({ name: 'a_total', help: 'Line one\nback\\slash.', labelNames: ['route'] }).child('say "hi"\n\\').inc(2);
    registry.gauge({ name: 'b_unsealed', help: 'Unsealed.' }).child().set(1);
    const h = registry.histogram({ name: 'c_seconds', help: 'Latency.', labelNames: ['op'], buckets: [0.5, 2] });
    h.child('get').observe(0.25);
    h.child('get').observe(1);
    h.child('get').observe(3);
    registry.counter({ name: 'd_total', help: 'Never counted.' });
    expect(renderPrometheus(await registry.collect())).toBe(
      [
        '# HELP a_total Line one\\nback\\\\slash.',
        '# TYPE a_total counter',
        'a_total{route="say \\"hi\\"\\n\\\\"} 2',
        '# HELP b_unsealed Unsealed.',
        '# TYPE b_unsealed gauge',
        'b_unsealed 1',
        '# HELP c_seconds Latency.',
        '# TYPE c_seconds histogram',
        'c_seconds_bucket{op="get",le="0.5"} 1',
        'c_seconds_bucket{op="get",le="2"} 2',
        'c_seconds_bucket{op="get",le="+Inf"} 3',
        'c_seconds_sum{op="get"} 4.25',
        'c_seconds_count{op="get"} 3',
        // A family without labels shows its one series at 0 before anything counted it.
        '# HELP d_total Never counted.',
        '# TYPE d_total counter',
        'd_total 0',
        '',
      ].join('\n'),
    );
  });

  it('writes non-finite values the way Prometheus reads them', async () => {
    const registry = createRegistry();
    const g = registry.gauge({ name: 'g', help: 'G.', labelNames: ['k'] });
    g.child('inf').set(Infinity);
    g.child('ninf').set(-Infinity);
    g.child('nan').set(NaN);
    expect(renderPrometheus(await registry.collect())).toContain('g{k="inf"} +Inf\ng{k="ninf"} -Inf\ng{k="nan"} NaN\n');
  });

  it('renders the same data as JSON', async () => {
    const registry = createRegistry();
    registry.counter({ name: 'a_total', help: 'A.', labelNames: ['s'] }).child('200').inc();
    registry.histogram({ name: 'h', help: 'H.', buckets: [1] }).child().observe(2);
    expect(renderJson(await registry.collect())).toEqual([
      { name: 'a_total', type: 'counter', help: 'A.', series: [{ labels: { s: '200' }, value: 1 }] },
      { name: 'h', type: 'histogram', help: 'H.', series: [{ labels: {}, buckets: { '1': 0, '+Inf': 1 }, sum: 2, count: 1 }] },
    ]);
  });
});

describe('the request clock', () => {
  it('measures elapsed time in seconds from small-integer readings', async () => {
    const start = ticks();
    expect(Number.isInteger(start) && start >= 0 && start < 2 ** 30).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 30));
    const seconds = secondsSince(start);
    expect(seconds).toBeGreaterThanOrEqual(0.025);
    expect(seconds).toBeLessThan(5);
  });

  it('samples about one call in SAMPLE_MEAN, at irregular gaps', () => {
    const gaps = new Set<number>();
    let sampled = 0;
    let since = 0;
    const calls = SAMPLE_MEAN * 10_000;
    for (let i = 0; i < calls; i++) {
      since++;
      if (sampledTicks() !== UNTIMED) {
        sampled++;
        gaps.add(since);
        since = 0;
      }
    }
    expect(sampled).toBeGreaterThan(9_000);
    expect(sampled).toBeLessThan(11_000);
    // Not a fixed period: a client cycling through SAMPLE_MEAN paths still gets each one timed.
    expect(gaps.size).toBeGreaterThan(SAMPLE_MEAN);
  });
});
