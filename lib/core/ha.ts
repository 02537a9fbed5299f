import type { Logger } from '../log.js';
import type { HaLock } from '../storage/ha.js';

/**
 * Active/standby (api.md §15) on a storage's HA lock (lib/storage/ha.ts). While the core is
 * unsealed, this loop waits for the lock as a standby, becomes active once it holds it
 * (`activate`: reload everything the previous active server may have changed), and goes
 * back to standby the moment the lock is lost or given up (`deactivate`), then waits again.
 *
 * Nothing here knows what "active" means for requests: the core asks `isActive()` and, on a
 * standby, `leaderAddress()` for the 307 redirect.
 */

export interface HaRunnerOptions {
  /** The lock, made for this unseal with this server's api_addr as its value. */
  lock: HaLock;
  /** This server's own api_addr, reported by sys/leader while active. */
  apiAddr: string;
  logger: Logger;
  /** Load the keyring, mounts, policies, leases: after it, the server can serve. Throws to give the lock back. */
  activate(): Promise<void>;
  /** Drop everything activate() loaded (the barrier stays unsealed). Never throws. */
  deactivate(): void;
  /** How long a server that stepped down leaves the lock to the others; Vault's 10 s by default. */
  stepDownMs?: number;
  /** How long after a failed activation before trying again; 1 s by default. */
  retryMs?: number;
}

export interface HaRunner {
  isActive(): boolean;
  /** When this server last became active; undefined while standby. */
  activeSince(): Date | undefined;
  /**
   * The active server's api_addr ('' when it advertised none), null when nobody holds the
   * lock. A standby answers every redirect with it, so it is remembered for a moment.
   */
  leaderAddress(): Promise<string | null>;
  /** Gives the lock up (sys/step-down); does nothing on a standby. Resolves once standby. */
  stepDown(): Promise<void>;
  /** Leaves the loop: deactivates, releases the lock. For seal and shutdown. */
  stop(): Promise<void>;
}

/** A leader address this fresh is reused: a stream of redirects costs one lock read per interval. */
const LEADER_MEMO_MS = 250;

export function startHaRunner(options: HaRunnerOptions): HaRunner {
  const { lock, logger } = options;
  const stepDownMs = options.stepDownMs ?? 10_000;
  const retryMs = options.retryMs ?? 1000;
  const stopping = new AbortController();
  let active = false;
  let since: Date | undefined;
  let steppingDown: (() => void) | undefined;
  /** Resolves a sys/step-down call once the lock is given back. */
  let steppedDownWaiter: (() => void) | undefined;
  let leaderMemo: { at: number; value: Promise<string | null> } | undefined;

  /** Resolves after `ms`, or at once when the loop is stopped. */
  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        stopping.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      stopping.signal.addEventListener('abort', done, { once: true });
    });

  const stopped = new Promise<void>((resolve) => stopping.signal.addEventListener('abort', () => resolve(), { once: true }));

  const loop = async (): Promise<void> => {
    while (!stopping.signal.aborted) {
      let held;
      try {
        held = await lock.acquire(stopping.signal);
      } catch {
        // Aborted by stop(), or released meanwhile: the loop condition decides.
        continue;
      }
      if (stopping.signal.aborted) break;
      try {
        await options.activate();
      } catch (err) {
        logger.error('could not become active; giving the lock back', { error: err });
        options.deactivate();
        await lock.release();
        await pause(retryMs);
        continue;
      }
      active = true;
      since = new Date();
      leaderMemo = undefined;
      logger.info('active: this server holds the HA lock and serves requests');
      const steppedDown = new Promise<void>((resolve) => (steppingDown = resolve));
      const why = await Promise.race([held.lost.then(() => 'lost' as const), stopped.then(() => 'stop' as const), steppedDown.then(() => 'step-down' as const)]);
      active = false;
      since = undefined;
      steppingDown = undefined;
      leaderMemo = undefined;
      options.deactivate();
      await lock.release();
      if (why === 'lost') logger.warn('standby: the HA lock was lost');
      else if (why === 'step-down') {
        logger.info('standby: stepped down');
        steppedDownWaiter?.();
        steppedDownWaiter = undefined;
        await pause(stepDownMs);
      }
    }
  };
  const running = loop().catch((err: unknown) => logger.error('the HA loop stopped', { error: err }));

  return {
    isActive: () => active,
    activeSince: () => since,
    leaderAddress() {
      if (active) return Promise.resolve(options.apiAddr);
      const now = Date.now();
      if (leaderMemo === undefined || now - leaderMemo.at > LEADER_MEMO_MS) {
        const memo = { at: now, value: lock.value().catch(() => null) };
        leaderMemo = memo;
        // "Nobody" is not remembered: a server is about to take the lock, and clients should find it at once.
        void memo.value.then((leader) => {
          if (leader === null && leaderMemo === memo) leaderMemo = undefined;
        });
      }
      return leaderMemo.value;
    },
    stepDown() {
      const step = steppingDown;
      if (!active || step === undefined) return Promise.resolve();
      const done = new Promise<void>((resolve) => (steppedDownWaiter = resolve));
      step();
      return done;
    },
    async stop() {
      stopping.abort();
      await lock.release();
      await running;
    },
  };
}
