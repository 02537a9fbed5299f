#!/usr/bin/env node
// Baseline for the read benchmark: the least a node:http server can do to answer a GET
// with a JSON body of a given size. Run as a child process by bench/read.mjs:
//   node bench/bare-server.mjs --body-bytes=178 [--port=0] [--host=127.0.0.1]
// Prints "listening http://HOST:PORT" on stdout once ready; SIGTERM/SIGINT stop it.
// With --refuse, it answers every request (any method, body unread) as nomad-api answers a
// rate-limited one: 429, Retry-After and the error body (bench/auth.mjs's baseline).
import http from 'node:http';

const arg = (name, def) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : def;
};
const bodyBytes = Number(arg('body-bytes', '178'));
const port = Number(arg('port', '0'));
const host = arg('host', '127.0.0.1');

// A valid JSON object of exactly bodyBytes bytes: {"value":"xxxx…"}
const prefix = '{"value":"';
const suffix = '"}';
if (!Number.isInteger(bodyBytes) || bodyBytes < prefix.length + suffix.length) {
  console.error(`--body-bytes must be an integer >= ${prefix.length + suffix.length}`);
  process.exit(2);
}
const body = Buffer.from(prefix + 'x'.repeat(bodyBytes - prefix.length - suffix.length) + suffix);

const refuse = process.argv.includes('--refuse');
const refusal = JSON.stringify({ errors: ['rate limit quota exceeded'] });
const refusalHeaders = ['Cache-Control', 'no-store', 'X-Request-Id', 'bare', 'Retry-After', '1', 'Content-Type', 'application/json', 'Content-Length', String(Buffer.byteLength(refusal))];

const server = http.createServer((req, res) => {
  if (refuse) {
    res.writeHead(429, refusalHeaders);
    res.end(refusal, 'utf8');
    return;
  }
  if (req.method !== 'GET') {
    res.writeHead(405, { 'Content-Length': 0 });
    res.end();
    return;
  }
  // node:http keeps the connection alive by default (HTTP/1.1); Content-Length avoids chunking.
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
  res.end(body);
});

server.listen(port, host, () => {
  const { port: actual } = server.address();
  process.stdout.write(`listening http://${host}:${actual} body-bytes=${body.length}\n`);
});

const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
