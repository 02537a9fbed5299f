import { ApiError } from '../errors.js';
import { randomBytes } from '../crypto/random.js';
import type { Logger } from '../log.js';
import { createSerialQueue } from '../serial.js';
import type { Storage } from '../storage/storage.js';
import { createAuditBroker, type AuditBroker } from './broker.js';
import type { ChainHead } from './chain.js';
import { createFileDevice, type AuditDevice } from './file-device.js';
import { parseFileOptions, targetOf, writeTimeoutMillis, type FileOptions } from './options.js';

/**
 * The audit table: which devices are enabled, with each one's HMAC salt and chain key, kept
 * behind the barrier at `core/audit` (never in a list answer). Loaded at unseal, dropped at
 * seal. Changes are serialized and saved before they take effect.
 */

const TABLE_KEY = 'core/audit';
const KEY_BYTES = 32;

export interface AuditEntry {
  path: string;
  type: 'file';
  description: string;
  options: FileOptions;
  /** Hex: the HMAC key for values and tokens. */
  salt: string;
  /** Hex: the key of the line chain (chain.ts), exported to root for offline verification. */
  chainKey: string;
  /**
   * The device's last line when the server last sealed (or stopped): a file rotated while the
   * server was down then starts with a link to it, as one rotated while running does.
   */
  head?: ChainHead;
}

export interface EnableRequest {
  type: unknown;
  description: unknown;
  options: unknown;
}

export interface AuditTable {
  readonly broker: AuditBroker;
  entries(): AuditEntry[];
  entry(path: string): AuditEntry | undefined;
  enable(path: string, request: EnableRequest): Promise<void>;
  disable(path: string): Promise<void>;
  load(): Promise<void>;
  /** Saves each device's chain head with its entry: call before sealing (see AuditEntry.head). */
  saveHeads(): Promise<void>;
  unload(): void;
}

const PATH = /^[A-Za-z0-9_.-]+(?:\/[A-Za-z0-9_.-]+)*\/?$/;

export function normalizeAuditPath(raw: string): string {
  if (!PATH.test(raw)) throw new ApiError('ERR_INVALID_PATH', `invalid audit path '${raw}'`);
  return raw.endsWith('/') ? raw : `${raw}/`;
}

function deviceOf(entry: AuditEntry): AuditDevice {
  return createFileDevice({
    path: entry.path,
    filePath: entry.options.file_path,
    mode: parseInt(entry.options.mode, 8),
    logRaw: entry.options.log_raw === 'true',
    hmacAccessor: entry.options.hmac_accessor === 'true',
    writeTimeoutMs: writeTimeoutMillis(entry.options),
    chainPerLine: entry.options.chain === 'line',
    salt: Buffer.from(entry.salt, 'hex'),
    chainKey: Buffer.from(entry.chainKey, 'hex'),
    startHead: entry.head,
  });
}

export function createAuditTable(barrier: Storage, logger: Logger, onFailure?: () => void): AuditTable {
  const broker = createAuditBroker(logger, onFailure);
  const serial = createSerialQueue();
  let table = new Map<string, AuditEntry>();

  const save = (next: Map<string, AuditEntry>): Promise<void> =>
    barrier.put(TABLE_KEY, Buffer.from(JSON.stringify({ entries: [...next.values()] }), 'utf8'));

  return {
    broker,
    entries: () => [...table.values()],
    entry: (path) => table.get(path),

    enable(rawPath, request) {
      return serial(async () => {
        const path = normalizeAuditPath(rawPath);
        if (request.type !== 'file') throw new ApiError('ERR_INVALID_FIELD', "unknown audit device type: the only type is 'file'");
        if (request.description !== undefined && request.description !== null && typeof request.description !== 'string') {
          throw new ApiError('ERR_INVALID_FIELD', "field 'description' must be a string");
        }
        const rawOptions = request.options ?? {};
        if (typeof rawOptions !== 'object' || rawOptions === null || Array.isArray(rawOptions)) throw new ApiError('ERR_INVALID_FIELD', "field 'options' must be an object");
        const options = parseFileOptions(rawOptions as Record<string, unknown>);
        if (table.has(path)) throw new ApiError('ERR_INVALID_PATH', `path already in use: an audit device is enabled at '${path}'`);
        const target = targetOf(options.file_path);
        const sharing = [...table.values()].find((e) => targetOf(e.options.file_path) === target);
        if (sharing) throw new ApiError('ERR_INVALID_FIELD', `the audit device at '${sharing.path}' already writes to that file`);
        const entry: AuditEntry = {
          path,
          type: 'file',
          description: (request.description as string | undefined) ?? '',
          options,
          salt: randomBytes(KEY_BYTES).toString('hex'),
          chainKey: randomBytes(KEY_BYTES).toString('hex'),
        };
        const device = deviceOf(entry);
        try {
          await device.open();
        } catch (err) {
          await device.close();
          // The reason (ENOENT, EACCES, EISDIR, a FIFO with no reader) names no secret.
          const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
          throw new ApiError('ERR_INVALID_FIELD', `cannot open the audit file: ${reason}`);
        }
        const next = new Map(table).set(path, entry);
        try {
          await save(next);
        } catch (err) {
          await device.close();
          throw err;
        }
        table = next;
        broker.add(device);
      });
    },

    disable(rawPath) {
      return serial(async () => {
        const path = normalizeAuditPath(rawPath);
        if (!table.has(path)) throw new ApiError('ERR_INVALID_PATH', `no audit device is enabled at '${path}'`);
        const next = new Map(table);
        next.delete(path);
        await save(next);
        table = next;
        await broker.remove(path)?.close();
      });
    },

    load() {
      return serial(async () => {
        const stored = await barrier.get(TABLE_KEY);
        const entries = stored === null ? [] : (JSON.parse(Buffer.from(stored).toString('utf8')) as { entries: AuditEntry[] }).entries;
        table = new Map(entries.map((e) => [e.path, e]));
        for (const entry of entries) {
          const device = deviceOf(entry);
          // A device that cannot open now stays enabled and tries again at each write:
          // until one succeeds, requests fail closed.
          await device.open().catch((err: unknown) => logger.error('audit device cannot open its file', { path: entry.path, error: (err as Error).message }));
          broker.add(device);
        }
      });
    },

    saveHeads() {
      return serial(async () => {
        let changed = false;
        const next = new Map(table);
        for (const device of broker.devices()) {
          const entry = next.get(device.config.path);
          const head = device.head();
          if (entry === undefined || head.seq === 0 || (entry.head?.seq === head.seq && entry.head.chain === head.chain)) continue;
          next.set(entry.path, { ...entry, head: { seq: head.seq, chain: head.chain } });
          changed = true;
        }
        if (!changed) return;
        await save(next);
        table = next;
      });
    },

    unload() {
      // At seal, which cannot wait: the devices leave the broker at once and close in the background.
      table = new Map();
      for (const device of [...broker.devices()]) {
        broker.remove(device.config.path);
        void device.close();
      }
    },
  };
}
