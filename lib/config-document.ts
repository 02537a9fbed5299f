import { parseConfigObject, type ServerConfig } from './config.js';
import type { LogFormat, LogLevel, TlsVersion } from './config-values.js';

/**
 * The configuration as an embedder writes it: an object in the shape of a JSON config file
 * (api.md §16), the same keys and values, checked by the same code with the same errors
 * (config.ts, parseConfigObject). These types say what each key takes; what they cannot say
 * (a positive size, a parsable duration) is checked at run time, as for a file.
 */

/** What the files accept for a boolean. */
export type ConfigFlag = boolean | 'true' | 'false' | '1' | '0' | 1 | 0;
/** Seconds, or a duration such as `"90s"`, `"15m"`, `"768h"`. */
export type ConfigDuration = number | string;
/** A positive whole number (bytes, or a count), or the same as a string of digits. */
export type ConfigCount = number | string;

/** The body of `listener "tcp" { ... }`. */
export interface TcpListenerDocument {
  /** `host:port`; port 0 picks a free one (see the server's `url`). Default `127.0.0.1:8200`. */
  address?: string;
  /** Plain HTTP. Without it, `tls_cert_file` and `tls_key_file` are required. */
  tls_disable?: ConfigFlag;
  tls_cert_file?: string;
  tls_key_file?: string;
  tls_min_version?: TlsVersion;
  /** The CAs a client certificate is checked against (PEM file). */
  tls_client_ca_file?: string;
  tls_require_and_verify_client_cert?: ConfigFlag;
  tls_disable_client_certs?: ConfigFlag;
  /** Bytes; a bigger body gets 413. Default 32 MiB. */
  max_request_size?: ConfigCount;
  /** How long a client has to send its headers (`"10s"`, `"500ms"`); 0: no limit. */
  http_read_header_timeout?: ConfigDuration;
  /** How long a client has to send the whole request; 0: no limit. */
  http_read_timeout?: ConfigDuration;
  max_json_depth?: ConfigCount;
  max_json_string_value_length?: ConfigCount;
  max_json_object_entry_count?: ConfigCount;
  max_json_array_element_count?: ConfigCount;
}

/** `{ tcp: {...} }`; several listeners as an array, of these or under `tcp`. */
export interface ListenerDocument {
  tcp: TcpListenerDocument | TcpListenerDocument[];
}

/** The storage type as the one key, its options as the value: `{ file: { path: '/var/lib/nomad' } }`. */
export type StorageDocument = Record<string, Record<string, string | number | boolean>>;

export interface ConfigDocument {
  listener: ListenerDocument | ListenerDocument[];
  /** Default: in memory (`{ inmem: {} }`). */
  storage?: StorageDocument;
  api_addr?: string;
  cluster_name?: string;
  default_lease_ttl?: ConfigDuration;
  max_lease_ttl?: ConfigDuration;
  log_level?: LogLevel | 'warning';
  log_format?: LogFormat;
  raw_storage_endpoint?: ConfigFlag;
  disable_cache?: ConfigFlag;
  disable_mlock?: ConfigFlag;
}

/**
 * Whether `value` is a ServerConfig already (from parseConfig, loadConfigFiles, defaultConfig,
 * or built from one): it has a `listeners` array of parsed listeners, a key no file has. A
 * document that merely misspells `listener` is not one, and gets the file's error for the typo.
 */
export function isServerConfig(value: unknown): value is ServerConfig {
  const config = value as Partial<ServerConfig> | null;
  return (
    typeof config === 'object' &&
    config !== null &&
    Array.isArray(config.listeners) &&
    config.listeners.every((l) => typeof l === 'object' && l !== null && typeof l.address === 'string' && typeof l.tlsDisable === 'boolean') &&
    typeof config.storage?.type === 'string' &&
    typeof config.logLevel === 'string'
  );
}

/** A ServerConfig as given, or a document parsed and checked as a JSON file would be. */
export function resolveConfig(config: ServerConfig | ConfigDocument, source = 'config'): ServerConfig {
  return isServerConfig(config) ? config : parseConfigObject(config, source);
}
