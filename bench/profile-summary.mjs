#!/usr/bin/env node
// Summarise a V8 .cpuprofile (from `node --cpu-prof`): self time aggregated by function + url,
// plus inclusive ("total") time and self time per file/category.
//   node bench/profile-summary.mjs <file.cpuprofile | dir (newest profile in it)> [--top=N] [--inclusive] [--callers=NAME]
// --callers=NAME: inclusive time of functions whose name is NAME, split by their caller.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const target = args.find((a) => !a.startsWith('--'));
const top = Number(args.find((a) => a.startsWith('--top='))?.slice(6) ?? 25);
const inclusive = args.includes('--inclusive');
const callersOf = args.find((a) => a.startsWith('--callers='))?.slice(10);
if (!target) {
  console.error('usage: node bench/profile-summary.mjs <file.cpuprofile | dir> [--top=N] [--inclusive]');
  process.exit(2);
}

let file = target;
if (statSync(target).isDirectory()) {
  const profiles = readdirSync(target)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(target, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (!profiles.length) throw new Error(`no .cpuprofile in ${target}`);
  file = profiles[0];
}
const prof = JSON.parse(readFileSync(file, 'utf8'));

const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const shortUrl = (url) => {
  if (!url) return '';
  const u = url.replace(/^file:\/\//, '');
  const i = u.indexOf('/dist/');
  return i >= 0 ? u.slice(i + 1) : u.replace(/^.*\/node_modules\//, 'node_modules/');
};
const keyOf = (n) => {
  const cf = n.callFrame;
  const name = cf.functionName || '(anonymous)';
  return cf.url ? `${name}  ${shortUrl(cf.url)}:${cf.lineNumber + 1}` : name;
};
const category = (n) => {
  const { url, functionName } = n.callFrame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native/builtin)';
  if (url.startsWith('node:')) return 'node core (JS)';
  if (url.includes('/dist/')) return 'nomad-api (dist/)';
  return 'other JS';
};

// Time per sample: timeDeltas[i] is the gap before sample i, so sample i "lasts" timeDeltas[i+1].
const { samples, timeDeltas } = prof;
const totalUs = prof.endTime - prof.startTime;
const avg = totalUs / Math.max(1, samples.length);
const dur = (i) => (i + 1 < timeDeltas.length ? Math.max(0, timeDeltas[i + 1]) : avg);

const self = new Map();
const incl = new Map();
const cats = new Map();
const files = new Map();
const callers = new Map();
const add = (m, k, v) => m.set(k, (m.get(k) ?? 0) + v);
for (let i = 0; i < samples.length; i++) {
  const d = dur(i);
  const node = byId.get(samples[i]);
  add(self, keyOf(node), d);
  add(cats, category(node), d);
  add(files, node.callFrame.url ? shortUrl(node.callFrame.url) : category(node), d);
  if (callersOf) {
    // outermost frame named callersOf in this stack, keyed by its caller
    let hit;
    for (let id = node.id; id !== undefined; id = parent.get(id)) if (byId.get(id).callFrame.functionName === callersOf) hit = id;
    if (hit !== undefined) {
      const p = parent.get(hit);
      add(callers, `${keyOf(byId.get(hit))}  <-  ${p === undefined ? '(none)' : keyOf(byId.get(p))}`, d);
    }
  }
  if (inclusive) {
    const seen = new Set();
    for (let id = node.id; id !== undefined; id = parent.get(id)) {
      const k = keyOf(byId.get(id));
      if (k === '(root)') continue;
      if (!seen.has(k)) {
        seen.add(k);
        add(incl, k, d);
      }
    }
  }
}

const idleUs = self.get('(idle)') ?? 0;
const busyUs = totalUs - idleUs;
const pct = (us, of) => `${((100 * us) / of).toFixed(1).padStart(5)}%`;
const ms = (us) => `${(us / 1000).toFixed(0).padStart(7)} ms`;
const table = (title, m, n, of = busyUs) => {
  console.log(`\n${title}`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${ms(v)} ${pct(v, of)}  ${k}`);
};

console.log(`profile: ${file}`);
console.log(`duration ${(totalUs / 1e6).toFixed(2)} s, ${samples.length} samples (~${avg.toFixed(0)} µs apart), idle ${pct(idleUs, totalUs).trim()}; percentages below are of non-idle time (${(busyUs / 1000).toFixed(0)} ms)`);
table('self time by category', cats, 10);
table(`self time by function (top ${top})`, self, top);
table('self time by file (top 15)', files, 15);
if (callersOf) table(`inclusive time of ${callersOf} by caller`, callers, top);
if (inclusive) table(`inclusive time by function (top ${top})`, incl, top);
