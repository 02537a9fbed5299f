/** The public API of the nomad-api package. */
export { createServer, type MemoryReport, type RunningServer, type ServerOptions } from './server.js';
export type {
  ConfigCount, ConfigDocument, ConfigDuration, ConfigFlag, ListenerDocument, StorageDocument, TcpListenerDocument,
} from './config-document.js';
export type { ReloadReport } from './reload.js';
export type { InitializeOptions, InitializeResult, SealStatus } from './seal-controls.js';
export type { CacheSize } from './storage/storage.js';
export { ConfigError, defaultConfig, loadConfigFiles, parseConfig, parseConfigObject, type ListenerConfig, type ServerConfig } from './config.js';
export { createLogger, type Logger } from './log.js';
// The server's error (with its stable code) and the client's error share a name in their own
// modules; the package exports the client's as ApiError, what programs using it catch.
export { ApiError as ServerApiError, type ErrorCode } from './errors.js';
export * from './client/index.js';
export { VERSION } from './version.js';
