// Small node:http / node:net helpers: free ports, one-shot requests, readiness polling.
import http from 'node:http';
import net from 'node:net';

/** A TCP port that was free on 127.0.0.1 a moment ago (the OS picks it). */
export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * One HTTP request on a fresh connection (agent: false).
 * Resolves { status, headers, body: Buffer }; rejects on connection errors or after timeoutMs.
 */
export function request(url, { method = 'GET', headers = {}, body, timeoutMs = 2000 } = {}) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const req = http.request(
      url,
      {
        method,
        agent: false,
        headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length, ...headers } : headers,
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms: ${method} ${url}`)));
    req.on('error', reject);
    req.end(payload);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Poll `url` every `intervalMs` until it answers `status`. Resolves the time of the first
 * such answer (process.hrtime.bigint()). Gives up after timeoutMs, or as soon as
 * `isDead()` returns a truthy reason (e.g. the child exited).
 */
export async function pollUntil(url, { status = 200, intervalMs = 5, timeoutMs = 15000, isDead = () => false } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer yet';
  for (;;) {
    const dead = isDead();
    if (dead) throw new Error(`gave up polling ${url}: ${dead}`);
    try {
      const res = await request(url, { timeoutMs: 1000 });
      if (res.status === status) return process.hrtime.bigint();
      lastError = `status ${res.status}`;
    } catch (err) {
      lastError = err.code ?? err.message;
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms (last: ${lastError})`);
    await sleep(intervalMs);
  }
}
