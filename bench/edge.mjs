// HTTP edge benchmark: the server's CPU time per request (utime + stime from /proc/<pid>/stat
// over a wrk run, divided by the requests wrk completed) for three kinds of connection:
//   get           GET /v1/secret/foo on connections that never send LIST (node's C++ parser
//                 reads the socket itself: the fast path);
//   get-after-list  the same GETs on connections whose first request was a LIST, so node's
//                 parser reads them through JS from then on (lib/http/list-method.ts);
//   list          LIST /v1/secret/ on every request: each one is a takeover;
//   list-query    GET /v1/secret/?list=true, the same list on the fast path, to set it against.
// With --baseline=DIR (a built checkout of another commit), that tree's dev server is measured
// in the same rounds, alternating, so a change to the edge can be judged by one run.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cpuMeter } from './lib/cpu.mjs';
import { checkoutRoot, serverNode, startDevServer } from './lib/devserver.mjs';
import { request } from './lib/net.mjs';
import { assertClean } from './lib/rounds.mjs';
import { median } from './lib/stats.mjs';
import { runWrk } from './lib/wrk.mjs';

const ROOT_TOKEN = 'bench-root-token';
const READ_PATH = '/v1/secret/foo';
const LIST_PATH = '/v1/secret/';
const PIPELINE_PATH = '/v1/cubbyhole/bench';
const WRITE_PATH = '/v1/secret/written';
const TOLERANCE = 0.03;

/**
 * wrk scripts. wrk checks its first request with a parser that knows no LIST (it stops with
 * "invalid HTTP method"), so the first call of `request()` answers a GET, which wrk only
 * parses and never sends; the calls after it build the requests actually sent. wrk builds each
 * connection's first request in turn as it connects, so the next `connections` calls are one
 * per connection.
 */
function writeScripts(dir, connections) {
  const script = (name, body) => {
    const file = path.join(dir, `${name}.lua`);
    writeFileSync(file, `local n = 0\nrequest = function()\n  n = n + 1\n  if n == 1 then return wrk.format("GET", "${READ_PATH}") end\n${body}\nend\n`);
    return file;
  };
  return {
    get: undefined,
    'get-after-list': script('get-after-list', `  if n <= ${connections + 1} then return wrk.format("LIST", "${LIST_PATH}") end\n  return wrk.format("GET", "${READ_PATH}")`),
    list: script('list', `  return wrk.format("LIST", "${LIST_PATH}")`),
    'list-query': undefined,
    // A read the fast path steps aside for (cubbyhole has no peekRead): the async pipeline.
    'pipeline-read': script('pipeline-read', `  return wrk.format("GET", "${PIPELINE_PATH}")`),
    // A write: body parsing, the existence check, encryption and storage.
    write: script('write', `  return wrk.format("POST", "${WRITE_PATH}", nil, '{"value":"written"}')`),
  };
}

async function prepare(server) {
  const auth = { 'X-Nomad-Token': ROOT_TOKEN };
  for (const key of ['foo', 'bar', 'baz']) {
    const put = await request(`${server.url}/v1/secret/${key}`, { method: 'POST', headers: auth, body: { value: key } });
    if (put.status !== 204) throw new Error(`writing secret/${key} answered ${put.status}`);
  }
  const cubby = await request(`${server.url}${PIPELINE_PATH}`, { method: 'POST', headers: auth, body: { value: 'mine' } });
  if (cubby.status !== 204) throw new Error(`writing ${PIPELINE_PATH} answered ${cubby.status}`);
  const list = await request(`${server.url}${LIST_PATH}`, { method: 'LIST', headers: auth });
  if (list.status !== 200) throw new Error(`LIST ${LIST_PATH} answered ${list.status}`);
}

export async function benchEdge(opts, log = console.log) {
  const { duration, rounds, connections, warmup } = opts;
  const node = serverNode(opts.node).path;
  const dir = mkdtempSync(path.join(tmpdir(), 'nomad-edge-'));
  const scripts = writeScripts(dir, connections);
  const servers = [];
  try {
    servers.push({ name: 'this tree', server: await startDevServer({ rootToken: ROOT_TOKEN, node }) });
    if (opts.baseline) {
      const root = checkoutRoot(opts.baseline);
      servers.push({ name: `baseline ${path.basename(root)}`, server: await startDevServer({ rootToken: ROOT_TOKEN, root, node }) });
    }
    for (const s of servers) await prepare(s.server);

    const measure = async (s, scenario, seconds) => {
      const meter = cpuMeter(s.server.handle.child.pid);
      const target = scenario === 'list' ? LIST_PATH : scenario === 'list-query' ? `${LIST_PATH}?list=true` : READ_PATH;
      const r = await runWrk(`${s.server.url}${target}`, {
        connections,
        duration: seconds,
        headers: { 'X-Nomad-Token': ROOT_TOKEN },
        script: scripts[scenario],
      });
      const { cpuUs } = meter(r.requests);
      assertClean(`edge ${scenario} ${s.name}`, r);
      if (cpuUs === null) throw new Error(`edge ${scenario} ${s.name}: no CPU time from /proc/<pid>/stat (this benchmark needs Linux)`);
      return { rps: r.rps, requests: r.requests, cpuUs };
    };

    const results = {};
    const chosen = opts.scenarios ? opts.scenarios.split(',').map((x) => x.trim()) : Object.keys(scripts);
    for (const name of chosen) if (!(name in scripts)) throw new Error(`unknown scenario '${name}' (known: ${Object.keys(scripts).join(', ')})`);
    for (const scenario of chosen) {
      results[scenario] = Object.fromEntries(servers.map((s) => [s.name, []]));
      for (const s of servers) await measure(s, scenario, warmup);
      for (let i = 1; i <= rounds; i++) {
        const order = i % 2 === 0 ? [...servers].reverse() : servers;
        for (const s of order) {
          const m = await measure(s, scenario, duration);
          results[scenario][s.name].push(m);
          log(`  round ${i} ${scenario.padEnd(14)} ${s.name.padEnd(24)} ${Math.round(m.rps).toLocaleString('en-US').padStart(7)} req/s  ${m.cpuUs.toFixed(1)} µs CPU/request`);
        }
      }
    }
    const summary = {};
    for (const [scenario, byServer] of Object.entries(results)) {
      summary[scenario] = Object.fromEntries(
        Object.entries(byServer).map(([name, ms]) => [name, { cpuUs: median(ms.map((m) => m.cpuUs)), rps: median(ms.map((m) => m.rps)), all: ms.map((m) => m.cpuUs) }]),
      );
    }
    return { summary, servers: servers.map((s) => s.name), rounds, duration, connections };
  } finally {
    await Promise.all(servers.map((s) => s.server.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

const us = (x) => `${x.toFixed(1)} µs`;

export const benchmark = {
  id: 'edge',
  title: 'HTTP edge: CPU per request on the fast path, after a LIST, and for LIST itself',
  needsWrk: true,
  run: benchEdge,
  describe: (o) => `edge: wrk -t1 -c${o.connections}, ${o.warmup}s warm-up + ${o.rounds} × ${o.duration}s per scenario and server, alternating${o.baseline ? `, baseline ${o.baseline}` : ''}`,
  summaryRows: (r) => {
    const here = r.servers[0];
    const base = r.servers[1];
    const rows = [];
    for (const [scenario, byServer] of Object.entries(r.summary)) {
      const mine = byServer[here];
      rows.push({ what: `edge ${scenario}: CPU per request (median of ${r.rounds})`, result: `${us(mine.cpuUs)} · ${Math.round(mine.rps).toLocaleString('en-US')} req/s` });
      if (base) {
        const theirs = byServer[base];
        const change = mine.cpuUs / theirs.cpuUs - 1;
        rows.push({
          what: `edge ${scenario}: ${base}`,
          result: `${us(theirs.cpuUs)} (this tree ${change >= 0 ? '+' : ''}${(change * 100).toFixed(1)}%)`,
          ...(scenario === 'get' ? { target: `within ${TOLERANCE * 100}%`, met: change <= TOLERANCE } : {}),
        });
      }
    }
    const cpu = (scenario) => r.summary[scenario]?.[here]?.cpuUs;
    if (cpu('get') !== undefined && cpu('get-after-list') !== undefined) {
      rows.push({ what: 'edge: a GET after the connection\'s first LIST costs', result: `${us(cpu('get-after-list') - cpu('get'))} more than on the fast path` });
    }
    if (cpu('list') !== undefined && cpu('list-query') !== undefined) {
      rows.push({ what: 'edge: LIST (a takeover each) costs', result: `${us(cpu('list') - cpu('list-query'))} more than GET ?list=true` });
    }
    return rows;
  },
};
