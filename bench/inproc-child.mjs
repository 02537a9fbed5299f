#!/usr/bin/env node
// Child of bench/inproc.mjs: the real HTTP request handler (dist/http/handler.js) over minimal
// stand-ins for node's request and response objects, so what is timed is nomad-api's own work
// for an authenticated GET /v1/secret/foo, with no sockets and no node:http. Prints one JSON line:
//   { nsPerRequest: [per round], bytesPerRequest, status }
//   node bench/inproc-child.mjs [--requests=20000] [--rounds=15]
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const load = (file) => import(pathToFileURL(path.join(DIST, file)).href);
const { createServer } = await load('server.js');
const { createRequestHandler } = await load('http/handler.js');
const { defaultConfig } = await load('config.js');
const { createLogger } = await load('log.js');

const arg = (name, def) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? def);
const requests = arg('requests', 20000);
const rounds = arg('rounds', 15);

const base = defaultConfig();
const config = { ...base, storage: { type: 'inmem', options: {} }, listeners: [{ ...base.listeners[0], address: '127.0.0.1:0' }] };
const logger = createLogger('error');
const server = await createServer({ config, logger, dev: { rootTokenId: 'bench-root-token' } });
const handler = createRequestHandler({ core: server.core, logger, maxRequestSize: 1 << 20, jsonLimits: { maxDepth: 300, maxStringLength: 1 << 20, maxObjectEntries: 10000, maxArrayElements: 10000 } });

// What the handler touches on node's objects, and nothing more.
const socket = { remoteAddress: '127.0.0.1', encrypted: false };
const headers = { host: '127.0.0.1', 'user-agent': 'bench', 'x-nomad-token': 'bench-root-token' };
let finished;
class Response {
  writeHead(status, list) {
    this.status = status;
    this.headers = list;
  }
  end(body) {
    this.body = body;
    finished();
  }
  once() {}
}
function send(method, url, body) {
  return new Promise((resolve) => {
    const res = new Response();
    finished = () => resolve(res);
    const req = { method, url, socket, httpVersionMajor: 1, httpVersionMinor: 1, once() {}, headers: body ? { ...headers, 'content-length': String(body.length) } : headers };
    if (body) {
      const listeners = {};
      Object.assign(req, {
        on(event, fn) { listeners[event] = fn; return req; },
        removeListener() { return req; },
        off() { return req; },
        pause() {},
      });
      handler(req, res);
      setImmediate(() => {
        listeners.data?.(Buffer.from(body));
        listeners.end?.();
      });
    } else handler(req, res);
  });
}

const written = await send('POST', '/v1/secret/foo', '{"value":"bar"}');
if (written.status !== 204) throw new Error(`writing secret/foo answered ${written.status}`);
const check = await send('GET', '/v1/secret/foo');
const parsed = JSON.parse(Buffer.from(check.body).toString());
if (check.status !== 200 || parsed.data?.value !== 'bar') throw new Error(`reading secret/foo answered ${check.status}`);

const run = async (count) => {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < count; i++) await send('GET', '/v1/secret/foo');
  return Number(process.hrtime.bigint() - t0) / count;
};
await run(requests); // warm-up: let V8 optimise the path
const nsPerRequest = [];
for (let r = 0; r < rounds; r++) nsPerRequest.push(await run(requests));

// Bytes allocated per request, from V8's sampling heap profiler (objects later collected included).
const session = new Session();
session.connect();
await session.post('HeapProfiler.enable');
const sampled = async (fn) => {
  await session.post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
  await fn();
  const { profile } = await session.post('HeapProfiler.stopSampling');
  let total = 0;
  const walk = (node) => {
    total += node.selfSize;
    for (const child of node.children) walk(child);
  };
  walk(profile.head);
  return total;
};
// The stand-ins' own allocations (promise, request and response objects) are measured alone and subtracted.
const withHandler = await sampled(() => run(requests));
const standIns = await sampled(async () => {
  for (let i = 0; i < requests; i++) {
    await new Promise((resolve) => {
      const res = new Response();
      finished = () => resolve(res);
      const req = { method: 'GET', url: '/v1/secret/foo', socket, httpVersionMajor: 1, httpVersionMinor: 1, once() {}, headers };
      res.writeHead(req.method === 'GET' ? 200 : 0, []);
      res.end(undefined);
    });
  }
});
session.disconnect();
await server.close();
process.stdout.write(`${JSON.stringify({ nsPerRequest, bytesPerRequest: Math.max(0, (withHandler - standIns) / requests), status: check.status })}\n`);
