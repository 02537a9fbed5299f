import { constants, write as fsWrite, writeSync as fsWriteSync } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { GENESIS, headOfLine, linkLine, sealWrite, type ChainHead } from './chain.js';
import { formatEntry, formatSections, type AuditInput, type FormatOptions } from './entry.js';
import { createHash, createValueHash, type Hash } from './hash.js';
import { readTail } from './last-line.js';

/**
 * The `file` audit device: appends one JSON line per record to `file_path` (mode 0600 unless
 * `mode` says otherwise) or to stdout. The records of one event-loop turn go out at its end
 * in one write, sealed under one chain value (chain.ts); records that arrive while a write is
 * under way go in the next one, in order. Every record has a bounded wait: a device
 * that cannot write (a full pipe, a stuck disk) fails it after `writeTimeoutMs`, and the
 * broker fails closed. The path is checked before a write, at most every PATH_CHECK_MS (a
 * stat on every write would add a thread-pool round trip to each request): a file moved away
 * (rotation) or replaced is reopened, and a new empty file starts with a link to the last
 * chain value. Until the check sees it, lines go to the file moved away, as in Vault.
 */

/** How stale the device's knowledge of its path may be. */
export const PATH_CHECK_MS = 100;

export interface DeviceConfig extends FormatOptions {
  /** The audit path, `file/`. */
  path: string;
  /** A file path, or `stdout`. */
  filePath: string;
  /** Permission bits of the file; 0 leaves them as they are. */
  mode: number;
  writeTimeoutMs: number;
  salt: Uint8Array;
  chainKey: Uint8Array;
  /** A chain value on every line (option `chain = "line"`), not once per write (chain.ts). */
  chainPerLine: boolean;
  /** Where the chain stands when the device starts: its last line before a seal (table.ts); a file with lines overrides it. */
  startHead?: ChainHead;
}

export interface AuditDevice {
  readonly config: DeviceConfig;
  /** How this device hashes a value (sys/audit-hash). */
  readonly hash: Hash;
  /** Opens the file now (enable, unseal): rejects when it cannot be opened and written. */
  open(): Promise<void>;
  log(type: 'request' | 'response', input: AuditInput): Promise<void>;
  /**
   * A request line and its response line in one record (one write, one wait): for a read
   * answered without side effects, which may run before it is logged (audit-trail.ts).
   */
  logPair(request: AuditInput, response: AuditInput): Promise<void>;
  /** The last line written: seq and chain value. */
  head(): ChainHead;
  close(): Promise<void>;
}

interface Pending {
  /** One line, or a request line and its response line: sealed and written together. */
  body: string | readonly [string, string];
  /** Date.now() after which the record counts as failed. */
  deadline: number;
  /** Answered already (written, failed, or timed out): a timed-out record is never written. */
  settled: boolean;
  resolve(): void;
  reject(err: Error): void;
}

export class AuditWriteError extends Error {
  override name = 'AuditWriteError';
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new AuditWriteError(`${what} timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

export function createFileDevice(config: DeviceConfig): AuditDevice {
  const hashes = { value: createValueHash(config.salt), token: createHash(config.salt), accessor: createHash(config.salt), authTexts: new WeakMap() };
  const toStdout = config.filePath === 'stdout';
  let head: ChainHead = config.startHead ?? GENESIS;
  let handle: FileHandle | null = null;
  let identity = '';
  let checkedAt = 0;
  let started = false;
  let closed = false;
  let pending: Pending[] = [];
  /** The records of the write under way, oldest first (all older than every pending one). */
  let inflight: Pending[] = [];
  let writing = false;
  /** The open target is a regular file: see writeFileSync. */
  let syncWrites = false;
  let watchdog: NodeJS.Timeout | undefined;
  const sections = new WeakMap<object, string>();

  /** Makes sure the open file is the one at the path; the link line to write first, if the file is new. */
  const ensureTarget = async (): Promise<string> => {
    if (toStdout) {
      if (started) return '';
      started = true;
      return writeLink();
    }
    if (handle !== null && Date.now() - checkedAt < PATH_CHECK_MS) return '';
    const now = await stat(config.filePath).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    });
    checkedAt = Date.now();
    if (handle !== null && now !== null && `${now.dev}:${now.ino}` === identity) return '';
    const old = handle;
    handle = null;
    identity = '';
    syncWrites = false;
    await old?.close().catch(() => undefined);
    if (now?.isDirectory()) throw new AuditWriteError(`${config.filePath} is a directory`);
    if (now?.isFIFO()) {
      // A FIFO with no reader would block open() on a thread for good: probe without blocking first.
      const probe = await open(config.filePath, constants.O_WRONLY | constants.O_NONBLOCK);
      await probe.close();
    }
    const next = await open(config.filePath, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, config.mode || 0o600);
    try {
      // Disabled (or sealed) while this write was opening the file: the file is not kept open.
      if (closed) throw new AuditWriteError('the audit device is disabled');
      if (config.mode !== 0) await next.chmod(config.mode);
      const info = await next.stat();
      const tail = info.isFile() && info.size > 0 ? await readTail(config.filePath, info.size) : null;
      handle = next;
      identity = `${info.dev}:${info.ino}`;
      syncWrites = info.isFile();
      if (tail !== null) {
        // A file with lines in it: the chain goes on from its last complete line. A line torn
        // by a crash is ended, so the next line stands on its own (verify names the torn one).
        const last = headOfLine(tail.lastComplete);
        if (last !== null) head = last;
        return tail.torn ? '\n' : '';
      }
      return writeLink();
    } catch (err) {
      if (handle === null) await next.close().catch(() => undefined);
      throw err;
    }
  };

  const writeLink = (): string => {
    const sealed = linkLine(config.chainKey, head);
    head = sealed.head;
    return sealed.text;
  };

  /** Whether the open target may be written without checking its path first. */
  const targetChecked = (): boolean => (toStdout ? started : handle !== null && Date.now() - checkedAt < PATH_CHECK_MS);

  /**
   * A regular file is written synchronously: an append lands in the page cache, and a write
   * on the thread pool costs more in hand-offs and wake-ups than the copy itself. Pipes,
   * terminals and stdout can block for good, so they take writeText, under the watchdog.
   */
  const writeFileSync = (text: string | Buffer): void => {
    const buffer = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
    const fd = handle!.fd;
    let offset = 0;
    while (offset < buffer.length) offset += fsWriteSync(fd, buffer, offset);
  };

  const writeText = async (text: string | Buffer): Promise<void> => {
    if (toStdout) {
      await new Promise<void>((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve())));
      return;
    }
    let buffer = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
    const fd = handle!.fd;
    while (buffer.length > 0) {
      // The callback form: one thread-pool trip without the promise API's extra turns.
      const written = await new Promise<number>((resolve, reject) => fsWrite(fd, buffer, (err, n) => (err ? reject(err) : resolve(n))));
      buffer = buffer.subarray(written);
    }
  };

  const settle = (item: Pending, err?: Error): void => {
    if (item.settled) return;
    item.settled = true;
    if (err === undefined) item.resolve();
    else item.reject(err);
  };

  /**
   * One timer per device, not one per record (a timer each would cost every request): it
   * fires at the oldest unanswered record's deadline, fails every record past its own, and
   * is set again for the next. Records are queued in order with one timeout, so the oldest
   * unanswered one is the first due.
   */
  const armWatchdog = (): void => {
    if (watchdog !== undefined) return;
    const oldest = inflight.find((item) => !item.settled) ?? pending.find((item) => !item.settled);
    if (oldest === undefined) return;
    watchdog = setTimeout(() => {
      watchdog = undefined;
      const now = Date.now();
      const late = new AuditWriteError(`audit write to ${config.filePath} timed out after ${config.writeTimeoutMs} ms`);
      for (const item of inflight) if (item.deadline <= now) settle(item, late);
      for (const item of pending) if (item.deadline <= now) settle(item, late);
      armWatchdog();
    }, Math.max(0, oldest.deadline - Date.now()));
    watchdog.unref();
  };

  /** Writes everything waiting in one go; on failure the chain is rolled back, as nothing counts as written. */
  const flush = async (): Promise<void> => {
    if (writing || pending.length === 0) return;
    writing = true;
    let batch = pending;
    pending = [];
    inflight = batch;
    const before = head;
    try {
      // The path is checked (a thread-pool round trip) at most every PATH_CHECK_MS.
      const prefix = targetChecked() ? '' : await ensureTarget();
      // A record that timed out while it waited is not written: it never takes a seq.
      batch = batch.filter((item) => !item.settled);
      let bytes: string | Buffer = prefix;
      if (batch.length > 0) {
        const bodies: string[] = [];
        for (const item of batch) {
          if (typeof item.body === 'string') bodies.push(item.body);
          else bodies.push(item.body[0], item.body[1]);
        }
        const sealed = sealWrite(config.chainKey, head, bodies, config.chainPerLine, prefix);
        head = sealed.head;
        bytes = sealed.bytes;
      }
      if (bytes.length > 0) {
        if (syncWrites) writeFileSync(bytes);
        else await writeText(bytes);
      }
      for (const item of batch) settle(item);
    } catch (err) {
      head = before;
      // Reopen next time: the handle may be what failed.
      const old = handle;
      handle = null;
      identity = '';
      syncWrites = false;
      void old?.close().catch(() => undefined);
      const failure = err instanceof Error ? err : new Error(String(err));
      for (const item of batch) settle(item, failure);
    } finally {
      inflight = [];
      writing = false;
      if (pending.length > 0 && !closed) schedule();
    }
  };

  /**
   * Records wait for the end of the event-loop turn (setImmediate), so every request parsed
   * in one turn goes out in one write under one chain value: under load a write carries tens
   * of lines, and the HMAC, the write and its wake-ups are paid once for all of them.
   */
  let scheduled = false;
  const runFlush = (): void => {
    scheduled = false;
    void flush();
  };
  const schedule = (): void => {
    if (scheduled || writing) return;
    scheduled = true;
    setImmediate(runFlush);
  };

  const record = (body: Pending['body']): Promise<void> => {
    if (closed) return Promise.reject(new AuditWriteError('the audit device is disabled'));
    return new Promise<void>((resolve, reject) => {
      pending.push({ body, deadline: Date.now() + config.writeTimeoutMs, settled: false, resolve, reject });
      armWatchdog();
      schedule();
    });
  };

  return {
    config,
    hash: hashes.value,
    async open() {
      await withTimeout(
        (async () => {
          if (toStdout) return;
          const before = head;
          try {
            await writeText(await ensureTarget());
          } catch (err) {
            head = before;
            const old = handle;
            handle = null;
            identity = '';
            await old?.close().catch(() => undefined);
            throw err;
          }
        })(),
        config.writeTimeoutMs,
        `opening ${config.filePath}`,
      );
    },
    log(type, input) {
      let body: string;
      try {
        // The request line's auth and request members serve its response line too.
        let common = sections.get(input.request);
        if (common === undefined) {
          common = formatSections(input, hashes, config);
          if (type === 'request') sections.set(input.request, common);
        } else if (type === 'response') sections.delete(input.request);
        body = formatEntry(type, input, hashes, config, common);
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
      return record(body);
    },
    logPair(request, response) {
      let bodies: [string, string];
      try {
        const common = formatSections(request, hashes, config);
        bodies = [formatEntry('request', request, hashes, config, common), formatEntry('response', response, hashes, config, common)];
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
      return record(bodies);
    },
    head: () => head,
    async close() {
      closed = true;
      clearTimeout(watchdog);
      const gone = new AuditWriteError('the audit device is disabled');
      for (const item of [...inflight, ...pending.splice(0)]) settle(item, gone);
      const old = handle;
      handle = null;
      // A write stuck on a full pipe must not hold up disabling the device.
      if (old !== null) await withTimeout(old.close(), config.writeTimeoutMs, 'closing').catch(() => undefined);
    },
  };
}
