import { describe, expect, it } from 'vitest';
import { defaultConfig, parseConfig, parseConfigObject } from '../lib/config.js';
import { configError } from './helpers/config-error.js';
import { isServerConfig, resolveConfig, type ConfigDocument } from '../lib/config-document.js';

/** A config object (embedding) is checked as the same JSON file would be: same result, same errors. */

/** The message without line numbers, which an object has none of: `c.json:3: key: reason` and `c.json: key: reason` both give `key: reason`. */
function withoutLocation(message: string): string {
  return message.replace(/c\.json(:\d+)+/g, 'c.json').replace(/^c\.json: /, '');
}

const FULL: ConfigDocument = {
  listener: [
    { tcp: { address: '127.0.0.1:8200', tls_cert_file: '/etc/tls.crt', tls_key_file: '/etc/tls.key', tls_min_version: 'tls13', max_request_size: 1024 } },
    { tcp: { address: '0.0.0.0:0', tls_disable: 'true', http_read_timeout: '90s', max_json_depth: 10 } },
  ],
  storage: { file: { path: '/var/lib/nomad-api' } },
  api_addr: 'https://10.0.0.5:8200',
  cluster_name: 'c1',
  default_lease_ttl: '1h',
  max_lease_ttl: 7200,
  log_level: 'warning',
  log_format: 'json',
  raw_storage_endpoint: 1,
  disable_cache: false,
  disable_mlock: true,
};

describe('parseConfigObject', () => {
  it('gives the ServerConfig the same JSON file gives, frozen', () => {
    const fromObject = parseConfigObject(FULL);
    expect(fromObject).toEqual(parseConfig(JSON.stringify(FULL, null, 2), 'c.json'));
    expect(fromObject.listeners).toHaveLength(2);
    expect(fromObject.listeners[0]!.maxRequestSize).toBe(1024);
    expect(fromObject.listeners[1]!.readTimeoutMs).toBe(90_000);
    expect(fromObject.storage).toEqual({ type: 'file', options: { path: '/var/lib/nomad-api' } });
    expect(fromObject.logLevel).toBe('warn');
    expect(Object.isFrozen(fromObject.listeners[0])).toBe(true);
  });

  it('takes several listeners under one tcp key too, and leaves out keys set to undefined', () => {
    const config = parseConfigObject({ listener: { tcp: [{ tls_disable: true, address: '127.0.0.1:1' }, { tls_disable: true, address: undefined }] } });
    expect(config.listeners.map((l) => l.address)).toEqual(['127.0.0.1:1', '127.0.0.1:8200']);
  });

  const plain = { tcp: { tls_disable: true } };
  it.each<[string, Record<string, unknown>, string]>([
    ['an unknown top-level key', { listener: plain, ui: true }, 'ui'],
    ['a misspelt listener key', { listeners: [plain] }, 'listeners'],
    ['an unknown listener key', { listener: { tcp: { tls_disable: true, adress: 'x:1' } } }, 'listener.tcp.adress'],
    ['a listener type other than tcp', { listener: { unix: {} } }, 'listener.unix'],
    ['a missing certificate', { listener: { tcp: { tls_key_file: 'k' } } }, 'listener.tcp.tls_cert_file'],
    ['a non-boolean tls_disable', { listener: { tcp: { tls_disable: 'yes' } } }, 'listener.tcp.tls_disable'],
    ['a negative max_request_size', { listener: { tcp: { tls_disable: true, max_request_size: -1 } } }, 'listener.tcp.max_request_size'],
    ['a port out of range', { listener: { tcp: { tls_disable: true, address: '127.0.0.1:65536' } } }, 'listener.tcp.address'],
    ['a bad duration', { listener: plain, default_lease_ttl: '5 weeks' }, 'default_lease_ttl'],
    ['default_lease_ttl above max_lease_ttl', { listener: plain, default_lease_ttl: '2h', max_lease_ttl: '1h' }, 'default_lease_ttl'],
    ['an unknown log level', { listener: plain, log_level: 'verbose' }, 'log_level'],
    ['an object storage option', { listener: plain, storage: { file: { opts: { a: 1 } } } }, 'storage.file.opts'],
    ['two storages', { listener: plain, storage: [{ file: {} }, { inmem: {} }] }, 'storage.inmem'],
    ['no listener', { storage: { inmem: {} } }, 'listener'],
  ])('refuses %s with the JSON file\'s error', (_name, document, key) => {
    const fromFile = configError(() => parseConfig(JSON.stringify(document, null, 2), 'c.json'));
    const fromObject = configError(() => parseConfigObject(document, 'c.json'));
    expect(withoutLocation(fromObject.message)).toBe(withoutLocation(fromFile.message));
    expect(fromObject.key).toBe(key);
    expect(fromFile.key).toBe(key);
    // An object has no lines: the message says `source: key: reason`.
    expect(fromObject.line).toBeUndefined();
    expect(fromObject.message.startsWith(`c.json: ${key}: `) || key === 'listener').toBe(true);
  });

  it.each<[string, unknown, string]>([
    ['null', { listener: { tcp: { tls_disable: true, address: null } } }, 'listener.tcp.address: null is not supported'],
    ['a function', { listener: plain, log_level: () => 'info' }, 'log_level: a function is not a configuration value'],
    ['a class instance', { listener: plain, api_addr: new URL('https://x') }, 'api_addr: expected a plain object'],
    ['NaN', { listener: { tcp: { tls_disable: true, max_request_size: Number.NaN } } }, 'listener.tcp.max_request_size: number out of range'],
    ['an array', [plain], 'the configuration must be an object'],
    ['a string', 'listener "tcp" {}', 'the configuration must be an object'],
  ])('refuses %s, naming the key path', (_name, document, reason) => {
    const err = configError(() => parseConfigObject(document));
    expect(err.message).toBe(`config: ${reason}${err.message.slice(`config: ${reason}`.length)}`);
  });
});

describe('resolveConfig', () => {
  it('passes a ServerConfig through as it is, derived ones included', () => {
    const parsed = defaultConfig();
    const derived = { ...parsed, logLevel: 'debug' as const };
    expect(resolveConfig(parsed)).toBe(parsed);
    expect(resolveConfig(derived)).toBe(derived);
    expect(isServerConfig(parseConfigObject({ listener: plainListener() }))).toBe(true);
  });

  it('parses a document, and takes a near miss of a ServerConfig for a document with a typo', () => {
    expect(resolveConfig({ listener: plainListener() }).listeners[0]!.tlsDisable).toBe(true);
    const err = configError(() => resolveConfig({ listeners: [{ address: '127.0.0.1:1' }], storage: { inmem: {} } } as unknown as ConfigDocument));
    expect(err.key).toBe('listeners');
    expect(err.message).toContain('unknown key');
  });
});

function plainListener(): ConfigDocument['listener'] {
  return { tcp: { tls_disable: true } };
}
