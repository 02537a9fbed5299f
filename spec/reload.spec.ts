import { once } from 'node:events';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../lib/config.js';
import type { ConfigDocument, TcpListenerDocument } from '../lib/config-document.js';
import { createLogger, type LogLevel } from '../lib/log.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { testTls, rotatedServerTls } from './helpers/tls.js';
import { peerCertificate } from './helpers/tls-peer.js';

/**
 * server.reload(config) (lib/reload.ts), in process: what changes while running (listener
 * limits, log_level, the TLS files), what is reported and left (storage, addresses, ...), and
 * a bad configuration refused with nothing changed. spec/cli/sighup.spec.ts drives the same
 * through SIGHUP on the real program.
 */

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function capture(level: LogLevel = 'info'): { lines: string[]; logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return { lines, logger: createLogger(level, (line) => lines.push(line)) };
}

/** The test server's own listener (127.0.0.1:0, plain HTTP) with these settings on top. */
function plainDocument(listener: TcpListenerDocument = {}, rest: Omit<ConfigDocument, 'listener'> = {}): ConfigDocument {
  return { listener: { tcp: { address: '127.0.0.1:0', tls_disable: true, ...listener } }, ...rest };
}

function put(path: string, body: unknown): Promise<{ status: number }> {
  return server!.request('PUT', `/v1/${path}`, { token: server!.rootToken, body });
}

describe('server.reload: what changes while running', () => {
  it('applies listener limits to the next request: max_request_size and the JSON limits', async () => {
    const { logger } = capture();
    server = await startTestServer({ logger, listener: { maxRequestSize: 1024 } });
    const big = { value: 'x'.repeat(2000) };
    expect((await put('secret/big', big)).status).toBe(413);

    const report = server.server.reload(plainDocument({ max_request_size: 4096, max_json_depth: 2 }));
    expect(report.applied).toEqual(['listener[0].max_request_size', 'listener[0].max_json_depth']);
    expect(report.ignored).toEqual([]);
    expect((await put('secret/big', big)).status).toBe(204);
    expect((await put('secret/deep', { a: { b: 1 } })).status).toBe(204);
    expect((await put('secret/deep', { a: { b: { c: 1 } } })).status).toBe(400);
    expect(server.server.config.listeners[0]!.maxRequestSize).toBe(4096);
  });

  it('applies the read timeouts: a client stalling in its headers is cut off at the new limit', async () => {
    const { logger } = capture();
    // Startup defaults: 10 s for the headers, swept every second.
    server = await startTestServer({ logger });
    const report = server.server.reload(plainDocument({ http_read_header_timeout: '300ms', http_read_timeout: '5s' }));
    expect(report.applied).toEqual(['listener[0].http_read_header_timeout', 'listener[0].http_read_timeout']);
    const { hostname, port } = new URL(server.url);
    const socket = net.connect({ host: hostname, port: Number(port) });
    await once(socket, 'connect');
    const started = Date.now();
    socket.write('GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    await once(socket, 'close');
    const ms = Date.now() - started;
    expect(Buffer.concat(chunks).toString('latin1')).toMatch(/^HTTP\/1\.1 408 /);
    expect(ms).toBeGreaterThanOrEqual(300);
    // Within the startup sweep interval (1 s) of the new limit, far below the old 10 s.
    expect(ms).toBeLessThan(2_500);
  });

  it('applies log_level: every request gets its debug line at once, none before', async () => {
    const { lines, logger } = capture('info');
    server = await startTestServer({ logger });
    const requestLines = (): string[] => lines.filter((l) => l.includes('[DEBUG] request '));
    for (let i = 0; i < 5; i++) await server.request('GET', '/v1/sys/health');
    expect(requestLines()).toEqual([]);

    expect(server.server.reload(plainDocument({}, { log_level: 'debug' })).applied).toEqual(['log_level']);
    expect(logger.level).toBe('debug');
    // All of them, not a sample: the handler times every request once debug is on.
    for (let i = 0; i < 5; i++) await server.request('GET', '/v1/sys/health');
    expect(requestLines()).toHaveLength(5);
    expect(lines.some((l) => l.includes('[INFO] configuration reloaded applied=["log_level"]'))).toBe(true);
  });

  it('reports what cannot change while running, by name, at warn, and leaves it as it was', async () => {
    const { lines, logger } = capture();
    server = await startTestServer({ logger });
    const url = server.url;
    const report = server.server.reload({
      listener: [{ tcp: { address: '127.0.0.1:1', tls_disable: true } }, { tcp: { address: '127.0.0.1:2', tls_disable: true } }],
      storage: { file: { path: '/nonexistent' } },
      log_format: 'json',
      max_lease_ttl: '1h',
      default_lease_ttl: '1h',
    });
    expect(report.ignored).toEqual(['storage', 'default_lease_ttl', 'max_lease_ttl', 'log_format', 'listener (their number)', 'listener[0].address']);
    for (const setting of report.ignored) {
      expect(lines.some((l) => l.includes('[WARN] configuration reload: this setting cannot change while running') && l.includes(`setting=${JSON.stringify(setting).replace(/^"([\w./:@-]+)"$/, '$1')}`))).toBe(true);
    }
    const inForce = server.server.config;
    expect(inForce.storage.type).toBe('inmem');
    expect(inForce.listeners).toHaveLength(1);
    expect(inForce.listeners[0]!.address).toBe('127.0.0.1:0');
    expect(logger.format).toBe('standard');
    expect(server.url).toBe(url);
    expect((await server.request('GET', '/v1/sys/health')).status).toBe(200);
  });

  it('refuses a bad configuration with the error logged, and changes nothing', async () => {
    const { lines, logger } = capture();
    server = await startTestServer({ logger, listener: { maxRequestSize: 1024 } });
    const bad = plainDocument({ max_request_size: 4096 }, { log_level: 'debug', default_lease_ttl: '5 weeks' });
    expect(() => server!.server.reload(bad)).toThrow(ConfigError);
    const error = lines.find((l) => l.includes('[ERROR] configuration reload failed: the configuration in force is unchanged'));
    expect(error).toContain('default_lease_ttl');
    expect(logger.level).toBe('info');
    expect(server.server.config.listeners[0]!.maxRequestSize).toBe(1024);
    expect((await put('secret/big', { value: 'x'.repeat(2000) })).status).toBe(413);
  });
});

describe('server.reload: TLS', () => {
  const tls = testTls();

  function tlsDocument(files: { certFile: string; keyFile: string }, rest: TcpListenerDocument = {}): ConfigDocument {
    return { listener: { tcp: { address: '127.0.0.1:0', tls_cert_file: files.certFile, tls_key_file: files.keyFile, ...rest } } };
  }

  async function tlsServer(files: { certFile: string; keyFile: string } = tls.server): Promise<{ lines: string[] }> {
    const { lines, logger } = capture();
    server = await startTestServer({
      logger,
      ca: tls.ca.cert,
      listener: { tlsDisable: false, tlsCertFile: files.certFile, tlsKeyFile: files.keyFile },
    });
    return { lines };
  }

  it('serves new connections with the new certificate named in the new configuration', async () => {
    await tlsServer();
    const rotated = rotatedServerTls();
    const before = await peerCertificate(server!.url, tls.ca.cert);
    const report = server!.server.reload(tlsDocument(rotated));
    expect(report.applied).toEqual(['listener[0].tls_cert_file', 'listener[0].tls_key_file']);
    const after = await peerCertificate(server!.url, tls.ca.cert);
    expect(before.fingerprint256).not.toBe(after.fingerprint256);
    expect(after.serialNumber).not.toBe(before.serialNumber);
    expect(server!.server.config.listeners[0]!.tlsCertFile).toBe(rotated.certFile);
  });

  it('leaves TLS on when the new configuration turns it off, warning, without reading the old files again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nomad-reload-'));
    const files = { certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') };
    copyFileSync(tls.server.certFile, files.certFile);
    copyFileSync(tls.server.keyFile, files.keyFile);
    const { lines } = await tlsServer(files);
    const before = await peerCertificate(server!.url, tls.ca.cert);
    // Gone from disk: a reload that read them again would fail.
    rmSync(dir, { recursive: true });
    const report = server!.server.reload({ listener: { tcp: { address: '127.0.0.1:0', tls_disable: true, max_request_size: 4096 } } });
    expect(report.applied).toEqual(['listener[0].max_request_size']);
    expect(report.ignored).toEqual(['listener[0].tls_disable', 'listener[0].tls_cert_file', 'listener[0].tls_key_file']);
    expect(lines.filter((l) => l.includes('[WARN]'))).toHaveLength(3);
    expect((await peerCertificate(server!.url, tls.ca.cert)).fingerprint256).toBe(before.fingerprint256);
    expect(server!.server.config.listeners[0]!).toMatchObject({ tlsDisable: false, tlsCertFile: files.certFile, maxRequestSize: 4096 });
  });

  it.each<[string, () => ConfigDocument, string]>([
    ['a key that is not the certificate\'s', () => tlsDocument({ certFile: rotatedServerTls().certFile, keyFile: testTls().server.keyFile }), 'key values mismatch'],
    ['a certificate file that does not exist', () => tlsDocument({ certFile: '/nonexistent/tls.crt', keyFile: testTls().server.keyFile }), 'tls_cert_file /nonexistent/tls.crt: cannot read: ENOENT'],
    ['a file that is no certificate', () => tlsDocument({ certFile: testTls().server.keyFile, keyFile: testTls().server.keyFile }), 'listener[0]'],
  ])('refuses %s, logged, and keeps serving the old certificate', async (_name, document, reason) => {
    const { lines } = await tlsServer();
    const before = await peerCertificate(server!.url, tls.ca.cert);
    expect(() => server!.server.reload(document())).toThrow(ConfigError);
    const error = lines.find((l) => l.includes('[ERROR] configuration reload failed'));
    expect(error).toContain(reason);
    // Never the key material itself.
    expect(error).not.toContain('PRIVATE KEY');
    const after = await peerCertificate(server!.url, tls.ca.cert);
    expect(after.fingerprint256).toBe(before.fingerprint256);
    expect(server!.server.config.listeners[0]!.tlsCertFile).toBe(tls.server.certFile);
  });
});
