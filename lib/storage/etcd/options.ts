import { readFileSync } from 'node:fs';
import { parseDurationMillis } from '../../duration.js';
import { parseEndpoints, type EtcdTls } from './client.js';

/**
 * The `storage "etcd" { ... }` options, checked at start-up: every problem is an Error whose
 * message names the option, so the operator sees what to fix before the server listens.
 */
export interface EtcdStorageConfig {
  endpoints: string[];
  /** The key prefix, always ending in "/". */
  prefix: string;
  haEnabled: boolean;
  requestTimeoutMs: number;
  /** How long the HA lock outlives an active server that stopped renewing it (`lock_timeout`). */
  lockTtlSeconds: number;
  tls: EtcdTls | undefined;
}

export const ETCD_OPTIONS = ['address', 'path', 'ha_enabled', 'request_timeout', 'lock_timeout', 'tls_ca_file', 'tls_cert_file', 'tls_key_file'];
const DEFAULT_ADDRESS = 'http://127.0.0.1:2379';
const DEFAULT_PATH = '/nomad-api/';
const DEFAULT_TIMEOUT_MS = 5000;
/** Vault's etcd default: a dead active server is replaced within about this long. */
const DEFAULT_LOCK_TTL_SECONDS = 15;

export function parseEtcdOptions(options: Readonly<Record<string, string>>): EtcdStorageConfig {
  const fail = (message: string): never => {
    throw new Error(`storage "etcd": ${message}`);
  };
  let endpoints: URL[] = [];
  try {
    endpoints = parseEndpoints(options.address ?? DEFAULT_ADDRESS);
  } catch (err) {
    fail((err as Error).message);
  }
  let prefix = options.path ?? DEFAULT_PATH;
  if (prefix === '' || prefix.includes('\0')) fail(`path must be a non-empty key prefix such as "${DEFAULT_PATH}"`);
  if (!prefix.endsWith('/')) prefix += '/';
  const ha = options.ha_enabled ?? 'false';
  if (ha !== 'true' && ha !== 'false') fail(`ha_enabled must be "true" or "false", not '${ha}'`);
  let requestTimeoutMs = DEFAULT_TIMEOUT_MS;
  if (options.request_timeout !== undefined) {
    try {
      requestTimeoutMs = parseDurationMillis(options.request_timeout);
    } catch {
      fail(`request_timeout '${options.request_timeout}' is not a duration (e.g. "5s", "500ms")`);
    }
    if (requestTimeoutMs <= 0) fail('request_timeout must be more than zero');
  }
  let lockTtlSeconds = DEFAULT_LOCK_TTL_SECONDS;
  if (options.lock_timeout !== undefined) {
    let ms = 0;
    try {
      ms = parseDurationMillis(options.lock_timeout);
    } catch {
      fail(`lock_timeout '${options.lock_timeout}' is not a duration (e.g. "15s")`);
    }
    // etcd leases count whole seconds.
    if (ms < 1000 || ms % 1000 !== 0) fail('lock_timeout must be a whole number of seconds, at least "1s"');
    lockTtlSeconds = ms / 1000;
  }
  const read = (name: string): Buffer | undefined => {
    const file = options[name];
    if (file === undefined) return undefined;
    try {
      return readFileSync(file);
    } catch (err) {
      return fail(`${name}: cannot read '${file}' (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  };
  const ca = read('tls_ca_file');
  const cert = read('tls_cert_file');
  const key = read('tls_key_file');
  if ((cert === undefined) !== (key === undefined)) fail('tls_cert_file and tls_key_file go together');
  const anyTls = ca !== undefined || cert !== undefined;
  if (anyTls && endpoints.some((u) => u.protocol !== 'https:')) fail('tls_* options need https:// addresses');
  return {
    endpoints: endpoints.map((u) => u.origin),
    prefix,
    haEnabled: ha === 'true',
    requestTimeoutMs,
    lockTtlSeconds,
    tls: anyTls ? { ca, cert, key } : undefined,
  };
}
