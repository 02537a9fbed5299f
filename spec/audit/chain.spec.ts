import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { GENESIS, MAX_LINES_PER_CHAIN, linkLine, sealWrite, type ChainHead } from '../../lib/audit/chain.js';
import { createFileDevice } from '../../lib/audit/file-device.js';
import { verifyAuditFiles } from '../../lib/audit/verify.js';
import type { AuditInput } from '../../lib/audit/entry.js';
import type { Request } from '../../lib/core/request.js';
import { auditLines, enableFileDevice, tempDir } from '../helpers/audit.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * One chain value per write (chain.ts): the lines of a write carry seq and crc, its last line
 * the HMAC over all of them. verify pinpoints an edited line by its crc, an edit that fixed the
 * crc by its write, and a file cut inside a write; `chain = "line"` chains every line; logs of
 * the first format (a chain value on every line, no crc) still verify.
 */

const key = randomBytes(32);
const hmac = (text: string): string => createHmac('sha256', key).update(text).digest('hex');
const crcHex = (text: string): string => crc32(Buffer.from(text, 'utf8')).toString(16).padStart(8, '0');

/** A log: a link line, then writes of the given sizes, bodies with non-ASCII text. */
function log(writes: number[], perLine = false): { text: string; head: ChainHead } {
  const link = linkLine(key, GENESIS);
  let head = link.head;
  let text = link.text;
  let n = 0;
  for (const size of writes) {
    const bodies = Array.from({ length: size }, () => `{"type":"request","request":{"path":"secret/ünïcode-${n++}","data":{"k":"✓"}},"error":""`);
    const sealed = sealWrite(key, head, bodies, perLine);
    head = sealed.head;
    text += sealed.bytes.toString('utf8');
  }
  return { text, head };
}

const linesOf = (text: string): string[] => text.split('\n').slice(0, -1);
const verify = (lines: string[], head?: ChainHead) => verifyAuditFiles(key, [{ name: 'a.log', text: `${lines.join('\n')}\n` }], head);

describe('a chain value per write', () => {
  it('puts seq and crc on every line and the HMAC of the whole write on its last line', () => {
    const { text, head } = log([3]);
    const lines = linesOf(text);
    expect(lines).toHaveLength(4);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.map((p) => p.seq)).toEqual([1, 2, 3, 4]);
    expect(parsed.map((p) => typeof p.chain)).toEqual(['string', 'undefined', 'undefined', 'string']);
    for (const line of lines) {
      const at = line.indexOf(',"crc":"');
      expect(line.slice(at + 8, at + 16)).toBe(crcHex(line.slice(0, at)));
    }
    const link = parsed[0]!.chain as string;
    const lastWithoutChain = lines[3]!.replace(/,"chain":"[0-9a-f]{64}"\}$/, '}');
    expect(parsed[3]!.chain).toBe(hmac(`${link}\n${lines[1]}\n${lines[2]}\n${lastWithoutChain}`));
    expect(head).toEqual({ seq: 4, chain: parsed[3]!.chain });
    expect(verify(lines, head)).toMatchObject({ ok: true, lines: 4, lastSeq: 4 });
  });

  it(`closes a chain value every ${MAX_LINES_PER_CHAIN} lines of a long write, and on every line with perLine`, () => {
    const long = linesOf(log([150]).text).slice(1).map((l) => JSON.parse(l) as { seq: number; chain?: string });
    expect(long.filter((l) => l.chain !== undefined).map((l) => l.seq - 1)).toEqual([MAX_LINES_PER_CHAIN, 2 * MAX_LINES_PER_CHAIN, 150]);
    const each = linesOf(log([5], true).text);
    expect(each.every((l) => l.includes('"chain":"'))).toBe(true);
    expect(verify(each)).toMatchObject({ ok: true, lines: 6 });
    expect(verify(linesOf(log([150]).text))).toMatchObject({ ok: true, lines: 151 });
  });

  it('names the edited line by its crc', () => {
    const lines = linesOf(log([2, 5, 1]).text);
    // Line 6: the third line of the write that holds lines 4–8.
    expect(lines[5]).toContain('ünïcode-4');
    lines[5] = lines[5]!.replace('ünïcode-4', 'ünïcode-9');
    expect(verify(lines)).toMatchObject({ ok: false, kind: 'modified', line: 6, message: expect.stringContaining('does not match its crc') });
  });

  it('catches an edit whose crc was fixed by the keyed chain value, and names its write', () => {
    const lines = linesOf(log([2, 5, 1]).text);
    expect(lines[5]).toContain('ünïcode-4');
    const edited = lines[5]!.replace('ünïcode-4', 'ünïcode-9');
    const at = edited.indexOf(',"crc":"');
    lines[5] = `${edited.slice(0, at + 8)}${crcHex(edited.slice(0, at))}${edited.slice(at + 16)}`;
    // The write holds lines 4–8 (seq 4–8).
    expect(verify(lines)).toMatchObject({ ok: false, kind: 'modified', line: 4, message: expect.stringContaining('lines 4–8 (seq 4–8), one write') });
  });

  it('names deleted and swapped lines inside a write, and a file cut inside a write', () => {
    const lines = linesOf(log([6]).text);
    const deleted = lines.filter((_, i) => i !== 3);
    expect(verify(deleted)).toMatchObject({ ok: false, kind: 'deleted', line: 4 });
    const swapped = [...lines];
    [swapped[2], swapped[3]] = [swapped[3]!, swapped[2]!];
    expect(verify(swapped)).toMatchObject({ ok: false, kind: 'reordered', line: 3 });
    expect(verify(lines.slice(0, 5))).toMatchObject({ ok: false, kind: 'truncated', line: 2, message: expect.stringContaining('the last 4 lines (from line 2) have no chain value') });
    // Cut at a write's end, the file is whole as far as it goes; the device's head tells the rest.
    const whole = log([2, 2]);
    const cut = linesOf(whole.text).slice(0, 3);
    expect(verify(cut)).toMatchObject({ ok: true });
    expect(verify(cut, whole.head)).toMatchObject({ ok: false, kind: 'tail' });
  });

  it('still verifies a log of the first format: a chain value on every line and no crc', () => {
    let chain = '';
    const lines: string[] = [];
    const bodies = ['{"time":"t","type":"link","seq":1,"prev":""}', '{"type":"request","seq":2}', '{"type":"response","seq":3}'];
    for (const body of bodies) {
      chain = hmac(`${chain}\n${body}`);
      lines.push(`${body.slice(0, -1)},"chain":"${chain}"}`);
    }
    expect(verify(lines)).toMatchObject({ ok: true, lines: 3 });
    lines[1] = lines[1]!.replace('request', 'reQuest');
    expect(verify(lines)).toMatchObject({ ok: false, kind: 'modified', line: 2 });
  });
});

describe('the file device writes a turn in one write', () => {
  let temp: ReturnType<typeof tempDir> | undefined;
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
    temp?.remove();
    temp = undefined;
  });

  it('gathers the records of one turn under one chain value, and the log verifies', async () => {
    temp = tempDir();
    const file = join(temp.dir, 'turn.log');
    const device = createFileDevice({ path: 'file/', filePath: file, mode: 0o600, writeTimeoutMs: 5000, salt: randomBytes(32), chainKey: key, logRaw: false, hmacAccessor: true, chainPerLine: false });
    await device.open();
    const caller = { tokenHash: 'h', accessor: 'a', policies: ['root'], displayName: 'root', metadata: {}, root: true };
    const input = (): AuditInput => ({ request: { id: randomUUID(), operation: 'read', path: 'secret/x', data: {}, query: {}, clientToken: 't', remoteAddress: '127.0.0.1' } as Request, caller, tokenExpireTime: 0, mountPoint: 'secret/' });
    await Promise.all(Array.from({ length: 20 }, () => input()).map((base) => device.logPair(base, { ...base, response: null })));
    await device.close();
    const lines = auditLines(file);
    expect(lines).toHaveLength(41);
    // The link line, then 40 lines in one write: one chain value at its end.
    expect(lines.filter((l) => l.chain !== undefined).map((l) => l.seq)).toEqual([1, 41]);
    expect(verifyAuditFiles(key, [{ name: file, text: readFileSync(file, 'utf8') }], device.head())).toMatchObject({ ok: true, lines: 41 });
  });

  it('chains every line with the option chain = "line", and lists the option only when given', async () => {
    server = await startTestServer();
    temp = tempDir();
    const file = join(temp.dir, 'lines.log');
    await enableFileDevice(server, 'lines', { file_path: file, chain: 'line' });
    await enableFileDevice(server, 'plain', { file_path: join(temp.dir, 'plain.log') });
    const root = { token: server.rootToken };
    expect((await server.request('PUT', '/v1/secret/a', { ...root, body: { v: '1' } })).status).toBe(204);
    const reads = await Promise.all(Array.from({ length: 10 }, () => server!.request('GET', '/v1/secret/a', root)));
    expect(reads.map((r) => r.status)).toEqual(Array.from({ length: 10 }, () => 200));
    const lines = auditLines(file);
    expect(lines.length).toBeGreaterThan(20);
    expect(lines.every((l) => typeof l.chain === 'string')).toBe(true);
    const listed = (await server.request('GET', '/v1/sys/audit', root)).body.data;
    expect(listed['lines/'].options.chain).toBe('line');
    expect(listed['plain/'].options).not.toHaveProperty('chain');
    const chainKey = Buffer.from((await server.request('GET', '/v1/sys/audit-chain/lines', root)).body.data.key, 'hex');
    expect(verifyAuditFiles(chainKey, [{ name: file, text: readFileSync(file, 'utf8') }])).toMatchObject({ ok: true });
  });
});
