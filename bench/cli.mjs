// CLI benchmark (issue 12): wall time of `nomad-api status` and `nomad-api read -field=value
// secret/foo`, process start to exit, against the dev server, beside `curl` doing the same
// request. Runs alternate (nomad-api, curl, nomad-api, …); the figure is each one's median of
// `--cli-runs` (default 20), and the ratio nomad-api / curl (target: within 3×), with the
// absolute target of 150 ms for the CLI. `node -e 0` is timed in the same rounds: the floor
// any Node program pays before its first line runs.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { BIN, serverNode, startDevServer } from './lib/devserver.mjs';
import { request } from './lib/net.mjs';
import { median } from './lib/stats.mjs';
import { which } from './lib/wrk.mjs';

const ROOT_TOKEN = 'bench-root-token';
export const TARGET_MS = 150;
export const TARGET_RATIO = 3;

/** Milliseconds from spawn to exit; rejects on a non-zero exit or output other than `expect`. */
function timed(command, args, env, expect) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (code !== 0) reject(new Error(`${path.basename(command)} ${args.join(' ')} exited ${code}: ${err}${out}`));
      else if (expect && !expect(out)) reject(new Error(`${path.basename(command)} ${args.join(' ')} printed ${JSON.stringify(out)}`));
      else resolve(ms);
    });
  });
}

export async function benchCli(opts, log = console.log) {
  const runs = opts.cliRuns ?? 20;
  const node = serverNode(opts.node);
  const curl = which('curl');
  if (!curl) throw new Error('cli: curl is not on PATH (apt-get install -y curl)');
  const server = await startDevServer({ rootToken: ROOT_TOKEN, node: node.path });
  try {
    const put = await request(`${server.url}/v1/secret/foo`, { method: 'POST', headers: { 'X-Nomad-Token': ROOT_TOKEN }, body: { value: 'bar' } });
    if (put.status !== 204) throw new Error(`writing secret/foo answered ${put.status}`);
    const env = { ...process.env, NOMAD_ADDR: server.url, NOMAD_TOKEN: ROOT_TOKEN, HOME: process.env.HOME ?? '/tmp' };
    const cases = {
      status: {
        cli: [node.path, [BIN, 'status'], (out) => /sealed\s+false/i.test(out)],
        curl: [curl, ['-sf', `${server.url}/v1/sys/seal-status`], (out) => out.includes('"sealed":false')],
      },
      read: {
        cli: [node.path, [BIN, 'read', '-field=value', 'secret/foo'], (out) => out.trim() === 'bar'],
        curl: [curl, ['-sf', '-H', `X-Nomad-Token: ${ROOT_TOKEN}`, `${server.url}/v1/secret/foo`], (out) => out.includes('"value":"bar"')],
      },
    };
    const results = {};
    for (const [name, c] of Object.entries(cases)) {
      const cli = [];
      const curlMs = [];
      const nodeMs = [];
      // One unmeasured round: the file cache and the server warm up.
      await timed(c.cli[0], c.cli[1], env, c.cli[2]);
      await timed(c.curl[0], c.curl[1], env, c.curl[2]);
      for (let i = 0; i < runs; i++) {
        cli.push(await timed(c.cli[0], c.cli[1], env, c.cli[2]));
        curlMs.push(await timed(c.curl[0], c.curl[1], env, c.curl[2]));
        nodeMs.push(await timed(node.path, ['-e', '0'], env));
      }
      results[name] = { cli: median(cli), curl: median(curlMs), node: median(nodeMs), cliAll: cli, curlAll: curlMs };
      log(`  ${name.padEnd(7)} nomad-api median ${results[name].cli.toFixed(1)} ms · curl ${results[name].curl.toFixed(1)} ms · node -e 0 ${results[name].node.toFixed(1)} ms (${runs} runs each, alternating)`);
    }
    return { results, runs, node: node.version };
  } finally {
    await server.stop();
  }
}

export const benchmark = {
  id: 'cli',
  title: 'CLI: nomad-api status and read, process start to exit, beside curl',
  needsWrk: false,
  run: benchCli,
  describe: (o) => `cli: median of ${o.cliRuns ?? 20} runs each of \`nomad-api status\` and \`nomad-api read -field=value secret/foo\` against the dev server, alternating with curl`,
  summaryRows: (r) =>
    Object.entries(r.results).flatMap(([name, x]) => [
      { what: `cli ${name}: nomad-api, process start to exit (median of ${r.runs})`, result: `${x.cli.toFixed(1)} ms`, target: `< ${TARGET_MS} ms`, met: x.cli < TARGET_MS },
      { what: `cli ${name}: nomad-api / curl`, result: `${(x.cli / x.curl).toFixed(2)}× (curl ${x.curl.toFixed(1)} ms)`, target: `≤ ${TARGET_RATIO}×`, met: x.cli / x.curl <= TARGET_RATIO },
      { what: `cli ${name}: above node's own start (\`node -e 0\`, ${x.node.toFixed(1)} ms)`, result: `+${(x.cli - x.node).toFixed(1)} ms` },
    ]),
};
