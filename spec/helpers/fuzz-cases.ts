import type { Driven } from './fuzz-oracle.js';
import { finish, frame, type Draft, type FuzzRequest, type Kind } from './fuzz-http.js';
import { jsonValue, type Rng } from './fuzz-random.js';
import type { TestServer } from './server.js';

/**
 * The requests of one fuzzed connection to nomad-api, and what became of them. The fixture
 * seeds MARKERS marker secrets (markerSeeds) that reads and lists can tell apart by their
 * answer, and gives a second token the LIMITED_POLICY.
 */

export const MARKERS = 12;

export const LIMITED_POLICY = `path "secret/fz*" { capabilities = ["create", "read", "update", "delete", "list"] }
path "secret/fzx/*" { capabilities = ["deny"] }`;

/** The secrets a fixture writes first: `fzm/m<i>` reads as {"m": "m<i>"}, `fzl/m<i>/` lists as ["xm<i>"]. */
export function markerSeeds(): Array<[path: string, body: Record<string, unknown>]> {
  return Array.from({ length: MARKERS }, (_, i) => [
    [`secret/fzm/m${i}`, { m: `m${i}` }],
    [`secret/fzl/m${i}/xm${i}`, { l: i }],
  ] as Array<[string, Record<string, unknown>]>).flat();
}

export interface CaseTokens {
  root: string;
  limited: string;
}

function tokenHeader(rng: Rng, token: string): [string, string] {
  return rng.weighted<[string, string]>([[6, ['X-Nomad-Token', token]], [2, ['X-Vault-Token', token]], [1, ['Authorization', `Bearer ${token}`]], [1, ['Cookie', `token=${token}`]]]);
}

function draft(kind: Kind, method: string, target: string, token: string, status: number, rng: Rng): Draft {
  return {
    kind, method, target, version: 'HTTP/1.1', headers: [['Host', '127.0.0.1'], tokenHeader(rng, token)], payload: Buffer.alloc(0),
    protect: [], lockRequestLine: false, expect: { status }, closesAfter: false, writes: false, mustNotRun: false, versionTouched: false, mutations: [],
  };
}

/**
 * One connection's requests, as `tokens.root` or `tokens.limited` (policy LIMITED_POLICY):
 * writes of unique keys, each mostly followed by a marker read whose answer tells it apart.
 */
export function buildCase(rng: Rng, tokens: CaseTokens, n: number): FuzzRequest[] {
  const count = rng.int(1, 8);
  const rate = rng.pick([0, 0.25, 0.5, 0.9]);
  const ids = Array.from({ length: MARKERS }, (_, i) => `m${i}`).sort(() => rng.float() - 0.5);
  const closeAt = rng.chance(0.08) ? rng.int(0, count - 1) : -1;
  const out: FuzzRequest[] = [];
  let seq = 0;
  const marker = (token: string): Draft => {
    const id = ids.pop()!;
    const [method, target] = rng.pick([
      ['GET', `/v1/secret/fzm/${id}`], ['LIST', `/v1/secret/fzl/${id}`], ['LIST', `/v1/secret/fzl/${id}/`], ['GET', `/v1/secret/fzl/${id}?list=${rng.pick(['true', '1'])}`],
    ] as const);
    const d = draft('marker', method, target, token, 200, rng);
    d.expect.marker = id;
    return d;
  };
  while (out.length < count) {
    const limited = rng.chance(0.35);
    const token = limited ? tokens.limited : tokens.root;
    let kind = rng.weighted<Kind>([[4, 'write'], [3, 'marker'], [2, 'read'], [1, 'delete']]);
    if (kind === 'marker' && ids.length === 0) kind = 'read';
    const r = rng.string(6);
    let d: Draft;
    if (kind === 'write') {
      const t = `fzt${n}_${seq}_${rng.string(6)}z`;
      const denied = limited && rng.chance(0.2);
      d = draft('write', rng.pick(['POST', 'PUT']), `/v1/secret/${denied ? 'fzx' : 'fzw'}/${t}`, token, denied ? 401 : 204, rng);
      frame(d, Buffer.from(`{"v":"${t}","n":${seq}${rng.chance(0.3) ? `,"x":${jsonValue(rng, 2)}` : ''}}`), rng, rng.chance(0.3));
      if (rng.chance(0.1)) d.headers.push(['Expect', '100-continue']);
      Object.assign(d, { protect: [t], lockRequestLine: true, token: t, writes: true, mustNotRun: denied });
    } else if (kind === 'marker') {
      d = marker(token);
    } else if (kind === 'delete') {
      d = draft('delete', 'DELETE', `/v1/secret/fzd/${r}`, token, 204, rng);
    } else {
      const [method, target, rootStatus, limitedStatus] = rng.pick([
        ['GET', '/v1/sys/health', 200, 200], ['GET', `/v1/secret/fzn/${r}`, 404, 404], ['LIST', `/v1/secret/fzn/${r}/`, 404, 404],
        ['GET', `/v1/secret/fzx/${r}`, 404, 401], ['GET', '/v1/auth/token/lookup-self', 200, 200], ['GET', '/v1/sys/mounts', 200, 401],
        ['GET', `/v1/fznomount/${r}`, 404, 401], ['GET', `/v1/secret/fzn/${r}?help=1`, 200, 200], ['GET', `/nope/${r}`, 404, 404],
      ] as const);
      d = draft('read', method, target, token, limited ? limitedStatus : rootStatus, rng);
      if (rng.chance(0.2)) frame(d, Buffer.from('{"q":1}'), rng, rng.chance(0.5));
    }
    if (out.length === closeAt) {
      d.headers.push(['Connection', 'close']);
      d.closesAfter = true;
    }
    out.push(finish(d, rng, rate));
    seq++;
    if (kind === 'write' && ids.length > 0 && out.length < count && rng.chance(0.8)) out.push(finish(marker(token), rng, rate));
  }
  return out;
}

/** The write tokens found in the secret mount (in a key or a value); every entry but the markers is then removed. */
export async function takeStored(server: TestServer, tokens: string[]): Promise<Set<string>> {
  const storage = server.server.core.mounts.get('secret/')!.storage;
  const found = new Set<string>();
  const walk = async (prefix: string): Promise<void> => {
    for (const key of await storage.list(prefix)) {
      const full = prefix + key;
      if (full === 'fzm/' || full === 'fzl/') continue;
      if (key.endsWith('/')) {
        await walk(full);
        continue;
      }
      const value = await storage.get(full);
      const text = `${full}\n${value ? Buffer.from(value).toString('utf8') : ''}`;
      for (const t of tokens) if (text.includes(t)) found.add(t);
      await storage.delete(full);
    }
  };
  await walk('');
  return found;
}

/** A failed case, with what to paste to replay it and what was sent and answered. */
export function report(n: number, requests: FuzzRequest[], driven: Driven, problems: string[], replay: string): string {
  const lines = [`case ${n} — replay: ${replay} NOMAD_FUZZ_CASE=${n}`, ...problems.map((p) => `  ! ${p}`), '  sent:'];
  requests.forEach((r, k) => lines.push(`    ${k} ${r.kind}${r.clean ? '' : ` [${r.mutations.join('; ')}]`}: ${JSON.stringify(r.bytes.toString('latin1').slice(0, 400))}`));
  const how = driven.finEarly ? ' (the client half-closed right after sending)' : '';
  lines.push(`  answered: ${driven.responses.map((r) => r.status).join(' ') || 'nothing'}${driven.serverClosed ? ', then the server closed' : ''}${how}`);
  return lines.join('\n');
}
