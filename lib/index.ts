/** The public API of the nomad-api package. */
export { createServer, type MemoryReport, type RunningServer, type ServerOptions } from './server.js';
export type { CacheSize } from './storage/storage.js';
export { defaultConfig, loadConfigFiles, parseConfig, type ServerConfig } from './config.js';
export { createLogger, type Logger } from './log.js';
export { ApiError } from './errors.js';
export { VERSION } from './version.js';
