import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { sysFields } from '../helpers/sys-body.js';

/** sys/metrics over real HTTP: the Prometheus text, the JSON form, access, and that the counts move. */

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

const scrape = async (): Promise<string> => {
  const res = await server.request('GET', '/v1/sys/metrics?format=prometheus', { token: server.rootToken });
  expect(res.status, res.text).toBe(200);
  return res.text;
};

/** The value of one sample line (`name{labels} value`), or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

describe('the Prometheus format', () => {
  it('answers text/plain version 0.0.4, outside the envelope', async () => {
    const res = await server.request('GET', '/v1/sys/metrics?format=prometheus', { token: server.rootToken });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toMatch(/^# HELP nomad_http_requests_total /);
    expect(res.text.endsWith('\n')).toBe(true);
    // Every line is a comment or `name{labels} value`.
    for (const line of res.text.trimEnd().split('\n')) expect(line).toMatch(/^(# (HELP|TYPE) \w+ .*|\w+(\{.*\})? (-?[\d.e+-]+|\+Inf|NaN))$/);
  });

  it('counts requests by route template and status, never by raw path', async () => {
    const before = await scrape();
    const route = 'route="secret/*path"';
    const ok = sample(before, `nomad_http_requests_total{${route},status="200"}`) ?? 0;
    const missing = sample(before, `nomad_http_requests_total{${route},status="404"}`) ?? 0;
    expect((await server.request('PUT', '/v1/secret/metrics-unique-key', { token: server.rootToken, body: { value: 'v' } })).status).toBe(204);
    // The fast path answers these (a cached token, a cached value): it is counted too.
    for (let i = 0; i < 200; i++) expect((await server.request('GET', '/v1/secret/metrics-unique-key', { token: server.rootToken })).status).toBe(200);
    expect((await server.request('GET', '/v1/secret/metrics-absent-key', { token: server.rootToken })).status).toBe(404);
    const after = await scrape();
    expect(sample(after, `nomad_http_requests_total{${route},status="200"}`)).toBe(ok + 200);
    expect(sample(after, `nomad_http_requests_total{${route},status="404"}`)).toBe(missing + 1);
    expect(sample(after, `nomad_http_requests_total{${route},status="204"}`)).toBeGreaterThanOrEqual(1);
    expect(after).not.toContain('metrics-unique-key');
    expect(after).not.toContain('metrics-absent-key');
    // Fast-path answers are timed by sampling (about 1 in 8, each weighing 8): the count is an
    // estimate of the 202 requests, not exact; the write went through the pipeline, timed for sure.
    const before202 = sample(before, `nomad_http_request_duration_seconds_count{${route}}`) ?? 0;
    const timed = sample(after, `nomad_http_request_duration_seconds_count{${route}}`)! - before202;
    expect(timed).toBeGreaterThan(50);
    expect(timed).toBeLessThan(600);
    expect(sample(after, `nomad_http_request_duration_seconds_bucket{${route},le="+Inf"}`)).toBe(timed + before202);
    const mean = sample(after, `nomad_http_request_duration_seconds_sum{${route}}`)! / (timed + before202);
    expect(mean).toBeGreaterThan(0);
    expect(mean).toBeLessThan(1);
  });

  it('labels sys routes by their pattern and unrouted requests as such', async () => {
    expect((await server.request('GET', '/v1/sys/policy/default', { token: server.rootToken })).status).toBe(200);
    expect((await server.request('GET', '/v1/nowhere/at/all', { token: server.rootToken })).status).toBe(404);
    expect((await server.request('GET', '/v1/sys/health')).status).toBe(200);
    const text = await scrape();
    expect(sample(text, 'nomad_http_requests_total{route="sys/policy/:name",status="200"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'nomad_http_requests_total{route="unrouted",status="404"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'nomad_http_requests_total{route="sys/health",status="200"}')).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain('nowhere');
  });

  it('reports the seal state, the token and lease counts and storage latencies', async () => {
    const before = await scrape();
    expect(sample(before, 'nomad_core_unsealed')).toBe(1);
    expect(sample(before, 'nomad_core_initialized')).toBe(1);
    const tokens = sample(before, 'nomad_token_count')!;
    const leases = sample(before, 'nomad_expire_num_leases')!;
    expect(tokens).toBeGreaterThanOrEqual(1);
    const created = await server.request('POST', '/v1/auth/token/create', { token: server.rootToken, body: { policies: ['default'], ttl: '1h' } });
    expect(created.status).toBe(200);
    const after = await scrape();
    expect(sample(after, 'nomad_token_count')).toBe(tokens + 1);
    expect(sample(after, 'nomad_expire_num_leases')).toBe(leases + 1);
    for (const op of ['get', 'put', 'list']) {
      expect(sample(after, `nomad_storage_operation_duration_seconds_count{operation="${op}"}`), op).toBeGreaterThan(0);
    }
    expect(sample(after, 'nomad_storage_operation_duration_seconds_count{operation="put"}')).toBeGreaterThan(sample(before, 'nomad_storage_operation_duration_seconds_count{operation="put"}')!);
  });

  it('has an audit failure counter the audit broker moves', async () => {
    const before = sample(await scrape(), 'nomad_audit_failures_total');
    expect(before).toBe(0);
    server.server.core.metrics.auditFailures.inc();
    expect(sample(await scrape(), 'nomad_audit_failures_total')).toBe(1);
  });
});

describe('rate-limit rejections', () => {
  it('counts each 429', async () => {
    const quota = await server.request('POST', '/v1/sys/quotas/rate-limit/metrics-spec', { token: server.rootToken, body: { path: 'cubbyhole/', rate: 1, interval: '1h', burst: 2 } });
    expect(quota.status, quota.text).toBe(204);
    const before = sample(await scrape(), 'nomad_rate_limit_rejections_total')!;
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await server.request('GET', '/v1/cubbyhole/x', { token: server.rootToken })).status);
    const refused = statuses.filter((s) => s === 429).length;
    expect(refused).toBe(3);
    const after = await scrape();
    expect(sample(after, 'nomad_rate_limit_rejections_total')).toBe(before + refused);
    expect(sample(after, 'nomad_http_requests_total{route="cubbyhole/*path",status="429"}')).toBe(refused);
    expect((await server.request('DELETE', '/v1/sys/quotas/rate-limit/metrics-spec', { token: server.rootToken })).status).toBe(204);
  });
});

describe('the JSON form and access', () => {
  it('answers JSON in the sys envelope without format, and 400 for an unknown format', async () => {
    const res = await server.request('GET', '/v1/sys/metrics', { token: server.rootToken });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    const fields = sysFields(res.body);
    const metrics = fields.metrics as Array<{ name: string; type: string; series: unknown[] }>;
    expect(metrics.find((m) => m.name === 'nomad_core_unsealed')).toMatchObject({ type: 'gauge', series: [{ labels: {}, value: 1 }] });
    expect(metrics.find((m) => m.name === 'nomad_http_request_duration_seconds')?.type).toBe('histogram');
    expect((await server.request('GET', '/v1/sys/metrics?format=json', { token: server.rootToken })).status).toBe(200);
    const bad = await server.request('GET', '/v1/sys/metrics?format=xml', { token: server.rootToken });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0]).toMatch(/format must be/);
  });

  it('needs a token with read on sys/metrics', async () => {
    expect((await server.request('GET', '/v1/sys/metrics?format=prometheus')).status).toBe(401);
    const plain = await server.request('POST', '/v1/auth/token/create', { token: server.rootToken, body: { policies: ['default'] } });
    expect((await server.request('GET', '/v1/sys/metrics?format=prometheus', { token: plain.body.auth.client_token })).status).toBe(401);
    const policy = await server.request('PUT', '/v1/sys/policy/metrics-reader', { token: server.rootToken, body: { policy: 'path "sys/metrics" { capabilities = ["read"] }' } });
    expect(policy.status).toBe(204);
    const reader = await server.request('POST', '/v1/auth/token/create', { token: server.rootToken, body: { policies: ['metrics-reader'] } });
    const res = await server.request('GET', '/v1/sys/metrics?format=prometheus', { token: reader.body.auth.client_token });
    expect(res.status).toBe(200);
    expect(res.text).toContain('nomad_core_unsealed 1');
  });
});
