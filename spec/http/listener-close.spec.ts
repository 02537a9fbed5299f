import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createGatedStorage } from '../helpers/gated-storage.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Closing a listener while a keep-alive request is in flight: the request is answered, and
 * its connection is closed as soon as it goes idle, not when node's keep-alive timeout (5 s)
 * runs out.
 */

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('listener close', () => {
  it('answers the request in flight, then closes its keep-alive connection at once', async () => {
    const gated = createGatedStorage();
    server = await startTestServer({ storage: gated.storage });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const gate = gated.gate('held');
    const writing = server.request('PUT', '/v1/secret/held', { token: server.rootToken, body: { v: 1 }, agent });
    await gate.reached;
    const closedAt: number[] = [];
    const sockets = Object.values(agent.sockets).flat();
    expect(sockets).toHaveLength(1);
    const socketClosed = new Promise<void>((resolve) => sockets[0]!.once('close', () => resolve()));
    const closing = server.server.close().then(() => closedAt.push(Date.now()));
    gate.open();
    const answered = await writing;
    const answeredAt = Date.now();
    expect(answered.status).toBe(204);
    // The answer said keep-alive; the server closes the connection once it is idle.
    expect(answered.headers.connection).toBe('keep-alive');
    await closing;
    // The server ended the idle connection: the client's socket closes without the client doing anything.
    await socketClosed;
    // Well before node's 5 s keep-alive timeout: the sweep runs every 25 ms.
    expect(closedAt[0]! - answeredAt).toBeLessThan(2_000);
    agent.destroy();
  });
});
