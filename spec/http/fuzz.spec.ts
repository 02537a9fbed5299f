import http from 'node:http';
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListenerConfig } from '../../lib/config.js';
import { buildCase, LIMITED_POLICY, markerSeeds, report, takeStored } from '../helpers/fuzz-cases.js';
import { answerProblems, drive, judge } from '../helpers/fuzz-oracle.js';
import { caseNumbers, caseRng, fuzzSettings, randomBody, type Rng } from '../helpers/fuzz-random.js';
import { askedStatuses, destructive, fillTemplate, METHODS, QUERIES, routesOf, SELF_SPENDING, type FuzzRoute } from '../helpers/fuzz-routes.js';
import { httpRequest } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { testTls } from '../helpers/tls.js';

/**
 * Issue 8: a seeded fuzz of the HTTP edge, plain and TLS (api.md §1–§3).
 *   1. Valid requests, mutated, several to a raw connection, pipelined or cut anywhere:
 *      every answer well-formed and in order, errors in the envelope, nothing ≥ 500, no hang,
 *      the connection answering on or closed after an error, the server up after each case.
 *   2. The writes among them (unique keys and values): stored iff answered 2xx.
 *   3. Random JSON to every declared route with every method, as root, limited and nobody.
 *   4. Routes that would wreck the shared server (seal, remount, unmounting secret/, revoking
 *      root…), on throwaway servers.
 * Skipped on the shared servers: POST/PUT sys/seal and sys/remount (part 4 has them), and
 * revoke-self / renew-self are sent with a throwaway token instead of the shared ones.
 * A stall test (short listener timeouts) checks 408 refusals the same way as part 1.
 * The default seed is fixed, so the suite runs the same cases every time. A failure names the
 * seed: NOMAD_FUZZ_SEED=<seed> replays a run, NOMAD_FUZZ_SEED=random explores a new one,
 * NOMAD_FUZZ_CASE=<n> runs one case of it, NOMAD_FUZZ_CASES=<n> makes it bigger (default 60
 * connections per transport), NOMAD_FUZZ_SHOW=<n> prints more than the first 10 failures.
 */

const settings = fuzzSettings(60);
const certs = testTls();
const HANG_MS = 3_000;
const IDLE_MS = 40;
const BATCH = 6;
const JSON_ROUNDS = Math.max(1, Math.round(settings.cases / 60));
const PROBE = Buffer.from('GET /v1/sys/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');

interface Fixture {
  server: TestServer;
  root: string;
  limited: string;
  fresh: http.Agent;
}

async function startFixture(useTls: boolean, listener: Partial<ListenerConfig> = {}): Promise<Fixture> {
  const server = await startTestServer({
    ca: certs.ca.cert,
    listener: { ...(useTls ? { tlsDisable: false, tlsCertFile: certs.server.certFile, tlsKeyFile: certs.server.keyFile } : {}), ...listener },
  });
  const root = server.rootToken;
  const ok = async (method: string, path: string, body: unknown): Promise<any> => {
    const res = await server.request(method, path, { token: root, body });
    if (res.status >= 300) throw new Error(`fixture: ${method} ${path}: ${res.status} ${res.text}`);
    return res.body;
  };
  await ok('PUT', '/v1/sys/policy/fuzz-limited', { policy: LIMITED_POLICY });
  const limited = (await ok('POST', '/v1/auth/token/create', { policies: ['fuzz-limited'] })).auth.client_token as string;
  for (const [path, body] of markerSeeds()) await ok('POST', `/v1/${path}`, body);
  // The auth methods, so their routes (logins included) are in the OpenAPI document fuzzed.
  for (const type of ['userpass', 'approle', 'cert']) await ok('POST', `/v1/sys/auth/${type}`, { type });
  await ok('POST', '/v1/auth/userpass/users/fz', { password: 'fz', policies: ['fuzz-limited'] });
  await ok('POST', '/v1/auth/approle/role/fz', { policies: ['fuzz-limited'] });
  await ok('POST', '/v1/auth/cert/certs/fz', { certificate: certs.clientCa.cert, policies: ['fuzz-limited'] });
  const fresh = useTls ? new https.Agent({ keepAlive: false, ca: certs.ca.cert }) : new http.Agent({ keepAlive: false });
  return { server, root, limited, fresh };
}

// ---- helpers shared by the parts ----

async function healthy(fx: Fixture): Promise<string | null> {
  try {
    const res = await httpRequest(`${fx.server.url}/v1/sys/health`, { agent: fx.fresh, ca: certs.ca.cert });
    return res.status === 200 ? null : `a fresh health check answered ${res.status}`;
  } catch (err) {
    return `a fresh health check failed: ${(err as Error).message}`;
  }
}

/** Runs `jobs` at most `width` at a time, in order of start. */
async function pool<T>(jobs: Array<() => Promise<T>>, width: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  }));
  return results;
}

const SHOW = Number(process.env.NOMAD_FUZZ_SHOW ?? 10);
const failed = (title: string, failures: string[]): string =>
  `${title}: ${failures.length} failure(s) — seed ${settings.seed} (${settings.replay})\n\n${failures.slice(0, SHOW).join('\n\n')}`;

/** The 500s the server recorded since the last call (the shared afterEach would fail on them too, without the seed). */
function internalErrors(server: TestServer, what: string): string[] {
  const errors = server.expectInternalErrors();
  return errors.length === 0 ? [] : [`${what}: ${errors.length} internal error(s): ${String((errors[0] as Error)?.stack ?? errors[0])}`];
}

// ---- part 3: random JSON to every route ----

interface JsonCase {
  route: FuzzRoute;
  method: string;
  who: 'root' | 'limited' | 'nobody';
}

async function sendRandomJson(fx: Fixture, c: JsonCase, rng: Rng, agent: http.Agent, extraAllowed: (s: number) => boolean = () => false): Promise<string[]> {
  const target = fillTemplate(c.route.template, rng);
  const query = rng.chance(0.25) ? Array.from({ length: rng.int(1, 2) }, () => rng.pick(QUERIES)).join('&') : '';
  let token = c.who === 'root' ? fx.root : c.who === 'limited' ? fx.limited : rng.pick(['', 'bogus', '00000000-0000-4000-8000-000000000000']);
  if (SELF_SPENDING.includes(c.route.template) && c.who !== 'nobody') {
    // Revoking the shared tokens, or renewing them to a TTL of seconds, would end the run: a throwaway child takes their place.
    const child = await fx.server.request('POST', '/v1/auth/token/create', { token: fx.root, body: c.who === 'limited' ? { policies: ['fuzz-limited'] } : {} });
    // Root may be gone on a wrecked server; the shared one checks its tokens at the end.
    if (child.status !== 200) return [];
    token = child.body.auth.client_token;
  }
  const body = ['POST', 'PUT', 'PATCH'].includes(c.method) || rng.chance(0.3) ? randomBody(rng, c.route.fields) : undefined;
  const url = `${fx.server.url}/v1${target}${query ? `?${query}` : ''}`;
  const what = `${c.method} /v1${target}${query ? `?${query}` : ''} as ${c.who} with ${body === undefined ? 'no body' : JSON.stringify(body.toString('latin1').slice(0, 160))}${body && body.length > 160 ? `… (${body.length} bytes)` : ''}`;
  try {
    const res = await httpRequest(url, { method: c.method, headers: token ? { 'X-Nomad-Token': token } : {}, body, agent, ca: certs.ca.cert });
    const asked = askedStatuses(query);
    const health = c.route.template === '/sys/health';
    // Its GET answers the snapshot file; ?help=1 (any method) answers the help, in JSON.
    const snapshot = c.route.template === '/sys/storage/snapshot' && c.method === 'GET' && res.status === 200 && !/(^|&)help=(1|true)(&|$)/.test(query);
    const problems = answerProblems(res, {
      binary: snapshot ? { contentType: 'application/octet-stream', magic: 'NMDSNAP\n' } : undefined,
      allowStatus: (s) => (health && asked.includes(s)) || extraAllowed(s),
      raw: health && (res.status === 200 || asked.includes(res.status) || res.status === 503),
      head: c.method === 'HEAD',
      secrets: [fx.root, fx.limited],
    });
    return problems.map((p) => `${what} → ${res.status}: ${p}`);
  } catch (err) {
    return [`${what} → no answer: ${(err as Error).message}`];
  }
}

function jsonCases(routes: FuzzRoute[]): JsonCase[] {
  const cases: JsonCase[] = [];
  for (let round = 0; round < JSON_ROUNDS; round++) {
    for (const route of routes) for (const method of METHODS) for (const who of ['root', 'limited', 'nobody'] as const) cases.push({ route, method, who });
  }
  return cases;
}

describe.each([['plain', false], ['TLS', true]] as const)('fuzzing the HTTP edge over %s', (transport, useTls) => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await startFixture(useTls);
  });
  afterAll(async () => {
    fx?.fresh.destroy();
    await fx?.server.close();
  });

  it('answers mutated, pipelined and split requests well, in order, and runs only what it answers with success', async () => {
    const failures: string[] = [];
    const numbers = caseNumbers(settings);
    for (let b = 0; b < numbers.length; b += BATCH) {
      const runs = await Promise.all(numbers.slice(b, b + BATCH).map(async (n) => {
        const rng = caseRng(settings.seed, `http-${transport}`, n);
        const requests = buildCase(rng, fx, n);
        const finEarly = rng.chance(0.15);
        return { n, requests, driven: await drive(requests, rng, { url: fx.server.url, ca: certs.ca.cert, hangMs: HANG_MS, idleMs: IDLE_MS, probe: PROBE, finEarly }) };
      }));
      failures.push(...internalErrors(fx.server, `cases ${numbers.slice(b, b + BATCH).join(', ')}`));
      const sick = await healthy(fx);
      if (sick) {
        // The server is down: one of these cases brought it down, and nothing more can be judged.
        failures.push(`after cases ${numbers.slice(b, b + BATCH).join(', ')}: ${sick}\n${runs.map(({ n, requests, driven }) => report(n, requests, driven, [], settings.replay)).join('\n')}`);
        break;
      }
      const stored = await takeStored(fx.server, runs.flatMap((r) => r.requests.flatMap((q) => (q.token ? [q.token] : []))));
      for (const { n, requests, driven } of runs) {
        const { problems } = judge(requests, driven, stored, { secrets: [fx.root, fx.limited] });
        if (problems.length > 0) failures.push(report(n, requests, driven, problems, settings.replay));
      }
    }
    expect(failures, failed(`mutated HTTP over ${transport}`, failures)).toEqual([]);
  });

  it('times out a request that stops half-way: refused in turn, and only what came before it runs', async () => {
    // Short limits, so a stalled request is refused within a second (node sweeps every limit / 4).
    const slow = await startFixture(useTls, { readHeaderTimeoutMs: 500, readTimeoutMs: 800 });
    const failures: string[] = [];
    try {
      const runs = await Promise.all(caseNumbers(settings, Math.max(6, Math.round(settings.cases / 10))).map(async (n) => {
        const rng = caseRng(settings.seed, `stall-${transport}`, n);
        const all = buildCase(rng, slow, n);
        const j = rng.int(0, all.length - 1);
        const stalled = all[j]!;
        // At least one byte past any leading blank lines, so the server knows a request has begun.
        const begun = stalled.bytes.findIndex((b) => b !== 0x0d && b !== 0x0a && b !== 0x20 && b !== 0x09) + 1;
        const cut = rng.int(Math.max(1, begun), stalled.bytes.length - 1);
        const requests = [...all.slice(0, j), { ...stalled, bytes: stalled.bytes.subarray(0, cut), clean: false, writes: false, mustNotRun: true, mutations: [...stalled.mutations, `stalled after ${cut} of ${stalled.bytes.length} bytes`] }];
        return { n, requests, driven: await drive(requests, rng, { url: slow.server.url, ca: certs.ca.cert, hangMs: HANG_MS, idleMs: 1_500, probe: PROBE }) };
      }));
      const sick = await healthy(slow);
      if (sick) failures.push(sick);
      const stored = await takeStored(slow.server, runs.flatMap((r) => r.requests.flatMap((q) => (q.token ? [q.token] : []))));
      for (const { n, requests, driven } of runs) {
        const { problems } = judge(requests, driven, stored, { secrets: [slow.root, slow.limited] });
        if (!driven.serverClosed && !requests.some((r) => r.closesAfter)) problems.push('the stalled request was never timed out: the client had to hang up');
        if (problems.length > 0) failures.push(report(n, requests, driven, problems, settings.replay));
      }
      failures.push(...internalErrors(slow.server, 'stall cases'));
    } finally {
      slow.fresh.destroy();
      await slow.server.close();
    }
    expect(failures, failed(`stalled requests over ${transport}`, failures)).toEqual([]);
  });

  it('answers random JSON on every route, with every method, as root, a limited token and nobody', async () => {
    const doc = (await fx.server.request('GET', '/v1/sys/internal/specs/openapi', { token: fx.root })).body;
    const routes = routesOf(doc);
    expect(routes.length).toBeGreaterThan(40);
    const all = jsonCases(routes).map((c, i) => ({ c, i })).filter(({ c }) => !destructive(c.route.template, c.method));
    const picked = settings.only === undefined ? all : all.filter(({ i }) => i === settings.only);
    const agent = useTls ? new https.Agent({ keepAlive: true, maxSockets: 8, ca: certs.ca.cert }) : new http.Agent({ keepAlive: true, maxSockets: 8 });
    try {
      const results = await pool(picked.map(({ c, i }) => () => sendRandomJson(fx, c, caseRng(settings.seed, `json-${transport}`, i), agent).then((p) => p.map((x) => `[case ${i}] ${x}`))), 8);
      const failures = results.flat();
      failures.push(...internalErrors(fx.server, 'random JSON'));
      for (const [who, token] of [['root', fx.root], ['limited', fx.limited]] as const) {
        const self = await fx.server.request('GET', '/v1/auth/token/lookup-self', { token });
        if (self.status !== 200) failures.push(`the ${who} token stopped working: lookup-self answered ${self.status}`);
      }
      const sick = await healthy(fx);
      if (sick) failures.push(sick);
      expect(failures, failed(`random JSON over ${transport} (${picked.length} requests)`, failures)).toEqual([]);
    } finally {
      agent.destroy();
    }
  });
});

// ---- part 4: what would wreck the shared server, each on a server of its own ----

const REAL_MOUNTS = ['secret', 'secret/', 'cubbyhole', 'sys', 'auth/token', 'auth', '/secret', 'secret/inner', 'fznew', 'a//b', 'x*', ''];

const WRECKERS: ReadonlyArray<readonly [string, string, (rng: Rng, fx: Fixture) => string | undefined]> = [
  ['POST', '/v1/sys/seal', (rng) => rng.pick([undefined, '{}', '{"x":1}', '[]'])],
  ['PUT', '/v1/sys/remount', (rng) => JSON.stringify({ from: rng.pick(REAL_MOUNTS), to: rng.pick(REAL_MOUNTS), ...(rng.chance(0.3) ? { x: 1 } : {}) })],
  ['DELETE', '/v1/sys/mounts/secret', () => undefined],
  ['DELETE', '/v1/sys/mounts/cubbyhole', () => undefined],
  ['DELETE', '/v1/sys/mounts/sys', () => undefined],
  ['DELETE', '/v1/sys/auth/token', () => undefined],
  ['POST', '/v1/sys/mounts/secret', (rng) => JSON.stringify({ type: rng.pick(['kv', 'generic', 'cubbyhole', 'system', 'token', '']) })],
  ['POST', '/v1/sys/mounts/secret/inner', () => '{"type":"kv"}'],
  ['POST', '/v1/auth/token/revoke-self', () => undefined],
  ['POST', '/v1/auth/token/revoke', (_rng, fx) => JSON.stringify({ token: fx.root })],
  ['POST', '/v1/auth/token/revoke-orphan', (_rng, fx) => JSON.stringify({ token: fx.root })],
  ['DELETE', '/v1/sys/policy/default', () => undefined],
  ['PUT', '/v1/sys/policy/root', () => '{"policy":"path \\"*\\" { capabilities = [\\"deny\\"] }"}'],
  ['DELETE', '/v1/sys/policies/acl/fuzz-limited', () => undefined],
  ['POST', '/v1/sys/leases/revoke-prefix/auth', () => undefined],
  ['POST', '/v1/sys/rotate', () => undefined],
];

describe('fuzzing routes that would wreck the shared server, each on a throwaway server', () => {
  it.each(WRECKERS.map(([method, path, body]) => [`${method} ${path}`, method, path, body] as const))('%s, then random JSON everywhere', async (_name, method, path, body) => {
    const failures: string[] = [];
    const index = WRECKERS.findIndex(([m, p]) => m === method && p === path);
    for (const n of caseNumbers(settings, Math.max(2, Math.round(settings.cases / 30)))) {
      const rng = caseRng(settings.seed, `wreck-${index}`, n);
      const fx = await startFixture(false);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
      try {
        const routes = routesOf((await fx.server.request('GET', '/v1/sys/internal/specs/openapi', { token: fx.root })).body);
        const first = await fx.server.request(method, path, { token: fx.root, body: body(rng, fx) });
        failures.push(...answerProblems(first, { secrets: [fx.root, fx.limited] }).map((p) => `${method} ${path} → ${first.status}: ${p}`));
        // 503 is the answer of a server sealed on purpose, and only then.
        const isSealed = (await fx.server.request('GET', '/v1/sys/seal-status')).body?.sealed === true;
        const jobs = Array.from({ length: 40 }, (_, k) => {
          const c: JsonCase = { route: rng.pick(routes), method: rng.pick(METHODS), who: rng.pick(['root', 'limited', 'nobody'] as const) };
          if (destructive(c.route.template, c.method)) c.method = 'GET';
          return () => sendRandomJson(fx, c, caseRng(settings.seed, `wreck-${index}-${n}`, k), agent, (s) => isSealed && s === 503);
        });
        failures.push(...(await pool(jobs, 4)).flat());
        failures.push(...internalErrors(fx.server, `${method} ${path}, variant ${n}`));
        const sick = await healthy(fx);
        if (sick && !(isSealed && sick.endsWith('503'))) failures.push(sick);
      } finally {
        agent.destroy();
        fx.fresh.destroy();
        await fx.server.close();
      }
    }
    expect(failures, failed(`${method} ${path}`, failures)).toEqual([]);
  });
});
