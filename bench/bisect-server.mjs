#!/usr/bin/env node
// One stage of the read bisection (bench/bisect.mjs, issue 10): where does an authenticated
// cached read (GET /v1/secret/foo, root token, dev server, in-memory storage) spend its CPU
// compared with a bare node:http server? Every stage runs in a process of its own:
//   node bench/bisect-server.mjs --stage=<name> [--port=0]
// Always: the real dev server in this process (dist/server.js createServer, dev mode with
// root token bench-root-token, inmem storage, 127.0.0.1:0, log level error), secret/foo
// written with read.mjs's value, its real answer fetched once. Then, except for `nomad`, a
// SECOND listener through the project's own startListener (dist/http/listener.js, the dev
// listener's ListenerConfig on another port) whose request handler is the stage's:
//   bare          writeHead(200, {Content-Type, Content-Length}) + end(Buffer): the real answer's bytes
//   bare+headers  bare, plus reading req.headers['x-nomad-token'] and req.socket.remoteAddress
//   send          bare+headers, answered with sendJson(res, 200, nextRequestId(), body string)
//   edge          the real createRequestHandler over the real core with its answerNow replaced
//                 by a fixed Response (the same data): the HTTP edge, no fast path
//   core          the real createRequestHandler over the real core: the full path
//   core-twice    core, with the fast path run twice a request: the second run's cost is the
//                 core's own with warm CPU caches (compare with core − edge)
//   nomad         no second listener: the dev server's own listener (a control, ≈ core)
// Prints "listening http://HOST:PORT stage=… body-bytes=…" once ready; SIGTERM/SIGINT stop it
// (through process.exit, so `node --cpu-prof` writes its profile).
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(pathToFileURL(path.join(ROOT, 'dist', p)).href);

export const STAGES = ['bare', 'bare+headers', 'send', 'edge', 'core', 'core-twice', 'nomad'];
const ROOT_TOKEN = 'bench-root-token';
const READ_PATH = '/v1/secret/foo';
const SECRET_VALUE = 'bar'; // as bench/read.mjs writes it

const arg = (name, def) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : def;
};

/** One request to the dev server; resolves { status, headers, body: Buffer }. */
function call(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(
      url,
      { method, agent: false, headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': payload.length, ...headers } : headers },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function main() {
  const stage = arg('stage', '');
  const port = Number(arg('port', '0'));
  if (!STAGES.includes(stage)) throw new Error(`--stage must be one of ${STAGES.join(', ')}, got '${stage}'`);
  if (!Number.isInteger(port) || port < 0) throw new Error(`--port must be a port number, got ${arg('port')}`);

  const [{ createServer }, { defaultConfig }, { createLogger }, { startListener }, { createRequestHandler }, { sendJson, envelopeJson }, { nextRequestId }] =
    await Promise.all([
      dist('server.js'),
      dist('config.js'),
      dist('log.js'),
      dist('http/listener.js'),
      dist('http/handler.js'),
      dist('http/respond.js'),
      dist('http/request-id.js'),
    ]);

  // As `nomad-api server -dev` builds it (cli/commands/server.ts devConfig), at log level error.
  const base = defaultConfig();
  const devAddress = `127.0.0.1:${stage === 'nomad' ? port : 0}`;
  const config = { ...base, logLevel: 'error', storage: { type: 'inmem', options: {} }, listeners: [{ ...base.listeners[0], address: devAddress, tlsDisable: true }] };
  const logger = createLogger('error');
  const server = await createServer({ config, logger, dev: { rootTokenId: ROOT_TOKEN } });

  const auth = { 'X-Nomad-Token': ROOT_TOKEN };
  const put = await call(`${server.url}${READ_PATH}`, { method: 'POST', headers: auth, body: { value: SECRET_VALUE } });
  if (put.status !== 204 && put.status !== 200) throw new Error(`writing ${READ_PATH} answered ${put.status}: ${put.body}`);
  const real = await call(`${server.url}${READ_PATH}`, { headers: auth });
  if (real.status !== 200) throw new Error(`GET ${READ_PATH} answered ${real.status}: ${real.body}`);
  const realText = real.body.toString('utf8');
  const parsed = JSON.parse(realText);
  if (parsed?.data?.value !== SECRET_VALUE) throw new Error(`GET ${READ_PATH} returned unexpected body: ${realText}`);

  // The real answer's bytes (bare stages) and its envelope as a string (send).
  const body = Buffer.from(real.body);
  const bodyString = realText;
  // The stub core's fixed answer: the same data and lease fields, checked to rebuild the real body exactly.
  const dataJson = JSON.stringify(parsed.data);
  const stubResponse = { dataJson, dataBytes: Buffer.byteLength(dataJson), secret: { ttl: parsed.lease_duration, renewable: parsed.renewable === true } };
  const rebuilt = envelopeJson(parsed.request_id, stubResponse);
  if (rebuilt !== realText) throw new Error(`the stub core's answer would differ from the real one:\n  real: ${realText}\n  stub: ${rebuilt}`);

  const listenerConfig = { ...config.listeners[0], address: `127.0.0.1:${port}` };
  const handlerOptions = (core) => ({
    core,
    logger,
    maxRequestSize: listenerConfig.maxRequestSize,
    // As dist/server.js's jsonLimitsOf passes them.
    jsonLimits: {
      maxDepth: listenerConfig.maxJsonDepth,
      maxStringLength: listenerConfig.maxJsonStringValueLength,
      maxObjectEntries: listenerConfig.maxJsonObjectEntryCount,
      maxArrayElements: listenerConfig.maxJsonArrayElementCount,
    },
    onInternalError: (err) => process.stderr.write(`internal error: ${err?.stack ?? err}\n`),
  });
  // The real core's other parts (the rate limit, metrics, the mount table the edge asks) stay;
  // only the answer is fixed.
  const stubCore = {
    ...server.core,
    answerNow: () => stubResponse,
    handleRequest: () => {
      throw new Error('bisect edge stage: the stub core was asked for the pipeline (handleRequest); only answerNow should be reached');
    },
  };

  // Sinks for what bare+headers and send read, so nothing can be optimised away.
  let seen = 0;
  const handlers = {
    bare: (req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
      res.end(body);
    },
    'bare+headers': (req, res) => {
      const token = req.headers['x-nomad-token'];
      const remote = req.socket.remoteAddress;
      seen += (token?.length ?? 0) + (remote?.length ?? 0);
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
      res.end(body);
    },
    send: (req, res) => {
      const token = req.headers['x-nomad-token'];
      const remote = req.socket.remoteAddress;
      seen += (token?.length ?? 0) + (remote?.length ?? 0);
      sendJson(res, 200, nextRequestId(), bodyString);
    },
    edge: createRequestHandler(handlerOptions(stubCore)),
    core: createRequestHandler(handlerOptions(server.core)),
    // The fast path run twice a request, the first answer thrown away: what the second run
    // adds is the core's cost with its code and data already in the CPU caches.
    'core-twice': createRequestHandler(
      handlerOptions({
        ...server.core,
        answerNow: (req) => {
          server.core.answerNow(req);
          return server.core.answerNow(req);
        },
      }),
    ),
  };

  const listener = stage === 'nomad' ? null : await startListener(listenerConfig, handlers[stage]);
  const url = listener ? listener.url : server.url;

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    const timer = setTimeout(() => process.exit(0), 3000);
    timer.unref();
    try {
      if (listener) {
        const closed = listener.close();
        listener.server.closeAllConnections();
        await closed;
      }
      await server.close();
    } finally {
      if (seen < 0) process.stderr.write('unreachable\n');
      process.exit(0);
    }
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  process.stdout.write(`listening ${url} stage=${stage} dev=${server.url} body-bytes=${body.length} pid=${process.pid}\n`);
}

main().catch((err) => {
  process.stderr.write(`bisect-server: ${err?.stack ?? err}\n`);
  process.exit(1);
});
