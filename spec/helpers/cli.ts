import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Spawns the real program, `bin/nomad-api` (built into dist/ by `npm test`).
 *
 * No silent 500s here either: a spawned server logs every 500 it answers (`[ERROR] request
 * failed … error="<stack>"`, lib/http/handler.ts), and the shared hooks (setup.ts) fail the
 * test if any program it spawned logged one the test did not take with
 * `expectInternalErrors()`. Programs stay on the list after they exit or are killed, until
 * checked, so a spec that kills its own cannot slip past.
 */

export const BIN = fileURLToPath(new URL('../../bin/nomad-api', import.meta.url));

export interface Spawned {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout (or stderr) matches `pattern` (rejects if the process exits first). */
  waitFor(pattern: RegExp, stream?: 'stdout' | 'stderr'): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
  /** The 500s the program has logged so far (their stacks) and nobody has taken yet. */
  internalErrors(): string[];
  /** Marks the 500s logged so far as expected (they no longer fail the test), and returns them. */
  expectInternalErrors(): string[];
}

/** One logged 500: the handler logs `request_id` then `error` (a JSON string for an Error). */
const INTERNAL_ERROR = /^\S+ \[ERROR\] request failed request_id=\S+ error=(.*)$/gm;

/** The same line with `-log-format=json` (lib/log.ts): `{"@message":"request failed", "error": "<stack>", …}`. */
function jsonInternalErrors(stderr: string): string[] {
  const found: string[] = [];
  for (const line of stderr.split('\n')) {
    if (!line.startsWith('{') || !line.includes('"request failed"')) continue;
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (parsed['@level'] === 'error' && parsed['@message'] === 'request failed') found.push(String(parsed.error));
    } catch {
      // Not a log line of ours.
    }
  }
  return found;
}

export function loggedInternalErrors(stderr: string): string[] {
  const found: string[] = jsonInternalErrors(stderr);
  for (const [, error] of stderr.matchAll(INTERNAL_ERROR)) {
    try {
      const parsed: unknown = JSON.parse(error!);
      found.push(typeof parsed === 'string' ? parsed : error!);
    } catch {
      found.push(error!);
    }
  }
  return found;
}

interface Tracked {
  spawned: Spawned;
  /** The process has exited and its stdio is closed: all it logged has been read. */
  closed: Promise<void>;
  isClosed(): boolean;
}

const spawnedPrograms = new Set<Tracked>();
/** A killed program normally closes at once; this only bounds a stuck one. */
const DRAIN_MS = 5_000;

/**
 * Takes the 500s spawned programs logged that no test took (setup.ts fails on them). A program
 * that has been killed or has exited is waited for (its stderr read to the end), then forgotten.
 */
export async function takeSpawnedInternalErrors(): Promise<string[]> {
  const unexpected: string[] = [];
  for (const tracked of [...spawnedPrograms]) {
    const { child } = tracked.spawned;
    if (!tracked.isClosed() && (child.killed || child.exitCode !== null || child.signalCode !== null)) {
      await Promise.race([tracked.closed, new Promise((resolve) => setTimeout(resolve, DRAIN_MS).unref())]);
    }
    unexpected.push(...tracked.spawned.expectInternalErrors());
    if (tracked.isClosed()) spawnedPrograms.delete(tracked);
  }
  return unexpected;
}

export function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): Spawned {
  return spawnProgram(process.execPath, [BIN, ...args], { ...process.env, ...env });
}

/** Spawns any program (the single executable, an installed tarball's bin) with exactly `env`, tracked like spawnCli's. */
export function spawnProgram(file: string, args: string[], env: NodeJS.ProcessEnv): Spawned {
  const child = spawn(file, args, { env });
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of waiters.splice(0)) w();
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      resolve({ code, signal });
      for (const w of waiters.splice(0)) w();
    });
  });
  let done = false;
  void exited.then(() => (done = true));
  let isClosed = false;
  const closed = new Promise<void>((resolve) => {
    child.on('close', () => {
      isClosed = true;
      resolve();
    });
  });
  /** How many of the logged 500s have been taken (expected or reported). */
  let taken = 0;
  const internalErrors = (): string[] => loggedInternalErrors(err).slice(taken);
  const spawned: Spawned = {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    kill: (signal = 'SIGTERM') => {
      if (!done) child.kill(signal);
    },
    waitFor(pattern, stream = 'stdout') {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = (stream === 'stdout' ? out : err).match(pattern);
          if (match) return resolve(match);
          if (done || child.exitCode !== null) return reject(new Error(`process exited before printing ${pattern}: ${err}`));
          waiters.push(check);
        };
        check();
      });
    },
    internalErrors,
    expectInternalErrors() {
      const found = internalErrors();
      taken += found.length;
      return found;
    },
  };
  spawnedPrograms.add({ spawned, closed, isClosed: () => isClosed });
  return spawned;
}

/** Runs the CLI to completion. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawnCli(args, env);
  const { code } = await proc.exited;
  return { code, stdout: proc.stdout(), stderr: proc.stderr() };
}
