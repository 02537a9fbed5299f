// Describe the machine a benchmark ran on.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { runToEnd } from './proc.mjs';
import { wrkVersion, which } from './wrk.mjs';
import { REPO_ROOT } from './devserver.mjs';

function cpuModel() {
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1].trim();
  } catch {
    /* not Linux */
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

function osName() {
  try {
    const m = /^PRETTY_NAME="?([^"\n]+)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (m) return `${m[1]}, kernel ${os.release()}`;
  } catch {
    /* ignore */
  }
  return `${os.type()} ${os.release()}`;
}

async function gitRevision() {
  try {
    const head = await runToEnd('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT });
    if (head.code !== 0) return 'unknown';
    const st = await runToEnd('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: REPO_ROOT });
    return head.stdout.trim() + (st.stdout.trim() ? ' (+ uncommitted changes)' : '');
  } catch {
    return 'unknown';
  }
}

export async function machineInfo() {
  return {
    cpu: cpuModel(),
    cores: os.availableParallelism?.() ?? os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: osName(),
    node: process.version,
    wrk: which('wrk') ? await wrkVersion() : 'not installed',
    git: await gitRevision(),
  };
}
