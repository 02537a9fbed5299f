#!/usr/bin/env node
// File storage benchmark (issue #3): durable secret writes through the real server, against a
// baseline loop in the same run that does only the disk work, and cached reads against inmem.
//
//   node bench/storage.mjs [--seconds=3] [--rounds=3] [--dir=/path/on/the/disk/to/test] [--json=1]
//
// --json=1 adds one last line `storage-result-json: {…}` (medians, rounds, ratios) for
// bench/storage-run.mjs, which runs this script as the `storage` benchmark of `npm run bench`.
//
// Writes: wrk PUTs a ~200-byte secret to a new key each time, with 1 connection (sequential)
// and with 16 (concurrent). Baselines, timed between the server rounds on the same disk:
//   A  write a new file of the stored entry's size + fsync + close (the definition)
//   B  append the same bytes to one open file + fdatasync (what a log must do at the least)
// Reads: 16 connections GET one secret from a file-storage server (read cache on) and from an
// inmem server; the target is file >= 0.9 x inmem.
import { closeSync, fdatasyncSync, fsyncSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitForQuiet } from './lib/cpu.mjs';
import { BIN, REPO_ROOT } from './lib/devserver.mjs';
import { freePort, pollUntil, request } from './lib/net.mjs';
import { runToEnd, spawnTracked, stopAll, stopChild } from './lib/proc.mjs';
import { fmtRate, median } from './lib/stats.mjs';
import { ensureWrk, parseWrk } from './lib/wrk.mjs';

const args = Object.fromEntries(process.argv.slice(2).map((a) => /^--([a-z]+)=(.*)$/.exec(a)?.slice(1) ?? [a, '']));
const SECONDS = Number(args.seconds ?? process.env.BENCH_STORAGE_SECONDS ?? 3);
const ROUNDS = Number(args.rounds ?? process.env.BENCH_STORAGE_ROUNDS ?? 3);
const ROOT = mkdtempSync(join(args.dir ?? tmpdir(), 'nomad-bench-storage-'));
const SECRET = JSON.stringify({ value: 'x'.repeat(200) });
// What the barrier stores for it: 5-byte header, 12-byte nonce, ciphertext, 16-byte tag.
const ENTRY_BYTES = Buffer.byteLength(SECRET) + 33;
const log = (line = '') => process.stdout.write(`${line}\n`);

async function startServer(name, storage) {
  const dir = join(ROOT, name);
  mkdirSync(dir, { mode: 0o700 });
  const port = await freePort();
  const config = join(ROOT, `${name}.hcl`);
  writeFileSync(config, `listener "tcp" {\n  address = "127.0.0.1:${port}"\n  tls_disable = true\n}\n${storage(dir)}\nlog_level = "error"\n`);
  const handle = spawnTracked(process.execPath, [BIN, 'server', `-config=${config}`], { cwd: REPO_ROOT });
  const url = `http://127.0.0.1:${port}`;
  await pollUntil(`${url}/v1/sys/health`, { status: 501, isDead: () => handle.child.exitCode !== null });
  const init = JSON.parse((await request(`${url}/v1/sys/init`, { method: 'PUT', body: JSON.stringify({ secret_shares: 1, secret_threshold: 1 }) })).body);
  await request(`${url}/v1/sys/unseal`, { method: 'PUT', body: JSON.stringify({ key: init.keys[0] }) });
  return { url, token: init.root_token, stop: () => stopChild(handle) };
}

async function wrk(server, { connections, script, path = '/v1/secret/bench/read' }) {
  const argv = [`-t1`, `-c${connections}`, `-d${SECONDS}s`, '--latency', '-H', `X-Nomad-Token: ${server.token}`];
  if (script) {
    const file = join(ROOT, `script-${connections}.lua`);
    writeFileSync(file, script);
    argv.push('-s', file);
  }
  const r = await runToEnd('wrk', [...argv, `${server.url}${path}`]);
  if (r.code !== 0) throw new Error(`wrk exited ${r.code}: ${r.stderr}`);
  const out = parseWrk(r.stdout);
  if (out.non2xx > 0) throw new Error(`wrk saw ${out.non2xx} non-2xx answers:\n${r.stdout}`);
  return out.rps;
}

// Every request a new key: one wrk thread shares the counter across its connections.
// Headers given to wrk.format replace the -H ones, so the token goes in here too.
const writeScript = (tag, token) => `counter = 0
body = ${JSON.stringify(SECRET)}
request = function()
  counter = counter + 1
  return wrk.format("PUT", "/v1/secret/bench/${tag}/" .. counter, {["Content-Type"] = "application/json", ["X-Nomad-Token"] = "${token}"}, body)
end
`;

function baseline(kind) {
  const dir = mkdtempSync(join(ROOT, `baseline-${kind}-`));
  const bytes = Buffer.alloc(ENTRY_BYTES, 7);
  const until = performance.now() + SECONDS * 1000;
  let ops = 0;
  const started = performance.now();
  const appendFd = kind === 'B' ? openSync(join(dir, 'log'), 'a', 0o600) : -1;
  while (performance.now() < until) {
    if (kind === 'A') {
      const fd = openSync(join(dir, `f${ops}`), 'wx', 0o600);
      writeSync(fd, bytes);
      fsyncSync(fd);
      closeSync(fd);
    } else {
      writeSync(appendFd, bytes);
      fdatasyncSync(appendFd);
    }
    ops += 1;
  }
  if (appendFd !== -1) closeSync(appendFd);
  const rate = ops / ((performance.now() - started) / 1000);
  rmSync(dir, { recursive: true, force: true });
  return rate;
}

async function main() {
  await ensureWrk(log);
  log(`# storage benchmark: ${ROUNDS} rounds of ${SECONDS} s, data under ${ROOT}`);
  log(`secret body ${Buffer.byteLength(SECRET)} B, stored entry ${ENTRY_BYTES} B`);
  const file = await startServer('file', (dir) => `storage "file" {\n  path = "${dir}"\n}`);
  const inmem = await startServer('inmem', () => 'storage "inmem" {}');
  const results = { seq: [], conc: [], A: [], B: [], memSeq: [] };
  for (let round = 0; round < ROUNDS; round++) {
    await waitForQuiet({ thresholdPct: 15, maxWaitMs: 30000, log });
    results.A.push(baseline('A'));
    results.seq.push(await wrk(file, { connections: 1, script: writeScript(`s${round}`, file.token) }));
    results.B.push(baseline('B'));
    results.conc.push(await wrk(file, { connections: 16, script: writeScript(`c${round}`, file.token) }));
    results.memSeq.push(await wrk(inmem, { connections: 1, script: writeScript(`s${round}`, inmem.token) }));
  }
  const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)]));
  log('\n## durable writes (median of rounds, writes/s)');
  log(`baseline A  new file + fsync          ${fmtRate(m.A).padStart(8)}   (rounds: ${results.A.map(fmtRate).join(', ')})`);
  log(`baseline B  append + fdatasync        ${fmtRate(m.B).padStart(8)}   (rounds: ${results.B.map(fmtRate).join(', ')})`);
  log(`server, sequential (1 connection)     ${fmtRate(m.seq).padStart(8)}   (rounds: ${results.seq.map(fmtRate).join(', ')})`);
  log(`server, 16 concurrent connections     ${fmtRate(m.conc).padStart(8)}   (rounds: ${results.conc.map(fmtRate).join(', ')})`);
  log(`inmem server, sequential (no disk)    ${fmtRate(m.memSeq).padStart(8)}   (rounds: ${results.memSeq.map(fmtRate).join(', ')})`);
  log(`ratio sequential / baseline A         ${(m.seq / m.A).toFixed(2).padStart(8)}   target >= 0.5`);
  log(`ratio sequential / baseline B         ${(m.seq / m.B).toFixed(2).padStart(8)}`);
  log(`ratio concurrent / sequential         ${(m.conc / m.seq).toFixed(2).padStart(8)}   target > 1 (syncs are shared)`);

  await request(`${file.url}/v1/secret/bench/read`, { method: 'PUT', headers: { 'X-Nomad-Token': file.token }, body: SECRET });
  await request(`${inmem.url}/v1/secret/bench/read`, { method: 'PUT', headers: { 'X-Nomad-Token': inmem.token }, body: SECRET });
  const reads = { file: [], inmem: [] };
  for (let round = 0; round < ROUNDS; round++) {
    await waitForQuiet({ thresholdPct: 15, maxWaitMs: 30000, log });
    reads.inmem.push(await wrk(inmem, { connections: 16 }));
    reads.file.push(await wrk(file, { connections: 16 }));
  }
  const ratio = median(reads.file) / median(reads.inmem);
  log('\n## cached reads (16 connections, median of rounds, reads/s)');
  log(`inmem                                 ${fmtRate(median(reads.inmem)).padStart(8)}   (rounds: ${reads.inmem.map(fmtRate).join(', ')})`);
  log(`file (read cache on)                  ${fmtRate(median(reads.file)).padStart(8)}   (rounds: ${reads.file.map(fmtRate).join(', ')})`);
  log(`ratio file / inmem                    ${ratio.toFixed(2).padStart(8)}   target >= 0.90`);
  await inmem.stop();
  await file.stop();
  if (args.json === '1') {
    const result = {
      seconds: SECONDS,
      rounds: ROUNDS,
      secretBytes: Buffer.byteLength(SECRET),
      entryBytes: ENTRY_BYTES,
      dir: ROOT,
      writes: { rounds: results, medians: m },
      reads: { rounds: reads, medians: { file: median(reads.file), inmem: median(reads.inmem) } },
      ratios: { seqOverA: m.seq / m.A, seqOverB: m.seq / m.B, concOverSeq: m.conc / m.seq, fileOverInmem: ratio },
    };
    log(`storage-result-json: ${JSON.stringify(result)}`);
  }
}

try {
  await main();
} finally {
  await stopAll();
  rmSync(ROOT, { recursive: true, force: true });
}
