import { ConfigError, deepFreeze, listenerSettingName, settingName, type ListenerConfig, type ServerConfig, type SettingKey } from './config.js';
import { resolveConfig, type ConfigDocument } from './config-document.js';
import type { HandlerOptions } from './http/handler.js';
import { jsonLimitsOf } from './http/json-limits.js';
import type { Listener } from './http/listener.js';
import type { Logger } from './log.js';

/**
 * Reloading a running server's configuration (the `server` command does it on SIGHUP; an
 * embedder calls `server.reload(config)`). What can change at run time is applied: the TLS
 * certificate, key, client CA and minimum version (re-read from their files even when the
 * paths are the same: that is how a certificate is rotated), `log_level`, and each listener's
 * limits. What cannot (storage, listener addresses and count, TLS on or off, ...) is logged
 * as a warning, by name, and left as it is. A bad configuration changes nothing: everything
 * is read and checked before anything is put in force.
 */

/** What a reload reports, by the settings' file names (`log_level`, `listener[0].max_request_size`). */
export interface ReloadReport {
  /** Changed and now in force; for a TLS listener, its certificate files, which are re-read every time. */
  applied: string[];
  /** Changed in the new configuration but fixed while running: left as they were (each logged at warn). */
  ignored: string[];
}

/** One listener as the reload sees it: the listener, and the handler options its requests read their limits from. */
export interface ReloadableListener {
  listener: Listener;
  handler: HandlerOptions;
}

export interface Reloader {
  /** The configuration in force: the startup one with every reload applied to it. */
  current(): ServerConfig;
  /** Applies what can change (see the header); throws a ConfigError, changing nothing, on a bad configuration. */
  reload(next: ServerConfig | ConfigDocument): ReloadReport;
}

/** Listener settings a reload puts in force; every other listener setting is fixed while running. */
const LISTENER_RELOADABLE = [
  'tlsCertFile',
  'tlsKeyFile',
  'tlsClientCaFile',
  'tlsMinVersion',
  'maxRequestSize',
  'readHeaderTimeoutMs',
  'readTimeoutMs',
  'maxJsonDepth',
  'maxJsonStringValueLength',
  'maxJsonObjectEntryCount',
  'maxJsonArrayElementCount',
] as const satisfies ReadonlyArray<keyof ListenerConfig>;

/** Top-level settings are fixed while running, but for log_level: a setting added later is reported, never silently dropped. */
function fixedSettings(a: ServerConfig, b: ServerConfig): SettingKey[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((key): key is SettingKey => key !== 'listeners' && key !== 'storage' && key !== 'logLevel');
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

const TLS_SETTINGS = ['tlsCertFile', 'tlsKeyFile', 'tlsClientCaFile', 'tlsMinVersion'] as const;

/** Whether the TLS settings are taken from the new listener: only when both it and the running one are TLS. */
function tlsReloads(running: ListenerConfig, next: ListenerConfig): boolean {
  return !running.tlsDisable && !next.tlsDisable;
}

/** The running listener with the new one's reloadable settings. */
function merged(running: ListenerConfig, next: ListenerConfig): ListenerConfig {
  const out: Record<string, unknown> = { ...running };
  for (const key of LISTENER_RELOADABLE) out[key] = next[key];
  // TLS on or off cannot change: a listener switched either way keeps what it runs with.
  if (!tlsReloads(running, next)) for (const key of TLS_SETTINGS) out[key] = running[key];
  return out as unknown as ListenerConfig;
}

/** The one line a rejected reload logs, whether the files failed to parse or the reload refused them. */
export function logReloadFailure(logger: Logger, err: unknown): void {
  // Only the message: a ConfigError names the file, line and key; no config value is a secret.
  logger.error('configuration reload failed: the configuration in force is unchanged', { error: err instanceof Error ? err.message : String(err) });
}

export function createReloader(startup: ServerConfig, logger: Logger, listeners: ReloadableListener[]): Reloader {
  let inForce = startup;

  function ignoredIn(next: ServerConfig): string[] {
    const ignored: string[] = [];
    if (!same(next.storage, inForce.storage)) ignored.push('storage');
    for (const key of fixedSettings(inForce, next)) if (!same(next[key], inForce[key])) ignored.push(settingName(key));
    if (next.listeners.length !== inForce.listeners.length) ignored.push('listener (their number)');
    const count = Math.min(next.listeners.length, inForce.listeners.length);
    for (let i = 0; i < count; i++) {
      const running = inForce.listeners[i]!;
      const wanted = next.listeners[i]!;
      const kept = merged(running, wanted);
      for (const key of Object.keys(running) as Array<keyof ListenerConfig>) {
        if (!same(kept[key], wanted[key])) ignored.push(`listener[${i}].${listenerSettingName(key)}`);
      }
    }
    return ignored;
  }

  function appliedIn(next: ServerConfig): string[] {
    const applied: string[] = [];
    if (next.logLevel !== logger.level) applied.push('log_level');
    const count = Math.min(next.listeners.length, inForce.listeners.length);
    for (let i = 0; i < count; i++) {
      const running = inForce.listeners[i]!;
      const kept = merged(running, next.listeners[i]!);
      const reread = tlsReloads(running, next.listeners[i]!);
      for (const key of LISTENER_RELOADABLE) {
        const fileBacked = reread && (key === 'tlsCertFile' || key === 'tlsKeyFile' || (key === 'tlsClientCaFile' && kept[key] !== undefined));
        if (fileBacked || !same(kept[key], running[key])) applied.push(`listener[${i}].${listenerSettingName(key)}`);
      }
    }
    return applied;
  }

  function reload(input: ServerConfig | ConfigDocument): ReloadReport {
    try {
      const next = resolveConfig(input);
      const count = Math.min(next.listeners.length, listeners.length);
      const kept = inForce.listeners.map((running, i) => (i < count ? merged(running, next.listeners[i]!) : running));
      // Every file read and checked first: one bad certificate and nothing changes anywhere.
      const commits = kept.slice(0, count).map((config, i) => {
        try {
          return listeners[i]!.listener.prepareReload(config, tlsReloads(inForce.listeners[i]!, next.listeners[i]!));
        } catch (err) {
          throw new ConfigError(`listener[${i}] (${config.address}): ${(err as Error).message}`, { key: `listener[${i}]` });
        }
      });
      const report = { applied: appliedIn(next), ignored: ignoredIn(next) };
      for (const commit of commits) commit();
      for (let i = 0; i < count; i++) {
        const { handler } = listeners[i]!;
        const config = kept[i]!;
        handler.maxRequestSize = config.maxRequestSize;
        handler.jsonLimits = jsonLimitsOf(config);
      }
      logger.level = next.logLevel;
      inForce = deepFreeze({ ...inForce, logLevel: next.logLevel, listeners: kept });
      for (const setting of report.ignored) logger.warn('configuration reload: this setting cannot change while running; left unchanged until a restart', { setting });
      logger.info('configuration reloaded', { applied: report.applied });
      return report;
    } catch (err) {
      logReloadFailure(logger, err);
      throw err;
    }
  }

  return { current: () => inForce, reload };
}
