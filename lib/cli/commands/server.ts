import { ConfigError, defaultConfig, loadConfigFiles, type ServerConfig } from '../../config.js';
import { createLogger, type LogFormat, type LogLevel } from '../../log.js';
import { logReloadFailure } from '../../reload.js';
import { createServer, type MemoryReport, type RunningServer } from '../../server.js';
import type { Command, CommandIO } from '../command.js';
import { describeFlags, flagBool, flagString, parseFlags, UsageError, type FlagSpec } from '../flags.js';

const FLAGS: Record<string, FlagSpec> = {
  config: { type: 'string', repeatable: true, description: 'A configuration file or directory (HCL or JSON). Repeatable.' },
  dev: { type: 'bool', description: 'In-memory, initialised and unsealed server on plain HTTP, for development only.' },
  'dev-root-token-id': { type: 'string', description: 'With -dev: use this value as the root token.' },
  'dev-listen-address': { type: 'string', description: 'With -dev: the address to listen on (default 127.0.0.1:8200).' },
  'log-level': { type: 'string', description: 'trace, debug, info, warn or error (overrides the config file).' },
  'log-format': { type: 'string', description: 'standard or json: one JSON object a line on stderr (overrides the config file).' },
};

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'];
const LOG_FORMATS = ['standard', 'json'];

function devConfig(address: string | undefined, logLevel: LogLevel): ServerConfig {
  const base = defaultConfig();
  return {
    ...base,
    logLevel,
    storage: { type: 'inmem', options: {} },
    listeners: [{ ...base.listeners[0]!, address: address ?? '127.0.0.1:8200', tlsDisable: true }],
  };
}

function devBanner(server: RunningServer): string {
  return `==> nomad-api server started in DEV MODE: in-memory storage, unsealed, plain HTTP.
    Never run a dev server in production: everything is lost on exit.

    Address:     ${server.url}
    Unseal Key:  ${server.dev!.unsealKey}
    Root Token:  ${server.dev!.rootToken}

    $ export NOMAD_ADDR='${server.url}'
    $ export NOMAD_TOKEN='${server.dev!.rootToken}'
    $ curl -H "X-Nomad-Token: $NOMAD_TOKEN" $NOMAD_ADDR/v1/sys/mounts
`;
}

/** The memory report as one log line's fields: sizes and counts only, never a key, path or token. */
function memoryFields(report: MemoryReport): Record<string, unknown> {
  return { rss: report.rss, heap_used: report.heapUsed, connections: report.connections, caches: report.caches, data: report.data };
}

async function run(args: string[], io: CommandIO): Promise<number> {
  const flags = parseFlags(args, FLAGS);
  if (flags.positional.length > 0) throw new UsageError(`unexpected argument '${flags.positional[0]}'`);
  const dev = flagBool(flags, 'dev');
  const configPaths = flags.values.config ?? [];
  if (dev && configPaths.length > 0) throw new UsageError('-dev cannot be combined with -config');
  if (!dev && configPaths.length === 0) throw new UsageError('either -config=FILE or -dev is required');
  if (!dev && (flagString(flags, 'dev-root-token-id') || flagString(flags, 'dev-listen-address'))) {
    throw new UsageError('-dev-root-token-id and -dev-listen-address need -dev');
  }
  const logLevel = flagString(flags, 'log-level');
  if (logLevel !== undefined && !LOG_LEVELS.includes(logLevel)) throw new UsageError(`-log-level must be one of ${LOG_LEVELS.join(', ')}`);
  const logFormat = flagString(flags, 'log-format');
  if (logFormat !== undefined && !LOG_FORMATS.includes(logFormat)) throw new UsageError(`-log-format must be one of ${LOG_FORMATS.join(', ')}`);

  // The flags win over the files, at startup and at every reload.
  const withFlags = (config: ServerConfig): ServerConfig => ({
    ...config,
    logLevel: (logLevel as LogLevel | undefined) ?? config.logLevel,
    logFormat: (logFormat as LogFormat | undefined) ?? config.logFormat,
  });
  let config: ServerConfig;
  try {
    config = withFlags(dev ? devConfig(flagString(flags, 'dev-listen-address'), 'info') : loadConfigFiles(configPaths));
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr(`Error loading configuration: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const logger = createLogger(config.logLevel, undefined, config.logFormat);

  let server: RunningServer;
  try {
    server = await createServer({ config, logger, dev: dev ? { rootTokenId: flagString(flags, 'dev-root-token-id') } : undefined });
  } catch (err) {
    io.stderr(`Error starting the server: ${(err as Error).message}\n`);
    return 1;
  }
  // SIGUSR2: the report on demand, at info, so a running server can be asked what it holds.
  process.on('SIGUSR2', () => logger.info('memory report', memoryFields(server.memory())));
  // SIGHUP: re-read the -config files and apply what can change while running (lib/reload.ts).
  process.on('SIGHUP', () => {
    if (dev) {
      logger.info('SIGHUP: a dev server has no configuration file: nothing to reload');
      return;
    }
    logger.info('SIGHUP: reloading the configuration', { files: configPaths });
    let next: ServerConfig;
    try {
      next = withFlags(loadConfigFiles(configPaths));
    } catch (err) {
      logReloadFailure(logger, err);
      return;
    }
    try {
      server.reload(next);
    } catch {
      // Logged by the reload; the configuration in force stays.
    }
  });
  // Printed once the handlers above are in place: whoever waits for this line may signal at once.
  io.stdout(dev ? devBanner(server) : `==> nomad-api server started on ${server.urls.join(', ')} (sealed until unsealed)\n`);
  logger.debug('memory report', memoryFields(server.memory()));

  // SIGINT/SIGTERM: stop accepting, finish in-flight requests, seal, exit 0. A second signal forces exit.
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) {
        logger.warn('second signal: exiting without waiting', { signal });
        process.exit(1);
      }
      stopping = true;
      logger.info('shutting down', { signal });
      server.close().then(
        () => resolve(0),
        (err: unknown) => {
          logger.error('shutdown failed', { error: err });
          resolve(1);
        },
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}

export const serverCommand: Command = {
  name: 'server',
  synopsis: 'Start a nomad-api server',
  usage: `Usage: nomad-api server [-config=FILE ...] [-dev]

  Starts a server. With -config, it reads the listener and storage settings from
  HCL or JSON files and starts sealed. With -dev, it runs in memory on plain HTTP,
  already initialised and unsealed, and prints the unseal key and root token.

  SIGINT or SIGTERM shuts it down. SIGHUP re-reads the -config files and applies
  the TLS certificate and key, log_level and the listener limits; settings that
  cannot change while running are logged and left as they are, and a bad file
  is logged and changes nothing. SIGUSR2 logs a one-line memory report at info:
  what each cache holds against its bound, sizes only.

${describeFlags(FLAGS)}
`,
  run,
};

/** What main.ts looks up by name (registry.ts). */
export const commands: Command[] = [serverCommand];
