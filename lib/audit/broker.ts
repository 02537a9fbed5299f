import { ApiError } from '../errors.js';
import type { Logger } from '../log.js';
import type { AuditInput } from './entry.js';
import type { AuditDevice } from './file-device.js';

/**
 * The enabled audit devices and the fail-closed rule: a record counts as kept when at least
 * one device wrote it; with devices enabled and none able to, the broker rejects and the
 * pipeline refuses the request (500) without running it. `enabled` is a plain boolean so the
 * fast path's check costs one property read.
 */

export interface AuditBroker {
  /** True while any device is enabled. */
  readonly enabled: boolean;
  devices(): AuditDevice[];
  get(path: string): AuditDevice | undefined;
  add(device: AuditDevice): void;
  remove(path: string): AuditDevice | undefined;
  logRequest(input: AuditInput): Promise<void>;
  logResponse(input: AuditInput): Promise<void>;
  /** Both lines of a request that ran already (a read without side effects): see AuditDevice.logPair. */
  logPair(request: AuditInput, response: AuditInput): Promise<void>;
}

/** The refusal when no device could record: a 500 whose cause the server log shows. */
export class AuditFailure extends ApiError {
  override name = 'AuditFailure';
  constructor(message: string, cause: unknown) {
    super('ERR_INTERNAL', message, { cause });
  }
}

/** `onFailure` is told of every record no device could keep (the metrics count them). */
export function createAuditBroker(logger: Logger, onFailure: () => void = () => {}): AuditBroker {
  const byPath = new Map<string, AuditDevice>();
  let list: AuditDevice[] = [];

  const failed = (device: AuditDevice, type: string, input: AuditInput, err: unknown): void => {
    logger.error('audit device failed', { path: device.config.path, type, request_id: input.request.id, error: (err as Error).message });
  };

  const log = (type: 'request' | 'response' | 'pair', input: AuditInput, response?: AuditInput): Promise<void> => {
    if (list.length === 0) return Promise.resolve();
    const write = (device: AuditDevice): Promise<void> => (type === 'pair' ? device.logPair(input, response!) : device.log(type, input));
    if (list.length === 1) {
      // The common case, without Promise.any's extra promises.
      const device = list[0]!;
      return write(device).catch((err: unknown) => {
        failed(device, type, input, err);
        onFailure();
        throw new AuditFailure(`no audit device could record the ${type === 'pair' ? 'request' : type}: ${(err as Error).message}`, err);
      });
    }
    const attempts = list.map((device) =>
      write(device).catch((err: unknown) => {
        failed(device, type, input, err);
        throw err;
      }),
    );
    // The first device that writes is enough: a stuck one does not hold the request up.
    return Promise.any(attempts).then(
      () => undefined,
      (err: AggregateError) => {
        const reasons = err.errors.map((e: unknown) => (e as Error).message).join('; ');
        onFailure();
        throw new AuditFailure(`no audit device could record the ${type === 'pair' ? 'request' : type}: ${reasons}`, err);
      },
    );
  };

  const broker: AuditBroker = {
    enabled: false,
    devices: () => list,
    get: (path) => byPath.get(path),
    add(device) {
      byPath.set(device.config.path, device);
      list = [...byPath.values()];
      (broker as { enabled: boolean }).enabled = true;
    },
    remove(path) {
      const device = byPath.get(path);
      byPath.delete(path);
      list = [...byPath.values()];
      (broker as { enabled: boolean }).enabled = list.length > 0;
      return device;
    },
    logRequest: (input) => log('request', input),
    logResponse: (input) => log('response', input),
    logPair: (request, response) => log('pair', request, response),
  };
  return broker;
}
