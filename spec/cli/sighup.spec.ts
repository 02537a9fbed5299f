import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { spawnCli, type Spawned } from '../helpers/cli.js';
import { httpRequest } from '../helpers/http.js';
import { peerCertificate } from '../helpers/tls-peer.js';
import { rotatedServerTls, testTls } from '../helpers/tls.js';

/**
 * `nomad-api server -config=…` reloads on SIGHUP (lib/reload.ts): the real program, real
 * certificates, files replaced on disk as an operator (or certbot) would replace them.
 */

const tls = testTls();
const dir = mkdtempSync(join(tmpdir(), 'nomad-sighup-'));
const running: Spawned[] = [];
afterEach(async () => {
  for (const proc of running.splice(0)) {
    proc.kill('SIGKILL');
    await proc.exited;
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Resolves once `pattern` has matched `count` times on stderr. */
async function logged(proc: Spawned, pattern: RegExp, count = 1): Promise<void> {
  const global = new RegExp(pattern.source, 'g');
  const deadline = Date.now() + 10_000;
  while ((proc.stderr().match(global)?.length ?? 0) < count) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) throw new Error(`exited (${proc.child.signalCode ?? proc.child.exitCode}) before logging ${pattern}: ${proc.stderr()}`);
    if (Date.now() > deadline) throw new Error(`never logged ${pattern} ${count} time(s): ${proc.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface Setup {
  home: string;
  config: string;
  certFile: string;
  keyFile: string;
  write(extra?: string, storagePath?: string): void;
}

function setup(name: string): Setup {
  const home = join(dir, name);
  mkdirSync(join(home, 'data'), { recursive: true, mode: 0o700 });
  const certFile = join(home, 'tls.crt');
  const keyFile = join(home, 'tls.key');
  copyFileSync(tls.server.certFile, certFile);
  copyFileSync(tls.server.keyFile, keyFile);
  const config = join(home, 'server.hcl');
  const write = (extra = '', storagePath = join(home, 'data')): void =>
    writeFileSync(config, `listener "tcp" {
  address       = "127.0.0.1:0"
  tls_cert_file = "${certFile}"
  tls_key_file  = "${keyFile}"
}
storage "file" { path = "${storagePath}" }
${extra}
`);
  write();
  return { home, config, certFile, keyFile, write };
}

async function start(config: string): Promise<{ proc: Spawned; url: string }> {
  const proc = spawnCli(['server', `-config=${config}`]);
  running.push(proc);
  const [, url] = await proc.waitFor(/server started on (https:\/\/127\.0\.0\.1:\d+)/);
  return { proc, url: url! };
}

describe('server -config: SIGHUP', () => {
  it('rotates the certificate for new connections while an open keep-alive connection keeps its own', async () => {
    const files = setup('rotate');
    const { proc, url } = await start(files.config);
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: tls.ca.cert });
    try {
      const first = await new Promise<{ status: number; fingerprint: string; socket: TLSSocket }>((resolve, reject) => {
        https.get(`${url}/v1/sys/seal-status`, { agent }, (res) => {
          // Taken now: once the body is read, the agent takes the socket back.
          const socket = res.socket as TLSSocket;
          const fingerprint = socket.getPeerCertificate().fingerprint256;
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode!, fingerprint, socket }));
        }).on('error', reject);
      });
      expect(first.status).toBe(200);
      expect(first.fingerprint).toBe((await peerCertificate(url, tls.ca.cert)).fingerprint256);

      const rotated = rotatedServerTls();
      copyFileSync(rotated.certFile, files.certFile);
      copyFileSync(rotated.keyFile, files.keyFile);
      proc.kill('SIGHUP');
      await logged(proc, /\[INFO\] configuration reloaded applied=\["listener\[0\]\.tls_cert_file","listener\[0\]\.tls_key_file"\]/);

      const fresh = await peerCertificate(url, tls.ca.cert);
      expect(fresh.fingerprint256).not.toBe(first.fingerprint);
      expect(fresh.serialNumber).toBe(new (await import('node:crypto')).X509Certificate(rotated.cert).serialNumber);

      // The connection opened before the reload still answers, with the certificate it shook hands with.
      const again = await httpRequest(`${url}/v1/sys/seal-status`, { agent });
      expect(again.status).toBe(200);
      expect(again.reused).toBe(true);
      expect(first.socket.destroyed).toBe(false);
      expect(first.socket.getPeerCertificate().fingerprint256).toBe(first.fingerprint);
    } finally {
      agent.destroy();
    }
    expect(proc.stderr()).not.toMatch(/PRIVATE KEY|\[WARN\]|\[ERROR\]/);
  });

  it('logs a broken configuration or key at error and keeps serving with the certificate in force', async () => {
    const files = setup('broken');
    const { proc, url } = await start(files.config);
    const before = await peerCertificate(url, tls.ca.cert);

    writeFileSync(files.config, 'listener "tcp" {\n  address = "127.0.0.1:0"\n');
    proc.kill('SIGHUP');
    await logged(proc, /\[ERROR\] configuration reload failed: the configuration in force is unchanged error=.*server\.hcl:\d+:\d+: /);
    expect((await peerCertificate(url, tls.ca.cert)).fingerprint256).toBe(before.fingerprint256);

    // A valid file again, but the key on disk is not the certificate's.
    files.write();
    copyFileSync(rotatedServerTls().keyFile, files.keyFile);
    proc.kill('SIGHUP');
    await logged(proc, /\[ERROR\] configuration reload failed: .*key values mismatch/);
    expect((await peerCertificate(url, tls.ca.cert)).fingerprint256).toBe(before.fingerprint256);
    expect((await httpRequest(`${url}/v1/sys/seal-status`, { ca: tls.ca.cert })).status).toBe(200);
    expect(proc.stderr()).not.toMatch(/PRIVATE KEY|configuration reloaded/);
  });

  it('applies a new log_level (debug lines appear) and warns, changing nothing, of a new storage path', async () => {
    const files = setup('level');
    const { proc, url } = await start(files.config);
    await httpRequest(`${url}/v1/sys/seal-status`, { ca: tls.ca.cert });
    expect(proc.stderr()).not.toContain('[DEBUG]');

    const elsewhere = join(files.home, 'elsewhere');
    files.write('log_level = "debug"', elsewhere);
    proc.kill('SIGHUP');
    await logged(proc, /\[INFO\] configuration reloaded applied=\[.*"log_level"/);
    expect(proc.stderr()).toMatch(/\[WARN\] configuration reload: this setting cannot change while running; left unchanged until a restart setting=storage/);

    const res = await httpRequest(`${url}/v1/sys/seal-status`, { ca: tls.ca.cert });
    expect(res.status).toBe(200);
    // The storage in force is still the startup one.
    expect(res.body.storage_type).toBe('file');
    await logged(proc, /\[DEBUG\] request .*path=\/v1\/sys\/seal-status status=200/);
    // Still on the startup directory (its lock held), nothing made at the new path.
    expect(existsSync(join(files.home, 'data', 'nomad.lock'))).toBe(true);
    expect(existsSync(elsewhere)).toBe(false);
  });

  it('in dev mode logs that there is nothing to reload and keeps serving', async () => {
    const proc = spawnCli(['server', '-dev', '-dev-listen-address=127.0.0.1:0']);
    running.push(proc);
    const [, url] = await proc.waitFor(/Address:\s+(http:\/\/127\.0\.0\.1:\d+)/);
    proc.kill('SIGHUP');
    await logged(proc, /\[INFO\] SIGHUP: a dev server has no configuration file: nothing to reload/);
    expect((await httpRequest(`${url}/v1/sys/health`)).status).toBe(200);
  });
});
