import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdirSync, openSync, readFileSync, readSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PATH_CHECK_MS } from '../../lib/audit/file-device.js';
import { auditLines, enableFileDevice, tempDir } from '../helpers/audit.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Fail closed (api.md §13): a request no device can record is refused with 500 and not run;
 * one working device is enough; a blocked device fails within its write timeout.
 *
 * The tests run as root, where chmod does not stop a write: a device is broken by replacing
 * its file with a directory (the device checks the path before each write and reopens it),
 * and blocked by a FIFO whose reader never reads.
 */

let server: TestServer | undefined;
let temp: ReturnType<typeof tempDir> | undefined;
const readers: number[] = [];
afterEach(async () => {
  for (const fd of readers.splice(0)) closeSync(fd);
  await server?.close();
  server = undefined;
  temp?.remove();
  temp = undefined;
});

/** Replaces the file by a directory, and waits until the device's next path check is due. */
const breakFile = async (file: string): Promise<void> => {
  rmSync(file);
  mkdirSync(file);
  await new Promise((resolve) => setTimeout(resolve, PATH_CHECK_MS + 20));
};

describe('fail-closed auditing', () => {
  it('refuses and does not run a write no device can record, and runs it when one device can', async () => {
    server = await startTestServer();
    temp = tempDir();
    const s = server;
    const root = { token: s.rootToken };
    const a = join(temp.dir, 'a.log');
    const b = join(temp.dir, 'b.log');
    await enableFileDevice(s, 'a', { file_path: a });
    await enableFileDevice(s, 'b', { file_path: b });

    await breakFile(a);
    expect((await s.request('PUT', '/v1/secret/one', { ...root, body: { v: 'first' } })).status).toBe(204);
    expect(auditLines(b).some((l) => l.request?.path === 'secret/one')).toBe(true);
    // Read twice while b works: from here secret/one is in memory, and a read of it is the
    // fast path's, answered at the edge once its lines are written (core.answerLogged).
    for (let i = 0; i < 2; i++) expect((await s.request('GET', '/v1/secret/one', root)).status).toBe(200);

    await breakFile(b);
    const refused = await s.request('PUT', '/v1/secret/two', { ...root, body: { v: 'second' } });
    expect(refused.status).toBe(500);
    expect(refused.body.errors).toEqual(['internal error']);
    const errors = s.expectInternalErrors();
    expect(errors).toHaveLength(1);
    expect(String((errors[0] as Error).message)).toContain('no audit device could record the request');
    // A hot read is refused the same way, and its value is not sent.
    const hot = await s.request('GET', '/v1/secret/one', root);
    expect(hot.status).toBe(500);
    expect(hot.text).not.toContain('first');
    expect(String((s.expectInternalErrors()[0] as Error).message)).toContain('no audit device could record the request');

    rmdirSync(a);
    rmdirSync(b);
    // Both devices look at their paths again before the next write (as breakFile waits).
    await new Promise((resolve) => setTimeout(resolve, PATH_CHECK_MS + 20));
    expect((await s.request('GET', '/v1/secret/two', root)).status).toBe(404);
    expect((await s.request('GET', '/v1/secret/one', root)).status).toBe(200);
    // The recreated files start with a link to the chain of the files moved away.
    expect(auditLines(a)[0]!.type).toBe('link');
    expect(auditLines(a)[0]!.prev).toMatch(/^[0-9a-f]{64}$/);
    // Both refusals are counted in the metrics.
    const metrics = await s.request('GET', '/v1/sys/metrics?format=prometheus', root);
    expect(metrics.text).toMatch(/^nomad_audit_failures_total 2$/m);
  });

  it('fails a request within the write timeout when the only device is blocked, and keeps serving', async () => {
    server = await startTestServer();
    temp = tempDir();
    const s = server;
    const root = { token: s.rootToken };
    const fifo = join(temp.dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    readers.push(reader);
    await enableFileDevice(s, 'pipe', { file_path: fifo, write_timeout: '300ms' });

    // A request line larger than the pipe's buffer (keys are not hashed): the write blocks.
    const big = { ['k'.repeat(200_000)]: 'v' };
    const started = Date.now();
    const stuck = await s.request('PUT', '/v1/secret/big', { ...root, body: big });
    expect(stuck.status).toBe(500);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(String((s.expectInternalErrors()[0] as Error).message)).toContain('timed out');

    // The server is not held up: unaudited routes answer, audited ones fail closed in time.
    expect((await s.request('GET', '/v1/sys/health')).status).toBe(200);
    expect((await s.request('PUT', '/v1/secret/small', { ...root, body: { v: 'x' } })).status).toBe(500);
    s.expectInternalErrors();

    // Unblock: the stuck write fails when its reader goes, and a reader that reads lets the device on again.
    closeSync(readers.pop()!);
    const drainer = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    readers.push(drainer);
    let drained = '';
    const drain = setInterval(() => {
      const chunk = Buffer.alloc(65536);
      try {
        for (;;) {
          const n = readSync(drainer, chunk);
          if (n === 0) break;
          drained += chunk.subarray(0, n).toString('utf8');
        }
      } catch {
        // EAGAIN: nothing to read yet.
      }
    }, 5);
    try {
      let read = await s.request('GET', '/v1/secret/big', root);
      // The first write after unblocking may still meet the old, failed handle.
      if (read.status === 500) {
        s.expectInternalErrors();
        read = await s.request('GET', '/v1/secret/big', root);
      }
      expect(read.status).toBe(404);
      expect((await s.request('GET', '/v1/secret/small', root)).status).toBe(404);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(drained).toContain('secret/big');
    } finally {
      clearInterval(drain);
    }
  });

  it('refuses to enable a device on a FIFO nobody reads, and enables nothing', async () => {
    server = await startTestServer();
    temp = tempDir();
    const fifo = join(temp.dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const res = await server.request('PUT', '/v1/sys/audit/pipe', { token: server.rootToken, body: { type: 'file', options: { file_path: fifo } } });
    expect(res.status).toBe(400);
    expect(res.body.errors[0]).toContain('cannot open the audit file');
    expect((await server.request('GET', '/v1/sys/audit', { token: server.rootToken })).body.data).toEqual({});
    expect((await server.request('PUT', '/v1/secret/x', { token: server.rootToken, body: { v: '1' } })).status).toBe(204);
  });

  it('with a blocked device and a working one, requests succeed at once', async () => {
    server = await startTestServer();
    temp = tempDir();
    const s = server;
    const root = { token: s.rootToken };
    const fifo = join(temp.dir, 'pipe');
    const file = join(temp.dir, 'file.log');
    execFileSync('mkfifo', [fifo]);
    readers.push(openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK));
    await enableFileDevice(s, 'pipe', { file_path: fifo, write_timeout: '10s' });
    await enableFileDevice(s, 'file', { file_path: file });
    expect((await s.request('PUT', '/v1/secret/big', { ...root, body: { ['k'.repeat(200_000)]: 'v' } })).status).toBe(204);
    expect((await s.request('GET', '/v1/secret/big', root)).status).toBe(200);
    expect(readFileSync(file, 'utf8')).toContain('secret/big');
  });
});
