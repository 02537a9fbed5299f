import type { RawRequest } from './request.js';
import type {
  AuditDevice, AuditInput, HealthQuery, HealthStatus, InitRequest, InitResponse, KeyStatus, LeaderStatus,
  LeaseInfo, Envelope, MountConfig, MountInfo, MountInput, RekeyStatus, RekeyUpdate, SealStatus, TuneInput,
} from './shapes.js';

/**
 * `client.sys`: seal, init, health, mounts, auth methods, policies, audit devices, keys,
 * rekey, leases, capabilities. sys/ answers carry their fields both at the top level and in
 * `data` (api.md §5): these methods read `data` when it is there, the top level otherwise.
 */

export interface MountsApi {
  list(): Promise<Record<string, MountInfo>>;
  enable(path: string, input: MountInput): Promise<void>;
  disable(path: string): Promise<void>;
  tune(path: string, input: TuneInput): Promise<void>;
  readTune(path: string): Promise<MountConfig>;
}

export interface SysApi {
  /** GET sys/init: whether the server is initialised. */
  initStatus(): Promise<boolean>;
  init(input: InitRequest): Promise<InitResponse>;
  /** One key share (hex or base64), or `{ reset: true }` to clear the progress. */
  unseal(key: string | { reset: true }): Promise<SealStatus>;
  seal(): Promise<void>;
  status(): Promise<SealStatus>;
  /** Resolves the body for 429 (standby), 501 (uninitialised) and 503 (sealed) too, and for any status the query asks for. */
  health(query?: HealthQuery): Promise<HealthStatus>;
  leader(): Promise<LeaderStatus>;
  mounts: MountsApi & { move(from: string, to: string): Promise<void> };
  auth: MountsApi;
  policies: {
    list(): Promise<string[]>;
    read(name: string): Promise<string>;
    write(name: string, policy: string): Promise<void>;
    delete(name: string): Promise<void>;
  };
  audit: {
    list(): Promise<Record<string, AuditDevice>>;
    enable(path: string, input: AuditInput): Promise<void>;
    disable(path: string): Promise<void>;
  };
  rotate(): Promise<void>;
  keyStatus(): Promise<KeyStatus>;
  rekey: {
    init(input: InitRequest): Promise<RekeyStatus>;
    update(key: string, nonce: string): Promise<RekeyUpdate>;
    status(): Promise<RekeyStatus>;
    cancel(): Promise<void>;
  };
  leases: {
    lookup(leaseId: string): Promise<LeaseInfo>;
    renew(leaseId: string, increment?: number | string): Promise<Envelope>;
    revoke(leaseId: string): Promise<void>;
    revokePrefix(prefix: string): Promise<void>;
  };
  /** What a token may do on a path: with `token` the given token, with `{ accessor }` its accessor's, without either the client's own. */
  capabilities(path: string, who?: string | { token?: string; accessor?: string }): Promise<string[]>;
  /** PUT sys/step-down: an active node gives up the lock (needs root or sudo). */
  stepDown(): Promise<void>;
  /** GET sys/storage/snapshot: the whole storage, still encrypted, as the snapshot file's bytes (needs root or sudo). */
  snapshot(): Promise<Buffer>;
  /** POST sys/storage/snapshot-force: replaces the whole storage with a snapshot; the server is sealed afterwards (needs root or sudo). */
  restoreSnapshot(snapshot: Buffer): Promise<void>;
}

/** The `data` of a sys/ answer, or the answer itself when it has no envelope. */
export function sysData<T>(body: unknown): T {
  const data = (body as { data?: unknown } | undefined)?.data;
  return (data !== undefined && data !== null && typeof data === 'object' ? data : body) as T;
}

const trim = (path: string): string => path.replace(/^\/+|\/+$/g, '');

const HEALTH_STATUSES = [429, 472, 473, 501, 503] as const;

function mountsApi(call: RawRequest, base: 'sys/mounts' | 'sys/auth'): MountsApi {
  return {
    async list() {
      const body = await call('GET', base);
      const data = sysData<Record<string, unknown>>(body);
      // Only the mount entries (keys ending in '/'), not the envelope's fields.
      return Object.fromEntries(Object.entries(data).filter(([k]) => k.endsWith('/'))) as Record<string, MountInfo>;
    },
    async enable(path, input) {
      await call('POST', `${base}/${trim(path)}`, input);
    },
    async disable(path) {
      await call('DELETE', `${base}/${trim(path)}`);
    },
    async tune(path, input) {
      await call('POST', `${base}/${trim(path)}/tune`, input);
    },
    async readTune(path) {
      return sysData<MountConfig>(await call('GET', `${base}/${trim(path)}/tune`));
    },
  };
}

export function createSysApi(call: RawRequest): SysApi {
  return {
    async initStatus() {
      return sysData<{ initialized: boolean }>(await call('GET', 'sys/init')).initialized;
    },
    async init(input) {
      return sysData<InitResponse>(await call('PUT', 'sys/init', input));
    },
    async unseal(key) {
      return sysData<SealStatus>(await call('PUT', 'sys/unseal', typeof key === 'string' ? { key } : { reset: true }));
    },
    async seal() {
      await call('PUT', 'sys/seal');
    },
    async status() {
      return sysData<SealStatus>(await call('GET', 'sys/seal-status'));
    },
    async health(query = {}) {
      const q: Record<string, string> = {};
      for (const [k, v] of Object.entries(query)) if (v !== undefined) q[k] = String(v);
      // A status the caller chose for a state is an answer too, not an error.
      const asked = Object.entries(query).filter(([k]) => k.endsWith('code')).map(([, v]) => Number(v));
      return sysData<HealthStatus>(await call('GET', 'sys/health', undefined, { query: q, acceptStatus: [...HEALTH_STATUSES, ...asked] }));
    },
    async leader() {
      return sysData<LeaderStatus>(await call('GET', 'sys/leader'));
    },
    mounts: {
      ...mountsApi(call, 'sys/mounts'),
      async move(from, to) {
        await call('POST', 'sys/remount', { from, to });
      },
    },
    auth: mountsApi(call, 'sys/auth'),
    policies: {
      async list() {
        const data = sysData<{ policies?: string[]; keys?: string[] }>(await call('GET', 'sys/policies/acl'));
        return data.policies ?? data.keys ?? [];
      },
      async read(name) {
        return sysData<{ policy: string }>(await call('GET', `sys/policies/acl/${encodeURIComponent(name)}`)).policy;
      },
      async write(name, policy) {
        await call('PUT', `sys/policies/acl/${encodeURIComponent(name)}`, { policy });
      },
      async delete(name) {
        await call('DELETE', `sys/policies/acl/${encodeURIComponent(name)}`);
      },
    },
    audit: {
      async list() {
        const data = sysData<Record<string, unknown>>(await call('GET', 'sys/audit'));
        return Object.fromEntries(Object.entries(data).filter(([k]) => k.endsWith('/'))) as Record<string, AuditDevice>;
      },
      async enable(path, input) {
        await call('PUT', `sys/audit/${trim(path)}`, input);
      },
      async disable(path) {
        await call('DELETE', `sys/audit/${trim(path)}`);
      },
    },
    async rotate() {
      await call('PUT', 'sys/rotate');
    },
    async keyStatus() {
      return sysData<KeyStatus>(await call('GET', 'sys/key-status'));
    },
    rekey: {
      async init(input) {
        return sysData<RekeyStatus>(await call('PUT', 'sys/rekey/init', input));
      },
      async update(key, nonce) {
        return sysData<RekeyUpdate>(await call('PUT', 'sys/rekey/update', { key, nonce }));
      },
      async status() {
        return sysData<RekeyStatus>(await call('GET', 'sys/rekey/init'));
      },
      async cancel() {
        await call('DELETE', 'sys/rekey/init');
      },
    },
    leases: {
      async lookup(leaseId) {
        return sysData<LeaseInfo>(await call('PUT', 'sys/leases/lookup', { lease_id: leaseId }));
      },
      async renew(leaseId, increment) {
        return (await call('PUT', 'sys/leases/renew', increment === undefined ? { lease_id: leaseId } : { lease_id: leaseId, increment })) as Envelope;
      },
      async revoke(leaseId) {
        await call('PUT', 'sys/leases/revoke', { lease_id: leaseId });
      },
      async revokePrefix(prefix) {
        await call('PUT', `sys/leases/revoke-prefix/${trim(prefix)}`);
      },
    },
    async capabilities(path, who) {
      const target = typeof who === 'string' ? { token: who } : who ?? {};
      const route = target.token !== undefined ? 'sys/capabilities' : target.accessor !== undefined ? 'sys/capabilities-accessor' : 'sys/capabilities-self';
      const body = await call('PUT', route, { path, ...target });
      return sysData<{ capabilities: string[] }>(body).capabilities;
    },
    async stepDown() {
      await call('PUT', 'sys/step-down');
    },
    async snapshot() {
      return (await call('GET', 'sys/storage/snapshot', undefined, { binary: true })) as Buffer;
    },
    async restoreSnapshot(snapshot) {
      await call('POST', 'sys/storage/snapshot-force', snapshot);
    },
  };
}
