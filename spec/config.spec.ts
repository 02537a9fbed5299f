import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it, expect } from 'vitest';
import { defaultConfig, loadConfigFiles, parseConfig, type ListenerConfig, type ServerConfig } from '../lib/config.js';
import { configError } from './helpers/config-error.js';

const EXAMPLE_HCL = `listener "tcp" {
  address         = "127.0.0.1:8200"
  tls_cert_file   = "/etc/nomad-api/tls.crt"
  tls_key_file    = "/etc/nomad-api/tls.key"
  # tls_disable = true, tls_min_version = "tls13", tls_client_ca_file, max_request_size
}
storage "file" { path = "/var/lib/nomad-api" }     # or "inmem" {}
api_addr          = "https://10.0.0.5:8200"       # what standbys redirect to
default_lease_ttl = "768h"
max_lease_ttl     = "768h"
log_level         = "info"
`;

const EXAMPLE_JSON = JSON.stringify({
  listener: { tcp: { address: '127.0.0.1:8200', tls_cert_file: '/etc/nomad-api/tls.crt', tls_key_file: '/etc/nomad-api/tls.key' } },
  storage: { file: { path: '/var/lib/nomad-api' } },
  api_addr: 'https://10.0.0.5:8200',
  default_lease_ttl: '768h',
  max_lease_ttl: '768h',
  log_level: 'info',
}, null, 2);

const PLAIN = 'listener "tcp" { tls_disable = true }\n';

const LISTENER_DEFAULTS: ListenerConfig = {
  address: '127.0.0.1:8200',
  tlsDisable: false,
  tlsMinVersion: 'tls12',
  tlsRequireAndVerifyClientCert: false,
  tlsDisableClientCerts: false,
  maxRequestSize: 33_554_432,
  readHeaderTimeoutMs: 10_000,
  readTimeoutMs: 60_000,
  maxJsonDepth: 300,
  maxJsonStringValueLength: 1_048_576,
  maxJsonObjectEntryCount: 10_000,
  maxJsonArrayElementCount: 10_000,
};

function isDeepFrozen(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  return Object.isFrozen(value) && Object.values(value).every(isDeepFrozen);
}

describe('parseConfig', () => {
  it('reads the api.md §16 example', () => {
    expect(parseConfig(EXAMPLE_HCL, 'config.hcl')).toEqual<ServerConfig>({
      listeners: [{ ...LISTENER_DEFAULTS, tlsCertFile: '/etc/nomad-api/tls.crt', tlsKeyFile: '/etc/nomad-api/tls.key' }],
      storage: { type: 'file', options: { path: '/var/lib/nomad-api' } },
      apiAddr: 'https://10.0.0.5:8200',
      defaultLeaseTtl: 2_764_800,
      maxLeaseTtl: 2_764_800,
      logLevel: 'info',
      logFormat: 'standard',
      rawStorageEndpoint: false,
      disableCache: false,
      disableMlock: true,
    });
  });

  it('reads the JSON equivalent into the same config, by extension or by a leading "{"', () => {
    const fromHcl = parseConfig(EXAMPLE_HCL, 'config.hcl');
    expect(parseConfig(EXAMPLE_JSON, 'config.json')).toEqual(fromHcl);
    expect(parseConfig(`\n ${EXAMPLE_JSON}`, 'config.conf')).toEqual(fromHcl);
  });

  it('fills defaults and deep-freezes the result', () => {
    const config = parseConfig(PLAIN, 'c.hcl');
    expect(config).toEqual({ ...defaultConfig() });
    expect(isDeepFrozen(config)).toBe(true);
    expect(Object.keys(config)).not.toContain('apiAddr');
  });

  it('reads every listener and top-level key', () => {
    const config = parseConfig(`
      listener "tcp" {
        address = "[::1]:8443"
        tls_cert_file = "c.pem"
        tls_key_file = "k.pem"
        tls_min_version = "tls13"
        tls_client_ca_file = "ca.pem"
        tls_require_and_verify_client_cert = "1"
        tls_disable_client_certs = false
        max_request_size = 1024
        http_read_header_timeout = "250ms"
        http_read_timeout = 30
        max_json_depth = 64
        max_json_string_value_length = "4096"
        max_json_object_entry_count = 100
        max_json_array_element_count = 200
      }
      listener "tcp" {
        address = "0.0.0.0:0"
        tls_disable = "TRUE"
        max_request_size = "2048"
      }
      backend "etcd" {
        address = "http://127.0.0.1:2379"
        ha_enabled = true
        retries = 3
      }
      api_addr = "http://nomad.example:8200"
      cluster_name = "east"
      default_lease_ttl = 3600
      max_lease_ttl = "2d"
      log_level = "WARNING"
      raw_storage_endpoint = true
      disable_cache = "true"
      disable_mlock = false
    `, 'full.hcl');
    expect(config).toEqual<ServerConfig>({
      listeners: [
        {
          address: '[::1]:8443', tlsDisable: false, tlsCertFile: 'c.pem', tlsKeyFile: 'k.pem', tlsMinVersion: 'tls13',
          tlsClientCaFile: 'ca.pem', tlsRequireAndVerifyClientCert: true, tlsDisableClientCerts: false, maxRequestSize: 1024,
          readHeaderTimeoutMs: 250, readTimeoutMs: 30_000,
          maxJsonDepth: 64, maxJsonStringValueLength: 4096, maxJsonObjectEntryCount: 100, maxJsonArrayElementCount: 200,
        },
        { ...LISTENER_DEFAULTS, address: '0.0.0.0:0', tlsDisable: true, maxRequestSize: 2048 },
      ],
      storage: { type: 'etcd', options: { address: 'http://127.0.0.1:2379', ha_enabled: 'true', retries: '3' } },
      apiAddr: 'http://nomad.example:8200',
      clusterName: 'east',
      defaultLeaseTtl: 3600,
      maxLeaseTtl: 172_800,
      logLevel: 'warn',
      logFormat: 'standard',
      rawStorageEndpoint: true,
      disableCache: true,
      disableMlock: false,
    });
  });

  it.each<[string, boolean]>([['true', true], ['false', false], ['"true"', true], ['"False"', false], ['"1"', true], ['"0"', false], ['1', true], ['0', false]])(
    'reads tls_disable = %s as %s', (literal, expected) => {
      const config = parseConfig(`listener "tcp" {\n tls_disable = ${literal}\n tls_cert_file = "c"\n tls_key_file = "k"\n}`, 'c.hcl');
      expect(config.listeners[0]!.tlsDisable).toBe(expected);
    },
  );

  it('lowers the default lease TTL to max_lease_ttl when only the maximum is set', () => {
    const config = parseConfig(`${PLAIN}max_lease_ttl = "1h"`, 'c.hcl');
    expect([config.defaultLeaseTtl, config.maxLeaseTtl]).toEqual([3600, 3600]);
  });
});

describe('defaultConfig', () => {
  it('is the -dev configuration: plain HTTP on loopback, in-memory storage, frozen', () => {
    const config = defaultConfig();
    expect(config.listeners).toEqual([{ ...LISTENER_DEFAULTS, tlsDisable: true }]);
    expect(config.storage).toEqual({ type: 'inmem', options: {} });
    expect([config.defaultLeaseTtl, config.maxLeaseTtl, config.logLevel, config.logFormat]).toEqual([2_764_800, 2_764_800, 'info', 'standard']);
    expect(isDeepFrozen(config)).toBe(true);
  });

  it('reads log_format, in any case, from HCL and JSON', () => {
    expect(parseConfig(`${PLAIN}log_format = "JSON"\n`, 'c.hcl').logFormat).toBe('json');
    expect(parseConfig(JSON.stringify({ listener: { tcp: { address: '127.0.0.1:8200', tls_disable: true } }, log_format: 'standard' }), 'c.json').logFormat).toBe('standard');
  });
});

describe('parseConfig errors name the file, the line and the key', () => {
  const tls = (body: string) => `listener "tcp" {\n${body}\n}\n`;
  it.each<[string, string, string, number, string, string]>([
    ['an unknown top-level key', 'c.hcl', `${PLAIN}ui = true`, 2, 'ui', 'unknown key'],
    ['an unknown listener key', 'c.hcl', tls(' tls_disable = true\n adress = "x:1"'), 3, 'listener.tcp.adress', 'unknown key'],
    ['a nested block in a listener', 'c.hcl', tls(' tls_disable = true\n tls {}'), 3, 'listener.tcp.tls', 'nested blocks'],
    ['a listener type other than tcp', 'c.hcl', `${PLAIN}\nlistener "unix" {}`, 3, 'listener.unix', 'unsupported listener type "unix"'],
    ['a listener without a type', 'c.hcl', 'listener {}', 1, 'listener', 'exactly one type label'],
    ['a listener given as an attribute', 'c.hcl', 'listener = { tcp = {} }', 1, 'listener', 'must be a block'],
    ['a top-level attribute given as a block', 'c.hcl', `${PLAIN}api_addr "x" {}`, 2, 'api_addr', 'must be an attribute'],
    ['a non-boolean tls_disable', 'c.hcl', tls(' tls_disable = "yes"'), 2, 'listener.tcp.tls_disable', 'expected true or false, got "yes"'],
    ['a missing certificate', 'c.hcl', tls(' tls_key_file = "k"'), 1, 'listener.tcp.tls_cert_file', 'required unless tls_disable = true'],
    ['a missing key', 'c.hcl', `\n${tls(' tls_cert_file = "c"')}`, 2, 'listener.tcp.tls_key_file', 'required unless tls_disable = true'],
    ['an empty certificate path', 'c.hcl', tls(' tls_cert_file = ""\n tls_key_file = "k"'), 2, 'listener.tcp.tls_cert_file', 'must not be empty'],
    ['tls11', 'c.hcl', tls(' tls_disable = true\n tls_min_version = "tls11"'), 3, 'listener.tcp.tls_min_version', 'unsupported value "tls11": TLS 1.0 and 1.1 are insecure'],
    ['tls10', 'c.hcl', tls(' tls_disable = true\n tls_min_version = "tls10"'), 3, 'listener.tcp.tls_min_version', 'insecure'],
    ['an unknown TLS version', 'c.hcl', tls(' tls_disable = true\n tls_min_version = "tls14"'), 3, 'listener.tcp.tls_min_version', 'use "tls12" or "tls13"'],
    ['an address without a port', 'c.hcl', tls(' tls_disable = true\n address = "localhost"'), 3, 'listener.tcp.address', 'expected host:port'],
    ['a port out of range', 'c.hcl', tls(' tls_disable = true\n address = "127.0.0.1:65536"'), 3, 'listener.tcp.address', 'expected host:port'],
    ['a numeric address', 'c.hcl', tls(' tls_disable = true\n address = 8200'), 3, 'listener.tcp.address', 'expected a string, got 8200'],
    ['a negative max_request_size', 'c.hcl', tls(' tls_disable = true\n max_request_size = -1'), 3, 'listener.tcp.max_request_size', 'positive whole number'],
    ['a fractional max_request_size', 'c.hcl', tls(' tls_disable = true\n max_request_size = 1.5'), 3, 'listener.tcp.max_request_size', 'positive whole number'],
    ['a bad http_read_timeout', 'c.hcl', tls(' tls_disable = true\n http_read_timeout = "soon"'), 3, 'listener.tcp.http_read_timeout', 'invalid duration "soon"'],
    ['a boolean http_read_header_timeout', 'c.hcl', tls(' tls_disable = true\n http_read_header_timeout = true'), 3, 'listener.tcp.http_read_header_timeout', 'expected a duration'],
    ['a header timeout longer than the request timeout', 'c.hcl', tls(' tls_disable = true\n http_read_timeout = "5s"\n http_read_header_timeout = "6s"'), 4, 'listener.tcp.http_read_header_timeout', 'cannot be longer than http_read_timeout'],
    ['a request timeout below the default header timeout', 'c.hcl', tls(' tls_disable = true\n http_read_timeout = "2s"'), 3, 'listener.tcp.http_read_timeout', 'cannot be longer than http_read_timeout'],
    ['conflicting client certificate settings', 'c.hcl', tls(' tls_disable = true\n tls_require_and_verify_client_cert = true\n tls_disable_client_certs = true'), 3, 'listener.tcp.tls_require_and_verify_client_cert', 'cannot be combined'],
    ['a bad duration', 'c.hcl', `${PLAIN}\ndefault_lease_ttl = "5 weeks"`, 3, 'default_lease_ttl', 'invalid duration "5 weeks"'],
    ['a zero duration', 'c.hcl', `${PLAIN}max_lease_ttl = 0`, 2, 'max_lease_ttl', 'longer than zero'],
    ['a list as a duration', 'c.hcl', `${PLAIN}max_lease_ttl = ["1h"]`, 2, 'max_lease_ttl', 'expected a duration'],
    ['default_lease_ttl above max_lease_ttl', 'c.hcl', `${PLAIN}default_lease_ttl = "2h"\nmax_lease_ttl = "1h"`, 2, 'default_lease_ttl', 'longer than max_lease_ttl'],
    ['default_lease_ttl above the default maximum', 'c.hcl', `${PLAIN}default_lease_ttl = "769h"`, 2, 'default_lease_ttl', 'longer than max_lease_ttl (768h0m0s)'],
    ['an unknown log level', 'c.hcl', `${PLAIN}log_level = "verbose"`, 2, 'log_level', 'unsupported value "verbose"'],
    ['an unknown log format', 'c.hcl', `${PLAIN}log_format = "xml"`, 2, 'log_format', 'unsupported value "xml": use standard or json'],
    ['an api_addr that is not a URL', 'c.hcl', `${PLAIN}api_addr = "10.0.0.5:8200"`, 2, 'api_addr', 'expected an http:// or https:// URL'],
    ['a non-string cluster_name', 'c.hcl', `${PLAIN}cluster_name = true`, 2, 'cluster_name', 'expected a string'],
    ['a non-boolean disable_cache', 'c.hcl', `${PLAIN}disable_cache = "maybe"`, 2, 'disable_cache', 'expected true or false'],
    ['a list storage option', 'c.hcl', `${PLAIN}storage "file" {\n  path = ["/a"]\n}`, 3, 'storage.file.path', 'must be a string, number or boolean'],
    ['an object storage option', 'c.hcl', `${PLAIN}storage "file" { opts = { a = 1 } }`, 2, 'storage.file.opts', 'must be a string, number or boolean'],
    ['a nested block in storage', 'c.hcl', `${PLAIN}storage "file" {\n  sub {}\n}`, 3, 'storage.file.sub', 'nested blocks'],
    ['storage without a type', 'c.hcl', `${PLAIN}storage {}`, 2, 'storage', 'exactly one type label'],
    ['two storage blocks', 'c.hcl', `${PLAIN}storage "file" {}\nstorage "inmem" {}`, 3, 'storage.inmem', 'already configured at c.hcl:2'],
    ['storage and its backend alias', 'c.hcl', `${PLAIN}storage "file" {}\nbackend "etcd" {}`, 3, 'backend.etcd', 'only one storage block'],
    ['a JSON value of the wrong type', 'c.json', '{\n  "listener": {"tcp": {"tls_disable": true}},\n  "log_level": 3\n}', 3, 'log_level', 'expected a string'],
    ['an unknown JSON listener key', 'c.json', '{"listener": {"tcp": {\n  "tls_disable": true,\n  "port": 1\n}}}', 3, 'listener.tcp.port', 'unknown key'],
  ])('%s', (_name, file, text, line, key, reason) => {
    const err = configError(() => parseConfig(text, file));
    expect(err.message).toContain(`${file}:${line}: ${key}: `);
    expect(err.message).toContain(reason);
    expect([err.file, err.line, err.key]).toEqual([file, line, key]);
  });

  it.each<[string, string, string, number, number, string]>([
    ['an HCL syntax error', 'bad.hcl', `${PLAIN}log_level = "info`, 2, 13, 'unterminated string'],
    ['a JSON syntax error', 'bad.json', '{\n  "log_level": "info",\n}', 3, 1, 'expected a quoted key'],
    ['a duplicate JSON key', 'dup.json', '{"listener": {"tcp": {"tls_disable": true}},\n"log_level": "info", "log_level": "warn"}', 2, 22, 'duplicate key "log_level"'],
    ['a duplicate HCL attribute', 'dup.hcl', `${PLAIN}log_level = "info"\nlog_level = "warn"`, 3, 1, 'duplicate attribute "log_level"'],
    ['a JSON document that is not an object', 'list.json', '[]', 1, 1, 'must be an object'],
  ])('reports %s as file:line:column', (_name, file, text, line, column, reason) => {
    const err = configError(() => parseConfig(text, file));
    expect(err.message.startsWith(`${file}:${line}:${column}: `)).toBe(true);
    expect(err.message).toContain(reason);
    expect([err.file, err.line]).toEqual([file, line]);
  });

  it('requires a listener', () => {
    const err = configError(() => parseConfig('storage "inmem" {}', 'nolisten.hcl'));
    expect(err.message).toContain('nolisten.hcl');
    expect(err.message).toContain('no listener configured');
    expect(err.key).toBe('listener');
  });
});

describe('loadConfigFiles', () => {
  let dir: string;
  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nomad-config-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads one file', () => {
    expect(loadConfigFiles([write('config.hcl', EXAMPLE_HCL)])).toEqual(parseConfig(EXAMPLE_HCL, 'x.hcl'));
  });

  it('merges files: later attributes win, listeners accumulate, storage comes from either', () => {
    const first = write('a.hcl', `${PLAIN}storage "file" { path = "/data" }\nlog_level = "debug"\nmax_lease_ttl = "10h"\n`);
    const second = write('b.json', JSON.stringify({ listener: [{ tcp: { address: '127.0.0.1:9200', tls_disable: true } }], log_level: 'error' }));
    const config = loadConfigFiles([first, second]);
    expect(config.listeners.map((listener) => listener.address)).toEqual(['127.0.0.1:8200', '127.0.0.1:9200']);
    expect(config.storage).toEqual({ type: 'file', options: { path: '/data' } });
    expect([config.logLevel, config.maxLeaseTtl, config.defaultLeaseTtl]).toEqual(['error', 36_000, 36_000]);
    expect(loadConfigFiles([second, first]).logLevel).toBe('debug');
    expect(isDeepFrozen(config)).toBe(true);
  });

  it('loads every .hcl and .json file of a directory in name order, and nothing else', () => {
    write('20-listener.json', JSON.stringify({ listener: { tcp: { address: '127.0.0.1:8300', tls_disable: true } } }));
    write('10-base.hcl', `${PLAIN}log_level = "trace"\n`);
    write('30-level.HCL', 'log_level = "warn"\n');
    write('notes.txt', 'not = [config');
    write('.hidden.hcl', 'not = [config');
    write('backup.hcl~', 'not = [config');
    mkdirSync(join(dir, 'nested.hcl'));
    const config = loadConfigFiles([dir]);
    expect(config.listeners.map((listener) => listener.address)).toEqual(['127.0.0.1:8200', '127.0.0.1:8300']);
    expect(config.logLevel).toBe('warn');
  });

  it('combines a directory with a file given after it', () => {
    mkdirSync(join(dir, 'conf.d'));
    writeFileSync(join(dir, 'conf.d', 'listener.hcl'), PLAIN);
    const extra = write('extra.hcl', 'disable_cache = true\n');
    expect(loadConfigFiles([join(dir, 'conf.d'), extra]).disableCache).toBe(true);
  });

  it('names the file, line and key of an error in any of the files', () => {
    const good = write('a.hcl', PLAIN);
    const bad = write('b.hcl', '\n\nlistener "tcp" {\n  tls_min_version = "tls11"\n  tls_disable = true\n}\n');
    const err = configError(() => loadConfigFiles([good, bad]));
    expect(err.message).toContain(`${bad}:4: listener.tcp.tls_min_version: `);
  });

  it('refuses storage configured in two files, naming both', () => {
    const first = write('a.hcl', `${PLAIN}storage "file" { path = "/a" }\n`);
    const second = write('b.hcl', 'log_level = "info"\nstorage "inmem" {}\n');
    const err = configError(() => loadConfigFiles([first, second]));
    expect(err.message).toContain(`${second}:2: storage.inmem: storage is already configured at ${first}:2`);
  });

  it.each<[string, (dir: string) => string[], string]>([
    ['a missing file', (d) => [join(d, 'missing.hcl')], 'missing.hcl: no such file or directory'],
    ['a missing directory', (d) => [join(d, 'nope')], 'nope: no such file or directory'],
    ['no paths at all', () => [], 'no configuration file given'],
    ['an empty directory', (d) => [d], 'no listener configured'],
  ])('refuses %s', (_name, paths, reason) => {
    expect(configError(() => loadConfigFiles(paths(dir))).message).toContain(reason);
  });

  it('refuses a file that is not UTF-8', () => {
    const path = join(dir, 'latin1.hcl');
    writeFileSync(path, Buffer.from([0x61, 0x20, 0x3d, 0x20, 0x22, 0xe9, 0x22]));
    expect(configError(() => loadConfigFiles([path])).message).toBe(`${path}: not valid UTF-8`);
  });
});
