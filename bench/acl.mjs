// ACL benchmark: GET /v1/secret/foo on ONE nomad-api dev server, with the root token and with a
// non-root token that carries 10 ACL policies of 100 path rules each (plus "default").
// Exactly one rule of all 1,000 matches secret/foo (`path "secret/foo" { capabilities = ["read"] }`);
// the others are a mix of exact paths, `*` globs (some sharing the "secret/foo" prefix, to walk
// deep into the glob trie) and `+` segments that do not match it.
// Both tokens are driven by `wrk -t1 -c<C> -d<D>s --latency` in alternating rounds within one run
// (the order within a round flips every round). The figure of record is the server's CPU time
// per request (utime + stime from /proc/<pid>/stat over a wrk run ÷ the requests wrk completed),
// reported beside req/s. Target: root CPU per request / non-root CPU per request >= 0.9.
// With --node=PATH the server runs on that node binary.
import { serverNode, startDevServer } from './lib/devserver.mjs';
import { request } from './lib/net.mjs';
import { compareSummaries, describeRatio, describeSummary, maxForeignShare, runAlternatingRounds, summariseRounds } from './lib/rounds.mjs';
import { READ_PATH, ROOT_TOKEN } from './read.mjs';

/** Target on the figure of record: root CPU per request / non-root CPU per request. */
export const TARGET_RATIO = 0.9;
export const POLICY_COUNT = 10;
export const RULES_PER_POLICY = 100;
/** Which policy / rule slot holds the one rule that grants read on secret/foo. */
const GRANT_AT = { policy: 7, rule: 63 };
const GRANTED_PATH = 'secret/foo';

const CAPS = [['read', 'list'], ['read'], ['create', 'update'], ['read', 'update', 'delete'], ['list']];

/**
 * The rule paths of policy `i` (RULES_PER_POLICY of them). Kinds rotate over j: exact paths,
 * `*` globs, `+` segments (with and without a trailing glob), and near misses of secret/foo.
 */
export function policyRules(i) {
  const rules = [];
  for (let j = 0; j < RULES_PER_POLICY; j++) {
    if (i === GRANT_AT.policy && j === GRANT_AT.rule) {
      rules.push({ path: GRANTED_PATH, caps: ['read'] });
      continue;
    }
    const caps = CAPS[(i + j) % CAPS.length];
    let path;
    switch (j % 8) {
      case 0: path = `secret/team-${i}/app-${j}/config`; break; // exact
      case 1: path = `secret/team-${i}/app-${j}/*`; break; // glob
      case 2: path = `secret/team-${i}/+/app-${j}`; break; // + segment
      case 3: path = `secret/+/team-${i}/app-${j}/*`; break; // + segment and glob
      case 4: path = `secret/foo-${i}-${j}*`; break; // glob sharing the "secret/foo" prefix
      case 5: path = `secret/foo/team-${i}/app-${j}`; break; // exact, under secret/foo/
      case 6: path = `secret/team-${i}/app-${j}/+/db`; break; // + segment in the middle
      default: path = `kv/team-${i}/app-${j}*`; break; // glob on another mount
    }
    rules.push({ path, caps });
  }
  return rules;
}

export const policyHcl = (rules) =>
  rules.map((r) => `path "${r.path}" {\n  capabilities = [${r.caps.map((c) => `"${c}"`).join(', ')}]\n}\n`).join('\n');

/** Vault-style match of one rule path against a request path (exact, trailing `*`, `+` segments). */
function ruleMatches(rule, path) {
  const glob = rule.endsWith('*');
  const pattern = glob ? rule.slice(0, -1) : rule;
  if (!pattern.split('/').includes('+')) return glob ? path.startsWith(pattern) : path === pattern;
  const segs = pattern.split('/');
  const parts = path.split('/');
  if (glob ? parts.length < segs.length : parts.length !== segs.length) return false;
  const fixed = glob ? segs.length - 1 : segs.length;
  for (let k = 0; k < fixed; k++) if (segs[k] === '+' ? parts[k] === '' : segs[k] !== parts[k]) return false;
  return !glob || parts.slice(fixed).join('/').startsWith(segs[fixed] === '+' ? '' : segs[fixed]);
}

/**
 * opts: { duration, rounds, connections, warmup, maxForeign, node? }. log: line printer.
 * Resolves { policies, rulesPerPolicy, node, root: summary, nonroot: summary, ratio (non-root/root
 * req/s), ratioMin/Max, cpuRatio (root/non-root CPU per request), cpuRatioMin/Max, target, … }
 * where summary = lib/rounds.mjs summariseRounds().
 */
export async function benchAcl(opts, log = console.log) {
  const { duration, rounds, connections, warmup } = opts;
  const maxForeignPct = opts.maxForeign ?? 15;
  const node = serverNode(opts.node);
  let nomad;
  try {
    // The generated rules must grant secret/foo exactly once (checked here, then on the server).
    const all = Array.from({ length: POLICY_COUNT }, (_, i) => policyRules(i));
    const matching = all.flat().filter((r) => ruleMatches(r.path, GRANTED_PATH));
    if (matching.length !== 1 || matching[0].caps.join() !== 'read') {
      throw new Error(`policy generator bug: ${matching.length} rules match ${GRANTED_PATH}: ${JSON.stringify(matching)}`);
    }

    nomad = await startDevServer({ rootToken: ROOT_TOKEN, node: node.path });
    const rootAuth = { 'X-Nomad-Token': ROOT_TOKEN };
    const call = async (method, p, { headers = rootAuth, body, ok = [200, 204] } = {}) => {
      const res = await request(`${nomad.url}${p}`, { method, headers, body, timeoutMs: 5000 });
      if (!ok.includes(res.status)) throw new Error(`${method} ${p} answered ${res.status}, expected ${ok.join(' or ')}: ${res.body}`);
      return res.body.length ? JSON.parse(res.body.toString('utf8')) : null;
    };

    const names = all.map((_, i) => `bench-acl-${i}`);
    for (const [i, rules] of all.entries()) await call('PUT', `/v1/sys/policy/${names[i]}`, { body: { policy: policyHcl(rules) } });
    const stored = await call('GET', `/v1/sys/policy/${names[GRANT_AT.policy]}`);
    if (!stored?.rules?.includes(`path "${GRANTED_PATH}"`)) throw new Error(`policy ${names[GRANT_AT.policy]} did not read back: ${JSON.stringify(stored)}`);

    const created = await call('POST', '/v1/auth/token/create', { body: { policies: names, ttl: '24h' } });
    const token = created?.auth?.client_token;
    if (!token) throw new Error(`token create answered no auth.client_token: ${JSON.stringify(created)}`);
    const tokenPolicies = created.auth.policies ?? [];
    if (names.some((n) => !tokenPolicies.includes(n))) throw new Error(`token carries ${JSON.stringify(tokenPolicies)}, expected all of ${names.join(', ')}`);
    const userAuth = { 'X-Nomad-Token': token };

    await call('POST', READ_PATH, { body: { value: 'bar' } });

    // One request per token first: the non-root token must read it, and must be refused elsewhere.
    const check = async (label, headers) => {
      const res = await request(`${nomad.url}${READ_PATH}`, { headers });
      if (res.status !== 200) throw new Error(`${label} token: GET ${READ_PATH} answered ${res.status} (expected 200): ${res.body}`);
      const parsed = JSON.parse(res.body.toString('utf8'));
      if (parsed?.data?.value !== 'bar') throw new Error(`${label} token: GET ${READ_PATH} returned unexpected body: ${res.body}`);
      return res.body.length;
    };
    const rootBytes = await check('root', rootAuth);
    const userBytes = await check('non-root', userAuth);
    const refused = await request(`${nomad.url}/v1/secret/bar`, { headers: userAuth });
    if (refused.status < 400) throw new Error(`non-root token: GET /v1/secret/bar answered ${refused.status}; the policies grant too much`);
    const caps = await call('POST', '/v1/sys/capabilities-self', { headers: userAuth, body: { path: GRANTED_PATH } });
    if (JSON.stringify(caps?.capabilities) !== '["read"]') throw new Error(`non-root token: capabilities on ${GRANTED_PATH} are ${JSON.stringify(caps?.capabilities)}, expected ["read"]`);
    log(
      `nomad-api dev server at ${nomad.url}, node ${node.version}; ${POLICY_COUNT} policies × ${RULES_PER_POLICY} rules; non-root token policies ${tokenPolicies.length} ` +
        `(${tokenPolicies.filter((p) => !names.includes(p)).join(', ') || 'no others'} besides the 10)`,
    );
    log(`GET ${READ_PATH}: root -> 200 (${rootBytes} B), non-root -> 200 (${userBytes} B); non-root on /v1/secret/bar -> ${refused.status}; capabilities-self on ${GRANTED_PATH} -> ["read"]`);

    const url = `${nomad.url}${READ_PATH}`;
    const pid = nomad.handle.child.pid;
    const targets = [
      { name: 'root', url, headers: rootAuth, pid },
      { name: 'nonroot', url, headers: userAuth, pid },
    ];
    log(
      `wrk -t1 -c${connections} --latency -H 'X-Nomad-Token: …' on ${url}; warm-up ${warmup}s per token, then ${rounds} round(s) of ${duration}s per token, alternating (order flips each round); ` +
        `CPU/req = the server's utime+stime over the wrk run ÷ requests wrk completed`,
    );
    const pids = [pid];
    const { results, redone } = await runAlternatingRounds({ targets, pids, connections, warmup, duration, rounds, maxForeignPct, log, label: 'acl', order: 'flip' });

    const out = {
      policies: POLICY_COUNT,
      rulesPerPolicy: RULES_PER_POLICY,
      tokenPolicies,
      connections,
      duration,
      rounds,
      node: node.version,
      root: summariseRounds(results.root),
      nonroot: summariseRounds(results.nonroot),
      target: TARGET_RATIO,
      redone,
    };
    const c = compareSummaries(out.nonroot, out.root);
    Object.assign(out, { ratio: c.rps, ratioMin: c.rpsMin, ratioMax: c.rpsMax, cpuRatio: c.cpu, cpuRatioMin: c.cpuMin, cpuRatioMax: c.cpuMax });
    log('  medians (min–max over rounds):');
    log(`    root     ${describeSummary(out.root)}`);
    log(`    non-root ${describeSummary(out.nonroot)}`);
    log(`    CPU/req root/non-root ${describeRatio(out.cpuRatio, out.cpuRatioMin, out.cpuRatioMax)} · req/s non-root/root ${describeRatio(out.ratio, out.ratioMin, out.ratioMax)}`);
    out.maxForeignPct = maxForeignShare(results, maxForeignPct, log);
    return out;
  } catch (err) {
    if (nomad && err instanceof Error && !err.message.includes('dev server (pid')) err.message += `\n${nomad.describeFailure()}`;
    throw err;
  } finally {
    await nomad?.stop();
  }
}

/** Descriptor used by bench/run.mjs. */
export const benchmark = {
  id: 'acl',
  title: `ACL: GET ${READ_PATH} with the root token vs a token of ${POLICY_COUNT} policies × ${RULES_PER_POLICY} rules (CPU per request and req/s)`,
  needsWrk: true,
  run: benchAcl,
  describe: (o) => `acl: one dev server, wrk -t1 -c${o.connections}, ${o.warmup}s warm-up + ${o.rounds} × ${o.duration}s per token, alternating; CPU/req = server utime+stime ÷ wrk's requests`,
  summaryRows: (r) => [
    { what: `acl, root token GET ${READ_PATH}, median (min–max) of ${r.rounds}`, result: describeSummary(r.root) },
    { what: `acl, non-root token (${r.policies} policies × ${r.rulesPerPolicy} rules + default), median (min–max) of ${r.rounds}`, result: describeSummary(r.nonroot) },
    {
      what: 'acl CPU per request, root / non-root (figure of record; per-round min–max)',
      result: describeRatio(r.cpuRatio, r.cpuRatioMin, r.cpuRatioMax),
      ...(r.cpuRatio === null ? {} : { target: `≥ ${r.target}`, met: r.cpuRatio >= r.target }),
    },
    { what: 'acl req/s, non-root / root (per-round min–max)', result: describeRatio(r.ratio, r.ratioMin, r.ratioMax) },
    ...(r.maxForeignPct === null ? [] : [{ what: 'acl: max CPU used by other processes during a kept round', result: `${r.maxForeignPct.toFixed(0)}% of the machine (${r.redone} round(s) redone)` }]),
  ],
};
