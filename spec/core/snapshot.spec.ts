import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { StorageConfig } from '../../lib/config.js';
import { decodeSnapshot } from '../../lib/storage/snapshot-format.js';
import { startEtcd, type EtcdCluster } from '../helpers/etcd.js';
import { createGatedStorage } from '../helpers/gated-storage.js';
import { createStorage } from '../../lib/storage/registry.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { tempDir } from '../storage/temp.js';

/**
 * Storage snapshots end to end over HTTP (issue 15 item 5): save, restore, refusals, on each
 * storage type as the server builds it (so file and etcd have the read cache in front).
 */

const SECRETS = 1000;
let etcd: EtcdCluster | undefined;
let run = 0;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  etcd = await startEtcd(1);
}, 60_000);
afterAll(async () => {
  await etcd?.stop();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Kind = 'inmem' | 'file' | 'etcd';

async function storageFor(kind: Kind): Promise<StorageConfig> {
  if (kind === 'inmem') return { type: 'inmem', options: {} };
  if (kind === 'file') {
    const temp = await tempDir('nomad-snapshot-');
    cleanups.push(temp.remove);
    return { type: 'file', options: { path: temp.dir } };
  }
  return { type: 'etcd', options: { address: etcd!.address, path: `/snapshot-spec-${process.pid}-${++run}/` } };
}

async function serverOn(kind: Kind, extra: { shares?: number; threshold?: number; maxRequestSize?: number } = {}): Promise<TestServer> {
  const server = await startTestServer({
    config: { storage: await storageFor(kind) },
    shares: extra.shares,
    threshold: extra.threshold,
    listener: extra.maxRequestSize === undefined ? undefined : { maxRequestSize: extra.maxRequestSize },
  });
  cleanups.push(() => server.close());
  return server;
}

async function until(probe: () => Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `count` requests, `width` at a time. */
async function inBatches(count: number, width: number, send: (i: number) => Promise<void>): Promise<void> {
  for (let start = 0; start < count; start += width) {
    await Promise.all(Array.from({ length: Math.min(width, count - start) }, (_, j) => send(start + j)));
  }
}

async function writeSecrets(server: TestServer): Promise<void> {
  await inBatches(SECRETS, 25, async (i) => {
    const res = await server.request('PUT', `/v1/secret/many/s${i}`, { token: server.rootToken, body: { value: `v${i}` } });
    expect(res.status).toBe(204);
  });
}

async function readValue(server: TestServer, path: string): Promise<{ status: number; value?: string }> {
  const res = await server.request('GET', `/v1/${path}`, { token: server.rootToken });
  return { status: res.status, value: res.body?.data?.value };
}

async function snapshot(server: TestServer): Promise<Buffer> {
  const res = await server.request('GET', '/v1/sys/storage/snapshot', { token: server.rootToken });
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toBe('application/octet-stream');
  expect(res.headers['content-disposition']).toMatch(/^attachment; filename="nomad-api-\d{8}T\d{6}Z\.snap"$/);
  expect(Number(res.headers['content-length'])).toBe(res.bytes.length);
  expect(Number(res.headers['x-nomad-snapshot-entries'])).toBe(decodeSnapshot(res.bytes).entries.length);
  return res.bytes;
}

function restore(server: TestServer, body: Buffer, token = server.rootToken) {
  return server.request('POST', '/v1/sys/storage/snapshot-force', { token, body, headers: { 'Content-Type': 'application/octet-stream' } });
}

describe.each<Kind>(['inmem', 'file', 'etcd'])('storage snapshots on %s storage', (kind) => {
  it('saves 1,000 secrets, restores them after they were deleted, seals, and they read back after unseal', async () => {
    // A body limit far below the snapshot's size: the restore has its own.
    const server = await serverOn(kind, { maxRequestSize: 32 << 10 });
    await writeSecrets(server);
    await server.request('PUT', '/v1/secret/hot', { token: server.rootToken, body: { value: 'before' } });
    expect(await readValue(server, 'secret/hot')).toEqual({ status: 200, value: 'before' });

    const saved = await snapshot(server);
    expect(saved.length).toBeGreaterThan(32 << 10);
    expect(decodeSnapshot(saved).entries.filter(([key]) => key.endsWith('/many/s1')).length).toBe(1);

    // After the snapshot: everything deleted, one key changed (and read, so every cache holds it), one added.
    await inBatches(SECRETS, 25, async (i) => {
      expect((await server.request('DELETE', `/v1/secret/many/s${i}`, { token: server.rootToken })).status).toBe(204);
    });
    await server.request('PUT', '/v1/secret/hot', { token: server.rootToken, body: { value: 'after' } });
    await server.request('PUT', '/v1/secret/added', { token: server.rootToken, body: { value: 'new' } });
    for (let i = 0; i < 3; i++) expect(await readValue(server, 'secret/hot')).toEqual({ status: 200, value: 'after' });
    expect((await readValue(server, 'secret/many/s7')).status).toBe(404);

    const res = await restore(server, saved);
    expect(res.status).toBe(204);
    const status = await server.request('GET', '/v1/sys/seal-status');
    expect(status.body).toMatchObject({ sealed: true, initialized: true, t: 1, n: 1 });
    expect((await readValue(server, 'secret/hot')).status).toBe(503);

    await server.unseal();
    const values: string[] = [];
    await inBatches(SECRETS, 50, async (i) => {
      const got = await readValue(server, `secret/many/s${i}`);
      expect(got.status).toBe(200);
      values[i] = got.value!;
    });
    expect(values).toEqual(Array.from({ length: SECRETS }, (_, i) => `v${i}`));
    // No cache served what was there before the restore.
    expect(await readValue(server, 'secret/hot')).toEqual({ status: 200, value: 'before' });
    expect((await readValue(server, 'secret/added')).status).toBe(404);
    // The root token is the snapshot's too, and the server writes again.
    expect((await server.request('PUT', '/v1/secret/later', { token: server.rootToken, body: { value: 'x' } })).status).toBe(204);
  }, 120_000);

  it('refuses a snapshot with one flipped byte, or cut short, with 400, and changes nothing', async () => {
    const server = await serverOn(kind);
    await server.request('PUT', '/v1/secret/a', { token: server.rootToken, body: { value: 'one' } });
    const saved = await snapshot(server);
    await server.request('PUT', '/v1/secret/a', { token: server.rootToken, body: { value: 'two' } });
    await server.request('PUT', '/v1/secret/b', { token: server.rootToken, body: { value: 'three' } });

    // A byte in the header, one in the middle of the entries, one in the checksum itself.
    for (const at of [9, Math.floor(saved.length / 2), saved.length - 1]) {
      const flipped = Buffer.from(saved);
      flipped[at] ^= 0x01;
      const res = await restore(server, flipped);
      expect(res.status).toBe(400);
      expect(res.body.errors[0]).toMatch(/^invalid snapshot: /);
    }
    for (const length of [saved.length - 1, Math.floor(saved.length / 2), 10, 0]) {
      const res = await restore(server, saved.subarray(0, length));
      expect(res.status).toBe(400);
    }
    // Not a snapshot body at all.
    const json = await server.request('POST', '/v1/sys/storage/snapshot-force', { token: server.rootToken, body: {} });
    expect(json.status).toBe(400);

    expect((await server.request('GET', '/v1/sys/seal-status')).body.sealed).toBe(false);
    expect(await readValue(server, 'secret/a')).toEqual({ status: 200, value: 'two' });
    expect(await readValue(server, 'secret/b')).toEqual({ status: 200, value: 'three' });
  }, 60_000);
});

describe('storage snapshots: access and keys', () => {
  it('refuses both routes to a token without root or sudo (api.md §2: 401), and a restore without a token reads no body', async () => {
    const server = await serverOn('inmem');
    const created = await server.request('POST', '/v1/auth/token/create', { token: server.rootToken, body: { policies: ['default'] } });
    const token = created.body.auth.client_token as string;
    expect((await server.request('GET', '/v1/sys/storage/snapshot', { token })).status).toBe(401);
    const saved = await snapshot(server);
    expect((await restore(server, saved, token)).status).toBe(401);
    const anonymous = await server.request('POST', '/v1/sys/storage/snapshot-force', { body: Buffer.alloc(2 << 20), headers: { 'Content-Type': 'application/octet-stream' } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.connection).toBe('close');
    expect((await server.request('GET', '/v1/sys/seal-status')).body.sealed).toBe(false);
  });

  it('a snapshot restored onto another server brings its seal: only the snapshot\'s keys unseal it', async () => {
    const source = await serverOn('inmem');
    await source.request('PUT', '/v1/secret/from-source', { token: source.rootToken, body: { value: 'yes' } });
    const saved = await snapshot(source);
    const target = await serverOn('file', { shares: 3, threshold: 2 });
    expect((await restore(target, saved)).status).toBe(204);
    expect((await target.request('GET', '/v1/sys/seal-status')).body).toMatchObject({ sealed: true, t: 1, n: 1, progress: 0 });
    // The target's own keys no longer open it: its seal configuration came from the snapshot.
    expect((await target.request('PUT', '/v1/sys/unseal', { body: { key: target.keys[0] } })).status).toBe(400);
    expect((await target.request('PUT', '/v1/sys/unseal', { body: { key: source.keys[0] } })).body.sealed).toBe(false);
    expect((await target.request('GET', '/v1/secret/from-source', { token: source.rootToken })).body.data).toEqual({ value: 'yes' });
    expect((await target.request('GET', '/v1/secret/from-source', { token: target.rootToken })).status).toBe(401);
  });

  it('a save on file storage reads under the read cache: it neither fills nor evicts it', async () => {
    const server = await serverOn('file');
    for (let i = 0; i < 20; i++) await server.request('PUT', `/v1/secret/c${i}`, { token: server.rootToken, body: { value: `${i}` } });
    await readValue(server, 'secret/c1');
    const before = server.server.memory().caches['storage cache']!.entries;
    expect(before).toBeGreaterThan(0);
    const entries = decodeSnapshot(await snapshot(server)).entries.length;
    expect(entries).toBeGreaterThan(before + 20);
    expect(server.server.memory().caches['storage cache']!.entries).toBe(before);
  });

  it('on an HA etcd storage, the active server restores, seals, and is active again after unseal', async () => {
    const storage = await createStorage('etcd', { address: etcd!.address, path: `/snapshot-ha-${process.pid}-${++run}/`, ha_enabled: 'true', lock_timeout: '2s' });
    const server = await startTestServer({ storage });
    cleanups.push(() => server.close());
    const leader = async (): Promise<boolean> => (await server.request('GET', '/v1/sys/leader')).body.is_self === true;
    await until(leader);
    await server.request('PUT', '/v1/secret/ha', { token: server.rootToken, body: { value: 'saved' } });
    const saved = await snapshot(server);
    await server.request('PUT', '/v1/secret/ha', { token: server.rootToken, body: { value: 'changed' } });
    expect((await restore(server, saved)).status).toBe(204);
    expect((await server.request('GET', '/v1/sys/seal-status')).body.sealed).toBe(true);
    await server.unseal();
    await until(leader);
    expect(await readValue(server, 'secret/ha')).toEqual({ status: 200, value: 'saved' });
  });

  it('on HA, the active server keeps the lock through the restore; then a standby takes over the restored storage', async () => {
    const prefix = `/snapshot-ha-pair-${process.pid}-${++run}/`;
    const open = async (): Promise<TestServer> => {
      const storage = await createStorage('etcd', { address: etcd!.address, path: prefix, ha_enabled: 'true', lock_timeout: '2s' });
      const server = await startTestServer({ storage, uninitialized: true });
      cleanups.push(() => server.close());
      return server;
    };
    const active = await open();
    const standby = await open();
    const init = await active.request('PUT', '/v1/sys/init', { body: { secret_shares: 1, secret_threshold: 1 } });
    for (const s of [active, standby]) {
      s.rootToken = init.body.root_token;
      s.keys = init.body.keys;
    }
    const isActive = async (s: TestServer): Promise<boolean> => (await s.request('GET', '/v1/sys/leader')).body.is_self === true;
    await active.unseal();
    await until(() => isActive(active));
    await standby.unseal();
    await active.request('PUT', '/v1/secret/pair', { token: active.rootToken, body: { value: 'saved' } });
    const saved = await snapshot(active);
    await active.request('PUT', '/v1/secret/pair', { token: active.rootToken, body: { value: 'changed' } });
    expect((await restore(active, saved)).status).toBe(204);
    await until(() => isActive(standby));
    expect(await readValue(standby, 'secret/pair')).toEqual({ status: 200, value: 'saved' });
    await active.unseal();
    expect(await isActive(active)).toBe(false);
  });

  it('a snapshot waits for a write in flight, and has it', async () => {
    const gated = createGatedStorage();
    const server = await startTestServer({ storage: gated.storage });
    cleanups.push(() => server.close());
    const gate = gated.gate('/slow');
    const write = server.request('PUT', '/v1/secret/slow', { token: server.rootToken, body: { value: 'in flight' } });
    await gate.reached;
    let answered = false;
    const saving = snapshot(server).then((bytes) => {
      answered = true;
      return bytes;
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(answered).toBe(false);
    gate.open();
    expect((await write).status).toBe(204);
    const keys = decodeSnapshot(await saving).entries.map(([key]) => key);
    expect(keys.filter((key) => key.endsWith('/slow'))).toHaveLength(1);
  });
});
