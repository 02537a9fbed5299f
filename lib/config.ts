/**
 * Server configuration (api.md §16): HCL-subset or JSON files → one deep-frozen ServerConfig.
 *
 * Several files merge in the order given (a directory contributes its *.hcl and *.json files
 * sorted by name, skipping hidden ones): a top-level attribute set again later wins, listeners
 * accumulate, storage may appear once overall. Unknown keys are errors, so a typo never
 * silently leaves a default in place; every error names the file, the line and the key.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  readAddress,
  readBool,
  readCount,
  readLogFormat,
  readLogLevel,
  readSize,
  readText,
  readTimeout,
  readTlsVersion,
  readTtl,
  readUrl,
  type Fail,
  type LogFormat,
  type LogLevel,
  type TlsVersion,
} from './config-values.js';
import { formatDuration } from './duration.js';
import { parseJsonDocument, valueDocument } from './hcl/json.js';
import { HclSyntaxError, parseHcl, type HclAttribute, type HclBlock, type HclBody, type HclValue } from './hcl/parser.js';

export type { LogFormat, LogLevel, TlsVersion };

export interface ListenerConfig {
  address: string;
  tlsDisable: boolean;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  tlsMinVersion: TlsVersion;
  tlsClientCaFile?: string;
  tlsRequireAndVerifyClientCert: boolean;
  tlsDisableClientCerts: boolean;
  maxRequestSize: number;
  /** Milliseconds a client has to send the request headers (`http_read_header_timeout`); 0: no limit. */
  readHeaderTimeoutMs: number;
  /** Milliseconds a client has to send the whole request (`http_read_timeout`); 0: no limit. */
  readTimeoutMs: number;
  /** JSON body limits (api.md §1): nesting depth (`max_json_depth`). */
  maxJsonDepth: number;
  /** Bytes in one JSON string, keys included (`max_json_string_value_length`). */
  maxJsonStringValueLength: number;
  /** Entries in one JSON object (`max_json_object_entry_count`). */
  maxJsonObjectEntryCount: number;
  /** Elements in one JSON array (`max_json_array_element_count`). */
  maxJsonArrayElementCount: number;
}

export interface StorageConfig {
  type: string;
  options: Record<string, string>;
}

export interface ServerConfig {
  listeners: ListenerConfig[];
  storage: StorageConfig;
  apiAddr?: string;
  clusterName?: string;
  defaultLeaseTtl: number;
  maxLeaseTtl: number;
  logLevel: LogLevel;
  /** `standard` (one readable line per event) or `json` (one JSON object a line). */
  logFormat: LogFormat;
  rawStorageEndpoint: boolean;
  disableCache: boolean;
  disableMlock: boolean;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly key: string | undefined;

  constructor(message: string, where: { file?: string; line?: number; key?: string } = {}) {
    super(message);
    this.file = where.file;
    this.line = where.line;
    this.key = where.key;
  }
}

const DEFAULT_TTL = 768 * 3600;
const DEFAULT_MAX_REQUEST_SIZE = 32 * 1024 * 1024;
/** Slow clients: headers within 10 s (Vault's default too), a whole request within 60 s (Vault: 30 s). */
const DEFAULT_READ_HEADER_TIMEOUT_MS = 10_000;
const DEFAULT_READ_TIMEOUT_MS = 60_000;
const JSON_BLOCKS = { listener: 1, storage: 1, backend: 1 };

type Reader = (value: HclValue, fail: Fail) => unknown;
export type SettingKey = Exclude<keyof ServerConfig, 'listeners' | 'storage'>;

interface Located<T> {
  value: T;
  file: string;
  line: number;
}

/** What the files read so far have said; finish() turns it into a ServerConfig. */
interface Accumulator {
  settings: Map<SettingKey, Located<unknown>>;
  listeners: ListenerConfig[];
  storage?: Located<StorageConfig>;
}

const TOP_LEVEL: Record<string, [SettingKey, Reader]> = {
  api_addr: ['apiAddr', readUrl],
  cluster_name: ['clusterName', readText],
  default_lease_ttl: ['defaultLeaseTtl', readTtl],
  max_lease_ttl: ['maxLeaseTtl', readTtl],
  log_level: ['logLevel', readLogLevel],
  log_format: ['logFormat', readLogFormat],
  raw_storage_endpoint: ['rawStorageEndpoint', readBool],
  disable_cache: ['disableCache', readBool],
  disable_mlock: ['disableMlock', readBool],
};

const LISTENER_KEYS: Record<string, [keyof ListenerConfig, Reader]> = {
  address: ['address', readAddress],
  tls_disable: ['tlsDisable', readBool],
  tls_cert_file: ['tlsCertFile', readText],
  tls_key_file: ['tlsKeyFile', readText],
  tls_min_version: ['tlsMinVersion', readTlsVersion],
  tls_client_ca_file: ['tlsClientCaFile', readText],
  tls_require_and_verify_client_cert: ['tlsRequireAndVerifyClientCert', readBool],
  tls_disable_client_certs: ['tlsDisableClientCerts', readBool],
  max_request_size: ['maxRequestSize', readSize],
  http_read_header_timeout: ['readHeaderTimeoutMs', readTimeout],
  http_read_timeout: ['readTimeoutMs', readTimeout],
  max_json_depth: ['maxJsonDepth', readCount],
  max_json_string_value_length: ['maxJsonStringValueLength', readSize],
  max_json_object_entry_count: ['maxJsonObjectEntryCount', readCount],
  max_json_array_element_count: ['maxJsonArrayElementCount', readCount],
};

const DEFAULT_SETTINGS = {
  defaultLeaseTtl: DEFAULT_TTL,
  maxLeaseTtl: DEFAULT_TTL,
  logLevel: 'info',
  logFormat: 'standard',
  rawStorageEndpoint: false,
  disableCache: false,
  disableMlock: true,
} as const;

/** The -dev configuration: plain HTTP on loopback, in-memory storage. */
export function defaultConfig(): ServerConfig {
  return deepFreeze({
    listeners: [{ ...defaultListener(), tlsDisable: true }],
    storage: { type: 'inmem', options: {} },
    ...DEFAULT_SETTINGS,
  });
}

/** JSON when the name ends in .json or the text starts with '{' (no HCL document can). */
export function parseConfig(text: string, fileName: string): ServerConfig {
  const acc: Accumulator = { settings: new Map(), listeners: [] };
  apply(acc, parseDocument(text, fileName), fileName);
  return finish(acc, fileName);
}

/**
 * A configuration given as an object in the shape of a JSON config file (an embedder's:
 * lib/config-document.ts), checked exactly as that file would be. `source` stands for the file
 * name in errors, which name the key path instead of a line.
 */
export function parseConfigObject(value: unknown, source = 'config'): ServerConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(`${source}: the configuration must be an object, as a JSON config file holds`);
  }
  let body: HclBody;
  try {
    body = valueDocument(value, JSON_BLOCKS);
  } catch (err) {
    if (!(err instanceof HclSyntaxError)) throw err;
    throw new ConfigError(`${source}: ${err.reason}`, { file: source });
  }
  const acc: Accumulator = { settings: new Map(), listeners: [] };
  apply(acc, body, source);
  return finish(acc, source);
}

/** The file's name for a ServerConfig field (`logLevel` → `log_level`), for messages about it. */
export function settingName(field: SettingKey): string {
  return Object.keys(TOP_LEVEL).find((name) => TOP_LEVEL[name]![0] === field) ?? field;
}

/** The file's name for a ListenerConfig field (`maxRequestSize` → `max_request_size`). */
export function listenerSettingName(field: keyof ListenerConfig): string {
  return Object.keys(LISTENER_KEYS).find((name) => LISTENER_KEYS[name]![0] === field) ?? field;
}

export function loadConfigFiles(paths: string[]): ServerConfig {
  if (paths.length === 0) throw new ConfigError('no configuration file given: pass -config=FILE or -config=DIR');
  const acc: Accumulator = { settings: new Map(), listeners: [] };
  for (const file of paths.flatMap(expandPath)) apply(acc, parseDocument(readConfigFile(file), file), file);
  return finish(acc, paths.join(', '));
}

function expandPath(path: string): string[] {
  try {
    if (!statSync(path).isDirectory()) return [path];
    return readdirSync(path)
      .filter((name) => /\.(hcl|json)$/i.test(name) && !name.startsWith('.'))
      .sort()
      .map((name) => join(path, name))
      .filter((file) => statSync(file, { throwIfNoEntry: false })?.isFile() === true);
  } catch (err) {
    throw fileError(path, err);
  }
}

function fileError(file: string, err: unknown): ConfigError {
  const code = (err as NodeJS.ErrnoException).code;
  const reason = code === 'ENOENT' ? 'no such file or directory' : `cannot read: ${code ?? String(err)}`;
  return new ConfigError(`${file}: ${reason}`, { file });
}

function readConfigFile(file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(file));
  } catch (err) {
    // The decoder's only failure is a TypeError; file system errors carry a code.
    throw err instanceof TypeError ? new ConfigError(`${file}: not valid UTF-8`, { file }) : fileError(file, err);
  }
}

function parseDocument(text: string, file: string): HclBody {
  try {
    const json = /\.json$/i.test(file) || /^\uFEFF?\s*\{/.test(text);
    return json ? parseJsonDocument(text, JSON_BLOCKS) : parseHcl(text);
  } catch (err) {
    if (!(err instanceof HclSyntaxError)) throw err;
    throw new ConfigError(`${file}:${err.line}:${err.column}: ${err.reason}`, { file, line: err.line });
  }
}

/** `file:line`, or the source alone for a config object, which has no lines (line 0). */
function at(file: string, line: number): string {
  return line === 0 ? file : `${file}:${line}`;
}

function failer(file: string, line: number, key: string): Fail {
  return (reason) => {
    throw new ConfigError(`${at(file, line)}: ${key}: ${reason}`, { file, line: line === 0 ? undefined : line, key });
  };
}

function apply(acc: Accumulator, body: HclBody, file: string): void {
  for (const item of body.items) {
    const name = item.kind === 'attribute' ? item.name : item.type;
    const fail: Fail = failer(file, item.line, name);
    const isBlock = Object.hasOwn(JSON_BLOCKS, name);
    if (!isBlock && !Object.hasOwn(TOP_LEVEL, name)) {
      fail(`unknown key; expected one of listener, storage, ${Object.keys(TOP_LEVEL).join(', ')}`);
    }
    if (item.kind === 'attribute') {
      if (isBlock) fail(`must be a block: ${name} "TYPE" { ... }`);
      const [field, read] = TOP_LEVEL[name]!;
      acc.settings.set(field, { value: read(item.value, fail), file, line: item.line });
    } else if (!isBlock) {
      fail(`must be an attribute: ${name} = value`);
    } else if (name === 'listener') {
      acc.listeners.push(readListener(item, file));
    } else {
      readStorage(acc, item, file);
    }
  }
}

function defaultListener(): ListenerConfig {
  return {
    address: '127.0.0.1:8200',
    tlsDisable: false,
    tlsMinVersion: 'tls12',
    tlsRequireAndVerifyClientCert: false,
    tlsDisableClientCerts: false,
    maxRequestSize: DEFAULT_MAX_REQUEST_SIZE,
    readHeaderTimeoutMs: DEFAULT_READ_HEADER_TIMEOUT_MS,
    readTimeoutMs: DEFAULT_READ_TIMEOUT_MS,
    // Vault's listener defaults (api.md §1).
    maxJsonDepth: 300,
    maxJsonStringValueLength: 1024 * 1024,
    maxJsonObjectEntryCount: 10_000,
    maxJsonArrayElementCount: 10_000,
  };
}

function readListener(block: HclBlock, file: string): ListenerConfig {
  const prefix = ['listener', ...block.labels].join('.');
  const fail: Fail = failer(file, block.line, prefix);
  if (block.labels.length !== 1) fail('needs exactly one type label: listener "tcp" { ... }');
  if (block.labels[0] !== 'tcp') fail(`unsupported listener type "${block.labels[0]}": only "tcp" is supported`);
  const listener: Record<string, unknown> = { ...defaultListener() };
  const lines = new Map<string, number>();
  for (const [{ name, value, line }, failKey] of attributesOf(block, file, prefix)) {
    if (!Object.hasOwn(LISTENER_KEYS, name)) failKey(`unknown key; expected one of ${Object.keys(LISTENER_KEYS).join(', ')}`);
    const [field, read] = LISTENER_KEYS[name]!;
    listener[field] = read(value, failKey);
    lines.set(name, line);
  }
  const config = listener as unknown as ListenerConfig;
  if (!config.tlsDisable) {
    for (const [key, present] of [['tls_cert_file', config.tlsCertFile], ['tls_key_file', config.tlsKeyFile]] as const) {
      if (present === undefined) failer(file, block.line, `${prefix}.${key}`)('required unless tls_disable = true');
    }
  }
  if (config.readTimeoutMs > 0 && config.readHeaderTimeoutMs > config.readTimeoutMs) {
    // The headers are part of the request: their limit cannot outlast the whole request's.
    const key = lines.has('http_read_header_timeout') ? 'http_read_header_timeout' : 'http_read_timeout';
    failer(file, lines.get(key) ?? block.line, `${prefix}.${key}`)('http_read_header_timeout cannot be longer than http_read_timeout');
  }
  if (config.tlsRequireAndVerifyClientCert && config.tlsDisableClientCerts) {
    const line = lines.get('tls_require_and_verify_client_cert')!;
    failer(file, line, `${prefix}.tls_require_and_verify_client_cert`)('cannot be combined with tls_disable_client_certs = true');
  }
  return config;
}

function readStorage(acc: Accumulator, block: HclBlock, file: string): void {
  const prefix = [block.type, ...block.labels].join('.');
  const fail: Fail = failer(file, block.line, prefix);
  if (acc.storage !== undefined) {
    fail(`storage is already configured at ${at(acc.storage.file, acc.storage.line)}; only one storage block is allowed`);
  }
  if (block.labels.length !== 1 || block.labels[0] === '') fail(`needs exactly one type label: ${block.type} "TYPE" { ... }`);
  const options = attributesOf(block, file, prefix).map(([{ name, value }, failKey]) => {
    return typeof value === 'object' ? failKey('must be a string, number or boolean') : [name, String(value)];
  });
  acc.storage = { value: { type: block.labels[0]!, options: Object.fromEntries(options) }, file, line: block.line };
}

/** Listener and storage bodies hold attributes only; each comes with its own error helper. */
function attributesOf(block: HclBlock, file: string, prefix: string): Array<[HclAttribute, Fail]> {
  return block.body.items.map((item) => {
    const name = item.kind === 'attribute' ? item.name : item.type;
    const fail: Fail = failer(file, item.line, `${prefix}.${name}`);
    return item.kind === 'block' ? fail(`nested blocks are not allowed in ${block.type}`) : [item, fail];
  });
}

function finish(acc: Accumulator, source: string): ServerConfig {
  if (acc.listeners.length === 0) {
    throw new ConfigError(`${source}: listener: no listener configured; add a listener "tcp" { ... } block`, { key: 'listener' });
  }
  const chosen = Object.fromEntries([...acc.settings].map(([key, at]) => [key, at.value]));
  const maxLeaseTtl = (chosen.maxLeaseTtl as number | undefined) ?? DEFAULT_TTL;
  const config: ServerConfig = {
    listeners: acc.listeners,
    storage: acc.storage?.value ?? { type: 'inmem', options: {} },
    ...DEFAULT_SETTINGS,
    // Setting only max_lease_ttl lowers the default with it rather than failing on our default.
    defaultLeaseTtl: Math.min(DEFAULT_TTL, maxLeaseTtl),
    ...(chosen as Partial<ServerConfig>),
  };
  const defaultAt = acc.settings.get('defaultLeaseTtl');
  if (defaultAt !== undefined && config.defaultLeaseTtl > config.maxLeaseTtl) {
    failer(defaultAt.file, defaultAt.line, 'default_lease_ttl')(
      `${formatDuration(config.defaultLeaseTtl)} is longer than max_lease_ttl (${formatDuration(config.maxLeaseTtl)})`,
    );
  }
  return deepFreeze(config);
}

/** Configs are shared by reference: frozen, nothing can change one in place. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
