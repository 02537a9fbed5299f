// The `storage` benchmark of bench/run.mjs: runs the standalone bench/storage.mjs as a child
// process (`node bench/storage.mjs --seconds=S --rounds=R --json=1`), echoes its output, and
// reads the `storage-result-json:` line it prints last. See bench/storage.mjs for what it measures.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from './lib/devserver.mjs';
import { spawnTracked } from './lib/proc.mjs';
import { fmtRate } from './lib/stats.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SCRIPT = path.join(HERE, 'storage.mjs');
export const TARGETS = { seqOverA: 0.5, concOverSeq: 1, fileOverInmem: 0.9 };
const RESULT_PREFIX = 'storage-result-json: ';

export const storageArgs = (opts) => [`--seconds=${opts.storageSeconds}`, `--rounds=${opts.storageRounds}`];

/** opts: { storageSeconds, storageRounds }. Resolves the parsed result of bench/storage.mjs. */
export async function benchStorage(opts, log = console.log) {
  const argv = [SCRIPT, ...storageArgs(opts), '--json=1'];
  log(`running: node ${path.relative(REPO_ROOT, SCRIPT)} ${argv.slice(1).join(' ')}`);
  const handle = spawnTracked(process.execPath, argv, { cwd: REPO_ROOT });
  let pending = '';
  let resultLine;
  handle.child.stdout.on('data', (chunk) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop();
    for (const line of lines) {
      if (line.startsWith(RESULT_PREFIX)) resultLine = line.slice(RESULT_PREFIX.length);
      else log(`  ${line}`);
    }
  });
  const { code, signal, error } = await handle.exited;
  if (pending.startsWith(RESULT_PREFIX)) resultLine = pending.slice(RESULT_PREFIX.length);
  else if (pending) log(`  ${pending}`);
  if (error) throw error;
  if (code !== 0) throw new Error(`bench/storage.mjs exited ${code ?? signal}:\n${handle.stderr.text}`);
  if (!resultLine) throw new Error(`bench/storage.mjs printed no "${RESULT_PREFIX.trim()}" line:\n${handle.stdout.text}${handle.stderr.text}`);
  const result = JSON.parse(resultLine);
  result.targets = TARGETS;
  return result;
}

const rounds = (xs) => xs.map(fmtRate).join(', ');

/** Descriptor used by bench/run.mjs. */
export const benchmark = {
  id: 'storage',
  title: 'Storage: durable writes on file storage vs disk baselines, cached reads file vs inmem (bench/storage.mjs)',
  needsWrk: true,
  run: benchStorage,
  describe: (o) => `storage: node bench/storage.mjs ${storageArgs(o).join(' ')} (its own file and inmem servers; wrk -t1, -c1/-c16 writes, -c16 reads)`,
  summaryRows: (r) => {
    const m = r.writes.medians;
    const t = r.targets;
    return [
      { what: `storage: baseline A new ${r.entryBytes}-byte file + fsync, median of ${r.rounds}`, result: `${fmtRate(m.A)} writes/s (rounds ${rounds(r.writes.rounds.A)})` },
      { what: `storage: baseline B append ${r.entryBytes} B + fdatasync, median of ${r.rounds}`, result: `${fmtRate(m.B)} writes/s (rounds ${rounds(r.writes.rounds.B)})` },
      { what: 'storage: file server, sequential writes (1 connection)', result: `${fmtRate(m.seq)} writes/s (rounds ${rounds(r.writes.rounds.seq)})` },
      { what: 'storage: file server, 16 concurrent connections', result: `${fmtRate(m.conc)} writes/s (rounds ${rounds(r.writes.rounds.conc)})` },
      { what: 'storage: inmem server, sequential writes (no disk, for scale)', result: `${fmtRate(m.memSeq)} writes/s` },
      { what: 'storage ratio sequential / baseline A', result: r.ratios.seqOverA.toFixed(2), target: `≥ ${t.seqOverA}`, met: r.ratios.seqOverA >= t.seqOverA },
      { what: 'storage ratio sequential / baseline B (no target)', result: r.ratios.seqOverB.toFixed(2) },
      { what: 'storage ratio concurrent / sequential', result: r.ratios.concOverSeq.toFixed(2), target: `> ${t.concOverSeq}`, met: r.ratios.concOverSeq > t.concOverSeq },
      {
        what: 'storage: cached reads file / inmem (16 connections)',
        result: `${r.ratios.fileOverInmem.toFixed(2)} (file ${fmtRate(r.reads.medians.file)} / inmem ${fmtRate(r.reads.medians.inmem)} req/s)`,
        target: `≥ ${t.fileOverInmem}`,
        met: r.ratios.fileOverInmem >= t.fileOverInmem,
      },
    ];
  },
};
