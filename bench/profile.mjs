#!/usr/bin/env node
// Profile the dev server under the read load: runs it with `node --cpu-prof`, writes
// secret/foo, drives GET /v1/secret/foo with wrk, stops it with SIGTERM (the profile is
// written on exit) and prints bench/profile-summary.mjs's tables.
//   npm run build && node bench/profile.mjs [--target=nomad|bare] [--duration=10] [--connections=50] [--dir=/tmp/nomad-prof/…]
// --target=bare profiles bench/bare-server.mjs under the same load instead, for comparison.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDevServer } from './lib/devserver.mjs';
import { request } from './lib/net.mjs';
import { runToEnd, stopAll, stopChild } from './lib/proc.mjs';
import { describeWrk, ensureWrk, runWrk } from './lib/wrk.mjs';
import { READ_PATH, ROOT_TOKEN, startBareServer } from './read.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const arg = (name, def) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? def;
const duration = Number(arg('duration', '10'));
const connections = Number(arg('connections', '50'));
const target = arg('target', 'nomad');
const dir = path.resolve(arg('dir', `/tmp/nomad-prof/${target}-${Date.now()}`));
if (!['nomad', 'bare'].includes(target)) throw new Error(`--target must be nomad or bare, got ${target}`);

try {
  await ensureWrk();
  mkdirSync(dir, { recursive: true });
  const nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${dir}`];
  const auth = { 'X-Nomad-Token': ROOT_TOKEN };
  let url;
  let stop;
  if (target === 'nomad') {
    const server = await startDevServer({ rootToken: ROOT_TOKEN, nodeArgs });
    const put = await request(`${server.url}${READ_PATH}`, { method: 'POST', headers: auth, body: { value: 'bar' } });
    if (put.status >= 300) throw new Error(`write answered ${put.status}`);
    url = server.url;
    stop = () => server.stop();
  } else {
    const bare = await startBareServer(Number(arg('body-bytes', '178')), nodeArgs);
    url = bare.url;
    stop = () => stopChild(bare.handle);
  }
  const r = await runWrk(`${url}${READ_PATH}`, { connections, duration, headers: auth });
  console.log(`${target}: wrk -t1 -c${connections} -d${duration}s: ${describeWrk(r)}`);
  const stopped = await stop();
  console.log(`server stopped (${stopped.signal ?? stopped.code}); profile in ${dir}`);
  const s = await runToEnd(process.execPath, [path.join(HERE, 'profile-summary.mjs'), dir, '--inclusive']);
  process.stdout.write(s.stdout + s.stderr);
} catch (err) {
  console.error(`profile FAILED: ${err?.stack ?? err}`);
  process.exitCode = 1;
} finally {
  await stopAll();
}
