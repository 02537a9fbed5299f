// CPU accounting from /proc (Linux): a server's own CPU time per request (cpuMeter), and how
// much of the machine *other* processes used while a benchmark ran. This box has 2 cores shared
// by the server under test and wrk, and anything else running at the same time (builds, tests)
// skews the rates; a server's CPU time per request is far less sensitive to that.
// Where /proc is missing, every function degrades to "unknown" (null).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function readProcStat() {
  // "cpu  user nice system idle iowait irq softirq steal guest guest_nice" (USER_HZ ticks)
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + (f[4] ?? 0);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0); // guest time is already inside user
  return { total, busy: total - idle };
}

/** utime+stime (and, with children=true, cutime+cstime of reaped children) of a pid, in ticks; null if unreadable. */
function readPidTicks(pid, children) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ').map(Number); // f[0] is field 3 (state)
    return f[11] + f[12] + (children ? f[13] + f[14] : 0);
  } catch {
    return null; // gone, or no /proc
  }
}

/** utime+stime (and, with children=true, cutime+cstime of reaped children) of a pid, in ticks (0 if gone). */
export function pidTicks(pid, children = false) {
  return readPidTicks(pid, children) ?? 0;
}

let ticksPerSecond;
/** USER_HZ: the unit of /proc/<pid>/stat's times (100 on Linux in practice). */
export function clockTicksPerSecond() {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/**
 * Start metering the CPU time (utime + stime, all threads) of process `pid`. The returned
 * function ends the measurement: given the requests served meanwhile (as wrk counted them),
 * it returns { cpuMs, cpuUs } where cpuUs is the CPU µs per request; both null when /proc
 * could not tell (the process is gone, or this is not Linux). Resolution: one tick
 * (1/CLK_TCK s, 10 ms) over the whole run.
 */
export function cpuMeter(pid) {
  const hz = clockTicksPerSecond();
  const before = readPidTicks(pid, false);
  return (requests) => {
    const after = readPidTicks(pid, false);
    if (before === null || after === null) return { cpuMs: null, cpuUs: null };
    const seconds = (after - before) / hz;
    return { cpuMs: seconds * 1e3, cpuUs: requests > 0 ? (seconds / requests) * 1e6 : null };
  };
}

/**
 * Snapshot of machine busy time and of "our" processes: this process, its reaped children
 * (wrk, once it has exited) and the live pids given.
 */
export function cpuSnapshot(pids = []) {
  try {
    const sys = readProcStat();
    const ours = pidTicks('self', true) + pids.reduce((a, p) => a + pidTicks(p), 0);
    return { sys, ours, pids };
  } catch {
    return null;
  }
}

/**
 * Between two snapshots: { machineBusyPct, oursPct, foreignPct } as % of the whole machine
 * (all cores = 100%). foreignPct is what other processes used.
 */
export function cpuDelta(a, b) {
  if (!a || !b) return null;
  const total = b.sys.total - a.sys.total;
  if (total <= 0) return null;
  const busy = b.sys.busy - a.sys.busy;
  const ours = b.ours - a.ours;
  const pct = (x) => (100 * x) / total;
  return { machineBusyPct: pct(busy), oursPct: pct(ours), foreignPct: Math.max(0, pct(busy - ours)) };
}

/** How busy the machine is over `ms` (% of all cores), or null where unknown. */
export async function machineBusy(ms = 1000) {
  const a = cpuSnapshot();
  await sleep(ms);
  const d = cpuDelta(a, cpuSnapshot());
  return d && d.foreignPct;
}

/**
 * Wait (up to maxWaitMs) for a second during which other processes use less than
 * thresholdPct of the machine. Resolves the last measured % (null if unknown).
 */
export async function waitForQuiet({ thresholdPct = 10, maxWaitMs = 60000, log = () => {} } = {}) {
  const deadline = Date.now() + maxWaitMs;
  let busy = await machineBusy();
  if (busy === null || busy < thresholdPct) return busy;
  log(`machine busy: other processes use ${busy.toFixed(0)}% of ${os.availableParallelism?.() ?? os.cpus().length} cores; waiting up to ${maxWaitMs / 1000}s for it to calm down…`);
  while (busy >= thresholdPct && Date.now() < deadline) busy = await machineBusy();
  log(busy < thresholdPct ? `machine quiet now (${busy.toFixed(0)}% busy)` : `still ${busy.toFixed(0)}% busy; measuring anyway: expect skewed numbers`);
  return busy;
}

/**
 * Run `fn()` while watching the CPU that other processes use. If they used maxForeignPct or
 * more of the machine, wait for quiet and run it again (at most `retries` more times); the
 * last attempt is kept either way. `pids()` lists the live child pids that count as ours.
 * Resolves { value, foreignPct, attempts }.
 */
export async function measureUncontended(fn, { pids = () => [], maxForeignPct = 15, retries = 2, label = '', log = () => {} } = {}) {
  for (let attempt = 1; ; attempt++) {
    const before = cpuSnapshot(pids());
    const value = await fn();
    const foreignPct = cpuDelta(before, cpuSnapshot(pids()))?.foreignPct ?? null;
    if (foreignPct === null || foreignPct < maxForeignPct || attempt > retries) return { value, foreignPct, attempts: attempt };
    log(`${label}: other processes used ${foreignPct.toFixed(0)}% of the machine meanwhile; discarding it and measuring again (retry ${attempt}/${retries})`);
    await waitForQuiet({ maxWaitMs: 30000, log });
  }
}
