import { describe, expect, it } from 'vitest';
import { ApiError, isApiError } from '../lib/errors.js';
import { createLogger } from '../lib/log.js';
import { createInmemStorage } from '../lib/storage/inmem.js';
import type { ClosableStorage } from '../lib/storage/storage.js';
import { loggedInternalErrors } from './helpers/cli.js';
import { createFaultyStorage } from './helpers/faulty-storage.js';
import { startTestServer } from './helpers/server.js';

/**
 * The guard itself (spec/helpers/setup.ts, server.ts, cli.ts): a 500 nobody took with
 * expectInternalErrors() fails the test, however the spec ends its server.
 */

describe('no silent 500s', () => {
  it('close() rejects with the stack of a 500 nobody took, once the server is down', async () => {
    const faults = createFaultyStorage(createInmemStorage());
    const server = await startTestServer({ storage: faults });
    faults.setRate(1);
    const res = await server.request('PUT', '/v1/secret/a', { token: server.rootToken, body: { a: 1 } });
    expect(res.status).toBe(500);
    faults.setRate(0);
    const closing = server.close();
    await expect(closing).rejects.toThrow(/^the test server answered 1 unexpected 500\(s\):\nApiError: injected storage fault: get sys\/token\/id\/\w+\n\s+at /);
    // It was closed all the same: nothing answers any more.
    await expect(server.request('GET', '/v1/sys/health')).rejects.toThrow();
  });

  it('close() resolves once the test took its 500s', async () => {
    const faults = createFaultyStorage(createInmemStorage());
    const server = await startTestServer({ storage: faults });
    faults.setRate(1);
    expect((await server.request('PUT', '/v1/secret/a', { token: server.rootToken, body: { a: 1 } })).status).toBe(500);
    faults.setRate(0);
    const taken = server.expectInternalErrors();
    expect(taken).toHaveLength(1);
    expect(isApiError(taken[0], 'ERR_STORAGE')).toBe(true);
    await server.close();
  });

  it('close() sees a 500 answered while it waited for the request in flight', async () => {
    let reached!: () => void;
    let fail!: () => void;
    const atWrite = new Promise<void>((resolve) => (reached = resolve));
    const failing = new Promise<void>((resolve) => (fail = resolve));
    const inner = createInmemStorage();
    const storage: ClosableStorage = {
      get: (key) => inner.get(key),
      list: (prefix) => inner.list(prefix),
      delete: (key) => inner.delete(key),
      async put(key, value) {
        if (!key.endsWith('/slow')) return inner.put(key, value);
        reached();
        await failing;
        throw new ApiError('ERR_STORAGE', 'the slow write failed');
      },
    };
    const server = await startTestServer({ storage });
    // Connection: close, so the close does not wait out the connection's keep-alive after its answer.
    const pending = server.request('PUT', '/v1/secret/slow', { token: server.rootToken, body: { a: 1 }, headers: { Connection: 'close' } });
    await atWrite;
    const closing = server.close();
    const outcome = closing.then(
      () => 'resolved',
      (err: Error) => err.message,
    );
    fail();
    expect((await pending).status).toBe(500);
    expect(await outcome).toMatch(/^the test server answered 1 unexpected 500\(s\):\nApiError: the slow write failed\n/);
  });

  it('reads a spawned server\'s 500s from the line the handler logs for each', async () => {
    // What cli.ts parses is what the handler writes: the stack, recovered whole.
    const lines: string[] = [];
    const faults = createFaultyStorage(createInmemStorage());
    const server = await startTestServer({ storage: faults, logger: createLogger('trace', (line) => lines.push(line)) });
    faults.setRate(1);
    expect((await server.request('PUT', '/v1/secret/a', { token: server.rootToken, body: { a: 1 } })).status).toBe(500);
    faults.setRate(0);
    const [recorded] = server.expectInternalErrors() as Error[];
    await server.close();
    expect(loggedInternalErrors(`${lines.join('\n')}\n`)).toEqual([recorded!.stack]);
  });
});
