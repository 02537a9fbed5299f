import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Real etcd members (Debian's etcd-server, 3.4) on loopback, for specs: one member, or a
 * cluster of three for failure tests. Each member gets free ports and a temporary data dir;
 * members can be stopped and started again one by one; `stop()` kills every member and
 * removes the dirs. Fast raft timers keep start-up and elections well under a second.
 *
 * Ports come from the kernel (listen on port 0, close, reuse): another process may take
 * one in between, so a start that fails because a port is taken is retried on new ports.
 */

export interface EtcdMember {
  name: string;
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  running(): boolean;
  /** SIGKILLs the member (its data dir stays, so it can start again). */
  kill(): Promise<void>;
  /** Starts the member again on its ports and data dir, and waits for it to be healthy if `waitHealthy`. */
  restart(waitHealthy?: boolean): Promise<void>;
}

export interface EtcdCluster {
  members: EtcdMember[];
  /** Every member's client URL, comma-separated: the storage's `address`. */
  address: string;
  stop(): Promise<void>;
}

/** Client-side TLS for the members (peers stay plain http on loopback). */
export interface EtcdTlsOptions {
  certFile: string;
  keyFile: string;
  /** When set, members demand a client certificate signed by this CA (`--client-cert-auth`). */
  clientCaFile?: string;
  /** What the helper trusts and presents when it checks /health. */
  caFile: string;
  clientCertFile?: string;
  clientKeyFile?: string;
}

const FAST_TIMERS = ['--heartbeat-interval=10', '--election-timeout=100'];
/** The storage contract round-trips a 5 MiB value: 7 MB of base64, over etcd's 1.5 MiB default. */
const MAX_REQUEST_BYTES = '--max-request-bytes=16777216';
const START_ATTEMPTS = 4;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function healthy(clientUrl: string, tls?: EtcdTlsOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const secure = tls === undefined ? {} : {
      ca: readFileSync(tls.caFile),
      ...(tls.clientCertFile && tls.clientKeyFile ? { cert: readFileSync(tls.clientCertFile), key: readFileSync(tls.clientKeyFile) } : {}),
    };
    const get = tls === undefined ? http.get : https.get;
    const req = get(`${clientUrl}/health`, { timeout: 1000, ...secure }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(res.statusCode === 200 && body.includes('"true"')));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

async function waitUntil(check: () => Promise<boolean>, ms: number, what: string, exited: () => string | null): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const why = exited();
    if (why !== null) throw new Error(`${what}: ${why}`);
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${what}: not healthy after ${ms}ms`);
}

interface MemberSpec {
  name: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
}

function launch(spec: MemberSpec, initialCluster: string, token: string, tls?: EtcdTlsOptions): { child: ChildProcess; stderr: () => string } {
  const client = `${tls ? 'https' : 'http'}://127.0.0.1:${spec.clientPort}`;
  const tlsFlags = tls === undefined ? [] : [
    `--cert-file=${tls.certFile}`,
    `--key-file=${tls.keyFile}`,
    ...(tls.clientCaFile ? ['--client-cert-auth', `--trusted-ca-file=${tls.clientCaFile}`] : []),
  ];
  const peer = `http://127.0.0.1:${spec.peerPort}`;
  const child = spawn(
    'etcd',
    [
      `--name=${spec.name}`,
      `--data-dir=${spec.dataDir}`,
      '--logger=zap',
      '--log-level=error',
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=${initialCluster}`,
      '--initial-cluster-state=new',
      `--initial-cluster-token=${token}`,
      ...FAST_TIMERS,
      MAX_REQUEST_BYTES,
      ...tlsFlags,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr!.on('data', (c: Buffer) => {
    if (err.length < 8192) err += c.toString();
  });
  return { child, stderr: () => err };
}

/** Starts `size` members (1 or 3) and waits until each answers /health. */
export async function startEtcd(size = 1, tls?: EtcdTlsOptions): Promise<EtcdCluster> {
  let lastError: unknown;
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    try {
      return await tryStart(size, tls);
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

async function tryStart(size: number, tls: EtcdTlsOptions | undefined): Promise<EtcdCluster> {
  const root = await mkdtemp(join(tmpdir(), 'nomad-etcd-'));
  const specs: MemberSpec[] = [];
  for (let i = 1; i <= size; i++) {
    specs.push({ name: `m${i}`, clientPort: await freePort(), peerPort: await freePort(), dataDir: join(root, `m${i}`) });
  }
  const initialCluster = specs.map((s) => `${s.name}=http://127.0.0.1:${s.peerPort}`).join(',');
  const token = `nomad-${process.pid}-${Date.now()}`;
  const members: EtcdMember[] = specs.map((spec) => {
    let proc: { child: ChildProcess; stderr: () => string } | null = null;
    let exit: string | null = null;
    const clientUrl = `${tls ? 'https' : 'http'}://127.0.0.1:${spec.clientPort}`;
    const start = (): void => {
      exit = null;
      proc = launch(spec, initialCluster, token, tls);
      const mine = proc;
      mine.child.once('exit', (code, signal) => {
        if (proc === mine) exit = `etcd ${spec.name} exited (${signal ?? code}): ${mine.stderr().slice(0, 500)}`;
      });
    };
    const member: EtcdMember & { start(): void; exited(): string | null } = {
      name: spec.name,
      clientUrl,
      peerUrl: `http://127.0.0.1:${spec.peerPort}`,
      dataDir: spec.dataDir,
      start,
      exited: () => exit,
      running: () => proc !== null && exit === null,
      async kill() {
        const current = proc;
        if (current === null) return;
        proc = null;
        if (current.child.exitCode === null && current.child.signalCode === null) {
          const gone = new Promise((r) => current.child.once('exit', r));
          current.child.kill('SIGKILL');
          await gone;
        }
      },
      async restart(waitHealthy = true) {
        await member.kill();
        start();
        if (waitHealthy) await waitUntil(() => healthy(clientUrl, tls), 10_000, `etcd ${spec.name}`, () => exit);
      },
    };
    return member;
  });
  const stop = async (): Promise<void> => {
    await Promise.all(members.map((m) => m.kill()));
    await rm(root, { recursive: true, force: true });
  };
  try {
    for (const m of members as Array<EtcdMember & { start(): void }>) m.start();
    await Promise.all(
      (members as Array<EtcdMember & { exited(): string | null }>).map((m) => waitUntil(() => healthy(m.clientUrl, tls), 10_000, `etcd ${m.name}`, () => m.exited())),
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { members, address: members.map((m) => m.clientUrl).join(','), stop };
}
