// wrk: make sure it is installed, run it, parse its text output.
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { runToEnd } from './proc.mjs';

export function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* not here */
    }
  }
  return null;
}

/** Ensure `wrk` is on PATH, installing the Debian package when it is not. */
export async function ensureWrk(log = console.log) {
  const found = which('wrk');
  if (found) return found;
  log('wrk is not on PATH: installing it with `apt-get install -y wrk` (Debian package; needs root)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = await runToEnd('apt-get', ['install', '-y', 'wrk'], { env });
  if (r.code !== 0) {
    log('apt-get install failed (package lists may be missing or stale): running `apt-get update` and retrying…');
    const u = await runToEnd('apt-get', ['update'], { env });
    if (u.code !== 0) log(`apt-get update exited ${u.code}:\n${u.stderr.trim()}`);
    r = await runToEnd('apt-get', ['install', '-y', 'wrk'], { env });
  }
  const after = which('wrk');
  if (r.code !== 0 || !after) {
    throw new Error(`could not install wrk (apt-get exited ${r.code}):\n${r.stderr.trim()}\nInstall it by hand: apt-get update && apt-get install -y wrk`);
  }
  log(`installed wrk at ${after}`);
  return after;
}

/** e.g. "debian/4.1.0-3+b2 [epoll]" (wrk -v prints a banner and exits 1). */
export async function wrkVersion() {
  const r = await runToEnd('wrk', ['-v']);
  const line = (r.stdout + r.stderr).split('\n')[0] ?? '';
  const m = /^wrk\s+(.*?)\s+Copyright/.exec(line);
  return m ? m[1] : line.trim();
}

const TIME_UNITS = { us: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };
const COUNT_UNITS = { '': 1, k: 1e3, M: 1e6, G: 1e9 };

/** "540.12us" -> 0.54012 (milliseconds) */
export function parseTime(s) {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(s.trim());
  if (!m) throw new Error(`cannot parse wrk time "${s}"`);
  return Number(m[1]) * TIME_UNITS[m[2]];
}

/** "88.10k" -> 88100 */
export function parseCount(s) {
  const m = /^([\d.]+)([kMG]?)$/.exec(s.trim());
  if (!m) throw new Error(`cannot parse wrk count "${s}"`);
  return Number(m[1]) * COUNT_UNITS[m[2]];
}

/**
 * Parse wrk's text report (run with --latency). Returns
 * { rps, requests, seconds, latency: { avg, stdev, max, p50, p75, p90, p99 } (ms),
 *   non2xx, socketErrors: { connect, read, write, timeout }, transferPerSec }
 */
export function parseWrk(text) {
  const rpsM = /^Requests\/sec:\s+([\d.]+)/m.exec(text);
  if (!rpsM) throw new Error(`no "Requests/sec" in wrk output:\n${text}`);
  const out = { rps: Number(rpsM[1]), latency: {}, non2xx: 0, socketErrors: { connect: 0, read: 0, write: 0, timeout: 0 } };

  const totM = /^\s*(\d+) requests in ([\d.]+\w+),/m.exec(text);
  if (totM) {
    out.requests = Number(totM[1]);
    out.seconds = parseTime(totM[2]) / 1000;
  }
  const latM = /^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)/m.exec(text);
  if (latM) Object.assign(out.latency, { avg: parseTime(latM[1]), stdev: parseTime(latM[2]), max: parseTime(latM[3]) });
  const distIdx = text.indexOf('Latency Distribution');
  if (distIdx >= 0) {
    for (const m of text.slice(distIdx).matchAll(/^\s*(50|75|90|99)(?:\.\d+)?%\s+(\S+)/gm)) out.latency[`p${m[1]}`] = parseTime(m[2]);
  }
  const nonM = /Non-2xx or 3xx responses:\s+(\d+)/.exec(text);
  if (nonM) out.non2xx = Number(nonM[1]);
  const sockM = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  if (sockM) out.socketErrors = { connect: +sockM[1], read: +sockM[2], write: +sockM[3], timeout: +sockM[4] };
  const trM = /^Transfer\/sec:\s+(\S+)/m.exec(text);
  if (trM) out.transferPerSec = trM[1];
  return out;
}

/**
 * Run `wrk -t<threads> -c<connections> -d<duration>s --latency [-s script] [-H h]... url`.
 * Resolves { ...parseWrk(), raw, args }. Throws when wrk fails.
 */
export async function runWrk(url, { threads = 1, connections = 50, duration = 5, headers = {}, timeout, script } = {}) {
  const args = [`-t${threads}`, `-c${connections}`, `-d${duration}s`, '--latency'];
  if (timeout) args.push(`--timeout=${timeout}`);
  if (script) args.push('-s', script);
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  args.push(url);
  const r = await runToEnd('wrk', args);
  if (r.code !== 0) throw new Error(`wrk ${args.join(' ')} exited ${r.code ?? r.signal}:\n${r.stdout}${r.stderr}`);
  return { ...parseWrk(r.stdout), raw: r.stdout, args };
}

/** Human one-liner for a wrk result. */
export function describeWrk(r) {
  const f = (x) => (x === undefined ? '?' : x.toFixed(2));
  const errs = Object.values(r.socketErrors).reduce((a, b) => a + b, 0);
  return `${Math.round(r.rps).toLocaleString('en-US').padStart(7)} req/s  p50 ${f(r.latency.p50)} ms  p99 ${f(r.latency.p99)} ms  max ${f(r.latency.max)} ms  non-2xx ${r.non2xx}  socket errors ${errs}`;
}
