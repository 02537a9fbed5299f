// Child-process bookkeeping for the benchmarks: every child started through here is
// remembered, and all of them are ended when the bench exits, fails or is interrupted.
import { spawn } from 'node:child_process';

const children = new Set();
let handlersInstalled = false;

/** Keep the last `limit` characters of a stream (for error messages), draining it so the child never blocks. */
export function tail(stream, limit = 64 * 1024) {
  const t = { text: '' };
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk) => {
    t.text += chunk;
    if (t.text.length > limit) t.text = t.text.slice(-limit);
  });
  return t;
}

/**
 * spawn() and track. Returns { child, exited: Promise<{code, signal}>, stdout, stderr }
 * where stdout/stderr are tails (unless stdio is overridden).
 */
export function spawnTracked(command, args, options = {}) {
  installCleanupHandlers();
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  children.add(child);
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
    child.once('error', (err) => {
      children.delete(child);
      resolve({ code: null, signal: null, error: err });
    });
  });
  return { child, exited, stdout: tail(child.stdout), stderr: tail(child.stderr) };
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL. Resolves with the exit info. */
export async function stopChild(handle, graceMs = 5000) {
  const { child, exited } = handle;
  if (child.exitCode !== null || child.signalCode !== null) return exited;
  child.kill('SIGTERM');
  let timer;
  const killed = new Promise((resolve) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, graceMs);
  });
  await Promise.race([exited, killed]);
  clearTimeout(timer);
  return exited;
}

/** Run a command to completion; resolves { code, signal, stdout, stderr }. */
export async function runToEnd(command, args, options = {}) {
  const h = spawnTracked(command, args, options);
  const r = await h.exited;
  if (r.error) throw r.error;
  return { ...r, stdout: h.stdout.text, stderr: h.stderr.text };
}

export async function stopAll() {
  await Promise.all([...children].map((child) => stopChild({ child, exited: new Promise((r) => child.once('exit', r)) }, 2000)));
}

function killAllSync() {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }
}

function installCleanupHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  // Last resort: the process is exiting (normally or through process.exit) and children are left.
  process.on('exit', killAllSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, async () => {
      process.stderr.write(`\nbench: got ${sig}, stopping ${children.size} child process(es)\n`);
      await stopAll();
      process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 })[sig]);
    });
  }
}

/** Resolve the first match of `regex` in the child's stdout; reject if it exits or timeoutMs passes first. */
export function waitForOutput(handle, regex, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = regex.exec(handle.stdout.text);
      if (m) {
        done();
        resolve(m);
      }
    };
    const onExit = (code, signal) => {
      done();
      reject(new Error(`child exited (${code ?? signal}) before printing ${regex}:\n${handle.stdout.text}${handle.stderr.text}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`child did not print ${regex} within ${timeoutMs} ms:\n${handle.stdout.text}${handle.stderr.text}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      handle.child.stdout.off('data', check);
      handle.child.off('exit', onExit);
    };
    handle.child.stdout.on('data', check);
    handle.child.once('exit', onExit);
    setImmediate(check);
  });
}
